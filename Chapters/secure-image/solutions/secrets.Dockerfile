# The secrets never enter the build context (.dockerignore), so no layer can hold them.
FROM golang:1.19

WORKDIR /app
COPY . .
RUN go build -o /usr/local/bin/server ./server

EXPOSE 9090
CMD ["server"]
