package mapping

import (
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

// A path names a value in the response: contact.email, answers[0].text,
// answers[field.ref=nps].number, hidden["first name"], or a built-in.
type path struct {
	src     string
	builtin builtin
	steps   []step
}

type stepKind uint8

const (
	stepKey   stepKind = iota // .name or ["name"]
	stepIndex                 // [3] or [-1]
	stepMatch                 // [sub.path=literal]
)

type step struct {
	kind  stepKind
	key   string
	index int
	sub   []step
	lit   any
}

// pathParser reads a path from the start of s.
type pathParser struct {
	s string
	i int
}

func (p *pathParser) errorf(format string, args ...any) error {
	return &exprSyntaxError{msg: sprintf(format, args...)}
}

func isIdentRune(r rune) bool {
	return r == '_' || r == '-' || r == '$' || r == '@' || unicode.IsLetter(r) || unicode.IsDigit(r)
}

// ident reads a field name: letters, digits, '_', '-', '$' and '@'.
func (p *pathParser) ident() string {
	start := p.i
	for p.i < len(p.s) {
		r, size := utf8.DecodeRuneInString(p.s[p.i:])
		if !isIdentRune(r) {
			break
		}
		p.i += size
	}
	return p.s[start:p.i]
}

// parsePath parses a full path from the start of s and returns it with the
// number of bytes read.
func parsePath(s string) (*path, int, error) {
	p := &pathParser{s: s}
	pt := &path{}
	if p.i < len(s) && s[p.i] == '[' {
		st, err := p.bracket()
		if err != nil {
			return nil, 0, err
		}
		pt.steps = append(pt.steps, st)
	} else {
		name := p.ident()
		if name == "" {
			return nil, 0, p.errorf("expected a field name")
		}
		if b, ok := builtinNames[name]; ok {
			pt.builtin = b
		} else {
			pt.steps = append(pt.steps, step{kind: stepKey, key: name})
		}
	}
	steps, err := p.steps(false)
	if err != nil {
		return nil, 0, err
	}
	pt.steps = append(pt.steps, steps...)
	pt.src = s[:p.i]
	return pt, p.i, nil
}

// parseSubPath parses a relative path such as field.ref, as pluck takes.
func parseSubPath(s string) ([]step, error) {
	p := &pathParser{s: s}
	steps, err := p.steps(true)
	if err != nil {
		return nil, err
	}
	if p.i != len(s) {
		return nil, p.errorf("%q is not a field path such as text or field.ref", s)
	}
	return steps, nil
}

// steps reads .name and [...] steps until something else comes. Inside a
// match the first name needs no dot.
func (p *pathParser) steps(sub bool) ([]step, error) {
	var out []step
	if sub {
		name := p.ident()
		if name == "" {
			return nil, p.errorf("expected a field name after [")
		}
		out = append(out, step{kind: stepKey, key: name})
	}
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case '.':
			p.i++
			name := p.ident()
			if name == "" {
				return nil, p.errorf("expected a field name after '.'; write [\"odd name\"] for names with spaces or dots")
			}
			out = append(out, step{kind: stepKey, key: name})
		case '[':
			st, err := p.bracket()
			if err != nil {
				return nil, err
			}
			out = append(out, st)
		default:
			return out, nil
		}
	}
	return out, nil
}

func (p *pathParser) skipSpace() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t') {
		p.i++
	}
}

// bracket reads [3], [-1], ["name"], ['name'] or [sub.path=literal].
func (p *pathParser) bracket() (step, error) {
	p.i++ // [
	p.skipSpace()
	if p.i >= len(p.s) {
		return step{}, p.errorf("unclosed [")
	}
	var st step
	switch c := p.s[p.i]; {
	case c == '"' || c == '\'':
		str, n, err := readQuoted(p.s[p.i:])
		if err != nil {
			return step{}, err
		}
		p.i += n
		st = step{kind: stepKey, key: str}
	case c == '-' || isDigit(c):
		start := p.i
		p.i++
		for p.i < len(p.s) && isDigit(p.s[p.i]) {
			p.i++
		}
		n, err := strconv.Atoi(p.s[start:p.i])
		if err != nil {
			return step{}, p.errorf("index %q is not a whole number", p.s[start:p.i])
		}
		st = step{kind: stepIndex, index: n}
	default:
		sub, err := p.steps(true)
		if err != nil {
			return step{}, err
		}
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != '=' {
			return step{}, p.errorf("expected a number, a \"quoted name\" or field=value inside [ ]")
		}
		p.i++
		p.skipSpace()
		lit, err := p.matchLiteral()
		if err != nil {
			return step{}, err
		}
		st = step{kind: stepMatch, sub: sub, lit: lit}
	}
	p.skipSpace()
	if p.i >= len(p.s) || p.s[p.i] != ']' {
		return step{}, p.errorf("expected ] to close [")
	}
	p.i++
	return st, nil
}

// matchLiteral reads the value after '=' in [field=value]: quoted text, or
// bare text up to ']' (a number when it looks like one).
func (p *pathParser) matchLiteral() (any, error) {
	if p.i < len(p.s) && (p.s[p.i] == '"' || p.s[p.i] == '\'') {
		str, n, err := readQuoted(p.s[p.i:])
		if err != nil {
			return nil, err
		}
		p.i += n
		return str, nil
	}
	start := p.i
	for p.i < len(p.s) && p.s[p.i] != ']' {
		p.i++
	}
	text := strings.TrimSpace(p.s[start:p.i])
	if text == "" {
		return nil, p.errorf("expected a value after = in [ ]")
	}
	return bareLiteral(text), nil
}

// lookup evaluates the path. found is false when any step does not exist.
func (pt *path) lookup(in *Input) (v any, found bool, err error) {
	var cur any
	if pt.builtin != notBuiltin {
		v, ok, err := in.lookupBuiltin(pt.builtin)
		if err != nil || !ok {
			return nil, false, err
		}
		cur = v
	} else {
		f, err := in.fields()
		if err != nil {
			return nil, false, err
		}
		cur = f
	}
	cur, found = walk(cur, pt.steps)
	return cur, found, nil
}

// walk follows steps from cur.
func walk(cur any, steps []step) (any, bool) {
	for i := range steps {
		st := &steps[i]
		switch st.kind {
		case stepKey:
			switch c := cur.(type) {
			case map[string]any:
				v, ok := c[st.key]
				if !ok {
					return nil, false
				}
				cur = v
			case []any:
				n, err := strconv.Atoi(st.key)
				if err != nil {
					return nil, false
				}
				v, ok := index(c, n)
				if !ok {
					return nil, false
				}
				cur = v
			default:
				return nil, false
			}
		case stepIndex:
			c, ok := cur.([]any)
			if !ok {
				return nil, false
			}
			v, ok := index(c, st.index)
			if !ok {
				return nil, false
			}
			cur = v
		case stepMatch:
			c, ok := cur.([]any)
			if !ok {
				return nil, false
			}
			found := false
			for _, e := range c {
				if v, ok := walk(e, st.sub); ok && equalValues(v, st.lit) {
					cur, found = e, true
					break
				}
			}
			if !found {
				return nil, false
			}
		}
	}
	return cur, true
}

func index(list []any, n int) (any, bool) {
	if n < 0 {
		n += len(list)
	}
	if n < 0 || n >= len(list) {
		return nil, false
	}
	return list[n], true
}
