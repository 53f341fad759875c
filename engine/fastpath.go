package engine

import (
	"encoding/json"
	"github.com/surveysync/surveysync/connectors"
	"regexp"
	"strconv"
	"strings"
)

// Score jobs read a handful of fields from every stored response. Decoding
// whole payloads into maps dominates a job over a million responses, so when
// every expression of a job is a plain dotted path (rating, contact.email,
// agent) the fields are picked out of the raw JSON directly, without
// allocating the rest of the document. Anything else takes the general path.

var plainPath = regexp.MustCompile(`^\{\{\s*([A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)\s*\}\}$`)

// simplePath returns the keys of a plain payload path expression.
func simplePath(text string) ([]string, bool) {
	m := plainPath.FindStringSubmatch(connectors.ExprText(strings.TrimSpace(text)))
	if m == nil {
		return nil, false
	}
	keys := strings.Split(m[1], ".")
	if connectors.IsBuiltin(keys[0]) {
		return nil, false
	}
	return keys, true
}

// fieldPicker extracts several dotted paths from a JSON object in one pass.
type fieldPicker struct {
	// tree maps each key to its children; a leaf index ≥ 0 is the position
	// of the path in the output.
	root *pickNode
	n    int
}

type pickNode struct {
	leaf     int
	children map[string]*pickNode
}

func newFieldPicker(paths [][]string) *fieldPicker {
	p := &fieldPicker{root: &pickNode{leaf: -1}, n: len(paths)}
	for i, keys := range paths {
		node := p.root
		for _, k := range keys {
			if node.children == nil {
				node.children = map[string]*pickNode{}
			}
			child, ok := node.children[k]
			if !ok {
				child = &pickNode{leaf: -1}
				node.children[k] = child
			}
			node = child
		}
		node.leaf = i
	}
	return p
}

// pick fills out (len n) with the values found: string, json.Number, bool,
// or nil for null and missing paths; objects and arrays are not values here
// and count as missing. It reports false for malformed JSON.
func (p *fieldPicker) pick(data []byte, out []any) bool {
	fields := make([]pickedField, len(out))
	if !p.pickFields(data, fields) {
		return false
	}
	for i := range fields {
		out[i] = fields[i].value()
	}
	return true
}

// pickedKind says what a picked field holds.
type pickedKind uint8

// The kinds of picked field. Objects and arrays are not values here.
const (
	pickedMissing pickedKind = iota // absent, null, an object or an array
	pickedString
	pickedNumber
	pickedTrue
	pickedFalse
)

// pickedField is one field picked out of a payload without allocating:
// raw is a number's literal or a string's bytes between its quotes, in the
// payload's memory; a string with escapes is decoded into str instead.
type pickedField struct {
	kind    pickedKind
	raw     []byte
	str     string
	escaped bool
	num     float64
}

// value returns the field as pick does: string, json.Number, bool or nil.
func (f *pickedField) value() any {
	switch f.kind {
	case pickedString:
		if f.escaped {
			return f.str
		}
		return string(f.raw)
	case pickedNumber:
		return json.Number(f.raw)
	case pickedTrue:
		return true
	case pickedFalse:
		return false
	}
	return nil
}

// pickFields fills out (len n) with the fields found, as pick does, but
// without allocating: the fields refer to data.
func (p *fieldPicker) pickFields(data []byte, out []pickedField) bool {
	for i := range out {
		out[i] = pickedField{}
	}
	s := scanner{data: data}
	s.space()
	return s.object(p.root, out) && s.ok
}

type scanner struct {
	data []byte
	i    int
	ok   bool
}

func (s *scanner) space() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

func (s *scanner) object(node *pickNode, out []pickedField) bool {
	s.ok = true
	if s.i >= len(s.data) || s.data[s.i] != '{' {
		return false
	}
	s.i++
	s.space()
	if s.i < len(s.data) && s.data[s.i] == '}' {
		s.i++
		return true
	}
	for {
		s.space()
		raw, escaped, ok := s.str()
		if !ok {
			return false
		}
		s.space()
		if s.i >= len(s.data) || s.data[s.i] != ':' {
			return false
		}
		s.i++
		s.space()
		var child *pickNode
		if node != nil {
			if escaped {
				key, ok := unescape(raw)
				if !ok {
					return false
				}
				child = node.children[key]
			} else {
				child = node.children[string(raw)]
			}
		}
		switch {
		case child == nil:
			if !s.skip() {
				return false
			}
		case child.children != nil && s.i < len(s.data) && s.data[s.i] == '{':
			if !s.object(child, out) {
				return false
			}
		case child.leaf >= 0:
			if !s.scalar(&out[child.leaf]) {
				return false
			}
		default:
			if !s.skip() {
				return false
			}
		}
		s.space()
		if s.i >= len(s.data) {
			return false
		}
		switch s.data[s.i] {
		case ',':
			s.i++
		case '}':
			s.i++
			return true
		default:
			return false
		}
	}
}

// str reads a JSON string and returns its bytes between the quotes, and
// whether they hold escapes.
func (s *scanner) str() (raw []byte, escaped, ok bool) {
	if s.i >= len(s.data) || s.data[s.i] != '"' {
		return nil, false, false
	}
	start := s.i + 1
	s.i++
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case '\\':
			escaped = true
			s.i += 2
			continue
		case '"':
			s.i++
			return s.data[start : s.i-1], escaped, true
		}
		s.i++
	}
	return nil, false, false
}

// unescape decodes the bytes of a JSON string with escapes.
func unescape(raw []byte) (string, bool) {
	quoted := make([]byte, 0, len(raw)+2)
	quoted = append(append(append(quoted, '"'), raw...), '"')
	var out string
	if err := json.Unmarshal(quoted, &out); err != nil {
		return "", false
	}
	return out, true
}

// scalar reads a value into f: a string, number, boolean or null; an
// object or array is skipped and leaves f missing.
func (s *scanner) scalar(f *pickedField) bool {
	if s.i >= len(s.data) {
		return false
	}
	*f = pickedField{}
	switch c := s.data[s.i]; {
	case c == '"':
		raw, escaped, ok := s.str()
		if !ok {
			return false
		}
		f.kind, f.raw, f.escaped = pickedString, raw, escaped
		if escaped {
			if f.str, ok = unescape(raw); !ok {
				return false
			}
		}
		return true
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if len(s.data)-s.i >= len(lit) && string(s.data[s.i:s.i+len(lit)]) == lit {
				s.i += len(lit)
				switch lit {
				case "true":
					f.kind = pickedTrue
				case "false":
					f.kind = pickedFalse
				}
				return true
			}
		}
		return false
	case c == '-' || (c >= '0' && c <= '9'):
		start := s.i
		for s.i < len(s.data) && strings.IndexByte("+-0123456789.eE", s.data[s.i]) >= 0 {
			s.i++
		}
		num, err := strconv.ParseFloat(string(s.data[start:s.i]), 64)
		if err != nil {
			return false
		}
		f.kind, f.raw, f.num = pickedNumber, s.data[start:s.i], num
		return true
	case c == '{' || c == '[':
		return s.skip()
	default:
		// Not a value. (skip calls scalar for anything but strings,
		// objects and arrays, so this must not call skip.)
		return false
	}
}

// skip passes over one value of any kind.
func (s *scanner) skip() bool {
	if s.i >= len(s.data) {
		return false
	}
	switch s.data[s.i] {
	case '"':
		_, _, ok := s.str()
		return ok
	case '{', '[':
		depth := 0
		for s.i < len(s.data) {
			switch s.data[s.i] {
			case '"':
				if _, _, ok := s.str(); !ok {
					return false
				}
				continue
			case '{', '[':
				depth++
			case '}', ']':
				depth--
				if depth == 0 {
					s.i++
					return true
				}
			}
			s.i++
		}
		return false
	default:
		var f pickedField
		return s.scalar(&f)
	}
}
