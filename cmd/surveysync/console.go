package main

import (
	"net/http"

	"github.com/surveysync/surveysync/console"
	"github.com/surveysync/surveysync/engine"
)

// consoleHandler builds the ops console mounted at /console/. The console
// settings are checked (console.Check) by every command that serves it,
// before the listener exists; the console reads each request's settings
// from the current plan and refuses to serve (503) if a reload made them
// unsafe.
var consoleHandler = func(e *engine.Engine) http.Handler {
	c, err := console.New(e, console.Options{})
	if err != nil {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "the console could not be built", http.StatusInternalServerError)
		})
	}
	return c
}
