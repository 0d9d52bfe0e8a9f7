# Build stage: the Go tool chain, pinned to a version.
FROM golang:1.19 AS builder
WORKDIR /app
COPY . ./
RUN go build -o ./server-run ./server

# Final stage: distroless base has glibc (the binary above is linked against it) and nothing else to speak of.
FROM gcr.io/distroless/base-debian12
COPY --from=builder /app/server-run /server-run
COPY web /web
EXPOSE 9090
CMD ["/server-run"]
