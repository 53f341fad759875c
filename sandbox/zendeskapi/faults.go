package zendeskapi

import (
	"net/http"
	"time"

	"github.com/surveysync/surveysync/sandbox/fault"
)

// faultWriters answers injected faults the way Zendesk answers real ones:
// a text/plain 429 with Retry-After (1 s when the injector sets none), and
// a JSON 500 or a text/plain 503.
func (s *Server) faultWriters() fault.Writers {
	return fault.Writers{
		TooMany: func(w http.ResponseWriter, retryAfter time.Duration) {
			s.markFault(w, FaultTooMany)
			tooMany(accountLimitText, retryAfter).write(w)
		},
		ServerError: func(w http.ResponseWriter, status int) {
			s.markFault(w, FaultServerError)
			if status == http.StatusServiceUnavailable {
				textReply(status, "Service Unavailable").write(w)
				return
			}
			errorReply(status, "InternalError", "Something went wrong").write(w)
		},
	}
}

// markFault records an injected fault on the entry behind w.
func (s *Server) markFault(w http.ResponseWriter, name string) {
	rec, ok := w.(*recorder)
	if !ok {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	rec.entry.Fault = name
}
