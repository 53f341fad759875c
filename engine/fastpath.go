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
	for i := range out {
		out[i] = nil
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

func (s *scanner) object(node *pickNode, out []any) bool {
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
		key, ok := s.str()
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
			child = node.children[key]
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
			v, ok := s.scalar()
			if !ok {
				return false
			}
			out[child.leaf] = v
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

// str reads a JSON string.
func (s *scanner) str() (string, bool) {
	if s.i >= len(s.data) || s.data[s.i] != '"' {
		return "", false
	}
	start := s.i
	s.i++
	escaped := false
	for s.i < len(s.data) {
		c := s.data[s.i]
		switch {
		case c == '\\':
			escaped = true
			s.i += 2
			continue
		case c == '"':
			s.i++
			if !escaped {
				return string(s.data[start+1 : s.i-1]), true
			}
			var out string
			if err := json.Unmarshal(s.data[start:s.i], &out); err != nil {
				return "", false
			}
			return out, true
		}
		s.i++
	}
	return "", false
}

// scalar reads a value: a string, number, boolean or null; an object or
// array is skipped and yields nil.
func (s *scanner) scalar() (any, bool) {
	if s.i >= len(s.data) {
		return nil, false
	}
	switch c := s.data[s.i]; {
	case c == '"':
		return s.str()
	case c == 't' || c == 'f' || c == 'n':
		for _, lit := range []string{"true", "false", "null"} {
			if strings.HasPrefix(string(s.data[s.i:min(len(s.data), s.i+5)]), lit) {
				s.i += len(lit)
				switch lit {
				case "true":
					return true, true
				case "false":
					return false, true
				}
				return nil, true
			}
		}
		return nil, false
	case c == '-' || (c >= '0' && c <= '9'):
		start := s.i
		for s.i < len(s.data) && strings.IndexByte("+-0123456789.eE", s.data[s.i]) >= 0 {
			s.i++
		}
		num := string(s.data[start:s.i])
		if _, err := strconv.ParseFloat(num, 64); err != nil {
			return nil, false
		}
		return json.Number(num), true
	default:
		return nil, s.skip()
	}
}

// skip passes over one value of any kind.
func (s *scanner) skip() bool {
	if s.i >= len(s.data) {
		return false
	}
	switch s.data[s.i] {
	case '"':
		_, ok := s.str()
		return ok
	case '{', '[':
		depth := 0
		for s.i < len(s.data) {
			switch s.data[s.i] {
			case '"':
				if _, ok := s.str(); !ok {
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
		_, ok := s.scalar()
		return ok
	}
}
