FROM golang:1.19 AS builder
WORKDIR /src
COPY hash.go .
RUN CGO_ENABLED=0 go build -o /hash hash.go

FROM scratch
COPY --from=builder /hash /hash
ENTRYPOINT ["/hash"]
