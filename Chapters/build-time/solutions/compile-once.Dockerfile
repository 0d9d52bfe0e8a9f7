FROM golang:1.19 AS builder
WORKDIR /src
ENV GOPROXY=file:///src/modules GOSUMDB=off CGO_ENABLED=0
COPY go.mod go.sum ./
COPY modules ./modules
# The dependencies are compiled here too, the module and the standard packages the server uses
# (with CGO_ENABLED=0 Go compiles net and what builds on it again): Go's build cache keeps them in this layer.
RUN go mod download && go build example.com/handson/banner net/http
COPY . .
RUN go build -o /server ./server

# The runtime stage, what changes least first: only the last COPY is redone after an edit.
FROM gcr.io/distroless/static-debian12
ENV WEB_DIR=/web
EXPOSE 9090
CMD ["/server"]
COPY web /web
COPY --from=builder /server /server
