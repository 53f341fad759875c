package mapping

import (
	"encoding/json"
	"testing"
	"time"

	"github.com/surveysync/surveysync/survey"
)

// typeformPayload is a realistic Typeform webhook body (about 1.5 KB).
var typeformPayload = []byte(`{ "event_id": "01HXYZABCDEF", "event_type": "form_response",
  "form_response": {
    "form_id": "lT4Z3j", "token": "a3a12ec67a1365927098a606107fac15",
    "landed_at": "2024-05-01T10:00:00Z", "submitted_at": "2024-05-01T10:03:12Z",
    "hidden": { "user_id": "abc123", "email": "Jane@Example.com", "ticket_id": "35436" },
    "calculated": { "score": 9 },
    "variables": [ { "key": "score", "type": "number", "number": 4 }, { "key": "name", "type": "text", "text": "typeform" } ],
    "definition": { "id": "lT4Z3j", "title": "NPS", "fields": [
        { "id": "NRsxU591jIW9", "ref": "nps", "type": "opinion_scale", "title": "How likely…?", "allow_multiple_selections": false, "allow_other_choice": false },
        { "id": "DlXFaesGBpoF", "ref": "why", "type": "long_text", "title": "Why?" },
        { "id": "k6TP9oLGgHjl", "ref": "reasons", "type": "multiple_choice", "title": "What stood out?" } ] },
    "answers": [
      { "type": "number", "number": 9, "field": { "id": "NRsxU591jIW9", "type": "opinion_scale", "ref": "nps" } },
      { "type": "text", "text": "Fast and friendly, \"really\" 😀", "field": { "id": "DlXFaesGBpoF", "type": "long_text", "ref": "why" } },
      { "type": "choices", "choices": { "labels": ["Speed", "Price"] }, "field": { "id": "k6TP9oLGgHjl", "type": "multiple_choice", "ref": "reasons" } } ],
    "ending": { "id": "DefaultTyScreen", "ref": "default_tys" } } }`)

const typeformSheet = `sheet: NPS
key: Token
filter:
  - {field: event_type, equals: form_response}
columns:
  Token:     "{{ form_response.token }}"
  Submitted: {value: "{{ form_response.submitted_at }}", type: datetime, timezone: Europe/Berlin, format: "YYYY-MM-DD HH:mm"}
  Score:     {value: "{{ form_response.answers[field.ref=nps].number }}", type: integer}
  Why:       {value: "{{ form_response.answers[field.ref=why].text }}", optional: true}
  Reasons:   "{{ form_response.answers[field.ref=reasons].choices.labels | join ', ' }}"
  Email:     "{{ form_response.hidden.email | lower }}"
  Ticket:    {value: "{{ form_response.hidden.ticket_id }}", type: integer}
  Form:      "{{ form_response.definition.title }}"
  Channel:   Typeform
  Synced:    {value: "{{ received_at }}", type: datetime}
`

// respondioPayload is what a respond.io workflow HTTP step sends.
var respondioPayload = []byte(`{"source": "respondio", "contact_id": "88001", "email": "Jane.Doe@Example.com", "first_name": "Jane",
  "last_name": "$contact.lastname", "score": "😀", "closed_at": "2024-05-01 18:03:12", "agent": "Maria",
  "comment": "Quick and friendly,\nthanks! \"5 stars\"", "channel": "WhatsApp", "conversation_id": "1234567890"}`)

const respondioRequest = `filter:
  - {field: "{{ score | unless_prefix $ }}", exists: true}
request:
  method: POST
  path: /crm/v3/objects/contacts/batch/upsert
  idempotency_key: "{{ delivery_key }}"
  body:
    id: "{{ email | lower }}"
    idProperty: email
    properties:
      firstname: "{{ first_name | unless_prefix $ | optional }}"
      lastname: "{{ last_name | unless_prefix $ | optional }}"
      last_csat: "{{ score | map emoji_5 }}"
      last_csat_comment: "{{ comment | default '' }}"
      last_csat_at: "{{ closed_at | unix_ms }}"
      last_csat_channel: "{{ channel | lower }}"
      last_csat_note: "CSAT {{ score | map emoji_5 }}/5 via {{ channel }}: {{ comment | truncate 200 }}"
  batch: {max: 100, path: inputs}
`

func benchInput(payload []byte) *Input {
	return &Input{
		Response:   &survey.Response{Source: "src", Key: "resp-1", SubmittedAt: time.Date(2024, 5, 1, 10, 3, 12, 0, time.UTC), Payload: payload},
		Sync:       "sync-a",
		Version:    1,
		ReceivedAt: time.Date(2024, 5, 1, 10, 3, 13, 0, time.UTC),
	}
}

func benchRow(b *testing.B, decode bool) {
	m, err := Parse("bench.yaml", []byte(typeformSheet))
	if err != nil {
		b.Fatal(err)
	}
	decoded, err := decodePayload(typeformPayload)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		// A fresh input per response, as the dispatcher makes them.
		in := benchInput(typeformPayload)
		if !decode {
			in.Fields = decoded
		}
		ok, err := m.Match(in)
		if err != nil || !ok {
			b.Fatal(ok, err)
		}
		if _, err := m.RenderRow(in); err != nil {
			b.Fatal(err)
		}
	}
}

func benchRequest(b *testing.B, decode bool) {
	m, err := Parse("bench.yaml", []byte(respondioRequest))
	if err != nil {
		b.Fatal(err)
	}
	decoded, err := decodePayload(respondioPayload)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		in := benchInput(respondioPayload)
		in.DeliveryKey = "0123456789abcdef0123456789abcdef"
		if !decode {
			in.Fields = decoded
		} else {
			// Derive the key as well, as a caller that does not pass it would.
			in.DeliveryKey = ""
		}
		ok, err := m.Match(in)
		if err != nil || !ok {
			b.Fatal(ok, err)
		}
		if _, err := m.RenderRequest(in); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkRenderRow renders a Typeform response as a sheet row from an
// already decoded payload (filter included).
func BenchmarkRenderRow(b *testing.B) { benchRow(b, false) }

// BenchmarkRenderRowWithDecode also decodes the payload each time, as the
// dispatcher does for a response read from the store; the mapping decodes
// only what its templates reach.
func BenchmarkRenderRowWithDecode(b *testing.B) { benchRow(b, true) }

// BenchmarkRenderRequest renders a respond.io response as a HubSpot upsert
// item from an already decoded payload (filter included).
func BenchmarkRenderRequest(b *testing.B) { benchRequest(b, false) }

// BenchmarkRenderRequestWithDecode also decodes the payload and derives the
// delivery key each time.
func BenchmarkRenderRequestWithDecode(b *testing.B) { benchRequest(b, true) }

// BenchmarkRenderBatch combines 100 rendered items into one body.
func BenchmarkRenderBatch(b *testing.B) {
	m, err := Parse("bench.yaml", []byte(respondioRequest))
	if err != nil {
		b.Fatal(err)
	}
	reqs := make([]*Request, 100)
	for i := range reqs {
		in := benchInput(respondioPayload)
		in.Response.Key = string(rune('a'+i%26)) + string(rune('a'+i/26))
		if reqs[i], err = m.RenderRequest(in); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := m.RenderBatch(reqs); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodePayload is the payload decoder alone.
func BenchmarkDecodePayload(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(typeformPayload)))
	for b.Loop() {
		if _, err := decodePayload(typeformPayload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkDecodeEncodingJSON is what decoding the same payload costs with
// encoding/json (survey.DecodeObject), for comparison.
func BenchmarkDecodeEncodingJSON(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(typeformPayload)))
	for b.Loop() {
		if _, err := survey.DecodeObject(typeformPayload); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkParse compiles a mapping file, which happens once per load.
func BenchmarkParse(b *testing.B) {
	src := []byte(typeformSheet)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Parse("bench.yaml", src); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkMarshalBody is the JSON encoding a destination does after
// RenderRequest, for the whole picture.
func BenchmarkMarshalBody(b *testing.B) {
	m, _ := Parse("bench.yaml", []byte(respondioRequest))
	req, err := m.RenderRequest(benchInput(respondioPayload))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := json.Marshal(req.Body); err != nil {
			b.Fatal(err)
		}
	}
}
