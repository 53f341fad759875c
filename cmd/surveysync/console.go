package main

import (
	"fmt"
	"net/http"
	"os"
	"sync/atomic"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/console"
	"github.com/surveysync/surveysync/engine"
)

// consoleHandler builds the ops console; nil serves none.
var consoleHandler = newConsoleHandler

// consoleChecked is set once the first console of the process is built.
var consoleChecked atomic.Bool

// newConsoleHandler builds the console of e. The first call comes from
// engine.New, before the listener exists and with no engine lock held: it
// checks the console settings (a listener off loopback needs console.token)
// and stops the daemon before it listens when they fail. Later calls come
// from a reload with the engine's lock held, so they must not touch e; the
// console reads each request's settings from the current plan and refuses
// to serve (503) if a reload made them unsafe.
func newConsoleHandler(e *engine.Engine) http.Handler {
	if consoleChecked.CompareAndSwap(false, true) {
		if err := console.Check(e.Plan().Config); err != nil {
			fmt.Fprintf(os.Stderr, "surveysync: %s; nothing was started\n", config.Redact(err.Error()))
			os.Exit(exitFailure)
		}
	}
	c, err := console.New(e, console.Options{})
	if err != nil {
		return http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			http.Error(w, "the console could not be built", http.StatusInternalServerError)
		})
	}
	return c
}
