package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// maxJSONDepth matches encoding/json's nesting limit.
const maxJSONDepth = 10000

// decodePayload decodes a JSON object into the same tree encoding/json builds
// with UseNumber: map[string]any, []any, string, json.Number, bool and nil,
// with invalid UTF-8 replaced by U+FFFD. It is several times faster because
// the input is copied into one string once and every string without escapes
// is a substring of it. Unlike json.Decoder it refuses trailing data.
func decodePayload(raw []byte) (map[string]any, error) {
	return decodeWith(raw, nil)
}

// decodeProjected is decodePayload keeping only what p reaches; the rest is
// checked for syntax but not built.
func decodeProjected(raw []byte, p *projection) (map[string]any, error) {
	return decodeWith(raw, p)
}

func decodeWith(raw []byte, p *projection) (map[string]any, error) {
	d := jsonDecoder{s: string(raw)}
	d.skipSpace()
	if d.i >= len(d.s) || d.s[d.i] != '{' {
		return nil, errors.New("decoding response payload: not a JSON object")
	}
	v, err := d.value(0, p)
	if err != nil {
		return nil, fmt.Errorf("decoding response payload: %w", err)
	}
	d.skipSpace()
	if d.i != len(d.s) {
		return nil, fmt.Errorf("decoding response payload: %w", d.syntax("after the top-level object"))
	}
	return v.(map[string]any), nil
}

type jsonDecoder struct {
	s string
	i int
}

func (d *jsonDecoder) syntax(what string) error {
	if d.i >= len(d.s) {
		return errors.New("unexpected end of JSON input")
	}
	return fmt.Errorf("invalid character %q at offset %d %s", d.s[d.i], d.i, what)
}

func (d *jsonDecoder) skipSpace() {
	for d.i < len(d.s) {
		switch d.s[d.i] {
		case ' ', '\t', '\n', '\r':
			d.i++
		default:
			return
		}
	}
}

// value decodes one value. A nil projection decodes everything.
func (d *jsonDecoder) value(depth int, p *projection) (any, error) {
	if depth >= maxJSONDepth {
		return nil, errors.New("exceeded max depth")
	}
	d.skipSpace()
	if d.i >= len(d.s) {
		return nil, d.syntax("")
	}
	switch c := d.s[d.i]; {
	case c == '{':
		return d.object(depth, p)
	case c == '[':
		return d.array(depth, p)
	case c == '"':
		s, err := d.str()
		if err != nil {
			return nil, err
		}
		return s, nil
	case c == 't':
		return d.literal("true", true)
	case c == 'f':
		return d.literal("false", false)
	case c == 'n':
		return d.literal("null", nil)
	case c == '-' || (c >= '0' && c <= '9'):
		return d.number()
	default:
		return nil, d.syntax("looking for beginning of value")
	}
}

// sub returns the projection for what is below key, or nil for everything;
// skip is set when nothing below key is reachable.
func (p *projection) sub(key string) (next *projection, skip bool) {
	c := p.keys[key]
	switch {
	case c == nil:
		return nil, true
	case c.all:
		return nil, false
	}
	return c, false
}

// skip checks one value's syntax without building it.
func (d *jsonDecoder) skip(depth int) error {
	if depth >= maxJSONDepth {
		return errors.New("exceeded max depth")
	}
	d.skipSpace()
	if d.i >= len(d.s) {
		return d.syntax("")
	}
	var err error
	switch c := d.s[d.i]; {
	case c == '{':
		d.i++
		d.skipSpace()
		if d.i < len(d.s) && d.s[d.i] == '}' {
			d.i++
			return nil
		}
		for {
			d.skipSpace()
			if d.i >= len(d.s) || d.s[d.i] != '"' {
				return d.syntax("looking for beginning of object key string")
			}
			if _, err := d.str(); err != nil {
				return err
			}
			d.skipSpace()
			if d.i >= len(d.s) || d.s[d.i] != ':' {
				return d.syntax("after object key")
			}
			d.i++
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			if done, err := d.separator('}', "after object key:value pair"); done || err != nil {
				return err
			}
		}
	case c == '[':
		d.i++
		d.skipSpace()
		if d.i < len(d.s) && d.s[d.i] == ']' {
			d.i++
			return nil
		}
		for {
			if err := d.skip(depth + 1); err != nil {
				return err
			}
			if done, err := d.separator(']', "after array element"); done || err != nil {
				return err
			}
		}
	case c == '"':
		_, err = d.str()
	case c == 't':
		_, err = d.literal("true", true)
	case c == 'f':
		_, err = d.literal("false", false)
	case c == 'n':
		_, err = d.literal("null", nil)
	case c == '-' || (c >= '0' && c <= '9'):
		_, err = d.numberText()
	default:
		err = d.syntax("looking for beginning of value")
	}
	return err
}

func (d *jsonDecoder) literal(word string, v any) (any, error) {
	if len(d.s)-d.i >= len(word) && d.s[d.i:d.i+len(word)] == word {
		d.i += len(word)
		return v, nil
	}
	for k := 1; k < len(word); k++ {
		if d.i+k >= len(d.s) || d.s[d.i+k] != word[k] {
			d.i += k
			return nil, d.syntax("in literal " + word)
		}
	}
	return nil, d.syntax("in literal " + word)
}

func (d *jsonDecoder) object(depth int, p *projection) (any, error) {
	d.i++ // {
	m := make(map[string]any)
	d.skipSpace()
	if d.i < len(d.s) && d.s[d.i] == '}' {
		d.i++
		return m, nil
	}
	for {
		d.skipSpace()
		if d.i >= len(d.s) || d.s[d.i] != '"' {
			return nil, d.syntax("looking for beginning of object key string")
		}
		k, err := d.str()
		if err != nil {
			return nil, err
		}
		d.skipSpace()
		if d.i >= len(d.s) || d.s[d.i] != ':' {
			return nil, d.syntax("after object key")
		}
		d.i++
		next := p
		if p != nil {
			var skip bool
			if next, skip = p.sub(k); skip {
				if err := d.skip(depth + 1); err != nil {
					return nil, err
				}
				goto separator
			}
		}
		{
			v, err := d.value(depth+1, next)
			if err != nil {
				return nil, err
			}
			m[k] = v
		}
	separator:
		if done, err := d.separator('}', "after object key:value pair"); err != nil {
			return nil, err
		} else if done {
			return m, nil
		}
	}
}

func (d *jsonDecoder) array(depth int, p *projection) (any, error) {
	d.i++ // [
	a := make([]any, 0, 4)
	d.skipSpace()
	if d.i < len(d.s) && d.s[d.i] == ']' {
		d.i++
		return a, nil
	}
	// Elements no path reaches are kept as null, so that indexes stay right.
	var elem *projection
	skipElems := false
	if p != nil {
		switch {
		case p.elem == nil:
			skipElems = true
		case !p.elem.all:
			elem = p.elem
		}
	}
	for {
		if skipElems {
			if err := d.skip(depth + 1); err != nil {
				return nil, err
			}
			a = append(a, nil)
		} else {
			v, err := d.value(depth+1, elem)
			if err != nil {
				return nil, err
			}
			a = append(a, v)
		}
		if done, err := d.separator(']', "after array element"); err != nil {
			return nil, err
		} else if done {
			return a, nil
		}
	}
}

// separator reads what follows an element of an object or array: a comma
// (more elements follow) or close (the end, done). Anything else is a
// syntax error described by what.
func (d *jsonDecoder) separator(close byte, what string) (done bool, err error) {
	d.skipSpace()
	if d.i >= len(d.s) {
		return false, d.syntax("")
	}
	switch d.s[d.i] {
	case ',':
		d.i++
		return false, nil
	case close:
		d.i++
		return true, nil
	}
	return false, d.syntax(what)
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }

func (d *jsonDecoder) number() (any, error) {
	s, err := d.numberText()
	if err != nil {
		return nil, err
	}
	return json.Number(s), nil
}

// numberText reads a number and returns its text.
func (d *jsonDecoder) numberText() (string, error) {
	start := d.i
	if d.s[d.i] == '-' {
		d.i++
	}
	switch {
	case d.i < len(d.s) && d.s[d.i] == '0':
		d.i++
	case d.i < len(d.s) && d.s[d.i] >= '1' && d.s[d.i] <= '9':
		for d.i < len(d.s) && isDigit(d.s[d.i]) {
			d.i++
		}
	default:
		return "", d.syntax("in numeric literal")
	}
	if d.i < len(d.s) && d.s[d.i] == '.' {
		d.i++
		if d.i >= len(d.s) || !isDigit(d.s[d.i]) {
			return "", d.syntax("after decimal point in numeric literal")
		}
		for d.i < len(d.s) && isDigit(d.s[d.i]) {
			d.i++
		}
	}
	if d.i < len(d.s) && (d.s[d.i] == 'e' || d.s[d.i] == 'E') {
		d.i++
		if d.i < len(d.s) && (d.s[d.i] == '+' || d.s[d.i] == '-') {
			d.i++
		}
		if d.i >= len(d.s) || !isDigit(d.s[d.i]) {
			return "", d.syntax("in exponent of numeric literal")
		}
		for d.i < len(d.s) && isDigit(d.s[d.i]) {
			d.i++
		}
	}
	return d.s[start:d.i], nil
}

// str reads a string starting at the opening quote. A string with no escapes
// and valid UTF-8 is returned as a substring of the input.
func (d *jsonDecoder) str() (string, error) {
	d.i++ // opening quote
	start := d.i
	ascii := true
	for d.i < len(d.s) {
		c := d.s[d.i]
		switch {
		case c == '"':
			s := d.s[start:d.i]
			d.i++
			if !ascii && !utf8.ValidString(s) {
				return fixUTF8(s), nil
			}
			return s, nil
		case c == '\\':
			return d.strSlow(start)
		case c < 0x20:
			return "", d.syntax("in string literal")
		case c >= utf8.RuneSelf:
			ascii = false
		}
		d.i++
	}
	return "", d.syntax("")
}

// fixUTF8 replaces every invalid byte with U+FFFD, as encoding/json does.
func fixUTF8(s string) string {
	b := make([]byte, 0, len(s)+8)
	for i := 0; i < len(s); {
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = utf8.AppendRune(b, unicode.ReplacementChar)
		} else {
			b = append(b, s[i:i+size]...)
		}
		i += size
	}
	return string(b)
}

// strSlow decodes a string with escapes the way encoding/json does,
// including its handling of unpaired surrogates.
func (d *jsonDecoder) strSlow(start int) (string, error) {
	b := make([]byte, 0, d.i-start+16)
	b = append(b, d.s[start:d.i]...)
	for d.i < len(d.s) {
		c := d.s[d.i]
		switch {
		case c == '"':
			d.i++
			s := string(b)
			if !utf8.ValidString(s) {
				s = fixUTF8(s)
			}
			return s, nil
		case c == '\\':
			d.i++
			if d.i >= len(d.s) {
				return "", d.syntax("")
			}
			switch d.s[d.i] {
			case '"', '\\', '/':
				b = append(b, d.s[d.i])
				d.i++
			case 'b':
				b = append(b, '\b')
				d.i++
			case 'f':
				b = append(b, '\f')
				d.i++
			case 'n':
				b = append(b, '\n')
				d.i++
			case 'r':
				b = append(b, '\r')
				d.i++
			case 't':
				b = append(b, '\t')
				d.i++
			case 'u':
				d.i++
				r, ok := d.hex4()
				if !ok {
					return "", d.syntax("in \\u hexadecimal character escape")
				}
				if utf16.IsSurrogate(r) {
					if d.i+1 < len(d.s) && d.s[d.i] == '\\' && d.s[d.i+1] == 'u' {
						save := d.i
						d.i += 2
						r2, ok := d.hex4()
						if !ok {
							return "", d.syntax("in \\u hexadecimal character escape")
						}
						if dec := utf16.DecodeRune(r, r2); dec != unicode.ReplacementChar {
							b = utf8.AppendRune(b, dec)
							continue
						}
						d.i = save
					}
					r = unicode.ReplacementChar
				}
				b = utf8.AppendRune(b, r)
			default:
				return "", d.syntax("in string escape code")
			}
		case c < 0x20:
			return "", d.syntax("in string literal")
		default:
			b = append(b, c)
			d.i++
		}
	}
	return "", d.syntax("")
}

func (d *jsonDecoder) hex4() (rune, bool) {
	if len(d.s)-d.i < 4 {
		d.i = len(d.s)
		return 0, false
	}
	var r rune
	for k := range 4 {
		c := d.s[d.i+k]
		switch {
		case c >= '0' && c <= '9':
			c -= '0'
		case c >= 'a' && c <= 'f':
			c = c - 'a' + 10
		case c >= 'A' && c <= 'F':
			c = c - 'A' + 10
		default:
			d.i += k
			return 0, false
		}
		r = r*16 + rune(c)
	}
	d.i += 4
	return r, true
}
