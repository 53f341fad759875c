package hubspot

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
		{"preset: hubspot.contact_upsert\nid: \"{{ email }}\"\nproperties: {last_csat: \"{{ rating }}\"}\n", ""},
		{"request: {method: POST, path: /crm/v3/objects/notes, body: {properties: {hs_timestamp: \"{{ submitted_at }}\"}}}\n", ""},
		{"request: {method: POST, path: /crm/v3/objects/contacts, body: {properties: {email: \"{{ email }}\"}}}\n", "this mapping sends POST /crm/v3/objects/contacts"},
		{"request: {method: PATCH, path: /crm/v3/objects/contacts/batch/upsert, body: {id: \"{{ email }}\"}}\n", "this mapping sends PATCH"},
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
