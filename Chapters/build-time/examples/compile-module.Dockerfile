FROM golang:1.19 AS builder
WORKDIR /src
ENV GOPROXY=file:///src/modules GOSUMDB=off CGO_ENABLED=0
COPY go.mod go.sum ./
COPY modules ./modules
# The module is compiled here, but not the standard packages the server uses: they are compiled on every rebuild.
RUN go mod download && go build example.com/handson/banner
COPY . .
RUN go build -o /server ./server

FROM gcr.io/distroless/static-debian12
COPY --from=builder /server /server
COPY web /web
ENV WEB_DIR=/web
EXPOSE 9090
CMD ["/server"]
