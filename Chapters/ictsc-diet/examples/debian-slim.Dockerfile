FROM golang:1.19 AS builder
WORKDIR /src
COPY hash.go .
RUN go build -o /hash hash.go

FROM debian:bookworm-slim
COPY --from=builder /hash /usr/local/bin/hash
ENTRYPOINT ["/usr/local/bin/hash"]
