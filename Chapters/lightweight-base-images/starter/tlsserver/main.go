// Command tlsserver answers HTTPS on 127.0.0.1 (ADDR, default 127.0.0.1:18443) with the certificate mkcerts made.
package main

import (
	"fmt"
	"log"
	"net/http"
	"os"
)

func main() {
	addr := "127.0.0.1:18443"
	if fromEnv := os.Getenv("ADDR"); fromEnv != "" {
		addr = fromEnv
	}
	http.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { fmt.Fprintln(w, "hello over TLS") })
	log.Printf("serving HTTPS on %s", addr)
	log.Fatal(http.ListenAndServeTLS(addr, "/certs/server.crt", "/certs/server.key", nil))
}
