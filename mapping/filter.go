package mapping

import (
	"fmt"
	"regexp"
	"strings"
	"time"

	"github.com/surveysync/surveysync/config"
)

// Filter decides which responses a mapping (or a sync, or a score job)
// takes. A list of conditions must all hold; any:, all: and not: combine
// them. A nil *Filter takes every response.
type Filter struct {
	root cond
}

// cond is one node of a filter.
type cond interface {
	holds(in *Input) (bool, error)
	// visit calls f for every field condition, for Check.
	visit(f func(*fieldCond))
}

type allOf []cond

func (c allOf) holds(in *Input) (bool, error) {
	for _, x := range c {
		ok, err := x.holds(in)
		if err != nil || !ok {
			return false, err
		}
	}
	return true, nil
}

func (c allOf) visit(f func(*fieldCond)) {
	for _, x := range c {
		x.visit(f)
	}
}

type anyOf []cond

func (c anyOf) holds(in *Input) (bool, error) {
	for _, x := range c {
		ok, err := x.holds(in)
		if err != nil {
			return false, err
		}
		if ok {
			return true, nil
		}
	}
	return false, nil
}

func (c anyOf) visit(f func(*fieldCond)) {
	for _, x := range c {
		x.visit(f)
	}
}

type notCond struct{ c cond }

func (c notCond) holds(in *Input) (bool, error) {
	ok, err := c.c.holds(in)
	return !ok && err == nil, err
}

func (c notCond) visit(f func(*fieldCond)) { c.c.visit(f) }

// opKind is a filter operator.
type opKind uint8

const (
	opEquals opKind = iota
	opNotEquals
	opIn
	opNotIn
	opExists
	opMatches
	opContains
	opGT
	opGTE
	opLT
	opLTE
)

var opNames = map[string]opKind{
	"equals":     opEquals,
	"not_equals": opNotEquals,
	"in":         opIn,
	"not_in":     opNotIn,
	"exists":     opExists,
	"matches":    opMatches,
	"contains":   opContains,
	"gt":         opGT,
	"gte":        opGTE,
	"lt":         opLT,
	"lte":        opLTE,
}

// filterOp is one operator with its operand.
type filterOp struct {
	kind   opKind
	lit    any
	list   []any
	re     *regexp.Regexp
	exists bool
	// For comparisons: a number, or a time.
	num    float64
	at     time.Time
	isTime bool
}

// fieldCond is {field: <expr>, <operator>: <operand>, ...}.
type fieldCond struct {
	field *Expr
	ops   []filterOp
	pos   config.Pos
}

func (c *fieldCond) visit(f func(*fieldCond)) { f(c) }

func (c *fieldCond) holds(in *Input) (bool, error) {
	v, miss, err := c.field.eval(in)
	if err != nil {
		return false, renderErr(c.field.pos, "filter", "", err.Error())
	}
	present := miss == nil && v != omitted
	for i := range c.ops {
		if !c.ops[i].holds(v, present) {
			return false, nil
		}
	}
	return true, nil
}

func (op *filterOp) holds(v any, present bool) bool {
	switch op.kind {
	case opNotEquals:
		return !present || !equalValues(v, op.lit)
	case opNotIn:
		return !present || !inList(v, op.list)
	case opExists:
		return hasValue(v, present) == op.exists
	}
	if !present {
		return false
	}
	switch op.kind {
	case opEquals:
		return equalValues(v, op.lit)
	case opIn:
		return inList(v, op.list)
	case opMatches:
		if list, ok := v.([]any); ok {
			for _, e := range list {
				if isScalar(e) && e != nil && op.re.MatchString(textOf(e)) {
					return true
				}
			}
			return false
		}
		return v != nil && isScalar(v) && op.re.MatchString(textOf(v))
	case opContains:
		switch x := v.(type) {
		case []any:
			for _, e := range x {
				if equalValues(e, op.lit) {
					return true
				}
			}
			return false
		case map[string]any:
			_, ok := x[textOf(op.lit)]
			return ok
		case nil:
			return false
		default:
			return strings.Contains(textOf(x), textOf(op.lit))
		}
	default:
		return op.compare(v)
	}
}

func (op *filterOp) compare(v any) bool {
	var c int
	if op.isTime {
		if v == nil || v == "" {
			return false
		}
		t, _, err := parseTime(v, time.UTC, nil)
		if err != nil {
			return false
		}
		c = t.Compare(op.at)
	} else {
		f, ok := toFloat(v)
		if !ok {
			return false
		}
		switch {
		case f < op.num:
			c = -1
		case f > op.num:
			c = 1
		}
	}
	switch op.kind {
	case opGT:
		return c > 0
	case opGTE:
		return c >= 0
	case opLT:
		return c < 0
	default:
		return c <= 0
	}
}

func inList(v any, list []any) bool {
	for _, l := range list {
		if equalValues(v, l) {
			return true
		}
	}
	return false
}

// hasValue is what exists tests: present, not null, not empty text and not
// an empty list.
func hasValue(v any, present bool) bool {
	if !present || v == nil {
		return false
	}
	switch x := v.(type) {
	case string:
		return strings.TrimSpace(x) != ""
	case []any:
		return len(x) > 0
	}
	return true
}

// Match reports whether the response passes the filter. A field that is
// missing does not hold for any operator except not_equals, not_in and
// exists: false. An error means the response could not be read, or a pipe
// in a field failed.
func (f *Filter) Match(in *Input) (bool, error) {
	if f == nil || f.root == nil {
		return true, nil
	}
	return f.root.holds(in)
}

// CompileFilter compiles a filter written in the mapping filter syntax, such
// as a sync's filter in surveysync.yaml. A null node is no filter. Mistakes
// are a config.ErrorList.
func CompileFilter(n *config.Node) (*Filter, error) {
	var errs loadErrors
	f := compileFilter(n, nil, &errs)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return f, nil
}

func compileFilter(n *config.Node, env *compileEnv, errs *loadErrors) *Filter {
	if n == nil || n.Kind == config.NullNode {
		return nil
	}
	c := compileCond(n, env, errs)
	if c == nil {
		return nil
	}
	return &Filter{root: c}
}

var condKeys = []string{"field", "any", "all", "not", "equals", "not_equals", "in", "not_in", "exists", "matches", "contains", "gt", "gte", "lt", "lte"}

func compileCond(n *config.Node, env *compileEnv, errs *loadErrors) cond {
	switch n.Kind {
	case config.SeqNode:
		var out allOf
		for _, it := range n.Items {
			if c := compileCond(it, env, errs); c != nil {
				out = append(out, c)
			}
		}
		return out
	case config.MapNode:
	default:
		errs.add(n.Pos, "filter: expected a condition such as {field: rating, lte: 2} or a list of them, got %s", n.Kind)
		return nil
	}
	for _, key := range []string{"any", "all", "not"} {
		sub := n.Get(key)
		if sub == nil {
			continue
		}
		if len(n.Pairs) > 1 {
			errs.add(n.Pos, "filter: %s: must be alone in its condition; put the other keys in a separate list item", key)
			return nil
		}
		if key != "not" && sub.Kind != config.SeqNode {
			errs.add(sub.Pos, "filter: %s: expected a list of conditions, got %s", key, sub.Kind)
			return nil
		}
		switch key {
		case "any":
			var out anyOf
			for _, it := range sub.Items {
				if c := compileCond(it, env, errs); c != nil {
					out = append(out, c)
				}
			}
			return out
		case "all":
			return compileCond(sub, env, errs)
		default:
			c := compileCond(sub, env, errs)
			if c == nil {
				return nil
			}
			return notCond{c}
		}
	}
	fc := &fieldCond{pos: n.Pos}
	ok := true
	misspelledField := false
	for _, p := range n.Pairs {
		key := p.Key.Value
		if key == "field" {
			continue
		}
		kind, known := opNames[key]
		if !known {
			msg := fmt.Sprintf("filter: unknown key %q", key)
			if s := config.Suggest(key, condKeys); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
				misspelledField = misspelledField || s == "field"
			} else {
				msg += " (operators: equals, not_equals, in, not_in, exists, matches, contains, gt, gte, lt, lte)"
			}
			errs.add(p.Key.Pos, "%s", msg)
			ok = false
			continue
		}
		op, err := compileOp(kind, p.Value)
		if err != nil {
			errs.add(p.Value.Pos, "filter: %s: %v", key, err)
			ok = false
			continue
		}
		fc.ops = append(fc.ops, op)
	}
	field := n.Get("field")
	switch {
	case field == nil && misspelledField:
		ok = false
	case field == nil:
		errs.add(n.Pos, "filter: missing required key \"field\" (the value to test, such as field: rating)")
		ok = false
	case field.Kind != config.ScalarNode || field.Value == "":
		errs.add(field.Pos, "filter: field: expected an expression such as rating or \"{{ contact.email | lower }}\", got %s", field.Kind)
		ok = false
	default:
		e, err := compileExpr(field.Value, field.Pos, env)
		if err != nil {
			errs.add(field.Pos, "filter: field: %v", err)
			ok = false
		}
		fc.field = e
	}
	if ok && len(fc.ops) == 0 {
		errs.add(n.Pos, "filter: the condition on %s has no operator; add one of equals, not_equals, in, not_in, exists, matches, contains, gt, gte, lt, lte", field.Value)
		ok = false
	}
	if !ok {
		return nil
	}
	return fc
}

func compileOp(kind opKind, n *config.Node) (filterOp, error) {
	op := filterOp{kind: kind}
	scalar := func() (any, error) {
		switch n.Kind {
		case config.ScalarNode, config.NullNode:
			return literalFromYAML(n.Interface())
		case config.SeqNode:
			return nil, fmt.Errorf("expected a single value, got a list (use in: for a list)")
		}
		return nil, fmt.Errorf("expected a single value, got %s", n.Kind)
	}
	var err error
	switch kind {
	case opEquals, opNotEquals, opContains:
		op.lit, err = scalar()
		if err == nil && kind == opContains && op.lit == nil {
			err = fmt.Errorf("expected a value to look for")
		}
	case opIn, opNotIn:
		if n.Kind != config.SeqNode {
			return op, fmt.Errorf("expected a list such as [whatsapp, email], got %s", n.Kind)
		}
		for _, it := range n.Items {
			if it.Kind == config.MapNode || it.Kind == config.SeqNode {
				return op, fmt.Errorf("list items must be single values, got %s", it.Kind)
			}
			v, err := literalFromYAML(it.Interface())
			if err != nil {
				return op, err
			}
			op.list = append(op.list, v)
		}
	case opExists:
		if n.Kind != config.ScalarNode || n.Type != config.BoolScalar {
			return op, fmt.Errorf("expected true or false")
		}
		op.exists = n.Interface().(bool)
	case opMatches:
		if n.Kind != config.ScalarNode {
			return op, fmt.Errorf("expected a regular expression, got %s", n.Kind)
		}
		op.re, err = regexp.Compile(n.Value)
		if err != nil {
			return op, fmt.Errorf("bad regular expression: %v", strings.TrimPrefix(err.Error(), "error parsing regexp: "))
		}
	default:
		var lit any
		lit, err = scalar()
		if err != nil {
			return op, err
		}
		if f, ok := toFloat(lit); ok {
			op.num = f
			return op, nil
		}
		if s, ok := lit.(string); ok && s != "" {
			if t, _, terr := parseTime(s, time.UTC, nil); terr == nil {
				op.at, op.isTime = t, true
				return op, nil
			}
		}
		return op, fmt.Errorf("expected a number or a date such as 2024-05-01, got %s", quoteShort(lit))
	}
	return op, err
}

// check evaluates every field of the filter and reports the missing ones as
// warnings and failing ones as errors.
func (f *Filter) check(in *Input) config.ErrorList {
	if f == nil || f.root == nil {
		return nil
	}
	var out config.ErrorList
	f.root.visit(func(c *fieldCond) {
		_, miss, err := c.field.eval(in)
		switch {
		case err != nil:
			out = append(out, config.Errorf(c.field.pos, "filter: %v", err))
		case miss != nil:
			e := config.Errorf(c.field.pos, "filter: %s; the condition treats it as missing", miss.message())
			e.Warning = true
			out = append(out, e)
		}
	})
	return out
}
