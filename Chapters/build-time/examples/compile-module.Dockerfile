FROM golang:1.19 AS builder
WORKDIR /src
ENV GOPROXY=file:///src/modules GOSUMDB=off CGO_ENABLED=0
COPY go.mod go.sum ./
COPY modules ./modules
# The module is compiled here, but not the standard packages the server uses: they are compiled on every rebuild.
RUN go mod download && go build example.com/handson/banner
COPY . .
RUN go build -o /server ./server

# The runtime stage, what changes least first: only the last COPY is redone after an edit.
FROM gcr.io/distroless/static-debian12
ENV WEB_DIR=/web
EXPOSE 9090
CMD ["/server"]
COPY web /web
COPY --from=builder /server /server
