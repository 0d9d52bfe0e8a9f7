# Build stage: cgo off, so the binary is static and needs no libc at run time.
FROM golang:1.19 AS builder
WORKDIR /app
COPY . ./
RUN CGO_ENABLED=0 go build -o ./server-run ./server

# Final stage: nothing but the binary and the web files.
FROM scratch
COPY --from=builder /app/server-run /server-run
COPY web /web
EXPOSE 9090
CMD ["/server-run"]
