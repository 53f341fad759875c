package mapping

import "github.com/surveysync/surveysync/config"

// BodyPart is one part of a request mapping's body as written: a constant,
// a template, an object or a list. Destinations read it to check, before any
// response exists, the names and ids a mapping sends, such as HubSpot
// property names or Zendesk ticket field ids. The zero BodyPart is absent.
type BodyPart struct {
	b *bodyNode
}

// Body returns the body of a request mapping as written; ok is false for a
// sheet mapping or a request without a body.
func (m *Mapping) Body() (BodyPart, bool) {
	if m.req == nil || m.req.body == nil {
		return BodyPart{}, false
	}
	return BodyPart{m.req.body}, true
}

// Exists reports whether the part is there.
func (p BodyPart) Exists() bool { return p.b != nil }

// Where names the part as in render errors, such as
// body.ticket.custom_fields[0].id.
func (p BodyPart) Where() string {
	if p.b == nil {
		return ""
	}
	return p.b.where
}

// IsObject reports whether the part is an object with fixed keys.
func (p BodyPart) IsObject() bool { return p.b != nil && p.b.kind == bodyObject }

// IsList reports whether the part is a list written item by item.
func (p BodyPart) IsList() bool { return p.b != nil && p.b.kind == bodyArray }

// Keys returns an object's keys in file order.
func (p BodyPart) Keys() []string {
	if !p.IsObject() {
		return nil
	}
	return append([]string(nil), p.b.keys...)
}

// Get returns the value of an object's key; the result is absent when the
// part is not an object or has no such key.
func (p BodyPart) Get(key string) BodyPart {
	if !p.IsObject() {
		return BodyPart{}
	}
	for i, k := range p.b.keys {
		if k == key {
			return BodyPart{p.b.kids[i]}
		}
	}
	return BodyPart{}
}

// Items returns a list's items.
func (p BodyPart) Items() []BodyPart {
	if !p.IsList() {
		return nil
	}
	out := make([]BodyPart, len(p.b.kids))
	for i, k := range p.b.kids {
		out[i] = BodyPart{k}
	}
	return out
}

// Const returns a constant's value (text, a json.Number, true or false, or
// nil for null); ok is false for a template, an object, a list or an
// absent part.
func (p BodyPart) Const() (v any, ok bool) {
	if p.b == nil || p.b.kind != bodyConst {
		return nil, false
	}
	return p.b.val, true
}

// Template returns a template's text as written and where it was written;
// ok is false for any other part.
func (p BodyPart) Template() (text string, pos config.Pos, ok bool) {
	if p.b == nil || p.b.kind != bodyExpr || p.b.expr == nil {
		return "", config.Pos{}, false
	}
	return p.b.expr.src, p.b.expr.pos, true
}

// Pos returns where the first template within the part was written, or the
// zero Pos when it holds none: constants, objects and lists keep no
// position of their own.
func (p BodyPart) Pos() config.Pos {
	var pos config.Pos
	found := false
	p.b.visit(func(e *Expr) {
		if !found {
			pos, found = e.pos, true
		}
	})
	return pos
}
