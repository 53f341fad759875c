package main

import (
	"encoding/json"
	"strings"
	"testing"
)

// TestPreviewShowsWhatTheCRMIsSent checks that preview prints the requests
// the HubSpot and Zendesk destinations send, not only what the mapping
// renders: HubSpot's values as text in a batch upsert with its trace ids,
// the note with its delivery-key marker, the Zendesk comment with its
// marker, and survey text unescaped.
func TestPreviewShowsWhatTheCRMIsSent(t *testing.T) {
	t.Parallel()
	cases := []struct {
		example, sync, input string
		want                 []string
	}{
		{"respondio-csat-hubspot", "csat-to-hubspot", "webhook.json", []string{
			"POST http://127.0.0.1:8090/crm/v3/objects/contacts/batch/upsert",
			`"last_csat": "5"`, `"objectWriteTraceId": "`, `"id": "jane.doe@example.com"`,
			"POST http://127.0.0.1:8090/crm/v3/objects/notes", `\n\n[surveysync `, "<id of contact jane.doe@example.com, from the upsert>",
		}},
		{"typeform-nps-zendesk", "nps-to-zendesk", "typeform.json", []string{
			"PUT http://127.0.0.1:8090/api/v2/tickets/7.json", `\n\n[surveysync `, `"public": false`,
		}},
	}
	for _, tc := range cases {
		t.Run(tc.example, func(t *testing.T) {
			t.Parallel()
			dir := "../../examples/" + tc.example
			stdout, stderr, code := run(t, "preview", "--config", dir+"/surveysync.yaml", "--sync", tc.sync, "--input", dir+"/samples/"+tc.input)
			if code != exitOK {
				t.Fatalf("preview exited %d:\n%s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("preview output lacks %q:\n%s", w, stdout)
				}
			}
			if strings.Contains(stdout, `\u003c`) {
				t.Errorf("preview output escapes < as \\u003c:\n%s", stdout)
			}
			if !strings.Contains(stdout, "1 rendered, 0 filtered out, 0 would be dead-lettered; nothing was sent") {
				t.Errorf("preview summary missing:\n%s", stdout)
			}

			stdout, stderr, code = run(t, "preview", "--json", "--config", dir+"/surveysync.yaml", "--sync", tc.sync, "--input", dir+"/samples/"+tc.input)
			if code != exitOK {
				t.Fatalf("preview --json exited %d:\n%s", code, stderr)
			}
			var out struct {
				Wire []struct {
					Method, URL string
					Body        any
				} `json:"wire_requests"`
			}
			if err := json.Unmarshal([]byte(stdout), &out); err != nil || len(out.Wire) == 0 || out.Wire[0].Body == nil {
				t.Errorf("preview --json: wire_requests missing (%v):\n%s", err, stdout)
			}
		})
	}
}
