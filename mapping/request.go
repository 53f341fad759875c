package mapping

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/surveysync/surveysync/config"
)

// Request is one rendered HTTP request. Path is relative to the
// destination's endpoint; the destination adds the host, authentication
// and, under the header name it uses, IdempotencyKey.
type Request struct {
	Method string
	// Path is the URL path, starting with /, with every value that came from
	// a template path-escaped.
	Path string
	// Query holds the query parameters, or is nil.
	Query url.Values
	// Header holds the mapping's headers, or is nil.
	Header http.Header
	// IdempotencyKey is the rendered idempotency_key, or "".
	IdempotencyKey string
	// Body is the JSON-ready body: map[string]any, []any, string,
	// json.Number, float64, bool or nil. It may share subtrees with
	// Input.Fields; treat it as read-only.
	Body any
}

type namedExpr struct {
	name string
	expr *Expr
}

type requestMapping struct {
	method  string
	path    *Expr
	query   []namedExpr
	headers []namedExpr
	idem    *Expr
	body    *bodyNode
	batch   *batchSpec
}

var requestKeys = []string{"method", "path", "query", "headers", "idempotency_key", "body", "batch"}

// forbiddenHeaders are set by the HTTP client or the destination, never by a
// mapping.
var forbiddenHeaders = map[string]string{
	"Host":              "the destination's endpoint sets the host",
	"Content-Length":    "the HTTP client sets it",
	"Transfer-Encoding": "the HTTP client sets it",
	"Connection":        "the HTTP client sets it",
	"Authorization":     "credentials belong in surveysync.yaml as a secret reference, not in a mapping",
	"Cookie":            "credentials belong in surveysync.yaml as a secret reference, not in a mapping",
}

const hostMessage = "the path must start with / and response data cannot choose the host"

func compileRequest(n *config.Node, env *compileEnv, errs *loadErrors) *requestMapping {
	if n.Kind != config.MapNode {
		errs.add(n.Pos, "request: expected method, path and body, got %s", n.Kind)
		return nil
	}
	checkKeys(n, "request: ", requestKeys, errs)
	rm := &requestMapping{}

	switch m := n.Get("method"); {
	case m == nil:
		errs.add(n.Pos, "request: missing required key \"method\" (GET, POST, PUT, PATCH or DELETE)")
	case m.Kind != config.ScalarNode:
		errs.add(m.Pos, "request: method: expected GET, POST, PUT, PATCH or DELETE, got %s", m.Kind)
	default:
		switch up := strings.ToUpper(m.Value); up {
		case http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete:
			rm.method = up
		default:
			errs.add(m.Pos, "request: method: %q is not GET, POST, PUT, PATCH or DELETE", m.Value)
		}
	}

	switch p := n.Get("path"); {
	case p == nil:
		errs.add(n.Pos, "request: missing required key \"path\" (such as /crm/v3/objects/contacts)")
	case p.Kind != config.ScalarNode || p.Type != config.StringScalar:
		errs.add(p.Pos, "request: path: expected a path such as /crm/v3/objects/contacts, got %s", p.Kind)
	default:
		rm.path = compilePath(p, env, errs)
	}

	if q := n.Get("query"); q != nil {
		rm.query = compileNamed(q, "query", env, errs)
	}
	if h := n.Get("headers"); h != nil {
		rm.headers = compileNamed(h, "headers", env, errs)
		for _, p := range h.Pairs {
			name := p.Key.Value
			if !validHeaderName(name) {
				errs.add(p.Key.Pos, "request: headers: %q is not a valid header name (letters, digits and - only)", name)
				continue
			}
			if why, bad := forbiddenHeaders[http.CanonicalHeaderKey(name)]; bad {
				errs.add(p.Key.Pos, "request: headers: %s cannot be set in a mapping; %s", name, why)
			}
		}
		seen := map[string]*config.Node{}
		for _, p := range h.Pairs {
			c := http.CanonicalHeaderKey(p.Key.Value)
			if prev, dup := seen[c]; dup {
				errs.add(p.Key.Pos, "request: headers: %q is the same header as %q at line %d (header names ignore case)", p.Key.Value, prev.Value, prev.Pos.Line)
			}
			seen[c] = p.Key
		}
	}
	if k := n.Get("idempotency_key"); k != nil {
		if k.Kind != config.ScalarNode || k.Type != config.StringScalar {
			errs.add(k.Pos, "request: idempotency_key: expected a template such as \"{{ delivery_key }}\", got %s", k.Kind)
		} else if e, err := compileTemplate(k.Value, k.Pos, env); err != nil {
			errs.add(k.Pos, "request: idempotency_key: %v", err)
		} else {
			if !e.hasExpr() {
				errs.add(k.Pos, "request: idempotency_key: a fixed key would make every response look like the same request; use a template such as \"{{ delivery_key }}\"")
			}
			rm.idem = e
		}
	}
	if b := n.Get("body"); b != nil {
		if rm.method == http.MethodGet {
			errs.add(keyPos(n, "body"), "request: body: a GET request has no body; use query for parameters")
		}
		rm.body = compileBody(b, "body", env, errs, true)
	}
	if b := n.Get("batch"); b != nil {
		rm.batch = compileBatch(b, errs)
		if rm.method == http.MethodGet {
			errs.add(keyPos(n, "batch"), "request: batch: a GET request has no body to batch")
		}
	}
	return rm
}

func validHeaderName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '-' || c == '_' || isDigit(c) || (c|0x20 >= 'a' && c|0x20 <= 'z')) {
			return false
		}
	}
	return true
}

// compilePath compiles the path template and checks that nothing in it, and
// no response data, can point the request at another host.
func compilePath(p *config.Node, env *compileEnv, errs *loadErrors) *Expr {
	e, err := compileTemplate(p.Value, p.Pos, env)
	if err != nil {
		errs.add(p.Pos, "request: path: %v", err)
		return nil
	}
	first := ""
	if len(e.parts) > 0 && e.parts[0].expr == nil {
		first = e.parts[0].text
	}
	switch {
	case !strings.HasPrefix(first, "/"), strings.HasPrefix(first, "//"), strings.HasPrefix(first, "/\\"):
		errs.add(p.Pos, "request: path %q: %s", p.Value, hostMessage)
		return nil
	}
	for _, part := range e.parts {
		if part.expr != nil {
			continue
		}
		t := part.text
		switch {
		case strings.Contains(t, "://") || strings.Contains(t, "\\"):
			errs.add(p.Pos, "request: path %q: %s", p.Value, hostMessage)
			return nil
		case strings.ContainsAny(t, "?#"):
			errs.add(p.Pos, "request: path %q: put query parameters under query, not in the path", p.Value)
			return nil
		case strings.ContainsAny(t, " \t\r\n"):
			errs.add(p.Pos, "request: path %q: a path cannot contain spaces", p.Value)
			return nil
		}
	}
	for _, seg := range strings.Split(p.Value, "/") {
		if seg == "." || seg == ".." {
			errs.add(p.Pos, "request: path %q: . and .. segments are not allowed", p.Value)
			return nil
		}
	}
	return e
}

// compileNamed compiles query parameters or headers: names and templates.
func compileNamed(n *config.Node, what string, env *compileEnv, errs *loadErrors) []namedExpr {
	if n.Kind != config.MapNode {
		errs.add(n.Pos, "request: %s: expected names and values, got %s", what, n.Kind)
		return nil
	}
	var out []namedExpr
	for _, p := range n.Pairs {
		v := p.Value
		var e *Expr
		switch {
		case v.Kind == config.ScalarNode && v.Type == config.StringScalar:
			var err error
			e, err = compileTemplate(v.Value, v.Pos, env)
			if err != nil {
				errs.add(v.Pos, "request: %s: %s: %v", what, p.Key.Value, err)
				continue
			}
		case v.Kind == config.ScalarNode:
			e = &Expr{src: v.Value, pos: v.Pos, literal: true}
		default:
			errs.add(v.Pos, "request: %s: %s: expected text or a template, got %s", what, p.Key.Value, v.Kind)
			continue
		}
		out = append(out, namedExpr{name: p.Key.Value, expr: e})
	}
	return out
}

// RenderRequest renders a response as one HTTP request. The first problem
// found is returned as a *RenderError.
func (m *Mapping) RenderRequest(in *Input) (*Request, error) {
	if m.req == nil {
		return nil, fmt.Errorf("mapping %s renders sheet rows, not requests", m.file)
	}
	defer in.project(m.proj)()
	return m.req.render(in, nil)
}

func (rm *requestMapping) render(in *Input, collect func(*RenderError)) (*Request, error) {
	req := &Request{Method: rm.method}
	var first *RenderError
	fail := func(re *RenderError) bool {
		if collect != nil {
			collect(re)
			return false
		}
		first = re
		return true
	}
	if rm.path != nil {
		p, err := rm.renderPath(in)
		if err != nil && fail(err) {
			return nil, first
		}
		req.Path = p
	}
	for _, q := range rm.query {
		where := "query." + q.name
		v, err := evalAt(q.expr, in, where)
		if err != nil {
			if fail(err) {
				return nil, first
			}
			continue
		}
		if v == nil || v == omitted {
			continue
		}
		if req.Query == nil {
			req.Query = url.Values{}
		}
		if list, ok := v.([]any); ok {
			for _, e := range list {
				req.Query.Add(q.name, textOf(e))
			}
			continue
		}
		req.Query.Add(q.name, textOf(v))
	}
	for _, h := range rm.headers {
		where := "headers." + h.name
		v, err := evalAt(h.expr, in, where)
		if err != nil {
			if fail(err) {
				return nil, first
			}
			continue
		}
		if v == nil || v == omitted {
			continue
		}
		text := textOf(v)
		if strings.ContainsFunc(text, func(r rune) bool { return r < ' ' && r != '\t' || r == 0x7f }) {
			if fail(renderErr(h.expr.pos, where, "", "the value contains a line break or control character, which a header cannot carry")) {
				return nil, first
			}
			continue
		}
		if req.Header == nil {
			req.Header = http.Header{}
		}
		req.Header.Set(h.name, text)
	}
	if rm.idem != nil {
		v, err := evalAt(rm.idem, in, "idempotency_key")
		switch {
		case err != nil:
			if fail(err) {
				return nil, first
			}
		case v != omitted && strings.TrimSpace(textOf(v)) == "":
			if fail(renderErr(rm.idem.pos, "idempotency_key", "", "rendered empty")) {
				return nil, first
			}
		case v != omitted:
			req.IdempotencyKey = textOf(v)
		}
	}
	if rm.body != nil {
		b, ok, err := rm.body.render(in, collect)
		if err != nil {
			return nil, err
		}
		if ok {
			req.Body = b
		}
	}
	return req, nil
}

// evalAt evaluates a template and turns a missing field or failure into a
// RenderError at the template's position.
func evalAt(e *Expr, in *Input, where string) (any, *RenderError) {
	v, miss, err := e.eval(in)
	if err != nil {
		var re *RenderError
		if errors.As(err, &re) {
			return nil, re
		}
		return nil, renderErr(e.pos, where, "", err.Error())
	}
	if miss != nil {
		return nil, renderErr(e.pos, where, miss.path, miss.message())
	}
	return v, nil
}

// renderPath renders the path, escaping each value so that it stays inside
// one path segment.
func (rm *requestMapping) renderPath(in *Input) (string, *RenderError) {
	e := rm.path
	if e.literal {
		return e.src, nil
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
			return "", renderErr(e.pos, "path", "", err.Error())
		}
		if miss != nil {
			if p.expr.optional {
				miss.reason = "optional values cannot be left out of a path"
			}
			return "", renderErr(e.pos, "path", miss.path, miss.message())
		}
		if !isScalar(v) {
			return "", renderErr(e.pos, "path", "", fmt.Sprintf("{{ %s }} is %s; a path needs a single value", p.expr.src, kindName(v)))
		}
		text := textOf(v)
		if strings.TrimSpace(text) == "" {
			return "", renderErr(e.pos, "path", "", fmt.Sprintf("{{ %s }} rendered empty, which would change the path", p.expr.src))
		}
		if text == "." || text == ".." {
			return "", renderErr(e.pos, "path", "", fmt.Sprintf("{{ %s }} rendered %q, which would change the path", p.expr.src, text))
		}
		b.WriteString(url.PathEscape(text))
	}
	return b.String(), nil
}

// RequestShape describes a request mapping for destinations that check, when
// the configuration is loaded, that they can send what it renders.
type RequestShape struct {
	// Method is the HTTP method.
	Method string
	// Path is the path template as written, such as /api/v2/tickets/{{ ticket_id }}.json.
	Path string
	// Pos is where the request was written.
	Pos config.Pos
	// Batched reports whether responses are batched into one body.
	Batched bool
}

// RequestShape returns the shape of a request mapping; ok is false for a
// sheet mapping.
func (m *Mapping) RequestShape() (RequestShape, bool) {
	if m.req == nil {
		return RequestShape{}, false
	}
	return RequestShape{Method: m.req.method, Path: m.req.path.String(), Pos: m.req.path.Pos(), Batched: m.req.batch != nil}, true
}
