package file

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
)

// Record is one record read from a file: a JSON object, or a CSV row as an
// object keyed by the header row.
type Record struct {
	// Fields is the decoded object, with numbers as json.Number.
	Fields map[string]any
	// Raw is the record's original JSON bytes, when it was JSON.
	Raw []byte
	// Ref says where the record is, such as responses.jsonl:42.
	Ref string
	// Err is set when the record could not be read; Fields is then nil and
	// Raw holds what was read.
	Err error
}

// maxLine bounds one JSON Lines record.
const maxLine = 16 << 20

// utf8BOM is the byte order mark some tools put at the start of UTF-8 files.
const utf8BOM = "\ufeff"

// FormatOf returns the format for path: format itself unless it is "auto",
// else by extension (.jsonl/.ndjson, .json, .csv).
func FormatOf(path, format string) (string, error) {
	if format != "" && format != "auto" {
		return format, nil
	}
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson":
		return "jsonl", nil
	case ".json":
		return "json", nil
	case ".csv":
		return "csv", nil
	}
	return "", fmt.Errorf("%s: cannot tell the format from the extension; set format to jsonl, json or csv", path)
}

// ReadFile reads the records of one file in order, calling fn for each,
// without holding the whole file in memory. It stops at fn's first error.
func ReadFile(ctx context.Context, path, format string, csvOpts CSV, fn func(Record) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	format, err = FormatOf(path, format)
	if err != nil {
		return err
	}
	return Read(ctx, f, filepath.Base(path), format, csvOpts, fn)
}

// Read reads records from r; name labels their Ref. A leading UTF-8 byte
// order mark, as Excel and Windows tools write, is skipped.
func Read(ctx context.Context, r io.Reader, name, format string, csvOpts CSV, fn func(Record) error) error {
	br := bufio.NewReaderSize(r, 256<<10)
	if bom, err := br.Peek(len(utf8BOM)); err == nil && string(bom) == utf8BOM {
		_, _ = br.Discard(len(utf8BOM))
	}
	r = br
	switch format {
	case "jsonl":
		return readJSONL(ctx, r, name, fn)
	case "json":
		return readJSONArray(ctx, r, name, fn)
	case "csv":
		return readCSV(ctx, r, name, csvOpts, fn)
	}
	return fmt.Errorf("unknown format %q (want jsonl, json or csv)", format)
}

func decodeObject(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("malformed JSON: %w", err)
	}
	if dec.More() {
		return nil, errors.New("malformed JSON: more than one value on the line")
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("expected a JSON object")
	}
	return m, nil
}

func readJSONL(ctx context.Context, r io.Reader, name string, fn func(Record) error) error {
	br := bufio.NewReaderSize(r, 256<<10)
	line := 0
	for {
		if line%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		b, err := readLine(br)
		if len(b) == 0 && err == io.EOF {
			return nil
		}
		line++
		if err != nil && err != io.EOF {
			if errors.Is(err, errLineTooLong) {
				if ferr := fn(Record{Ref: fmt.Sprintf("%s:%d", name, line), Err: err}); ferr != nil {
					return ferr
				}
				continue
			}
			return err
		}
		b = bytes.TrimSpace(b)
		if len(b) > 0 {
			rec := Record{Raw: append([]byte(nil), b...), Ref: fmt.Sprintf("%s:%d", name, line)}
			rec.Fields, rec.Err = decodeObject(b)
			if ferr := fn(rec); ferr != nil {
				return ferr
			}
		}
		if err == io.EOF {
			return nil
		}
	}
}

var errLineTooLong = fmt.Errorf("line longer than %d bytes", maxLine)

// readLine returns the next line without its newline; an over-long line is
// skipped to its end and reported.
func readLine(br *bufio.Reader) ([]byte, error) {
	var buf []byte
	for {
		part, isPrefix, err := br.ReadLine()
		if err != nil {
			return buf, err
		}
		if len(buf)+len(part) > maxLine {
			for isPrefix {
				_, isPrefix, err = br.ReadLine()
				if err != nil {
					break
				}
			}
			return nil, errLineTooLong
		}
		if !isPrefix && buf == nil {
			return part, nil
		}
		buf = append(buf, part...)
		if !isPrefix {
			return buf, nil
		}
	}
}

func readJSONArray(ctx context.Context, r io.Reader, name string, fn func(Record) error) error {
	dec := json.NewDecoder(bufio.NewReaderSize(r, 256<<10))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return fmt.Errorf("%s: malformed JSON: %w", name, err)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return fmt.Errorf("%s: expected a JSON array of responses", name)
	}
	for i := 0; dec.More(); i++ {
		if i%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return fmt.Errorf("%s[%d]: malformed JSON: %w", name, i, err)
		}
		rec := Record{Raw: raw, Ref: fmt.Sprintf("%s[%d]", name, i)}
		rec.Fields, rec.Err = decodeObject(raw)
		if err := fn(rec); err != nil {
			return err
		}
	}
	return nil
}

// CSV configures CSV reading.
type CSV struct {
	// Delimiter separates fields; default ",".
	Delimiter string `yaml:"delimiter"`
	// Comment starts comment lines, such as "#"; default none.
	Comment string `yaml:"comment"`
}

func readCSV(ctx context.Context, r io.Reader, name string, opts CSV, fn func(Record) error) error {
	cr := csv.NewReader(bufio.NewReaderSize(r, 256<<10))
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	if opts.Delimiter != "" {
		cr.Comma = []rune(opts.Delimiter)[0]
	}
	if opts.Comment != "" {
		cr.Comment = []rune(opts.Comment)[0]
	}
	head, err := cr.Read()
	if err == io.EOF {
		return nil
	}
	if err != nil {
		return fmt.Errorf("%s: reading the header row: %w", name, err)
	}
	header := make([]string, len(head))
	for i, h := range head {
		header[i] = strings.TrimSpace(strings.TrimPrefix(h, "\ufeff"))
	}
	for row := 2; ; row++ {
		if row%1024 == 0 && ctx.Err() != nil {
			return ctx.Err()
		}
		rec, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			// A malformed row is one reject; any other error (reading the
			// file) ends the file, which would otherwise repeat it forever.
			// FieldPos is not usable here: it panics when the row broke
			// before its first field.
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return fmt.Errorf("%s: %w", name, err)
			}
			if ferr := fn(Record{Ref: fmt.Sprintf("%s:%d", name, pe.StartLine), Err: fmt.Errorf("malformed CSV: %w", err)}); ferr != nil {
				return ferr
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		ref := fmt.Sprintf("%s:%d", name, line)
		if len(rec) != len(header) {
			raw, _ := json.Marshal(rec)
			if ferr := fn(Record{Ref: ref, Raw: raw, Err: fmt.Errorf("row has %d fields, the header has %d", len(rec), len(header))}); ferr != nil {
				return ferr
			}
			continue
		}
		m := make(map[string]any, len(header))
		for i, h := range header {
			m[h] = rec[i]
		}
		if err := fn(Record{Fields: m, Ref: ref}); err != nil {
			return err
		}
	}
}
