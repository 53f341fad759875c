package mapping

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/surveysync/surveysync/survey"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// sampleResponse is one entry of a case's response.json: the response's
// metadata and its payload.
type sampleResponse struct {
	Source      string          `json:"source"`
	Key         string          `json:"key"`
	SubmittedAt time.Time       `json:"submitted_at"`
	ReceivedAt  time.Time       `json:"received_at"`
	Sync        string          `json:"sync"`
	Version     int             `json:"version"`
	Now         time.Time       `json:"now"`
	Payload     json.RawMessage `json:"payload"`
}

// input builds the Input for a sample. With full set, the payload is decoded
// beforehand, whole; otherwise the mapping decodes what it needs.
func (s sampleResponse) input(t *testing.T, full bool) *Input {
	in := &Input{
		Response: &survey.Response{Source: s.Source, Key: s.Key, SubmittedAt: s.SubmittedAt, Payload: s.Payload},
		Sync:     s.Sync, Version: s.Version, ReceivedAt: s.ReceivedAt, Now: s.Now,
	}
	if full {
		f, err := decodePayload(s.Payload)
		if err != nil {
			t.Fatal(err)
		}
		in.Fields = f
	}
	return in
}

// readResponses reads response.json: one sample response or a list of them.
func readResponses(t *testing.T, file string) []sampleResponse {
	t.Helper()
	raw, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	raw = bytes.TrimSpace(raw)
	var list []sampleResponse
	if len(raw) > 0 && raw[0] == '[' {
		err = json.Unmarshal(raw, &list)
	} else {
		var one sampleResponse
		err = json.Unmarshal(raw, &one)
		list = []sampleResponse{one}
	}
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	return list
}

type goldenCell struct {
	Header      string `json:"header"`
	Kind        string `json:"kind"`
	Value       any    `json:"value"`
	UserEntered bool   `json:"user_entered,omitempty"`
}

type goldenRow struct {
	Key   string       `json:"key"`
	Cells []goldenCell `json:"cells"`
}

type goldenRequest struct {
	Method         string              `json:"method"`
	Path           string              `json:"path"`
	Query          map[string][]string `json:"query,omitempty"`
	Header         map[string][]string `json:"headers,omitempty"`
	IdempotencyKey string              `json:"idempotency_key,omitempty"`
	Body           any                 `json:"body"`
}

type goldenResult struct {
	Key     string         `json:"response"`
	Match   bool           `json:"match"`
	Row     *goldenRow     `json:"row,omitempty"`
	Request *goldenRequest `json:"request,omitempty"`
	Error   string         `json:"error,omitempty"`
}

type goldenOutput struct {
	Results []goldenResult `json:"results"`
	Batch   *goldenRequest `json:"batch,omitempty"`
}

func toGoldenRequest(r *Request) *goldenRequest {
	return &goldenRequest{Method: r.Method, Path: r.Path, Query: r.Query, Header: r.Header, IdempotencyKey: r.IdempotencyKey, Body: r.Body}
}

// renderCase renders every sample response of a case.
func renderCase(t *testing.T, m *Mapping, samples []sampleResponse, full bool) goldenOutput {
	var out goldenOutput
	var batch []*Request
	for _, s := range samples {
		in := s.input(t, full)
		res := goldenResult{Key: s.Key}
		ok, err := m.Match(in)
		if err != nil {
			res.Error = err.Error()
			out.Results = append(out.Results, res)
			continue
		}
		res.Match = ok
		if !ok {
			out.Results = append(out.Results, res)
			continue
		}
		switch m.Kind() {
		case SheetRows:
			row, err := m.RenderRow(in)
			if err != nil {
				assertRenderError(t, err)
				res.Error = err.Error()
				break
			}
			gr := &goldenRow{Key: row.Key}
			for _, c := range row.Cells {
				gr.Cells = append(gr.Cells, goldenCell{Header: c.Header, Kind: c.Value.Kind.String(), Value: c.Value.Interface(), UserEntered: c.UserEntered})
			}
			res.Row = gr
		case Requests:
			req, err := m.RenderRequest(in)
			if err != nil {
				assertRenderError(t, err)
				res.Error = err.Error()
				break
			}
			if _, err := json.Marshal(req.Body); err != nil {
				t.Errorf("response %s: body does not marshal: %v", s.Key, err)
			}
			res.Request = toGoldenRequest(req)
			batch = append(batch, req)
		}
		out.Results = append(out.Results, res)
	}
	if m.BatchMax() > 0 && len(batch) > 0 {
		b, err := m.RenderBatch(batch)
		if err != nil {
			t.Fatalf("RenderBatch: %v", err)
		}
		out.Batch = toGoldenRequest(b)
	}
	return out
}

func assertRenderError(t *testing.T, err error) {
	t.Helper()
	var re *RenderError
	if !errors.As(err, &re) {
		t.Errorf("render error %v is a %T, want *RenderError", err, err)
	}
}

// marshalGolden formats golden output stably: indented, no HTML escaping.
func marshalGolden(t *testing.T, v any) []byte {
	t.Helper()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(v); err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// TestGolden runs every case in testdata/<case>/: mapping.yaml is parsed,
// each response in response.json is matched and rendered, and the result is
// compared with expected.json, or the load error with expected.err. Run with
// -update to rewrite the expectations after checking the diff by eye.
func TestGolden(t *testing.T) {
	dirs, err := filepath.Glob("testdata/*/mapping.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if len(dirs) < 15 {
		t.Fatalf("found %d golden cases, want at least 15", len(dirs))
	}
	for _, mf := range dirs {
		dir := filepath.Dir(mf)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			// Errors name the file as the case's folder does, so that the
			// expectations do not depend on where the repository lives.
			name := filepath.ToSlash(mf)
			src, err := os.ReadFile(mf)
			if err != nil {
				t.Fatal(err)
			}
			m, err := Parse(name, src)
			errFile := filepath.Join(dir, "expected.err")
			jsonFile := filepath.Join(dir, "expected.json")
			if err != nil {
				got := err.Error() + "\n"
				compareGolden(t, errFile, []byte(got))
				return
			}
			if _, statErr := os.Stat(errFile); statErr == nil {
				t.Fatalf("mapping loaded, but %s expects an error", errFile)
			}
			samples := readResponses(t, filepath.Join(dir, "response.json"))
			out := renderCase(t, m, samples, false)
			compareGolden(t, jsonFile, marshalGolden(t, out))
			// Decoding only what the mapping reaches must not change a thing.
			if diff := cmp.Diff(string(marshalGolden(t, out)), string(marshalGolden(t, renderCase(t, m, samples, true)))); diff != "" {
				t.Errorf("rendering from the whole payload differs (-projected +whole):\n%s", diff)
			}
		})
	}
}

func compareGolden(t *testing.T, file string, got []byte) {
	t.Helper()
	if *update {
		if err := os.WriteFile(file, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(strings.Split(string(want), "\n"), strings.Split(string(got), "\n")); diff != "" {
		t.Errorf("%s differs (-want +got):\n%s", file, diff)
	}
}
