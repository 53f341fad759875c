package mapping

import "strconv"

// projection is the part of a payload that a set of paths can reach. A
// mapping decodes only that part, which for a Typeform webhook skips the form
// definition and more than halves the work. Keys and list elements that no
// path reaches are checked for JSON syntax and dropped; everything a path
// can reach, and everything below a path's end, is decoded in full, so
// rendering sees the same values as with the whole payload.
type projection struct {
	all  bool
	keys map[string]*projection
	elem *projection
}

// fullProjection takes the whole payload.
var fullProjection = &projection{all: true}

func (p *projection) child(key string) *projection {
	if p.keys == nil {
		p.keys = map[string]*projection{}
	}
	c := p.keys[key]
	if c == nil {
		c = &projection{}
		p.keys[key] = c
	}
	return c
}

func (p *projection) elemNode() *projection {
	if p.elem == nil {
		p.elem = &projection{}
	}
	return p.elem
}

// add makes the path steps reachable; the value at their end is taken whole.
func (p *projection) add(steps []step) {
	if p.all {
		return
	}
	if len(steps) == 0 {
		*p = projection{all: true}
		return
	}
	st := &steps[0]
	switch st.kind {
	case stepKey:
		p.child(st.key).add(steps[1:])
		if _, err := strconv.Atoi(st.key); err == nil {
			// answers.0 indexes a list.
			p.elemNode().add(steps[1:])
		}
	case stepIndex:
		p.elemNode().add(steps[1:])
	case stepMatch:
		e := p.elemNode()
		e.add(st.sub)
		e.add(steps[1:])
	}
}

// addExpr makes every payload path of a template reachable.
func (p *projection) addExpr(e *Expr) {
	if e == nil {
		return
	}
	if e.whole != nil {
		p.addPipeline(e.whole)
		return
	}
	for i := range e.parts {
		if e.parts[i].expr != nil {
			p.addPipeline(e.parts[i].expr)
		}
	}
}

func (p *projection) addPipeline(pl *pipeline) {
	if pl.head == nil {
		return
	}
	switch pl.head.builtin {
	case notBuiltin, builtinPayload:
		p.add(pl.head.steps)
	}
}

// addFilter makes every field a filter tests reachable.
func (p *projection) addFilter(f *Filter) {
	if f == nil || f.root == nil {
		return
	}
	f.root.visit(func(c *fieldCond) { p.addExpr(c.field) })
}

// decode decodes a payload keeping only what p reaches.
func (p *projection) decode(raw []byte) (map[string]any, error) {
	if p == nil || p.all {
		return decodePayload(raw)
	}
	return decodeProjected(raw, p)
}
