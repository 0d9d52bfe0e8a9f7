# Build stage: a static binary, so the runtime image needs no C library and no shell.
FROM golang:1.19 AS builder
WORKDIR /src
COPY go.mod ./
RUN go mod download
COPY . .
RUN CGO_ENABLED=0 go build -o /out/server ./server

# Runtime stage: distroless, as the unprivileged user nonroot (uid 65532); nothing but the server and its pages.
FROM gcr.io/distroless/static-debian12:nonroot
COPY --from=builder /out/server /server
COPY --from=builder /src/web /web
ENV WEB_DIR=/web
USER nonroot
EXPOSE 9090
ENTRYPOINT ["/server"]
