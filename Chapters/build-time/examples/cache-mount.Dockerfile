FROM golang:1.19 AS builder
WORKDIR /src
ENV GOPROXY=file:///src/modules GOSUMDB=off CGO_ENABLED=0
COPY go.mod go.sum ./
COPY modules ./modules
RUN go mod download
COPY . .
# Go's build cache lives in a cache mount, kept by the builder from one build to the next.
RUN --mount=type=cache,target=/root/.cache/go-build go build -o /server ./server

# The runtime stage, what changes least first: only the last COPY is redone after an edit.
FROM gcr.io/distroless/static-debian12
ENV WEB_DIR=/web
EXPOSE 9090
CMD ["/server"]
COPY web /web
COPY --from=builder /server /server
