// Command hello prints one line: the smallest program worth an image.
package main

import "fmt"

func main() {
	fmt.Println("Hello from a static binary!")
}
