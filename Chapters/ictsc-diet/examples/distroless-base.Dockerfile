FROM golang:1.19 AS builder
WORKDIR /src
COPY hash.go .
RUN go build -o /hash hash.go

FROM gcr.io/distroless/base-debian12
COPY --from=builder /hash /hash
ENTRYPOINT ["/hash"]
