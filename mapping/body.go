package mapping

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/surveysync/surveysync/config"
)

type bodyKind uint8

const (
	bodyConst bodyKind = iota
	bodyExpr
	bodyObject
	bodyArray
)

// bodyNode is one node of a compiled request body: a constant, a template
// leaf, an object or a list.
type bodyNode struct {
	kind  bodyKind
	val   any
	expr  *Expr
	keys  []string
	kids  []*bodyNode
	where string
}

// compileBody compiles a body written as YAML structure. Templates are
// allowed in string leaves only, and only when templates is set (a batch
// envelope is fixed).
func compileBody(n *config.Node, where string, env *compileEnv, errs *loadErrors, templates bool) *bodyNode {
	switch n.Kind {
	case config.NullNode:
		return &bodyNode{kind: bodyConst, where: where}
	case config.MapNode:
		b := &bodyNode{kind: bodyObject, where: where}
		for _, p := range n.Pairs {
			if strings.Contains(p.Key.Value, "{{") {
				errs.add(p.Key.Pos, "request: %s: templates are only allowed in values, not in keys", where)
				continue
			}
			kid := compileBody(p.Value, where+"."+p.Key.Value, env, errs, templates)
			b.keys = append(b.keys, p.Key.Value)
			b.kids = append(b.kids, kid)
		}
		return b
	case config.SeqNode:
		b := &bodyNode{kind: bodyArray, where: where}
		for i, it := range n.Items {
			b.kids = append(b.kids, compileBody(it, fmt.Sprintf("%s[%d]", where, i), env, errs, templates))
		}
		return b
	}
	if n.Type != config.StringScalar {
		v, err := literalFromYAML(n.Interface())
		if err != nil {
			errs.add(n.Pos, "request: %s: %v", where, err)
		}
		return &bodyNode{kind: bodyConst, val: v, where: where}
	}
	e, err := compileTemplate(n.Value, n.Pos, env)
	if err != nil {
		errs.add(n.Pos, "request: %s: %v", where, err)
		return &bodyNode{kind: bodyConst, where: where}
	}
	if e.literal {
		return &bodyNode{kind: bodyConst, val: n.Value, where: where}
	}
	if !templates {
		errs.add(n.Pos, "request: %s: templates are not allowed here; the envelope is the same for every batch", where)
	}
	return &bodyNode{kind: bodyExpr, expr: e, where: where}
}

// render builds the body value. ok is false when an optional leaf was left
// out. With collect set, errors are passed to it and rendering goes on.
func (b *bodyNode) render(in *Input, collect func(*RenderError)) (any, bool, error) {
	switch b.kind {
	case bodyConst:
		return b.val, true, nil
	case bodyExpr:
		v, err := evalAt(b.expr, in, b.where)
		if err != nil {
			if collect == nil {
				return nil, false, err
			}
			collect(err)
			return nil, true, nil
		}
		if v == omitted {
			return nil, false, nil
		}
		if s, ok := v.(string); ok && !utf8.ValidString(s) {
			// JSON can only carry valid UTF-8: each run of bad bytes becomes
			// one U+FFFD here, rather than one per byte in json.Marshal.
			return strings.ToValidUTF8(s, "\uFFFD"), true, nil
		}
		return jsonReady(v), true, nil
	case bodyObject:
		m := make(map[string]any, len(b.keys))
		for i, kid := range b.kids {
			v, ok, err := kid.render(in, collect)
			if err != nil {
				return nil, false, err
			}
			if ok {
				m[b.keys[i]] = v
			}
		}
		return m, true, nil
	default:
		list := make([]any, 0, len(b.kids))
		for _, kid := range b.kids {
			v, ok, err := kid.render(in, collect)
			if err != nil {
				return nil, false, err
			}
			if ok {
				list = append(list, v)
			}
		}
		return list, true, nil
	}
}

// visit calls f for every template in the body.
func (b *bodyNode) visit(f func(*Expr)) {
	if b == nil {
		return
	}
	if b.expr != nil {
		f(b.expr)
	}
	for _, k := range b.kids {
		k.visit(f)
	}
}

// batchSpec says how several rendered bodies combine into one.
type batchSpec struct {
	max      int
	path     []string
	envelope *bodyNode
}

func compileBatch(n *config.Node, errs *loadErrors) *batchSpec {
	if n.Kind != config.MapNode {
		errs.add(n.Pos, "request: batch: expected max, path and envelope, got %s", n.Kind)
		return nil
	}
	checkKeys(n, "request: batch: ", []string{"max", "path", "envelope"}, errs)
	bs := &batchSpec{}
	switch m := n.Get("max"); {
	case m == nil:
		errs.add(n.Pos, "request: batch: missing required key \"max\" (the most responses in one request, such as 100)")
	case m.Kind != config.ScalarNode || m.Type != config.IntScalar:
		errs.add(m.Pos, "request: batch: max: expected a whole number, got %q", m.Value)
	default:
		v, _ := m.Interface().(int64)
		if v < 1 {
			errs.add(m.Pos, "request: batch: max must be at least 1, got %s", m.Value)
		} else {
			bs.max = int(min(v, 1<<20))
		}
	}
	if p := n.Get("path"); p != nil {
		if p.Kind != config.ScalarNode || p.Type != config.StringScalar {
			errs.add(p.Pos, "request: batch: path: expected a key such as inputs, got %s", p.Kind)
		} else if p.Value != "" {
			bs.path = strings.Split(p.Value, ".")
			if slices.Contains(bs.path, "") || strings.Contains(p.Value, "{{") {
				errs.add(p.Pos, "request: batch: path: %q is not a key or dotted keys such as inputs or data.items", p.Value)
			}
		}
	}
	if e := n.Get("envelope"); e != nil && e.Kind != config.NullNode {
		switch {
		case e.Kind != config.MapNode:
			errs.add(e.Pos, "request: batch: envelope: expected fixed keys and values, got %s", e.Kind)
		case len(bs.path) == 0:
			errs.add(e.Pos, "request: batch: envelope needs a path; without one the body is a bare list")
		default:
			if e.Get(bs.path[0]) != nil {
				errs.add(keyPos(e, bs.path[0]), "request: batch: envelope: %q is where the items go (batch.path); remove it from the envelope", bs.path[0])
			}
			bs.envelope = compileBody(e, "batch.envelope", nil, errs, false)
		}
	}
	return bs
}

// BatchMax returns the most responses one request may carry; 0 means the
// mapping does not batch.
func (m *Mapping) BatchMax() int {
	if m.req == nil || m.req.batch == nil {
		return 0
	}
	return m.req.batch.max
}

// RenderBatch combines requests rendered by RenderRequest into one, as the
// mapping's batch section says: the bodies become the list at batch.path,
// next to the envelope's keys. The requests must agree on method, path, query
// and headers. The batch's IdempotencyKey is a hash of the items' keys, in
// sorted order, so the same set of responses always gets the same key.
func (m *Mapping) RenderBatch(reqs []*Request) (*Request, error) {
	if m.req == nil {
		return nil, fmt.Errorf("mapping %s renders sheet rows, not requests", m.file)
	}
	if len(reqs) == 0 {
		return nil, fmt.Errorf("mapping %s: a batch needs at least one request", m.file)
	}
	bs := m.req.batch
	if bs == nil {
		if len(reqs) == 1 {
			return reqs[0], nil
		}
		return nil, fmt.Errorf("mapping %s has no batch section; send its requests one by one", m.file)
	}
	if len(reqs) > bs.max {
		return nil, fmt.Errorf("mapping %s: %d requests is more than batch.max (%d)", m.file, len(reqs), bs.max)
	}
	first := reqs[0]
	items := make([]any, len(reqs))
	keys := make([]string, 0, len(reqs))
	for i, r := range reqs {
		if r.Method != first.Method || r.Path != first.Path || r.Query.Encode() != first.Query.Encode() || !sameHeader(r.Header, first.Header) {
			return nil, fmt.Errorf("mapping %s: requests in one batch must share method, path, query and headers; request %d goes to %s %s", m.file, i+1, r.Method, r.Path)
		}
		items[i] = r.Body
		if r.IdempotencyKey != "" {
			keys = append(keys, r.IdempotencyKey)
		}
	}
	out := &Request{Method: first.Method, Path: first.Path, Query: first.Query, Header: first.Header}
	if len(keys) == len(reqs) {
		slices.Sort(keys)
		sum := sha256.Sum256([]byte(strings.Join(keys, "\n")))
		out.IdempotencyKey = hex.EncodeToString(sum[:16])
	}
	if len(bs.path) == 0 {
		out.Body = items
		return out, nil
	}
	body := map[string]any{}
	if bs.envelope != nil {
		env, _, _ := bs.envelope.render(&Input{Fields: map[string]any{}}, nil)
		body = env.(map[string]any)
	}
	cur := body
	for _, k := range bs.path[:len(bs.path)-1] {
		next, ok := cur[k].(map[string]any)
		if !ok {
			next = map[string]any{}
			cur[k] = next
		}
		cur = next
	}
	cur[bs.path[len(bs.path)-1]] = items
	out.Body = body
	return out, nil
}

func sameHeader(a, b http.Header) bool {
	return maps.EqualFunc(a, b, slices.Equal)
}
