// Package examples holds runnable configurations for common setups. The
// quick start is embedded in the binary, so `surveysync demo` runs it from
// anywhere.
package examples

import "embed"

// Quickstart is the quick start example: its configuration, mappings and
// sample responses, under "quickstart/".
//
//go:embed quickstart/surveysync.yaml quickstart/mappings quickstart/samples
var Quickstart embed.FS

// QuickstartSandbox is the sandbox address the quick start's configuration
// names; the demo replaces it with the address it actually serves on.
const QuickstartSandbox = "http://127.0.0.1:8090/"
