package mapping

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/survey"
)

func mustParse(t *testing.T, src string) *Mapping {
	t.Helper()
	m, err := Parse("m.yaml", []byte(src))
	if err != nil {
		t.Fatalf("Parse:\n%v", err)
	}
	return m
}

func TestLoad(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "csat.yaml")
	if err := os.WriteFile(file, []byte("sheet: S\nkey: ID\ncolumns:\n  ID: \"{{ key }}\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	m, err := Load(file)
	if err != nil {
		t.Fatal(err)
	}
	if m.File() != file || m.Kind() != SheetRows || m.Kind().String() != "sheet rows" {
		t.Errorf("File, Kind = %q, %v", m.File(), m.Kind())
	}

	_, err = Load(filepath.Join(dir, "nope.yaml"))
	var list config.ErrorList
	if !errors.As(err, &list) || len(list) != 1 || !strings.Contains(err.Error(), "nope.yaml: cannot read mapping file: no such file or directory") {
		t.Errorf("Load of a missing file: %v", err)
	}
}

func TestParseShapes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		src, want string
	}{
		{"", "m.yaml:1:1: the mapping file is empty; it needs columns (for a sheet) or request (for an HTTP destination)"},
		{"- a\n- b\n", "m.yaml:1:1: expected a mapping file with keys such as sheet, key and columns, got a list"},
		{"sheet: S\n", "m.yaml:1:1: the mapping needs columns (rows for a sheet) or request (for an HTTP destination)"},
		{"columns: {A: x}\nrequest: {method: GET, path: /}\n", "m.yaml:2:1: a mapping has either columns (rows for a sheet) or request (for an HTTP destination), not both; split it into two files"},
		{"columns: {ID: x}\n", "m.yaml:1:1: missing required key \"sheet\" (the name of the tab rows go to)\nm.yaml:1:1: missing required key \"key\" (the header of the column that holds the response key, such as key: Response ID)"},
		{"sheet: S\nkey: id\ncolumns: {ID: x}\n", "m.yaml:2:6: key: \"id\" is not one of the columns; did you mean \"ID\"?"},
		{"sheet: S\nkey: ID\ncolumns: {ID: {value: \"{{ key }}\", optional: true}}\n", "m.yaml:3:23: column \"ID\": the key column cannot be optional; every row needs a key"},
		{"sheet: S\nkey: ID\ncolumns: []\n", "m.yaml:3:10: columns: expected headers and their values, such as Email: \"{{ contact.email }}\""},
		{"sheet: S\nkey: ID\ncolumns: {ID: x, N: {type: number}}\n", "m.yaml:3:22: column \"N\": missing required key \"value\" (such as value: \"{{ rating }}\")"},
		{"sheet: S\nkey: ID\ncolumns: {ID: x, N: [1]}\n", "m.yaml:3:21: column \"N\": expected a value or {value: ..., type: ...}, got a list"},
		{"sheet: S\nkey: ID\ncolumns: {ID: x, N: {value: x, type: number, default: abc}}\n", "m.yaml:3:55: column \"N\": default: \"abc\" is not a number (the column's type is number)"},
		{"sheet: S\nkey: ID\nmaps: {stars: {a: 1}, m: [1]}\ncolumns: {ID: x}\n", "m.yaml:3:8: maps: \"stars\" is the name of a preset; choose another name\nm.yaml:3:26: maps: m: expected a mapping of labels to values, got a list"},
		{"sheet: S\nkey: ID\ncolumns: {ID: x, M: {value: x, map: {}}}\n", "m.yaml:3:37: column \"M\": map: the map is empty; list labels and their values, such as {\"😞\": 1, \"😀\": 5}"},
		{"sheet: S\nkey: ID\ncolumns: {ID: x, M: {value: x, map: {a: [1]}}}\n", "m.yaml:3:41: column \"M\": map: the value for \"a\" must be a single value, got a list"},
		{"sheet: S\nkey: ID\noptions: {append_missing_headers: sure}\ncolumns: {ID: x}\n", "m.yaml:3:35: options: append_missing_headers: expected true or false"},
		{"sheet: S\nkey: ID\ncolumns:\n  ID: x\n  A: &a x\n  B: *a\n", "m.yaml:6:6: aliases (*name) are not supported; repeat the value instead"},
	}
	for _, tt := range tests {
		_, err := Parse("m.yaml", []byte(tt.src))
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want %q", tt.src, tt.want)
			continue
		}
		var list config.ErrorList
		if !errors.As(err, &list) {
			t.Errorf("Parse(%q) error is %T, want config.ErrorList", tt.src, err)
		}
		if err.Error() != tt.want {
			t.Errorf("Parse(%q):\n got  %s\n want %s", tt.src, err, tt.want)
		}
	}
}

// TestParseDoesNotPanic holds inputs on which the YAML layer once panicked
// (found by FuzzParse); Parse must report an error instead.
func TestParseDoesNotPanic(t *testing.T) {
	t.Parallel()
	for _, src := range []string{"000\n---", "a: 1\n---\n", "---\n---"} {
		_, err := Parse("m.yaml", []byte(src))
		if err == nil || !strings.HasPrefix(err.Error(), "m.yaml:") {
			t.Errorf("Parse(%q) error = %v, want a positioned error", src, err)
		}
	}
}

func TestRequestPathSafety(t *testing.T) {
	t.Parallel()
	bad := []string{
		"https://evil.example/x",
		"//evil.example/x",
		"/\\evil.example",
		"{{ host }}/x",
		"{{ path }}",
		"evil.example/x",
		"x",
		"/redirect?to=https://evil",
		"/a/../b",
		"/a/./b",
		"/a b",
		"/a#frag",
		"/ok/http://x",
	}
	for _, p := range bad {
		src := "request:\n  method: POST\n  path: '" + p + "'\n"
		_, err := Parse("m.yaml", []byte(src))
		if err == nil {
			t.Errorf("path %q was accepted", p)
		}
	}
	for _, p := range []string{"/", "/crm/v3/objects/contacts", "/x/{{ id }}", "/{{ id }}", "/a-{{ id }}.json", "/users/{{ a }}/{{ b }}"} {
		src := "request:\n  method: POST\n  path: '" + p + "'\n"
		if _, err := Parse("m.yaml", []byte(src)); err != nil {
			t.Errorf("path %q: %v", p, err)
		}
	}
	_, err := Parse("m.yaml", []byte("request:\n  method: POST\n  path: '{{ host }}/x'\n"))
	if err == nil || !strings.Contains(err.Error(), "m.yaml:3:9: request: path \"{{ host }}/x\": the path must start with / and response data cannot choose the host") {
		t.Errorf("error = %v", err)
	}
}

func TestRenderPathEscapes(t *testing.T) {
	t.Parallel()
	m := mustParse(t, "request:\n  method: DELETE\n  path: /items/{{ id }}\n")
	for id, want := range map[string]string{
		`"x/../../admin"`:  "/items/x%2F..%2F..%2Fadmin",
		`"https://evil/"`:  "/items/https:%2F%2Fevil%2F",
		`"a?b#c"`:          "/items/a%3Fb%23c",
		`"%2e%2e"`:         "/items/%252e%252e",
		`"ü 1"`:            "/items/%C3%BC%201",
		`42`:               "/items/42",
		`"..."`:            "/items/...",
		`"\r\nHost: evil"`: "/items/%0D%0AHost:%20evil",
	} {
		req, err := m.RenderRequest(testInput(t, `{"id": `+id+`}`))
		if err != nil {
			t.Errorf("id %s: %v", id, err)
			continue
		}
		if req.Path != want {
			t.Errorf("id %s: path %q, want %q", id, req.Path, want)
		}
		if req.Body != nil {
			t.Errorf("body = %v, want nil", req.Body)
		}
	}
	for _, id := range []string{`"."`, `".."`, `""`, `"  "`, `[1]`, `{"a": 1}`} {
		if _, err := m.RenderRequest(testInput(t, `{"id": `+id+`}`)); err == nil {
			t.Errorf("id %s was accepted", id)
		}
	}
}

func TestKindMismatch(t *testing.T) {
	t.Parallel()
	sheet := mustParse(t, "sheet: S\nkey: ID\ncolumns: {ID: \"{{ key }}\"}\n")
	req := mustParse(t, "request: {method: POST, path: /x, body: {a: 1}}\n")
	in := testInput(t, `{}`)
	if _, err := sheet.RenderRequest(in); err == nil {
		t.Error("RenderRequest on a sheet mapping succeeded")
	}
	if _, err := req.RenderRow(in); err == nil {
		t.Error("RenderRow on a request mapping succeeded")
	}
	if _, err := sheet.RenderBatch([]*Request{{}}); err == nil {
		t.Error("RenderBatch on a sheet mapping succeeded")
	}
	if req.Sheet() != nil || sheet.BatchMax() != 0 || req.BatchMax() != 0 {
		t.Error("Sheet or BatchMax wrong")
	}
	if req.Kind() != Requests || req.Kind().String() != "requests" {
		t.Errorf("Kind = %v", req.Kind())
	}
}

func TestSheetSpec(t *testing.T) {
	t.Parallel()
	m := mustParse(t, `sheet: Responses
key: Response ID
options: {append_missing_headers: true, dates: text, long_text: dead_letter}
columns:
  Response ID: "{{ key }}"
  Submitted: {value: "{{ submitted_at }}", type: datetime, format: "DD/MM/YYYY HH:mm"}
  Rating: {value: "{{ rating }}", type: number}
  Link: {value: "=HYPERLINK(\"x\")", input: user_entered}
`)
	got := m.Sheet()
	want := &SheetSpec{
		Tab: "Responses", KeyHeader: "Response ID",
		Headers: []string{"Response ID", "Submitted", "Rating", "Link"},
		Columns: []ColumnSpec{
			{Header: "Response ID", Kind: survey.KindText, Pos: config.Pos{File: "m.yaml", Line: 5, Col: 3}},
			{Header: "Submitted", Kind: survey.KindDateTime, Format: "DD/MM/YYYY HH:mm", Layout: "02/01/2006 15:04", Pos: config.Pos{File: "m.yaml", Line: 6, Col: 3}},
			{Header: "Rating", Kind: survey.KindNumber, Pos: config.Pos{File: "m.yaml", Line: 7, Col: 3}},
			{Header: "Link", Kind: survey.KindText, UserEntered: true, Pos: config.Pos{File: "m.yaml", Line: 8, Col: 3}},
		},
		Options: SheetOptions{AppendMissingHeaders: true, Dates: DatesText, LongText: LongTextDeadLetter},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Sheet() (-want +got):\n%s", diff)
	}
	defaults := mustParse(t, "sheet: S\nkey: ID\ncolumns: {ID: \"{{ key }}\"}\n").Sheet().Options
	if defaults != (SheetOptions{Dates: DatesSerial, LongText: LongTextTruncate}) {
		t.Errorf("default options = %+v", defaults)
	}
}

func TestLongText(t *testing.T) {
	t.Parallel()
	long := strings.Repeat("ab", MaxCellChars/2) + "😀tail"
	payload, _ := json.Marshal(map[string]string{"comment": long})
	for _, mode := range []LongTextMode{LongTextTruncate, LongTextDeadLetter} {
		m := mustParse(t, "sheet: S\nkey: ID\noptions: {long_text: "+string(mode)+"}\ncolumns:\n  ID: \"{{ key }}\"\n  Comment: \"{{ comment }}\"\n")
		row, err := m.RenderRow(testInput(t, string(payload)))
		if mode == LongTextDeadLetter {
			if err == nil || !strings.Contains(err.Error(), `m.yaml:6:12: column "Comment": the text is 50006 characters, more than a cell holds (50000)`) {
				t.Errorf("dead_letter: error = %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		got := row.Cells[1].Value.Str
		if len(got) != MaxCellChars || !utf8.ValidString(got) {
			t.Errorf("truncate: got %d bytes, want %d", len(got), MaxCellChars)
		}
	}
	// An emoji counts as two: cutting inside it keeps the text valid.
	s := truncateUTF16(strings.Repeat("a", 9)+"😀", 10)
	if s != strings.Repeat("a", 9) {
		t.Errorf("truncateUTF16 split an emoji: %q", s)
	}
}

func TestRenderBatchRules(t *testing.T) {
	t.Parallel()
	m := mustParse(t, `request:
  method: POST
  path: /batch/{{ group }}
  idempotency_key: "{{ delivery_key }}"
  body: {id: "{{ key }}"}
  batch: {max: 2, path: inputs}
`)
	render := func(key, group string) *Request {
		in := testInput(t, `{"group": "`+group+`"}`)
		in.Response.Key = key
		req, err := m.RenderRequest(in)
		if err != nil {
			t.Fatal(err)
		}
		return req
	}
	a, b, c := render("a", "g"), render("b", "g"), render("c", "g")
	ab, err := m.RenderBatch([]*Request{a, b})
	if err != nil {
		t.Fatal(err)
	}
	ba, err := m.RenderBatch([]*Request{b, a})
	if err != nil {
		t.Fatal(err)
	}
	if ab.IdempotencyKey == "" || ab.IdempotencyKey != ba.IdempotencyKey {
		t.Errorf("batch keys %q and %q should be equal and set", ab.IdempotencyKey, ba.IdempotencyKey)
	}
	ac, _ := m.RenderBatch([]*Request{a, c})
	if ac.IdempotencyKey == ab.IdempotencyKey {
		t.Error("different batches got the same key")
	}
	want := map[string]any{"inputs": []any{map[string]any{"id": "a"}, map[string]any{"id": "b"}}}
	if diff := cmp.Diff(want, ab.Body); diff != "" {
		t.Errorf("batch body (-want +got):\n%s", diff)
	}
	if _, err := m.RenderBatch([]*Request{a, b, c}); err == nil || !strings.Contains(err.Error(), "more than batch.max (2)") {
		t.Errorf("over max: %v", err)
	}
	if _, err := m.RenderBatch([]*Request{a, render("d", "other")}); err == nil || !strings.Contains(err.Error(), "must share method, path, query and headers") {
		t.Errorf("mixed paths: %v", err)
	}
	if _, err := m.RenderBatch(nil); err == nil {
		t.Error("empty batch accepted")
	}

	single := mustParse(t, "request: {method: POST, path: /x, body: {a: 1}}\n")
	r, _ := single.RenderRequest(testInput(t, `{}`))
	if got, err := single.RenderBatch([]*Request{r}); err != nil || got != r {
		t.Errorf("one request without batch: %v, %v", got, err)
	}
	if _, err := single.RenderBatch([]*Request{r, r}); err == nil {
		t.Error("two requests without batch accepted")
	}

	bare := mustParse(t, "request: {method: POST, path: /x, body: {a: \"{{ key }}\"}, batch: {max: 5}}\n")
	r1, _ := bare.RenderRequest(testInput(t, `{}`))
	got, err := bare.RenderBatch([]*Request{r1, r1})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]any{map[string]any{"a": "k1"}, map[string]any{"a": "k1"}}, got.Body); diff != "" {
		t.Errorf("bare list body (-want +got):\n%s", diff)
	}
}

func TestCheckReportsEverything(t *testing.T) {
	t.Parallel()
	m := mustParse(t, `filter:
  - {field: channel, equals: whatsapp}
sheet: S
key: ID
columns:
  ID: "{{ key }}"
  Email: "{{ contact.email }}"
  Rating: {value: "{{ rating }}", type: number}
  Mood: {value: "{{ mood }}", map: emoji_5}
  Fine: "{{ fine }}"
`)
	errs := m.Check(testInput(t, `{"rating": "great", "mood": "🦄", "fine": 1}`))
	want := []string{
		`m.yaml:1:1: filter: the sample response does not pass the filter, so it would not be delivered`,
		`m.yaml:2:13: filter: field channel is missing from the response; the condition treats it as missing`,
		`m.yaml:7:10: column "Email": field contact.email is missing from the response`,
		`m.yaml:8:19: column "Rating": "great" is not a number`,
		`m.yaml:9:17: column "Mood": "🦄" is not in the emoji_5 map; add it to the map or set a default`,
	}
	var got []string
	for _, e := range errs {
		got = append(got, e.Error())
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Check (-want +got):\n%s", diff)
	}
	if !errs[0].Warning || !errs[1].Warning || errs[2].Warning || errs.Err() == nil {
		t.Errorf("warning flags wrong: %+v", errs)
	}

	req := mustParse(t, "request:\n  method: POST\n  path: /x/{{ id }}\n  headers: {X-A: \"{{ a }}\"}\n  body:\n    b: \"{{ b }}\"\n    c: [\"{{ c }}\"]\n")
	errs = req.Check(testInput(t, `{}`))
	if len(errs) != 4 {
		t.Errorf("request Check found %d problems, want 4:\n%v", len(errs), errs)
	}
	if errs := req.Check(testInput(t, `{"id": 1, "a": "x", "b": 2, "c": 3}`)); len(errs) != 0 {
		t.Errorf("clean sample: %v", errs)
	}
	if errs := req.Check(testInput(t, `not json`)); len(errs) != 1 || !strings.Contains(errs.Error(), "sample response: decoding response payload") {
		t.Errorf("bad sample: %v", errs)
	}
}

func TestHeaders(t *testing.T) {
	t.Parallel()
	m := mustParse(t, "request:\n  method: POST\n  path: /x\n  headers: {x-survey-id: \"{{ id }}\", X-Empty: \"{{ none }}\"}\n")
	req, err := m.RenderRequest(testInput(t, `{"id": 7, "none": null}`))
	if err != nil {
		t.Fatal(err)
	}
	if got := req.Header.Get("X-Survey-Id"); got != "7" || len(req.Header) != 1 {
		t.Errorf("headers = %v", req.Header)
	}
	for _, h := range []string{"Host", "content-length", "Authorization", "Cookie", "Transfer-Encoding", "Connection"} {
		if _, err := Parse("m.yaml", []byte("request:\n  method: POST\n  path: /x\n  headers: {"+h+": x}\n")); err == nil {
			t.Errorf("header %s accepted", h)
		}
	}
}

func TestCompileValueMap(t *testing.T) {
	t.Parallel()
	n, _ := config.Parse("m.yaml", []byte(`{"Very Good": 5, " bad ": 1, "👍": true, "n/a": null, "half": 2.5}`))
	vm, err := CompileValueMap(n)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		in, want any
	}{
		{"very good", json.Number("5")},
		{"  VERY GOOD ", json.Number("5")},
		{"Bad", json.Number("1")},
		{"👍🏻", true},
		{"👍\uFE0F", true},
		{"N/A", nil},
		{"half", 2.5},
		{nil, nil},
		{"", ""},
	}
	for _, tt := range tests {
		got, err := vm.Apply(tt.in)
		if err != nil || !cmp.Equal(got, tt.want) {
			t.Errorf("Apply(%v) = %v, %v; want %v", tt.in, got, err, tt.want)
		}
	}
	if _, err := vm.Apply("meh"); !errors.Is(err, ErrUnmapped) {
		t.Errorf("Apply(meh) error = %v, want ErrUnmapped", err)
	}
	if _, err := vm.Apply([]any{"x"}); err == nil || errors.Is(err, ErrUnmapped) {
		t.Errorf("Apply(list) error = %v", err)
	}

	n, _ = config.Parse("m.yaml", []byte("stars"))
	stars, err := CompileValueMap(n)
	if err != nil || stars.Name() != "stars" {
		t.Fatalf("preset: %v, %v", stars, err)
	}
	for in, want := range map[string]any{"★★★☆☆": json.Number("3"), "⭐ ⭐": json.Number("2"), "☆☆☆": json.Number("0"), "4": json.Number("4"), "🌟": json.Number("1")} {
		if got, err := stars.Apply(in); err != nil || got != want {
			t.Errorf("stars(%q) = %v, %v; want %v", in, got, err, want)
		}
	}
	if _, err := stars.Apply("★x"); err == nil {
		t.Error("stars accepted ★x")
	}
	n, _ = config.Parse("m.yaml", []byte("[1]"))
	if _, err := CompileValueMap(n); err == nil {
		t.Error("a list was accepted as a value map")
	}
}

func TestPresets(t *testing.T) {
	t.Parallel()
	want := map[string]map[string]string{
		"emoji_5":     {"😡": "1", "😠": "1", "😞": "2", "🙁": "2", "☹️": "2", "😐": "3", "🙂": "4", "😊": "4", "😀": "5", "😍": "5", "3": "3"},
		"csat_labels": {"Very dissatisfied": "1", "Dissatisfied": "2", "Neutral": "3", "Neither satisfied nor dissatisfied": "3", "Satisfied": "4", "VERY SATISFIED": "5"},
		"thumbs":      {"👍": "1", "👎": "0", "👍🏾": "1", "Thumbs Up": "1", "down": "0"},
	}
	for name, cases := range want {
		vm := presets[name]
		for in, out := range cases {
			got, err := vm.Apply(in)
			if err != nil || textOf(got) != out {
				t.Errorf("%s(%q) = %v, %v; want %s", name, in, got, err, out)
			}
		}
	}
	if got := ValueMapPresets(); !cmp.Equal(got, []string{"csat_labels", "emoji_5", "stars", "thumbs"}) {
		t.Errorf("ValueMapPresets = %v", got)
	}
}

// TestConcurrentRender renders one compiled mapping from many goroutines;
// run with -race it proves that rendering shares no mutable state.
func TestConcurrentRender(t *testing.T) {
	t.Parallel()
	m := mustParse(t, `sheet: S
key: ID
columns:
  ID: "{{ key }}"
  Email: "{{ contact.email | lower }}"
  Rating: {value: "{{ rating }}", type: number, map: emoji_5}
  When: {value: "{{ submitted_at }}", type: datetime, timezone: Europe/Berlin}
`)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for range 50 {
				row, err := m.RenderRow(testInput(t, `{"contact": {"email": "A@B.C"}, "rating": "😀"}`))
				if err != nil || row.Cells[2].Value.Num != 5 {
					t.Errorf("row = %+v, %v", row, err)
					return
				}
			}
		})
	}
	wg.Wait()
}
