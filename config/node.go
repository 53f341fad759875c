package config

import (
	"errors"
	"fmt"
	"math"
	"strings"

	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// Kind is the shape of a Node.
type Kind uint8

// The node kinds of a parsed YAML document.
const (
	// NullNode is an explicit null or an empty value.
	NullNode Kind = iota
	// ScalarNode is a string, number or boolean.
	ScalarNode
	// MapNode is a mapping, with its pairs in file order.
	MapNode
	// SeqNode is a sequence.
	SeqNode
)

// String names the kind the way error messages do.
func (k Kind) String() string {
	switch k {
	case ScalarNode:
		return "a scalar"
	case MapNode:
		return "a mapping"
	case SeqNode:
		return "a list"
	default:
		return "null"
	}
}

// ScalarType tells which YAML type a scalar was written as.
type ScalarType uint8

// The scalar types YAML distinguishes.
const (
	// StringScalar is a plain or quoted string.
	StringScalar ScalarType = iota
	// IntScalar is an integer literal.
	IntScalar
	// FloatScalar is a floating point literal.
	FloatScalar
	// BoolScalar is true or false.
	BoolScalar
)

// Node is one value of a YAML file with the position it was written at. It
// is a plain tree, independent of the YAML library, that config, mapping and
// connector packages decode with the same positioned error reporting.
type Node struct {
	Kind Kind
	Pos  Pos
	// Value is the scalar's text, without quotes.
	Value string
	// Type is the scalar's YAML type.
	Type ScalarType
	// Quoted reports whether the scalar was written in quotes.
	Quoted bool
	// Pairs holds a mapping's entries in file order.
	Pairs []Pair
	// Items holds a sequence's entries.
	Items []*Node
}

// Pair is one key and value of a mapping.
type Pair struct {
	Key   *Node
	Value *Node
}

// Get returns the value of key in a mapping node, or nil.
func (n *Node) Get(key string) *Node {
	if n == nil || n.Kind != MapNode {
		return nil
	}
	for _, p := range n.Pairs {
		if p.Key.Value == key {
			return p.Value
		}
	}
	return nil
}

// Without returns a copy of a mapping node without the given keys.
func (n *Node) Without(keys ...string) *Node {
	if n == nil || n.Kind != MapNode {
		return n
	}
	c := *n
	c.Pairs = nil
	for _, p := range n.Pairs {
		skip := false
		for _, k := range keys {
			if p.Key.Value == k {
				skip = true
			}
		}
		if !skip {
			c.Pairs = append(c.Pairs, p)
		}
	}
	return &c
}

// Interface converts the node to plain Go values: map[string]any, []any,
// string, int64, float64, bool or nil.
func (n *Node) Interface() any {
	if n == nil {
		return nil
	}
	switch n.Kind {
	case MapNode:
		m := make(map[string]any, len(n.Pairs))
		for _, p := range n.Pairs {
			m[p.Key.Value] = p.Value.Interface()
		}
		return m
	case SeqNode:
		s := make([]any, len(n.Items))
		for i, it := range n.Items {
			s[i] = it.Interface()
		}
		return s
	case ScalarNode:
		v, err := scalarValue(n)
		if err != nil {
			return n.Value
		}
		return v
	default:
		return nil
	}
}

// maxDepth bounds nesting so a hostile file cannot exhaust the stack.
const maxDepth = 64

// Parse parses YAML source into a Node tree. A file with no document yields
// a null node. Anchors and aliases are resolved; merge keys are refused.
func Parse(file string, src []byte) (*Node, error) {
	f, err := parser.ParseBytes(src, 0)
	if err != nil {
		return nil, syntaxError(file, err)
	}
	if len(f.Docs) == 0 || f.Docs[0].Body == nil {
		return &Node{Kind: NullNode, Pos: Pos{File: file, Line: 1, Col: 1}}, nil
	}
	for _, d := range f.Docs[1:] {
		if d == nil || d.Body == nil {
			continue // an empty document after "---" holds nothing
		}
		return nil, &Error{Pos: posOf(file, d.Body.GetToken()), Msg: "more than one YAML document; keep one per file"}
	}
	c := converter{file: file}
	n := c.convert(f.Docs[0].Body, 0)
	if len(c.errs) > 0 {
		return nil, c.errs
	}
	return n, nil
}

type converter struct {
	file string
	errs ErrorList
}

func posOf(file string, tk *token.Token) Pos {
	if tk == nil || tk.Position == nil {
		return Pos{File: file}
	}
	return Pos{File: file, Line: tk.Position.Line, Col: tk.Position.Column}
}

func (c *converter) convert(an ast.Node, depth int) *Node {
	if an == nil {
		return &Node{Kind: NullNode, Pos: Pos{File: c.file}}
	}
	pos := posOf(c.file, an.GetToken())
	if depth > maxDepth {
		c.errs = append(c.errs, &Error{Pos: pos, Msg: fmt.Sprintf("nested deeper than %d levels", maxDepth)})
		return &Node{Kind: NullNode, Pos: pos}
	}
	switch v := an.(type) {
	case *ast.NullNode:
		return &Node{Kind: NullNode, Pos: pos}
	case *ast.StringNode:
		quoted := v.Token != nil && (v.Token.Type == token.SingleQuoteType || v.Token.Type == token.DoubleQuoteType)
		return &Node{Kind: ScalarNode, Pos: pos, Value: v.Value, Type: StringScalar, Quoted: quoted}
	case *ast.LiteralNode:
		val := ""
		if v.Value != nil {
			val = v.Value.Value
		}
		return &Node{Kind: ScalarNode, Pos: pos, Value: val, Type: StringScalar, Quoted: true}
	case *ast.IntegerNode:
		return &Node{Kind: ScalarNode, Pos: pos, Value: v.Token.Value, Type: IntScalar}
	case *ast.FloatNode:
		return &Node{Kind: ScalarNode, Pos: pos, Value: v.Token.Value, Type: FloatScalar}
	case *ast.InfinityNode, *ast.NanNode:
		return &Node{Kind: ScalarNode, Pos: pos, Value: an.GetToken().Value, Type: FloatScalar}
	case *ast.BoolNode:
		return &Node{Kind: ScalarNode, Pos: pos, Value: v.Token.Value, Type: BoolScalar}
	case *ast.AnchorNode:
		return c.convert(v.Value, depth+1)
	case *ast.AliasNode:
		c.errs = append(c.errs, &Error{Pos: pos, Msg: "aliases (*name) are not supported; repeat the value instead"})
		return &Node{Kind: NullNode, Pos: pos}
	case *ast.TagNode:
		return c.convert(v.Value, depth+1)
	case *ast.MappingNode:
		n := &Node{Kind: MapNode, Pos: pos}
		for _, mv := range v.Values {
			c.addPair(n, mv, depth)
		}
		if len(v.Values) > 0 && v.Values[0].Key != nil {
			n.Pos = posOf(c.file, v.Values[0].Key.GetToken())
		}
		return n
	case *ast.MappingValueNode:
		n := &Node{Kind: MapNode, Pos: pos}
		if v.Key != nil {
			n.Pos = posOf(c.file, v.Key.GetToken())
		}
		c.addPair(n, v, depth)
		return n
	case *ast.SequenceNode:
		n := &Node{Kind: SeqNode, Pos: pos}
		for _, it := range v.Values {
			n.Items = append(n.Items, c.convert(it, depth+1))
		}
		return n
	case *ast.CommentNode, *ast.CommentGroupNode:
		return &Node{Kind: NullNode, Pos: pos}
	default:
		c.errs = append(c.errs, &Error{Pos: pos, Msg: fmt.Sprintf("unsupported YAML construct %s", an.Type())})
		return &Node{Kind: NullNode, Pos: pos}
	}
}

func (c *converter) addPair(n *Node, mv *ast.MappingValueNode, depth int) {
	if _, ok := mv.Key.(*ast.MergeKeyNode); ok {
		c.errs = append(c.errs, &Error{Pos: posOf(c.file, mv.Key.GetToken()), Msg: "merge keys (<<) are not supported; repeat the keys instead"})
		return
	}
	key := c.convert(mv.Key, depth+1)
	if key.Kind != ScalarNode {
		c.errs = append(c.errs, &Error{Pos: key.Pos, Msg: "mapping keys must be plain text"})
		return
	}
	for _, p := range n.Pairs {
		if p.Key.Value == key.Value {
			c.errs = append(c.errs, &Error{Pos: key.Pos, Msg: fmt.Sprintf("duplicate key %q (first at line %d)", key.Value, p.Key.Pos.Line)})
			return
		}
	}
	val := c.convert(mv.Value, depth+1)
	if val.Kind == NullNode && val.Pos.Line == 0 {
		val.Pos = key.Pos
	}
	n.Pairs = append(n.Pairs, Pair{Key: key, Value: val})
}

// syntaxError turns the YAML library's error into a positioned Error.
func syntaxError(file string, err error) error {
	var se *yaml.SyntaxError
	if errors.As(err, &se) {
		msg := strings.TrimSpace(se.GetMessage())
		return &Error{Pos: posOf(file, se.GetToken()), Msg: "yaml: " + msg}
	}
	return &Error{Pos: Pos{File: file, Line: 1, Col: 1}, Msg: "yaml: " + err.Error()}
}

// scalarValue converts a scalar node to int64, float64, bool or string by
// its YAML type.
func scalarValue(n *Node) (any, error) {
	switch n.Type {
	case IntScalar:
		var i int64
		if _, err := fmt.Sscan(strings.ReplaceAll(n.Value, "_", ""), &i); err == nil {
			return i, nil
		}
		var f float64
		if _, err := fmt.Sscan(n.Value, &f); err == nil {
			return f, nil
		}
		return n.Value, nil
	case FloatScalar:
		switch strings.ToLower(strings.TrimLeft(n.Value, "+")) {
		case ".inf":
			return math.Inf(1), nil
		case "-.inf":
			return math.Inf(-1), nil
		case ".nan":
			return math.NaN(), nil
		}
		var f float64
		if _, err := fmt.Sscan(n.Value, &f); err != nil {
			return nil, err
		}
		return f, nil
	case BoolScalar:
		switch strings.ToLower(n.Value) {
		case "true", "yes", "on":
			return true, nil
		}
		return false, nil
	}
	return n.Value, nil
}
