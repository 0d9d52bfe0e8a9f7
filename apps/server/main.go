// Command server is the course's sample web app: a health endpoint and a small static site.
package main

import (
	"encoding/json"
	"log"
	"net/http"
	"os"
)

// healthHandler answers GET /health with {"status":"Healthy"}.
func healthHandler(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "Healthy"})
}

// newMux wires the routes: /health, and the static files under webDir for everything else.
func newMux(webDir string) *http.ServeMux {
	mux := http.NewServeMux()
	mux.HandleFunc("/health", healthHandler)
	mux.Handle("/", http.FileServer(http.Dir(webDir)))
	return mux
}

func main() {
	addr := ":9090"
	if fromEnv := os.Getenv("ADDR"); fromEnv != "" {
		addr = fromEnv
	}
	webDir := "web"
	if fromEnv := os.Getenv("WEB_DIR"); fromEnv != "" {
		webDir = fromEnv
	}
	log.Printf("listening on %s, serving %s", addr, webDir)
	log.Fatal(http.ListenAndServe(addr, newMux(webDir)))
}
