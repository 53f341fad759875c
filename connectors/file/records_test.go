package file_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/surveysync/surveysync/connectors/file"
)

// rec is a record as these tests compare it: where it is, its fields as
// JSON-ish text, or its error.
type rec struct {
	Ref    string
	Fields string
	Err    string
}

func collect(t *testing.T, format, src string, opts file.CSV) ([]rec, error) {
	t.Helper()
	var out []rec
	err := file.Read(context.Background(), strings.NewReader(src), "in."+format, format, opts, func(r file.Record) error {
		got := rec{Ref: r.Ref}
		if r.Err != nil {
			got.Err = r.Err.Error()
			if r.Fields != nil {
				t.Errorf("%s: a record with an error has fields %v", r.Ref, r.Fields)
			}
		} else {
			got.Fields = fmt.Sprint(r.Fields)
		}
		out = append(out, got)
		return nil
	})
	return out, err
}

func TestFormatOf(t *testing.T) {
	t.Parallel()
	tests := []struct {
		path, format, want string
	}{
		{"a.jsonl", "auto", "jsonl"},
		{"a.ndjson", "", "jsonl"},
		{"A.JSONL", "auto", "jsonl"},
		{"export.json", "auto", "json"},
		{"dir.v2/export.csv", "auto", "csv"},
		{"Export.CSV", "", "csv"},
		{"data.txt", "csv", "csv"},
		{"data.csv", "jsonl", "jsonl"},
	}
	for _, tc := range tests {
		got, err := file.FormatOf(tc.path, tc.format)
		if err != nil || got != tc.want {
			t.Errorf("FormatOf(%q, %q) = %q, %v; want %q", tc.path, tc.format, got, err, tc.want)
		}
	}
	for _, path := range []string{"data.txt", "data", "data.csv.gz"} {
		if _, err := file.FormatOf(path, "auto"); err == nil || !strings.Contains(err.Error(), "set format to jsonl, json or csv") {
			t.Errorf("FormatOf(%q) = %v, want an error saying to set the format", path, err)
		}
	}
}

func TestReadJSONL(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		src  string
		want []rec
	}{
		{
			name: "blank lines keep line numbers",
			src:  "{\"id\":1}\n\n   \n{\"id\":2}\n",
			want: []rec{{Ref: "in.jsonl:1", Fields: "map[id:1]"}, {Ref: "in.jsonl:4", Fields: "map[id:2]"}},
		},
		{
			name: "CRLF and a last line without newline",
			src:  "{\"id\":\"a\"}\r\n{\"id\":\"b\"}\r\n{\"id\":\"c\"}",
			want: []rec{{Ref: "in.jsonl:1", Fields: "map[id:a]"}, {Ref: "in.jsonl:2", Fields: "map[id:b]"}, {Ref: "in.jsonl:3", Fields: "map[id:c]"}},
		},
		{
			name: "byte order mark",
			src:  "\ufeff{\"id\":1}\n",
			want: []rec{{Ref: "in.jsonl:1", Fields: "map[id:1]"}},
		},
		{
			name: "bad lines are records with errors",
			src:  "{\"id\":1}\n{\"id\": \n[1,2]\n42\n\"text\"\n{\"a\":1} {\"b\":2}\nnull\n{\"id\":9}\n",
			want: []rec{
				{Ref: "in.jsonl:1", Fields: "map[id:1]"},
				{Ref: "in.jsonl:2", Err: "malformed JSON: unexpected EOF"},
				{Ref: "in.jsonl:3", Err: "expected a JSON object"},
				{Ref: "in.jsonl:4", Err: "expected a JSON object"},
				{Ref: "in.jsonl:5", Err: "expected a JSON object"},
				{Ref: "in.jsonl:6", Err: "malformed JSON: more than one value on the line"},
				{Ref: "in.jsonl:7", Err: "expected a JSON object"},
				{Ref: "in.jsonl:8", Fields: "map[id:9]"},
			},
		},
		{
			name: "numbers keep every digit",
			src:  `{"id": 12345678901234567890, "score": 4.50}`,
			want: []rec{{Ref: "in.jsonl:1", Fields: "map[id:12345678901234567890 score:4.50]"}},
		},
		{name: "empty", src: "", want: nil},
		{name: "only blank lines", src: "\n\r\n  \n", want: nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := collect(t, "jsonl", tc.src, file.CSV{})
			if err != nil {
				t.Fatalf("Read: %v", err)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadJSONLKeepsRawBytes(t *testing.T) {
	t.Parallel()
	var raws []string
	src := "  {\"b\": 1, \"a\": [1, 2]}  \r\nnot json\n"
	err := file.Read(context.Background(), strings.NewReader(src), "x", "jsonl", file.CSV{}, func(r file.Record) error {
		raws = append(raws, string(r.Raw))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{`{"b": 1, "a": [1, 2]}`, "not json"}, raws); diff != "" {
		t.Errorf("raw records (-want +got):\n%s", diff)
	}
}

var manyXs = strings.Repeat("x", 64<<10)

// xs reads as n bytes of 'x', without holding them.
type xs struct{ n int }

func (r *xs) Read(p []byte) (int, error) {
	if r.n == 0 {
		return 0, io.EOF
	}
	k := copy(p[:min(len(p), r.n)], manyXs)
	r.n -= k
	return k, nil
}

// TestReadJSONLLineOverTheLimit sends one line past the 16 MiB limit: it
// becomes one record with an error, and the lines around it are read.
func TestReadJSONLLineOverTheLimit(t *testing.T) {
	t.Parallel()
	const limit = 16 << 20
	src := io.MultiReader(strings.NewReader("{\"id\":1}\n{\"id\":\""), &xs{n: limit}, strings.NewReader("\"}\n{\"id\":3}\n"))
	var got []rec
	err := file.Read(context.Background(), src, "in.jsonl", "jsonl", file.CSV{}, func(r file.Record) error {
		g := rec{Ref: r.Ref, Fields: fmt.Sprint(r.Fields)}
		if r.Err != nil {
			g = rec{Ref: r.Ref, Err: r.Err.Error()}
		}
		got = append(got, g)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	want := []rec{
		{Ref: "in.jsonl:1", Fields: "map[id:1]"},
		{Ref: "in.jsonl:2", Err: fmt.Sprintf("line longer than %d bytes", limit)},
		{Ref: "in.jsonl:3", Fields: "map[id:3]"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("records (-want +got):\n%s", diff)
	}
}

func TestReadJSONArray(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		src     string
		want    []rec
		wantErr string
	}{
		{
			name: "objects and a stray value",
			src:  "\ufeff[\n {\"id\": 1},\n 7,\n {\"id\": \"b\", \"n\": {\"x\": true}}\n]\n",
			want: []rec{
				{Ref: "in.json[0]", Fields: "map[id:1]"},
				{Ref: "in.json[1]", Err: "expected a JSON object"},
				{Ref: "in.json[2]", Fields: "map[id:b n:map[x:true]]"},
			},
		},
		{name: "empty array", src: "[]", want: nil},
		{name: "not an array", src: `{"id": 1}`, wantErr: "in.json: expected a JSON array of responses"},
		{name: "not JSON", src: `id,score`, wantErr: "in.json: malformed JSON"},
		{
			name:    "broken half-way",
			src:     `[{"id": 1}, {"id": 2}, {"id": ]`,
			want:    []rec{{Ref: "in.json[0]", Fields: "map[id:1]"}, {Ref: "in.json[1]", Fields: "map[id:2]"}},
			wantErr: "in.json[2]: malformed JSON",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := collect(t, "json", tc.src, file.CSV{})
			if tc.wantErr == "" && err != nil {
				t.Fatalf("Read: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Read = %v, want an error containing %q", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadCSV(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name    string
		src     string
		opts    file.CSV
		want    []rec
		wantErr string
	}{
		{
			name: "excel export with byte order mark and quoted header",
			src:  "\ufeff\"Response ID\",\"Score\"\r\n\"r1\",\"5\"\r\n",
			want: []rec{{Ref: "in.csv:2", Fields: "map[Response ID:r1 Score:5]"}},
		},
		{
			name: "byte order mark, plain header",
			src:  "\ufeffid,score\nr1,5\n",
			want: []rec{{Ref: "in.csv:2", Fields: "map[id:r1 score:5]"}},
		},
		{
			name: "quoted fields with newlines, quotes and delimiters",
			src:  "id,comment,score\nr1,\"two\nlines\",5\nr2,\"she said \"\"great\"\", really\",4\nr3,plain,3\n",
			want: []rec{
				{Ref: "in.csv:2", Fields: "map[comment:two\nlines id:r1 score:5]"},
				{Ref: "in.csv:4", Fields: `map[comment:she said "great", really id:r2 score:4]`},
				{Ref: "in.csv:5", Fields: "map[comment:plain id:r3 score:3]"},
			},
		},
		{
			name: "wrong field counts",
			src:  "id,score\nr1,5\nr2\nr3,1,extra\nr4,2\n",
			want: []rec{
				{Ref: "in.csv:2", Fields: "map[id:r1 score:5]"},
				{Ref: "in.csv:3", Err: "row has 1 fields, the header has 2"},
				{Ref: "in.csv:4", Err: "row has 3 fields, the header has 2"},
				{Ref: "in.csv:5", Fields: "map[id:r4 score:2]"},
			},
		},
		{
			name: "a malformed row is one reject and reading goes on",
			src:  "id,score\nr1,5\nr\"2,6\nr3,7\n",
			want: []rec{
				{Ref: "in.csv:2", Fields: "map[id:r1 score:5]"},
				{Ref: "in.csv:3", Err: `malformed CSV: parse error on line 3, column 2: bare " in non-quoted-field`},
				{Ref: "in.csv:4", Fields: "map[id:r3 score:7]"},
			},
		},
		{
			name: "a quote never closed",
			src:  "id,score\nr1,5\n\"r2,6\nr3,7\n",
			want: []rec{
				{Ref: "in.csv:2", Fields: "map[id:r1 score:5]"},
				{Ref: "in.csv:3", Err: `malformed CSV: record on line 3; parse error on line 4, column 6: extraneous or missing " in quoted-field`},
			},
		},
		{
			name: "semicolon delimiter and comments",
			src:  "# exported 2026-05-01\nid;score;comment\nr1;5;a, b\n# a note\nr2;4;\n",
			opts: file.CSV{Delimiter: ";", Comment: "#"},
			want: []rec{
				{Ref: "in.csv:3", Fields: "map[comment:a, b id:r1 score:5]"},
				{Ref: "in.csv:5", Fields: "map[comment: id:r2 score:4]"},
			},
		},
		{
			name: "tab delimiter",
			src:  "id\tscore\nr1\t5\n",
			opts: file.CSV{Delimiter: "\t"},
			want: []rec{{Ref: "in.csv:2", Fields: "map[id:r1 score:5]"}},
		},
		{
			name: "header names are trimmed",
			src:  " id , score \nr1, 5\n",
			want: []rec{{Ref: "in.csv:2", Fields: "map[id:r1 score: 5]"}},
		},
		{name: "empty file", src: "", want: nil},
		{name: "header only", src: "id,score\n", want: nil},
		{name: "broken header", src: "\"id,score\n", wantErr: "in.csv: reading the header row"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			got, err := collect(t, "csv", tc.src, tc.opts)
			if tc.wantErr == "" && err != nil {
				t.Fatalf("Read: %v", err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Errorf("Read = %v, want an error containing %q", err, tc.wantErr)
			}
			if diff := cmp.Diff(tc.want, got); diff != "" {
				t.Errorf("records (-want +got):\n%s", diff)
			}
		})
	}
}

func TestReadStops(t *testing.T) {
	t.Parallel()
	stop := errors.New("enough")
	for _, format := range []string{"jsonl", "json", "csv"} {
		src := map[string]string{
			"jsonl": "{\"id\":1}\n{\"id\":2}\n{\"id\":3}\n",
			"json":  `[{"id":1},{"id":2},{"id":3}]`,
			"csv":   "id\n1\n2\n3\n",
		}[format]
		n := 0
		err := file.Read(context.Background(), strings.NewReader(src), "x", format, file.CSV{}, func(file.Record) error {
			n++
			if n == 2 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) || n != 2 {
			t.Errorf("%s: Read = %v after %d records, want the callback's error after 2", format, err, n)
		}
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for _, format := range []string{"jsonl", "json"} {
		err := file.Read(ctx, strings.NewReader(`[{"id":1}]`), "x", format, file.CSV{}, func(file.Record) error { return nil })
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%s: Read with a cancelled context = %v", format, err)
		}
	}
	if err := file.Read(context.Background(), strings.NewReader(""), "x", "xml", file.CSV{}, nil); err == nil || !strings.Contains(err.Error(), `unknown format "xml"`) {
		t.Errorf("Read of format xml = %v", err)
	}
}

func TestReadFile(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	var refs []string
	fn := func(r file.Record) error { refs = append(refs, r.Ref); return nil }
	if err := file.ReadFile(context.Background(), write("week 1.csv", "id\na\nb\n"), "auto", file.CSV{}, fn); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"week 1.csv:2", "week 1.csv:3"}, refs); diff != "" {
		t.Errorf("refs name the file's base name (-want +got):\n%s", diff)
	}
	refs = nil
	if err := file.ReadFile(context.Background(), write("export.txt", "{\"id\":1}\n"), "jsonl", file.CSV{}, fn); err != nil || len(refs) != 1 {
		t.Errorf("ReadFile with an explicit format = %v, %v", err, refs)
	}
	if err := file.ReadFile(context.Background(), write("export.dat", "x"), "auto", file.CSV{}, fn); err == nil || !strings.Contains(err.Error(), "cannot tell the format") {
		t.Errorf("ReadFile of an unknown extension = %v", err)
	}
	if err := file.ReadFile(context.Background(), filepath.Join(dir, "absent.jsonl"), "auto", file.CSV{}, fn); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("ReadFile of a missing file = %v", err)
	}
}
