package zendesk

import (
	"strings"
	"testing"

	"github.com/surveysync/surveysync/mapping"
)

func TestCheckMappingRefusesRequestsItCannotSend(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src  string
		want string // "" for accepted
	}{
		{"request: {method: PUT, path: \"/api/v2/tickets/{{ ticket_id }}.json\", body: {ticket: {status: open}}}\n", ""},
		{"request: {method: PUT, path: \"/tickets/{{ ticket_id }}\", body: {ticket: {status: open}}}\n", ""},
		{"request: {method: POST, path: /api/v2/tickets.json, body: {ticket: {subject: x}}}\n", ""},
		{"request: {method: POST, path: \"/api/v2/tickets/{{ ticket_id }}/satisfaction_rating\", body: {satisfaction_rating: {score: good}}}\n", "this mapping sends POST"},
		{"request: {method: DELETE, path: \"/api/v2/tickets/{{ ticket_id }}.json\"}\n", "this mapping sends DELETE"},
	}
	for _, tc := range tests {
		m, err := mapping.Parse("m.yaml", []byte(tc.src))
		if err != nil {
			t.Fatalf("%s: %v", tc.src, err)
		}
		err = checkMapping(m)
		switch {
		case tc.want == "" && err != nil:
			t.Errorf("%s: refused: %v", tc.src, err)
		case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
			t.Errorf("%s: error %v, want one containing %q", tc.src, err, tc.want)
		}
	}
}
