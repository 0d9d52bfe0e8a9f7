# Broken on purpose: cgo left on, so the binary needs a C library scratch does not have.
FROM golang:1.19 AS builder
WORKDIR /app
COPY . ./
RUN go build -o ./server-run ./server

FROM scratch
COPY --from=builder /app/server-run /server-run
COPY web /web
CMD ["/server-run"]
