package hubspot

import (
	"encoding/json"
	"errors"
	"maps"
	"strings"
	"testing"
	"time"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/mapping"
	"github.com/surveysync/surveysync/survey"
)

// fuzzMapping puts survey text in a property, in mixed text and in a note.
const fuzzMapping = `
preset: hubspot.contact_upsert
id: "{{ email }}"
properties:
  last_csat_comment: "{{ comment }}"
  last_csat_summary: "CSAT {{ rating }}: {{ comment }}"
note: "{{ comment }}"
`

// FuzzPresetBody renders arbitrary survey text through the
// hubspot.contact_upsert preset and builds the bodies the destination
// sends: they must always be valid JSON, and decode back to the text, with
// each run of invalid UTF-8 bytes as one U+FFFD. The seed corpus is in
// testdata/fuzz/FuzzPresetBody.
func FuzzPresetBody(f *testing.F) {
	for _, s := range []string{"Loved it", `"}, "x": "`, "a\\b\nc\td", "😀👍🏽", "\xff\xfe bad", "{{ key }}", "</script><3", "[surveysync ffffffffffffffffffffffffffffffff]"} {
		f.Add(s)
	}
	m, err := mapping.Parse("fuzz.yaml", []byte(fuzzMapping))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, text string) {
		want := strings.ToValidUTF8(text, "\uFFFD")
		in := &mapping.Input{
			Response:    &survey.Response{Source: "s", Key: "k", SubmittedAt: time.Unix(1700000000, 0)},
			Fields:      map[string]any{"email": "A@b.co", "rating": json.Number("4"), "comment": text},
			Sync:        "y",
			DeliveryKey: "0123456789abcdef0123456789abcdef",
		}
		req, err := m.RenderRequest(in)
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		a, err := parseAction(req, in.Response.SubmittedAt)
		if err != nil {
			t.Fatalf("parse: %v", err)
		}
		// The upsert, as sendUpsert builds it.
		input := *a.upsert
		input.ObjectWriteTraceID = in.DeliveryKey
		raw, err := connectors.EncodeJSON(map[string]any{"inputs": []upsertInput{input}})
		if err != nil || !json.Valid(raw) {
			t.Fatalf("upsert body %q is not valid JSON (%v)", raw, err)
		}
		var upsert struct {
			Inputs []struct {
				ID         string            `json:"id"`
				Properties map[string]string `json:"properties"`
			} `json:"inputs"`
		}
		if err := json.Unmarshal(raw, &upsert); err != nil || len(upsert.Inputs) != 1 {
			t.Fatalf("upsert body %q: %v", raw, err)
		}
		got := upsert.Inputs[0]
		if got.ID != "a@b.co" || got.Properties["last_csat_comment"] != want || got.Properties["last_csat_summary"] != "CSAT 4: "+want || len(got.Properties) != 2 {
			t.Fatalf("upsert body %q decodes to %+v, want the text %q", raw, got, want)
		}
		// The note, as postNote builds it, when the text is not blank.
		if strings.TrimSpace(want) == "" {
			if a.note != nil {
				t.Fatalf("a blank note %q was kept", text)
			}
			return
		}
		props := maps.Clone(a.note.Properties)
		props["hs_note_body"] = withMarker(props["hs_note_body"], in.DeliveryKey)
		raw, err = connectors.EncodeJSON(noteSpec{Properties: props, Associations: contactNote("101")})
		if err != nil || !json.Valid(raw) {
			t.Fatalf("note body %q is not valid JSON (%v)", raw, err)
		}
		var note noteSpec
		if err := json.Unmarshal(raw, &note); err != nil {
			t.Fatal(err)
		}
		if body := note.Properties["hs_note_body"]; body != want+"\n\n"+noteMarker(in.DeliveryKey) {
			t.Fatalf("note body decodes to %q, want %q and the marker", body, want)
		}
		if m := markerPattern.FindStringSubmatch(note.Properties["hs_note_body"]); m == nil || m[1] != in.DeliveryKey {
			t.Fatalf("the marker of %q does not yield the delivery key: %v", note.Properties["hs_note_body"], m)
		}
	})
}

// FuzzPresetFile parses arbitrary files that name the preset: expanding
// and compiling them must never panic, and every mistake must be reported
// with its file, line and column.
func FuzzPresetFile(f *testing.F) {
	f.Add("id: \"{{ email }}\"\nproperties: {a: \"{{ b }}\"}\nnote: x\n")
	f.Add("id: [1]\nproperties: {a: {b: c}}\nnote_timestamp: 3\nid_property: \"{{ x }}\"\n")
	f.Add("properties:\nfilter: [{field: a, exists: true}]\nmaps: {m: {a: 1}}\n")
	f.Fuzz(func(t *testing.T, body string) {
		src := "preset: " + PresetContactUpsert + "\n" + body
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
