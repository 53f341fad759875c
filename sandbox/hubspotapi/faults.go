package hubspotapi

import (
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/surveysync/surveysync/sandbox/fault"
)

// isWrite selects the requests that can change data: every method but GET,
// except searches and batch reads, which are POSTs that only read.
func isWrite(r *http.Request) bool {
	if r.Method == http.MethodGet || r.Method == http.MethodHead {
		return false
	}
	return !isSearch(r) && !strings.HasSuffix(r.URL.Path, "/batch/read")
}

// faultWriters answers injected faults the way HubSpot answers real ones.
func (s *Server) faultWriters() fault.Writers {
	return fault.Writers{
		TooMany: func(w http.ResponseWriter, retryAfter time.Duration) {
			s.markFault(w, FaultTooMany)
			if retryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(retrySeconds(retryAfter)))
			}
			writeRateLimited(w, PolicyTenSecondly, "You have reached your ten_secondly_rolling limit.")
		},
		ServerError: func(w http.ResponseWriter, status int) {
			s.markFault(w, FaultServerError)
			writeError(w, status, "INTERNAL_ERROR", "internal error")
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
