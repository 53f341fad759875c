package zendeskapi

import (
	"fmt"
	"net/http"
)

// rateTicket serves POST /api/v2/tickets/{id}/satisfaction_rating. Only the
// ticket's requester, an end user, may rate it; every credential the
// emulator accepts is an agent's, so a valid rating is refused with 403.
// A score other than good or bad is refused first with 422.
func (s *Server) rateTicket(w http.ResponseWriter, r *http.Request) {
	var in struct {
		Rating *struct {
			Score   string `json:"score"`
			Comment string `json:"comment"`
		} `json:"satisfaction_rating"`
	}
	if _, rp, ok := decodeBody(w, r, &in); !ok {
		rp.write(w)
		return
	}
	s.mu.Lock()
	id, ok := pathID(r)
	exists := ok && s.tickets[id] != nil
	s.mu.Unlock()
	switch {
	case !exists:
		notFound().write(w)
	case in.Rating == nil || (in.Rating.Score != "good" && in.Rating.Score != "bad"):
		score := ""
		if in.Rating != nil {
			score = in.Rating.Score
		}
		invalid(map[string][]detail{"score": {{Error: "InvalidValue",
			Description: fmt.Sprintf("Score: %q is not valid; only good and bad can be set", score)}}}).write(w)
	default:
		errorReply(http.StatusForbidden, "Forbidden",
			"Only the end user listed as the ticket requester can create a satisfaction rating for the ticket").write(w)
	}
}
