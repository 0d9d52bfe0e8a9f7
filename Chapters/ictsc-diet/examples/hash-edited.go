// An answer that breaks the rules: hash.go changed (and it no longer prints the digest).
package main

import "fmt"

func main() {
	fmt.Println("not a digest")
}
