# Static, stripped and path-trimmed: -s drops the symbol table, -w the DWARF debug data,
# -trimpath the build machine's paths. The server still answers /health.
FROM golang:1.19 AS builder
WORKDIR /app
COPY . ./
RUN CGO_ENABLED=0 go build -trimpath -ldflags '-s -w' -o ./server-run ./server

FROM scratch
COPY --from=builder /app/server-run /server-run
COPY web /web
EXPOSE 9090
CMD ["/server-run"]
