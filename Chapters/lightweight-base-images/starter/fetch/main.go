// Command fetch makes one HTTPS GET request and prints the response status, e.g. "200 OK".
// It exits 1 and prints the error when the request fails (for instance, an untrusted certificate).
package main

import (
	"fmt"
	"net/http"
	"os"
	"time"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: fetch URL")
		os.Exit(2)
	}
	client := &http.Client{Timeout: 10 * time.Second}
	response, err := client.Get(os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, "fetch:", err)
		fmt.Println("error:", err)
		os.Exit(1)
	}
	defer response.Body.Close()
	fmt.Println(response.Status)
}
