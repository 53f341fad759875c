package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/surveysync/surveysync/config"
)

var sprintf = fmt.Sprintf

// exprSyntaxError is a mistake inside one {{ }} expression.
type exprSyntaxError struct{ msg string }

func (e *exprSyntaxError) Error() string { return e.msg }

// Expr is a compiled template: literal text with {{ expression }} parts, or
// one bare expression. Evaluating an expression that is the whole template
// keeps the value's JSON type; a template that mixes text and expressions
// yields a string.
type Expr struct {
	src   string
	pos   config.Pos
	parts []part
	// whole is set when the template is exactly one expression.
	whole *pipeline
	// literal is set when the template holds no expression at all.
	literal bool
}

// part is a piece of a template: literal text or an expression.
type part struct {
	text string
	expr *pipeline
}

// compileEnv carries what expressions may refer to besides built-ins.
type compileEnv struct {
	maps map[string]*ValueMap
}

// CompileExpr compiles text written at pos. Text containing {{ }} is a
// template; other text is one bare expression such as "rating | number",
// as written in a filter's field or a score job's field. Mistakes are
// reported as a config.ErrorList at pos.
func CompileExpr(text string, pos config.Pos) (*Expr, error) {
	e, err := compileExpr(text, pos, nil)
	if err != nil {
		return nil, config.ErrorList{config.Errorf(pos, "%v", err)}
	}
	return e, nil
}

// compileExpr is CompileExpr with named value maps; its error is not
// positioned.
func compileExpr(text string, pos config.Pos, env *compileEnv) (*Expr, error) {
	if strings.Contains(text, "{{") {
		return compileTemplate(text, pos, env)
	}
	pl, err := parsePipeline(text, env)
	if err != nil {
		return nil, fmt.Errorf("expression %q: %w", text, err)
	}
	return &Expr{src: text, pos: pos, whole: pl}, nil
}

// compileTemplate compiles text in which {{ }} marks expressions; text
// without any is a literal.
func compileTemplate(text string, pos config.Pos, env *compileEnv) (*Expr, error) {
	e := &Expr{src: text, pos: pos}
	rest := text
	for {
		open := strings.Index(rest, "{{")
		if open < 0 {
			if rest != "" {
				e.parts = append(e.parts, part{text: rest})
			}
			break
		}
		if open > 0 {
			e.parts = append(e.parts, part{text: rest[:open]})
		}
		inner, n, err := scanExpr(rest[open+2:])
		if err != nil {
			return nil, fmt.Errorf("template %q: %w", text, err)
		}
		pl, err := parsePipeline(inner, env)
		if err != nil {
			return nil, fmt.Errorf("expression {{%s}}: %w", inner, err)
		}
		e.parts = append(e.parts, part{expr: pl})
		rest = rest[open+2+n:]
	}
	var exprs, texts int
	for _, p := range e.parts {
		if p.expr != nil {
			exprs++
		} else if strings.TrimSpace(p.text) != "" {
			texts++
		}
	}
	switch {
	case exprs == 0:
		e.literal = true
	case exprs == 1 && texts == 0:
		for _, p := range e.parts {
			if p.expr != nil {
				e.whole = p.expr
			}
		}
	}
	return e, nil
}

// scanExpr finds the }} closing an expression, skipping quoted text, and
// returns the text between the braces and the bytes consumed including }}.
func scanExpr(s string) (string, int, error) {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '"', '\'':
			_, n, err := readQuoted(s[i:])
			if err != nil {
				return "", 0, err
			}
			i += n - 1
		case '}':
			if i+1 < len(s) && s[i+1] == '}' {
				return s[:i], i + 2, nil
			}
		case '{':
			if i+1 < len(s) && s[i+1] == '{' {
				return "", 0, errors.New("{{ opened inside another {{ }}; close the first with }}")
			}
		}
	}
	return "", 0, errors.New("{{ is never closed with }}")
}

// readQuoted reads a "double-quoted" (with Go escapes such as \" and \n) or
// 'single-quoted' (no escapes) string from the start of s and returns its
// value and the bytes read.
func readQuoted(s string) (string, int, error) {
	q := s[0]
	if q == '\'' {
		end := strings.IndexByte(s[1:], '\'')
		if end < 0 {
			return "", 0, errors.New("unclosed ' quote")
		}
		return s[1 : 1+end], end + 2, nil
	}
	for i := 1; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '"':
			v, err := strconv.Unquote(s[:i+1])
			if err != nil {
				return "", 0, fmt.Errorf("bad quoted text %s: %v", s[:i+1], errors.Unwrap(err))
			}
			return v, i + 1, nil
		}
	}
	return "", 0, errors.New("unclosed \" quote")
}

// bareLiteral types an unquoted literal: null, true, false, a number, or text.
func bareLiteral(s string) any {
	switch s {
	case "null":
		return nil
	case "true":
		return true
	case "false":
		return false
	}
	if looksNumeric(s) {
		if _, ok := parseNumber(s); ok {
			return json.Number(strings.TrimPrefix(s, "+"))
		}
	}
	return s
}

// pipeline is one expression: a path or a quoted literal, then pipes.
type pipeline struct {
	src   string
	head  *path
	lit   any // when head is nil
	pipes []compiledPipe
	// optional is set by the optional pipe: a missing value is left out
	// instead of being an error.
	optional bool
}

func parsePipeline(text string, env *compileEnv) (*pipeline, error) {
	src := strings.TrimSpace(text)
	if src == "" {
		return nil, errors.New("the expression is empty; write a field name such as {{ comment }}")
	}
	pl := &pipeline{src: src}
	s := src
	if s[0] == '"' || s[0] == '\'' {
		v, n, err := readQuoted(s)
		if err != nil {
			return nil, err
		}
		pl.lit = v
		s = s[n:]
	} else {
		pt, n, err := parsePath(s)
		if err != nil {
			return nil, err
		}
		pl.head = pt
		s = s[n:]
	}
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		if s == "" {
			return pl, nil
		}
		if s[0] != '|' {
			if pl.head != nil && len(pl.pipes) == 0 {
				return nil, fmt.Errorf("unexpected %q after %s; separate pipes with |", firstWord(s), pl.head.src)
			}
			return nil, fmt.Errorf("unexpected %q; separate pipes with |", firstWord(s))
		}
		s = strings.TrimLeft(s[1:], " \t\r\n")
		name, args, rest, err := readPipe(s)
		if err != nil {
			return nil, err
		}
		cp, err := compilePipe(name, args, env)
		if err != nil {
			return nil, err
		}
		if cp.kind == pipeOptional {
			pl.optional = true
		}
		pl.pipes = append(pl.pipes, cp)
		s = rest
	}
}

func firstWord(s string) string {
	if i := strings.IndexAny(s, " \t|"); i > 0 {
		return s[:i]
	}
	return s
}

// pipeArg is one argument of a pipe as written.
type pipeArg struct {
	value  any
	quoted bool
	text   string
}

// readPipe reads "name arg arg" up to the next | outside quotes.
func readPipe(s string) (name string, args []pipeArg, rest string, err error) {
	i := 0
	for i < len(s) && (s[i] == '_' || isDigit(s[i]) || (s[i]|0x20 >= 'a' && s[i]|0x20 <= 'z')) {
		i++
	}
	name = s[:i]
	if name == "" {
		return "", nil, "", fmt.Errorf("expected a pipe name after |, got %q", firstWord(s))
	}
	s = s[i:]
	if s != "" && s[0] != ' ' && s[0] != '\t' && s[0] != '|' {
		return "", nil, "", fmt.Errorf("unexpected %q after pipe %s", firstWord(s), name)
	}
	for {
		s = strings.TrimLeft(s, " \t\r\n")
		if s == "" || s[0] == '|' {
			return name, args, s, nil
		}
		if s[0] == '"' || s[0] == '\'' {
			v, n, err := readQuoted(s)
			if err != nil {
				return "", nil, "", err
			}
			args = append(args, pipeArg{value: v, quoted: true, text: s[:n]})
			s = s[n:]
			continue
		}
		end := strings.IndexAny(s, " \t\r\n|")
		if end < 0 {
			end = len(s)
		}
		word := s[:end]
		args = append(args, pipeArg{value: bareLiteral(word), text: word})
		s = s[end:]
	}
}

// missing tells why an expression has no value.
type missing struct {
	path   string
	reason string
}

func (m *missing) message() string {
	msg := "field " + m.path + " is missing from the response"
	if m.reason != "" {
		msg += " (" + m.reason + ")"
	}
	return msg
}

// eval evaluates the pipeline. A value that is absent is reported as
// missing, not as an error; errors are failed conversions and bad payloads.
func (pl *pipeline) eval(in *Input) (any, *missing, error) {
	var v any
	var miss *missing
	if pl.head != nil {
		got, found, err := pl.head.lookup(in)
		if err != nil {
			return nil, nil, err
		}
		if found {
			v = got
		} else {
			miss = &missing{path: pl.head.src, reason: builtinReasons[pl.head.builtin]}
			if len(pl.head.steps) > 0 && pl.head.builtin != builtinPayload {
				miss.reason = ""
			}
		}
	} else {
		v = pl.lit
	}
	for i := range pl.pipes {
		p := &pl.pipes[i]
		switch p.kind {
		case pipeDefault:
			if miss != nil || v == nil || v == "" {
				v, miss = p.arg, nil
			}
		case pipeOptional:
		case pipeUnlessPrefix:
			if s, ok := v.(string); ok && miss == nil && strings.HasPrefix(s, p.text) {
				path := "value"
				if pl.head != nil {
					path = pl.head.src
				}
				miss = &missing{path: path, reason: "it holds the unfilled placeholder " + strconv.Quote(s)}
				v = nil
			}
		default:
			if miss != nil {
				continue
			}
			out, err := p.fn(v)
			if err != nil {
				return nil, nil, fmt.Errorf("%s: %w", p.name, err)
			}
			if out == missingMarker {
				path := p.name
				if pl.head != nil {
					path = pl.head.src
				}
				miss = &missing{path: path, reason: p.name + " of an empty list"}
				v = nil
				continue
			}
			v = out
		}
	}
	return v, miss, nil
}

// missingMarker is returned by a pipe whose result does not exist, such as
// first of an empty list.
var missingMarker any = &struct{ missing bool }{true}

// omitted is the value of an optional expression whose field is missing.
type omittedValue struct{}

var omitted any = omittedValue{}

// eval renders the template. The result is omitted when an optional whole
// expression is missing; mixed templates render such parts as "".
func (e *Expr) eval(in *Input) (any, *missing, error) {
	if e.whole != nil {
		v, miss, err := e.whole.eval(in)
		if err != nil || miss == nil {
			return v, nil, err
		}
		if e.whole.optional {
			return omitted, nil, nil
		}
		return nil, miss, nil
	}
	if e.literal {
		return e.src, nil, nil
	}
	var b strings.Builder
	for i := range e.parts {
		p := &e.parts[i]
		if p.expr == nil {
			b.WriteString(p.text)
			continue
		}
		v, miss, err := p.expr.eval(in)
		if err != nil {
			return nil, nil, err
		}
		if miss != nil {
			if p.expr.optional {
				continue
			}
			return nil, miss, nil
		}
		b.WriteString(textOf(v))
	}
	return b.String(), nil, nil
}

// Eval evaluates the expression against a response. A missing field is a
// *RenderError naming the field; an optional expression whose field is
// missing yields nil.
func (e *Expr) Eval(in *Input) (any, error) {
	v, miss, err := e.eval(in)
	if err != nil {
		return nil, renderErr(e.pos, "", "", err.Error())
	}
	if miss != nil {
		return nil, renderErr(e.pos, "", miss.path, miss.message())
	}
	if v == omitted {
		return nil, nil
	}
	return v, nil
}

// String returns the expression as written.
func (e *Expr) String() string { return e.src }

// Pos returns where the expression was written.
func (e *Expr) Pos() config.Pos { return e.pos }

// hasExpr reports whether the template holds any expression.
func (e *Expr) hasExpr() bool { return !e.literal }
