package connectors_test

import (
	"encoding/json"
	"errors"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

// node parses a YAML snippet into a config node, for settings such as accept.
func node(t *testing.T, src string) *config.Node {
	t.Helper()
	n, err := config.Parse("test.yaml", []byte(src))
	if err != nil {
		t.Fatalf("parsing %q: %v", src, err)
	}
	return n
}

func decode(t *testing.T, payload string) map[string]any {
	t.Helper()
	m, err := survey.DecodeObject([]byte(payload))
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func TestExprText(t *testing.T) {
	t.Parallel()
	tests := []struct{ in, want string }{
		{"conversation.id", "{{ conversation.id }}"},
		{"answers[0].text", "{{ answers[0].text }}"},
		{"answers[field.ref=nps].number", "{{ answers[field.ref=nps].number }}"},
		{"{{ token | upper }}", "{{ token | upper }}"},
		{"Response ID", `{{ payload["Response ID"] }}`},
		{"1st answer", `{{ payload["1st answer"] }}`},
		{"Zufriedenheit (1-5)", `{{ payload["Zufriedenheit (1-5)"] }}`},
		{`He said "hi"`, `{{ payload["He said \"hi\""] }}`},
		{"a }} b", `{{ payload["a }} b"] }}`},
		// A bare name is a payload field even when a built-in has its name.
		{"submitted_at", "{{ payload.submitted_at }}"},
		{"key", "{{ payload.key }}"},
		{"version.id", "{{ payload.version.id }}"},
		{"source[0]", "{{ payload.source[0] }}"},
		{"payload", "{{ payload.payload }}"},
		{"keys", "{{ keys }}"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			t.Parallel()
			if got := connectors.ExprText(tc.in); got != tc.want {
				t.Errorf("ExprText(%q) = %q, want %q", tc.in, got, tc.want)
			}
		})
	}
}

// TestQuotedNamesReachTheirField checks that every quoted form ExprText
// produces compiles and reads the one field of that exact name, as CSV
// headers need.
func TestQuotedNamesReachTheirField(t *testing.T) {
	t.Parallel()
	for _, name := range []string{"Response ID", "1st answer", `He said "hi"`, "a }} b", "ünïcode", "tab\there", "<&>"} {
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			c := connectors.ResponseConfig{Key: name}
			x, err := c.Extractor()
			if err != nil {
				t.Fatalf("key %q does not compile: %v", name, err)
			}
			fields := map[string]any{name: "the-key", "other": "x"}
			r, err := x.Extract("src", fields, nil, time.Unix(0, 0))
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			if r.Key != "the-key" {
				t.Errorf("key = %q, want the-key", r.Key)
			}
		})
	}
}

func TestParseTime(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Skip("no time zone database:", err)
	}
	utc := func(s string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		name string
		in   any
		loc  *time.Location
		want time.Time
	}{
		{"rfc3339 utc", "2026-05-01T10:00:00Z", nil, utc("2026-05-01T10:00:00Z")},
		{"rfc3339 offset ignores zone", "2026-05-01T10:00:00+02:00", berlin, utc("2026-05-01T08:00:00Z")},
		{"rfc3339 fraction", "2026-05-01T10:00:00.123456Z", nil, utc("2026-05-01T10:00:00.123456Z")},
		{"T without zone in utc", "2026-05-01T10:00:00", nil, utc("2026-05-01T10:00:00Z")},
		{"T without zone in berlin (summer)", "2026-05-01T10:00:00", berlin, utc("2026-05-01T08:00:00Z")},
		{"space without zone in berlin (winter)", "2026-01-15 10:00:00", berlin, utc("2026-01-15T09:00:00Z")},
		{"space with zone", "2026-05-01 10:00:00+05:30", berlin, utc("2026-05-01T04:30:00Z")},
		{"minutes only", "2026-05-01 10:30", berlin, utc("2026-05-01T08:30:00Z")},
		{"date only", "2026-05-01", berlin, utc("2026-04-30T22:00:00Z")},
		{"surrounding spaces", "  2026-05-01T10:00:00Z ", nil, utc("2026-05-01T10:00:00Z")},
		{"unix seconds digits", "1777629600", nil, utc("2026-05-01T10:00:00Z")},
		{"unix seconds zone ignored", "1777629600", berlin, utc("2026-05-01T10:00:00Z")},
		{"unix milliseconds digits", "1777629600123", nil, utc("2026-05-01T10:00:00.123Z")},
		{"unix seconds with fraction", "1777629600.5", nil, utc("2026-05-01T10:00:00.5Z")},
		{"json number seconds", json.Number("1777629600"), nil, utc("2026-05-01T10:00:00Z")},
		{"json number milliseconds", json.Number("1777629600000"), nil, utc("2026-05-01T10:00:00Z")},
		{"json number exponent", json.Number("1.7776296e9"), nil, utc("2026-05-01T10:00:00Z")},
		{"float64 seconds", float64(1777629600), nil, utc("2026-05-01T10:00:00Z")},
		{"int64 milliseconds", int64(1777629600000), nil, utc("2026-05-01T10:00:00Z")},
		{"time value", utc("2026-05-01T10:00:00Z"), berlin, utc("2026-05-01T10:00:00Z")},
		// 1e11 seconds is the year 5138: below it a number is seconds, above it milliseconds.
		{"just below the threshold is seconds", json.Number("99999999999"), nil, time.Unix(99999999999, 0).UTC()},
		{"just above the threshold is milliseconds", json.Number("100000000001"), nil, time.UnixMilli(100000000001).UTC()},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := connectors.ParseTime(tc.in, tc.loc)
			if err != nil {
				t.Fatalf("ParseTime(%v): %v", tc.in, err)
			}
			if !got.Equal(tc.want) {
				t.Errorf("ParseTime(%v) = %s, want %s", tc.in, got.Format(time.RFC3339Nano), tc.want.Format(time.RFC3339Nano))
			}
		})
	}
}

func TestParseTimeRefuses(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		in   any
		want string
	}{
		{"text", "yesterday", "is not a time"},
		{"negative", "-5", "is not a time"},
		{"negative number", json.Number("-5"), "is not a Unix time"},
		{"day first", "01.05.2026", "is not a time"},
		{"bad json number", json.Number("x1"), "is not a time"},
		{"infinite", math.Inf(1), "is not a Unix time"},
		{"bool", true, "expected a time, got true/false"},
		{"object", map[string]any{}, "expected a time, got an object"},
		{"null", nil, "expected a time, got null"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := connectors.ParseTime(tc.in, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("ParseTime(%v) = %v, %v; want an error containing %q", tc.in, got, err, tc.want)
			}
		})
	}
}

func TestExtract(t *testing.T) {
	t.Parallel()
	received := time.Date(2026, 11, 20, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		name    string
		cfg     connectors.ResponseConfig
		payload string
		want    survey.Response
	}{
		{
			name:    "key path and submitted_at",
			cfg:     connectors.ResponseConfig{Key: "form_response.token", SubmittedAt: "form_response.submitted_at"},
			payload: `{"form_response": {"token": "tok-1", "submitted_at": "2026-05-01T10:00:00Z"}}`,
			want:    survey.Response{Source: "src", Key: "tok-1", SubmittedAt: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC), Payload: []byte(`{"form_response":{"token":"tok-1","submitted_at":"2026-05-01T10:00:00Z"}}`)},
		},
		{
			name:    "root selects the response",
			cfg:     connectors.ResponseConfig{Root: "event_data", Key: "id", SubmittedAt: "created_at"},
			payload: `{"event_type": "survey_response.created", "event_data": {"id": 42, "created_at": 1777629600}}`,
			want:    survey.Response{Source: "src", Key: "42", SubmittedAt: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC), Payload: []byte(`{"created_at":1777629600,"id":42}`)},
		},
		{
			name:    "no submitted_at means received",
			cfg:     connectors.ResponseConfig{Key: "id"},
			payload: `{"id": " padded "}`,
			want:    survey.Response{Source: "src", Key: "padded", SubmittedAt: received, Payload: []byte(`{"id":" padded "}`)},
		},
		{
			name:    "zone-less time in the configured zone",
			cfg:     connectors.ResponseConfig{Key: "id", SubmittedAt: "at", Timezone: "America/New_York"},
			payload: `{"id": "a", "at": "2026-01-15 10:00:00"}`,
			want:    survey.Response{Source: "src", Key: "a", SubmittedAt: time.Date(2026, 1, 15, 15, 0, 0, 0, time.UTC), Payload: []byte(`{"id":"a","at":"2026-01-15 10:00:00"}`)},
		},
		{
			name:    "unix milliseconds",
			cfg:     connectors.ResponseConfig{Key: "id", SubmittedAt: "ts"},
			payload: `{"id": true, "ts": 1777629600250}`,
			want:    survey.Response{Source: "src", Key: "true", SubmittedAt: time.Date(2026, 5, 1, 10, 0, 0, 250e6, time.UTC), Payload: []byte(`{"id":true,"ts":1777629600250}`)},
		},
		{
			name:    "template key",
			cfg:     connectors.ResponseConfig{Key: "{{ contact.id }}-{{ survey }}"},
			payload: `{"contact": {"id": 7}, "survey": "nps"}`,
			want:    survey.Response{Source: "src", Key: "7-nps", SubmittedAt: received, Payload: []byte(`{"contact":{"id":7},"survey":"nps"}`)},
		},
		{
			name:    "CSV header with spaces",
			cfg:     connectors.ResponseConfig{Key: "Response ID", SubmittedAt: "Submitted At"},
			payload: `{"Response ID": "r-9", "Submitted At": "2026-05-01"}`,
			want:    survey.Response{Source: "src", Key: "r-9", SubmittedAt: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), Payload: []byte(`{"Response ID":"r-9","Submitted At":"2026-05-01"}`)},
		},
		{
			// A payload is not a stored response yet: a field named like a
			// mapping built-in is the payload's field (the file source's
			// own sample says submitted_at: submitted_at).
			name:    "fields named like built-ins",
			cfg:     connectors.ResponseConfig{Key: "key", SubmittedAt: "submitted_at"},
			payload: `{"key": "k-1", "submitted_at": "2026-05-01T10:00:00Z"}`,
			want:    survey.Response{Source: "src", Key: "k-1", SubmittedAt: time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC), Payload: []byte(`{"key":"k-1","submitted_at":"2026-05-01T10:00:00Z"}`)},
		},
		{
			name:    "version and source fields",
			cfg:     connectors.ResponseConfig{Key: "version.id"},
			payload: `{"version": {"id": "v-3"}, "source": "web"}`,
			want:    survey.Response{Source: "src", Key: "v-3", SubmittedAt: received, Payload: []byte(`{"version":{"id":"v-3"},"source":"web"}`)},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			x, err := tc.cfg.Extractor()
			if err != nil {
				t.Fatal(err)
			}
			raw := []byte(tc.payload)
			got, err := x.Extract("src", decode(t, tc.payload), raw, received)
			if err != nil {
				t.Fatalf("Extract: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("response (-want +got):\n%s", diff)
			}
		})
	}
}

func TestExtractHashKeyIgnoresLayout(t *testing.T) {
	t.Parallel()
	x, err := (&connectors.ResponseConfig{}).Extractor()
	if err != nil {
		t.Fatal(err)
	}
	a := `{"rating": 5, "comment": "great"}`
	b := "{\n  \"comment\":\"great\",\n  \"rating\":5\n}"
	c := `{"rating": 4, "comment": "great"}`
	ra, err := x.Extract("s", decode(t, a), []byte(a), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rb, err := x.Extract("s", decode(t, b), []byte(b), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	rc, err := x.Extract("s", decode(t, c), []byte(c), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(ra.Key, "sha256:") || ra.Key != rb.Key {
		t.Errorf("same content, different layout: keys %q and %q, want one sha256: key", ra.Key, rb.Key)
	}
	if rc.Key == ra.Key {
		t.Errorf("different content got the same key %q", rc.Key)
	}
	if string(rb.Payload) != `{"comment":"great","rating":5}` {
		t.Errorf("payload = %s, want it compacted as received", rb.Payload)
	}
}

func TestExtractFailures(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		cfg     connectors.ResponseConfig
		payload string
		want    string
	}{
		{"missing key", connectors.ResponseConfig{Key: "conversation.id"}, `{"contact": 1}`, "key: "},
		{"empty key", connectors.ResponseConfig{Key: "id"}, `{"id": "  "}`, "key: the key expression yielded an empty value"},
		{"null key", connectors.ResponseConfig{Key: "id"}, `{"id": null}`, "key: the key expression yielded an empty value"},
		{"root not an object", connectors.ResponseConfig{Root: "data", Key: "id"}, `{"data": "x"}`, "root: expected an object, got text"},
		{"root is a list", connectors.ResponseConfig{Root: "data", Key: "id"}, `{"data": [1]}`, "root: expected an object, got a list"},
		{"missing root", connectors.ResponseConfig{Root: "data", Key: "id"}, `{"id": 1}`, "root: "},
		{"bad time", connectors.ResponseConfig{Key: "id", SubmittedAt: "at"}, `{"id": 1, "at": "soon"}`, `submitted_at: "soon" is not a time`},
		{"missing time", connectors.ResponseConfig{Key: "id", SubmittedAt: "at"}, `{"id": 1}`, "submitted_at: "},
		{"bad updated time", connectors.ResponseConfig{Key: "id", UpdatedAt: "updated_at"}, `{"id": 1, "updated_at": "later"}`, `updated_at: "later" is not a time`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			x, err := tc.cfg.Extractor()
			if err != nil {
				t.Fatal(err)
			}
			_, err = x.Extract("src", decode(t, tc.payload), []byte(tc.payload), time.Now())
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Extract = %v, want an error containing %q", err, tc.want)
			}
			if errors.Is(err, connectors.ErrNotAccepted) {
				t.Errorf("a broken payload was reported as not accepted: %v", err)
			}
		})
	}
}

// TestExtractUpdatedAt reads the source's time of a version (Unix seconds,
// as Delighted sends it) and leaves it zero when a version has none.
func TestExtractUpdatedAt(t *testing.T) {
	t.Parallel()
	cfg := connectors.ResponseConfig{Root: "event_data", Key: "id", UpdatedAt: "updated_at"}
	x, err := cfg.Extractor()
	if err != nil {
		t.Fatal(err)
	}
	with := `{"event_type": "survey_response.updated", "event_data": {"id": "r1", "updated_at": 1795423267}}`
	r, err := x.Extract("delighted", decode(t, with), []byte(with), time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if want := time.Unix(1795423267, 0).UTC(); !r.UpdatedAt.Equal(want) {
		t.Errorf("UpdatedAt = %s, want %s", r.UpdatedAt, want)
	}
	without := `{"event_type": "survey_response.created", "event_data": {"id": "r1"}}`
	r, err = x.Extract("delighted", decode(t, without), []byte(without), time.Now())
	if err != nil || !r.UpdatedAt.IsZero() {
		t.Errorf("without updated_at: UpdatedAt = %s, err %v; want the zero time and no error", r.UpdatedAt, err)
	}
}

func TestAcceptFilter(t *testing.T) {
	t.Parallel()
	cfg := connectors.ResponseConfig{
		Key:    "form_response.token",
		Accept: node(t, "[{field: event_type, equals: form_response}]"),
	}
	x, err := cfg.Extractor()
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		payload string
		want    error
	}{
		{`{"event_type": "form_response", "form_response": {"token": "t"}}`, nil},
		{`{"event_type": "form_deleted", "form_response": {"token": "t"}}`, connectors.ErrNotAccepted},
		{`{"form_response": {"token": "t"}}`, connectors.ErrNotAccepted},
		// The filter runs before the key: a dropped event needs no key.
		{`{"event_type": "ping"}`, connectors.ErrNotAccepted},
	}
	for _, tc := range tests {
		_, err := x.Extract("src", decode(t, tc.payload), nil, time.Now())
		if !errors.Is(err, tc.want) {
			t.Errorf("%s: Extract = %v, want %v", tc.payload, err, tc.want)
		}
	}
}

func TestResponseConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		cfg  connectors.ResponseConfig
		want []string // substrings of the error; none means valid
	}{
		{"empty is valid", connectors.ResponseConfig{}, nil},
		{"all set", connectors.ResponseConfig{Root: "data", Key: "id", SubmittedAt: "at", Timezone: "Europe/Berlin", OnUpdate: "redeliver"}, nil},
		{"on_update latest", connectors.ResponseConfig{OnUpdate: "latest"}, nil},
		{"on_update ignore", connectors.ResponseConfig{OnUpdate: "ignore"}, nil},
		{"on_update unknown", connectors.ResponseConfig{OnUpdate: "newest"}, []string{`on_update: "newest": want latest, redeliver or ignore`}},
		{"bad zone", connectors.ResponseConfig{Timezone: "Mars/Base"}, []string{`timezone: "Mars/Base" is not a known IANA zone`}},
		{"bad key", connectors.ResponseConfig{Key: "{{ id | nope }}"}, []string{"key: ", "nope"}},
		{"bad root", connectors.ResponseConfig{Root: "{{ data"}, []string{"root: "}},
		{"bad submitted_at", connectors.ResponseConfig{SubmittedAt: "{{ at | nope }}"}, []string{"submitted_at: "}},
		{"bad accept", connectors.ResponseConfig{Accept: node(t, "{field: x, frobnicates: 1}")}, []string{"accept: "}},
		{
			"every problem at once",
			connectors.ResponseConfig{Key: "{{ a | nope }}", Timezone: "Nowhere", OnUpdate: "x"},
			[]string{"key: ", "timezone: ", "on_update: "},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			err := tc.cfg.Validate()
			if len(tc.want) == 0 {
				if err != nil {
					t.Fatalf("Validate = %v, want nil", err)
				}
				return
			}
			if err == nil {
				t.Fatalf("Validate = nil, want an error containing %q", tc.want)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate = %v, want it to contain %q", err, w)
				}
			}
		})
	}
}

func TestUpdatePolicy(t *testing.T) {
	t.Parallel()
	tests := []struct {
		in   string
		want store.UpdatePolicy
	}{
		{"", store.UpdateLatest},
		{"latest", store.UpdateLatest},
		{"redeliver", store.UpdateRedeliver},
		{"ignore", store.UpdateIgnore},
	}
	for _, tc := range tests {
		c := connectors.ResponseConfig{OnUpdate: tc.in}
		if got := c.UpdatePolicy(); got != tc.want {
			t.Errorf("UpdatePolicy(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
