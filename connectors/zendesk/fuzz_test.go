package zendesk

import (
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/mapping"
	"github.com/surveysync/surveysync/survey"
)

// Mappings the fuzz target renders survey text through: a text field and a
// comment of an update, and the subject and first comment of a new ticket.
const (
	fuzzUpdate = `
preset: zendesk.ticket_fields
ticket: 7
fields: {102: "{{ comment }}"}
comment: "Survey: {{ comment }}"
`
	fuzzCreate = `
preset: zendesk.ticket_create
subject: "{{ comment }}"
comment: "{{ comment }}"
`
)

// FuzzPresetBody renders arbitrary survey text through the Zendesk presets
// and builds the bodies the destination sends: they must always be valid
// JSON, and decode back to the text, with each run of invalid UTF-8 bytes as
// one U+FFFD. The seed corpus is in testdata/fuzz/FuzzPresetBody.
func FuzzPresetBody(f *testing.F) {
	for _, s := range []string{"Loved it", `"}, "x": "`, "a\\b\nc\td", "😀👍🏽", "\xff\xfe bad", "{{ key }}", "</p><script>", "[surveysync ffffffffffffffffffffffffffffffff]"} {
		f.Add(s)
	}
	update, err := mapping.Parse("update.yaml", []byte(fuzzUpdate))
	if err != nil {
		f.Fatal(err)
	}
	create, err := mapping.Parse("create.yaml", []byte(fuzzCreate))
	if err != nil {
		f.Fatal(err)
	}
	const key = "0123456789abcdef0123456789abcdef"
	f.Fuzz(func(t *testing.T, text string) {
		want := strings.ToValidUTF8(text, "\uFFFD")
		input := func() *mapping.Input {
			return &mapping.Input{Response: &survey.Response{Source: "s", Key: "k"}, Fields: map[string]any{"comment": text}, Sync: "y", DeliveryKey: key}
		}

		// The update, as update builds it.
		req, err := update.RenderRequest(input())
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		a, err := parseAction(req)
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		ticket := maps.Clone(a.ticket)
		markComment(ticket, key)
		raw, err := connectors.EncodeJSON(map[string]any{"ticket": ticket})
		if err != nil || !json.Valid(raw) {
			t.Fatalf("update body %q is not valid JSON (%v)", raw, err)
		}
		var upd struct {
			Ticket struct {
				CustomFields []struct {
					ID    int64  `json:"id"`
					Value string `json:"value"`
				} `json:"custom_fields"`
				Comment struct {
					Body   string `json:"body"`
					Public bool   `json:"public"`
				} `json:"comment"`
			} `json:"ticket"`
		}
		if err := json.Unmarshal(raw, &upd); err != nil {
			t.Fatal(err)
		}
		if f := upd.Ticket.CustomFields; len(f) != 1 || f[0].ID != 102 || f[0].Value != want {
			t.Fatalf("update body %q: custom fields %+v, want field 102 = %q", raw, f, want)
		}
		if c := upd.Ticket.Comment; c.Body != "Survey: "+want+"\n\n"+commentMarker(key) || c.Public {
			t.Fatalf("update body %q: comment %+v, want the internal comment %q and the marker", raw, c, want)
		}
		if !endsWithMarker(upd.Ticket.Comment.Body, commentMarker(key)) {
			t.Fatalf("comment %q does not end with its marker", upd.Ticket.Comment.Body)
		}

		// The create, as create builds it, when the text is not blank.
		req, err = create.RenderRequest(input())
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		a, err = parseAction(req)
		if strings.TrimSpace(want) == "" {
			if err == nil {
				t.Fatalf("a ticket with the blank first comment %q was accepted", text)
			}
			return
		}
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		raw, err = connectors.EncodeJSON(map[string]any{"ticket": a.ticket})
		if err != nil || !json.Valid(raw) {
			t.Fatalf("create body %q is not valid JSON (%v)", raw, err)
		}
		var cr struct {
			Ticket struct {
				Subject    string `json:"subject"`
				ExternalID string `json:"external_id"`
				Comment    struct {
					Body string `json:"body"`
				} `json:"comment"`
			} `json:"ticket"`
		}
		if err := json.Unmarshal(raw, &cr); err != nil {
			t.Fatal(err)
		}
		if cr.Ticket.Subject != want || cr.Ticket.Comment.Body != want || cr.Ticket.ExternalID != key {
			t.Fatalf("create body %q decodes to %+v, want %q", raw, cr.Ticket, want)
		}
	})
}

// FuzzPresetFile parses arbitrary files that name one of the presets:
// expanding and compiling them must never panic, and every mistake must be
// reported with its file, line and column.
func FuzzPresetFile(f *testing.F) {
	f.Add(true, "ticket: \"{{ id }}\"\nfields: {1: \"{{ s }}\"}\ncomment: x\npublic: false\ntags: [a]\n")
	f.Add(false, "subject: s\ncomment: c\nrequester: {email: e}\nfields: {x: 1}\nexternal_id: [1]\n")
	f.Add(true, "ticket: \"/../{{ id }}\"\nfields: {\"12 \": 1}\n")
	f.Fuzz(func(t *testing.T, update bool, body string) {
		preset := PresetTicketCreate
		if update {
			preset = PresetTicketFields
		}
		src := "preset: " + preset + "\n" + body
		if _, err := mapping.Parse("fuzz.yaml", []byte(src)); err != nil {
			var list config.ErrorList
			if !errors.As(err, &list) || len(list) == 0 {
				t.Fatalf("error %v (%T) is not a non-empty config.ErrorList", err, err)
			}
			for _, e := range list {
				if e.Pos.File != "fuzz.yaml" || e.Pos.Line == 0 || e.Msg == "" {
					t.Fatalf("error without a position or message: %#v", e)
				}
			}
		}
	})
}
