package config

import (
	"encoding"
	"fmt"
	"math"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Unmarshaler is implemented by types that decode themselves from a Node, such
// as Secret, or a mapping column that may be written as text or as a map.
type Unmarshaler interface {
	UnmarshalNode(n *Node) error
}

var (
	unmarshalerType     = reflect.TypeFor[Unmarshaler]()
	textUnmarshalerType = reflect.TypeFor[encoding.TextUnmarshaler]()
	durationType        = reflect.TypeFor[time.Duration]()
	nodeType            = reflect.TypeFor[Node]()
)

// Decode decodes n into out, a pointer to a struct, map, slice or scalar,
// strictly: a key that out has no field for is an error, and so is a value
// of the wrong type. It does not stop at the first mistake; it returns every
// one as an ErrorList. Struct fields are named by their `yaml:"name"` tag;
// the options ",required" and ",inline" are understood. Fields left out of
// the file keep the value they had, so callers set defaults first.
func Decode(n *Node, out any) error {
	v := reflect.ValueOf(out)
	if v.Kind() != reflect.Pointer || v.IsNil() {
		return fmt.Errorf("config.Decode needs a non-nil pointer, got %T", out)
	}
	d := decoder{}
	d.value(n, v.Elem(), "")
	if len(d.errs) > 0 {
		return d.errs
	}
	return nil
}

type decoder struct {
	errs ErrorList
}

func (d *decoder) fail(pos Pos, format string, args ...any) {
	d.errs = append(d.errs, Errorf(pos, format, args...))
}

func where(path string) string {
	if path == "" {
		return ""
	}
	return path + ": "
}

func (d *decoder) value(n *Node, v reflect.Value, path string) {
	if n == nil {
		return
	}
	if n.Kind == NullNode && v.Type() != nodeType && !(v.Kind() == reflect.Pointer && v.Type().Elem() == nodeType) {
		// An explicit null, or a key with no value, leaves the default in place.
		return
	}
	if v.CanAddr() {
		if u, ok := v.Addr().Interface().(Unmarshaler); ok && v.Type() != nodeType {
			if err := u.UnmarshalNode(n); err != nil {
				var list ErrorList
				list.Add(n.Pos, err)
				for _, e := range list {
					if e.Pos.Line == 0 {
						e.Pos = n.Pos
					}
					if path != "" && !strings.HasPrefix(e.Msg, path) {
						e.Msg = where(path) + e.Msg
					}
				}
				d.errs = append(d.errs, list...)
			}
			return
		}
	}
	switch {
	case v.Type() == nodeType:
		v.Set(reflect.ValueOf(*n))
		return
	case v.Kind() == reflect.Pointer && v.Type().Elem() == nodeType:
		v.Set(reflect.ValueOf(n))
		return
	case v.Type() == durationType:
		d.duration(n, v, path)
		return
	}
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			v.Set(reflect.New(v.Type().Elem()))
		}
		d.value(n, v.Elem(), path)
	case reflect.Struct:
		d.strct(n, v, path)
	case reflect.Map:
		d.mapping(n, v, path)
	case reflect.Slice:
		d.slice(n, v, path)
	case reflect.Interface:
		if v.NumMethod() == 0 {
			v.Set(reflect.ValueOf(n.Interface()))
			return
		}
		d.fail(n.Pos, "%scannot decode into %s", where(path), v.Type())
	default:
		d.scalar(n, v, path)
	}
}

func (d *decoder) duration(n *Node, v reflect.Value, path string) {
	if n.Kind != ScalarNode {
		d.fail(n.Pos, "%sexpected a duration such as 30s or 5m, got %s", where(path), n.Kind)
		return
	}
	dur, err := time.ParseDuration(n.Value)
	if err != nil {
		d.fail(n.Pos, "%s%q is not a duration; write it like 30s, 5m or 1h30m", where(path), n.Value)
		return
	}
	if dur < 0 {
		d.fail(n.Pos, "%sduration must not be negative", where(path))
		return
	}
	v.SetInt(int64(dur))
}

type fieldInfo struct {
	index    []int
	required bool
}

func structFields(t reflect.Type) (map[string]fieldInfo, []string) {
	fields := map[string]fieldInfo{}
	var names []string
	var walk func(t reflect.Type, prefix []int)
	walk = func(t reflect.Type, prefix []int) {
		for i := range t.NumField() {
			f := t.Field(i)
			tag := f.Tag.Get("yaml")
			if tag == "-" || (!f.IsExported() && !f.Anonymous) {
				continue
			}
			name, opts, _ := strings.Cut(tag, ",")
			idx := append(append([]int(nil), prefix...), i)
			if strings.Contains(opts, "inline") {
				ft := f.Type
				if ft.Kind() == reflect.Pointer {
					ft = ft.Elem()
				}
				walk(ft, idx)
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			fields[name] = fieldInfo{index: idx, required: strings.Contains(opts, "required")}
			names = append(names, name)
		}
	}
	walk(t, nil)
	sort.Strings(names)
	return fields, names
}

func (d *decoder) strct(n *Node, v reflect.Value, path string) {
	if n.Kind != MapNode {
		d.fail(n.Pos, "%sexpected a mapping of keys, got %s", where(path), n.Kind)
		return
	}
	fields, names := structFields(v.Type())
	seen := map[string]bool{}
	for _, p := range n.Pairs {
		key := p.Key.Value
		fi, ok := fields[key]
		if !ok {
			msg := fmt.Sprintf("%sunknown key %q", where(path), key)
			if s := Suggest(key, names); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			} else if len(names) <= 12 {
				msg += fmt.Sprintf(" (known keys: %s)", strings.Join(names, ", "))
			}
			d.fail(p.Key.Pos, "%s", msg)
			continue
		}
		seen[key] = true
		fv := fieldByIndex(v, fi.index)
		d.value(p.Value, fv, join(path, key))
	}
	for _, name := range names {
		if fields[name].required && !seen[name] {
			d.fail(n.Pos, "%smissing required key %q", where(path), name)
		}
	}
}

func fieldByIndex(v reflect.Value, index []int) reflect.Value {
	for i, x := range index {
		if i > 0 && v.Kind() == reflect.Pointer {
			if v.IsNil() {
				v.Set(reflect.New(v.Type().Elem()))
			}
			v = v.Elem()
		}
		v = v.Field(x)
	}
	return v
}

func join(path, key string) string {
	if path == "" {
		return key
	}
	return path + "." + key
}

func (d *decoder) mapping(n *Node, v reflect.Value, path string) {
	if n.Kind != MapNode {
		d.fail(n.Pos, "%sexpected a mapping, got %s", where(path), n.Kind)
		return
	}
	if v.Type().Key().Kind() != reflect.String {
		d.fail(n.Pos, "%smap keys must be strings", where(path))
		return
	}
	if v.IsNil() {
		v.Set(reflect.MakeMapWithSize(v.Type(), len(n.Pairs)))
	}
	for _, p := range n.Pairs {
		ev := reflect.New(v.Type().Elem()).Elem()
		d.value(p.Value, ev, join(path, p.Key.Value))
		v.SetMapIndex(reflect.ValueOf(p.Key.Value).Convert(v.Type().Key()), ev)
	}
}

func (d *decoder) slice(n *Node, v reflect.Value, path string) {
	items := n.Items
	if n.Kind != SeqNode {
		if n.Kind == ScalarNode && v.Type().Elem().Kind() == reflect.String {
			// A single string where a list of strings is expected is a list of one.
			items = []*Node{n}
		} else {
			d.fail(n.Pos, "%sexpected a list, got %s", where(path), n.Kind)
			return
		}
	}
	s := reflect.MakeSlice(v.Type(), len(items), len(items))
	for i, it := range items {
		d.value(it, s.Index(i), fmt.Sprintf("%s[%d]", path, i))
	}
	v.Set(s)
}

func (d *decoder) scalar(n *Node, v reflect.Value, path string) {
	if n.Kind != ScalarNode {
		d.fail(n.Pos, "%sexpected %s, got %s", where(path), kindName(v.Kind()), n.Kind)
		return
	}
	if v.CanAddr() && v.Addr().Type().Implements(textUnmarshalerType) {
		if err := v.Addr().Interface().(encoding.TextUnmarshaler).UnmarshalText([]byte(n.Value)); err != nil {
			d.fail(n.Pos, "%s%v", where(path), err)
		}
		return
	}
	switch v.Kind() {
	case reflect.String:
		v.SetString(n.Value)
	case reflect.Bool:
		if n.Type != BoolScalar {
			d.fail(n.Pos, "%sexpected true or false, got %q", where(path), n.Value)
			return
		}
		b, _ := scalarValue(n)
		v.SetBool(b.(bool))
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64:
		i, err := strconv.ParseInt(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err != nil || n.Quoted || v.OverflowInt(i) {
			d.fail(n.Pos, "%sexpected a whole number, got %q", where(path), n.Value)
			return
		}
		v.SetInt(i)
	case reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		u, err := strconv.ParseUint(strings.ReplaceAll(n.Value, "_", ""), 0, 64)
		if err != nil || n.Quoted || v.OverflowUint(u) {
			d.fail(n.Pos, "%sexpected a whole number of 0 or more, got %q", where(path), n.Value)
			return
		}
		v.SetUint(u)
	case reflect.Float32, reflect.Float64:
		f, err := strconv.ParseFloat(strings.ReplaceAll(n.Value, "_", ""), 64)
		if err != nil || n.Quoted || math.IsNaN(f) || math.IsInf(f, 0) {
			d.fail(n.Pos, "%sexpected a number, got %q", where(path), n.Value)
			return
		}
		v.SetFloat(f)
	default:
		d.fail(n.Pos, "%scannot decode into %s", where(path), v.Type())
	}
}

func kindName(k reflect.Kind) string {
	switch k {
	case reflect.String:
		return "text"
	case reflect.Bool:
		return "true or false"
	case reflect.Float32, reflect.Float64:
		return "a number"
	default:
		return "a whole number"
	}
}

// Suggest returns the candidate closest to word when it is close enough to
// be a likely typo, and "" otherwise.
func Suggest(word string, candidates []string) string {
	best, bestDist := "", 3
	if len(word) <= 4 {
		bestDist = 2
	}
	for _, c := range candidates {
		if dist := levenshtein(strings.ToLower(word), strings.ToLower(c)); dist < bestDist {
			best, bestDist = c, dist
		}
	}
	return best
}

func levenshtein(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	prev := make([]int, len(rb)+1)
	cur := make([]int, len(rb)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(ra); i++ {
		cur[0] = i
		for j := 1; j <= len(rb); j++ {
			cost := 1
			if ra[i-1] == rb[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(rb)]
}
