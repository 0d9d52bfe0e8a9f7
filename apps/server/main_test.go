package main

import (
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestHealthAnswersHealthyJSON(t *testing.T) {
	recorder := httptest.NewRecorder()
	newMux(t.TempDir()).ServeHTTP(recorder, httptest.NewRequest(http.MethodGet, "/health", nil))
	if recorder.Code != http.StatusOK {
		t.Fatalf("status %d, want 200", recorder.Code)
	}
	if got := recorder.Header().Get("Content-Type"); got != "application/json" {
		t.Fatalf("Content-Type %q, want application/json", got)
	}
	if got := strings.TrimSpace(recorder.Body.String()); got != `{"status":"Healthy"}` {
		t.Fatalf("body %q", got)
	}
}

func TestHealthRefusesPost(t *testing.T) {
	recorder := httptest.NewRecorder()
	newMux(t.TempDir()).ServeHTTP(recorder, httptest.NewRequest(http.MethodPost, "/health", nil))
	if recorder.Code != http.StatusMethodNotAllowed {
		t.Fatalf("status %d, want 405", recorder.Code)
	}
}

func TestRootServesTheStaticPage(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "index.html"), []byte("<h1>hi</h1>"), 0o644); err != nil {
		t.Fatal(err)
	}
	recorder := httptest.NewRecorder()
	newMux(dir).ServeHTTP(recorder, httptest.NewRequest(http.MethodGet, "/", nil))
	if recorder.Code != http.StatusOK || !strings.Contains(recorder.Body.String(), "<h1>hi</h1>") {
		t.Fatalf("status %d body %q", recorder.Code, recorder.Body.String())
	}
}
