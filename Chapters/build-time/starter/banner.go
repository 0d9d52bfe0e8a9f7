package main

import (
	"log"

	"example.com/handson/banner"
)

// The start-up log line draws the app's name in large letters (the banner module is the app's one dependency).
func init() {
	log.Printf("starting\n%s", banner.Render("HandsOn"))
}
