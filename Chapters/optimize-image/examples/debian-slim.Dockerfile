FROM golang:1.19 AS builder
WORKDIR /app
COPY . ./
RUN go build -o ./server-run ./server

FROM debian:bookworm-slim
WORKDIR /app
COPY --from=builder /app/server-run /app/server-run
COPY web /app/web
EXPOSE 9090
CMD ["/app/server-run"]
