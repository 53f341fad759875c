package main

import (
	"net/http"

	"github.com/surveysync/surveysync/engine"
)

// consoleHandler builds the ops console; nil serves none.
var consoleHandler func(e *engine.Engine) http.Handler
