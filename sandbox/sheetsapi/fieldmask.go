package sheetsapi

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
)

// maskNode is a parsed partial-response field selection: each key selects a
// field, and a nil child selects the whole field.
type maskNode map[string]maskNode

// parseFieldMask reads the `fields` parameter syntax:
//
//	spreadsheetId,sheets.properties
//	sheets(properties(sheetId,title),data)
//	sheets/properties/title
//	*
func parseFieldMask(s string) (maskNode, error) {
	p := maskParser{s: s}
	root := maskNode{}
	if err := p.list(root); err != nil {
		return nil, err
	}
	if p.i != len(p.s) {
		return nil, fmt.Errorf("field mask: unexpected %q at %d", p.s[p.i], p.i)
	}
	return root, nil
}

type maskParser struct {
	s string
	i int
}

func (p *maskParser) list(into maskNode) error {
	for {
		if err := p.item(into); err != nil {
			return err
		}
		if p.i < len(p.s) && p.s[p.i] == ',' {
			p.i++
			continue
		}
		return nil
	}
}

func (p *maskParser) item(into maskNode) error {
	node := into
	var last string
	for {
		name := p.name()
		if name == "" {
			return fmt.Errorf("field mask: empty field name at %d", p.i)
		}
		if last != "" {
			child := node[last]
			if child == nil {
				if _, whole := node[last]; whole {
					return nil // a broader selection already covers it
				}
				child = maskNode{}
				node[last] = child
			}
			node = child
		}
		last = name
		if p.i < len(p.s) && (p.s[p.i] == '.' || p.s[p.i] == '/') {
			p.i++
			continue
		}
		break
	}
	if p.i < len(p.s) && p.s[p.i] == '(' {
		p.i++
		child, exists := node[last]
		if child == nil {
			child = maskNode{}
		}
		if err := p.list(child); err != nil {
			return err
		}
		if p.i >= len(p.s) || p.s[p.i] != ')' {
			return fmt.Errorf("field mask: missing )")
		}
		p.i++
		if !exists || node[last] != nil {
			node[last] = child
		}
		return nil
	}
	node[last] = nil
	return nil
}

func (p *maskParser) name() string {
	start := p.i
	for p.i < len(p.s) && !strings.ContainsRune(".,/()", rune(p.s[p.i])) {
		p.i++
	}
	return strings.TrimSpace(p.s[start:p.i])
}

// wants reports whether the mask selects the path (a dotted field path).
func (m maskNode) wants(path ...string) bool {
	node := m
	for _, name := range path {
		if node == nil {
			return true
		}
		if _, all := node["*"]; all {
			return true
		}
		child, ok := node[name]
		if !ok {
			return false
		}
		node = child
	}
	return true
}

// applyFieldMask returns v with only the fields the mask selects.
func applyFieldMask(v any, mask string) (any, error) {
	m, err := parseFieldMask(mask)
	if err != nil {
		return nil, err
	}
	raw, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("field mask: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var generic any
	if err := dec.Decode(&generic); err != nil {
		return nil, fmt.Errorf("field mask: %w", err)
	}
	return m.filter(generic), nil
}

func (m maskNode) filter(v any) any {
	if m == nil {
		return v
	}
	if _, all := m["*"]; all {
		return v
	}
	switch x := v.(type) {
	case map[string]any:
		out := map[string]any{}
		for k, child := range m {
			if val, ok := x[k]; ok {
				out[k] = child.filter(val)
			}
		}
		return out
	case []any:
		out := make([]any, len(x))
		for i, el := range x {
			out[i] = m.filter(el)
		}
		return out
	}
	return v
}
