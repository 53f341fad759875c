package mapping

import (
	"encoding/json"
	"fmt"
	"sort"
	"strings"
	"unicode"

	"github.com/surveysync/surveysync/config"
)

// ValueMap turns the labels, emoji or stars a survey sends into values,
// usually numbers. Keys match after trimming spaces, ignoring case and emoji
// variation selectors and skin tones.
type ValueMap struct {
	name    string
	entries map[string]any
	keys    []string // as written, for messages
	// count, for presets such as stars, computes a value from the text.
	count func(s string) (any, bool)
}

// foldKey normalises a label for lookup: trimmed, lower case, without
// variation selectors (U+FE0E, U+FE0F) and skin-tone modifiers.
func foldKey(s string) string {
	s = strings.TrimSpace(s)
	clean := true
	for _, r := range s {
		if r == 0xFE0E || r == 0xFE0F || (r >= 0x1F3FB && r <= 0x1F3FF) || unicode.IsUpper(r) {
			clean = false
			break
		}
	}
	if clean {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == 0xFE0E || r == 0xFE0F || (r >= 0x1F3FB && r <= 0x1F3FF):
		default:
			b.WriteRune(unicode.ToLower(r))
		}
	}
	return strings.TrimSpace(b.String())
}

// CompileValueMap compiles a value map written in a mapping file: the name
// of a preset (stars, emoji_5, csat_labels, thumbs) or a mapping from labels
// to values. Mistakes are a config.ErrorList.
func CompileValueMap(n *config.Node) (*ValueMap, error) {
	var errs loadErrors
	vm := compileValueMap(n, nil, "map", &errs)
	if err := errs.err(); err != nil {
		return nil, err
	}
	return vm, nil
}

// compileValueMap compiles a preset name or an inline map; where prefixes
// error messages, such as `column "Rating": map`.
func compileValueMap(n *config.Node, env *compileEnv, where string, errs *loadErrors) *ValueMap {
	switch n.Kind {
	case config.ScalarNode:
		vm, err := lookupMap(n.Value, env)
		if err != nil {
			errs.add(n.Pos, "%s: %v", where, err)
			return nil
		}
		return vm
	case config.MapNode:
		if len(n.Pairs) == 0 {
			errs.add(n.Pos, "%s: the map is empty; list labels and their values, such as {\"😞\": 1, \"😀\": 5}", where)
			return nil
		}
		vm := &ValueMap{entries: make(map[string]any, len(n.Pairs))}
		firstAt := map[string]*config.Node{}
		for _, p := range n.Pairs {
			k := foldKey(p.Key.Value)
			if prev, dup := firstAt[k]; dup {
				errs.add(p.Key.Pos, "%s: %q is the same label as %q at line %d (labels ignore case and surrounding spaces)", where, p.Key.Value, prev.Value, prev.Pos.Line)
				continue
			}
			firstAt[k] = p.Key
			if p.Value.Kind == config.MapNode || p.Value.Kind == config.SeqNode {
				errs.add(p.Value.Pos, "%s: the value for %q must be a single value, got %s", where, p.Key.Value, p.Value.Kind)
				continue
			}
			v, err := literalFromYAML(p.Value.Interface())
			if err != nil {
				errs.add(p.Value.Pos, "%s: %v", where, err)
				continue
			}
			vm.entries[k] = v
			vm.keys = append(vm.keys, p.Key.Value)
		}
		return vm
	default:
		errs.add(n.Pos, "%s: expected a preset name (%s) or a mapping of labels to values, got %s", where, strings.Join(ValueMapPresets(), ", "), n.Kind)
		return nil
	}
}

// Apply maps one value. Null and empty text pass through unchanged; a value
// the map does not know is an error wrapping ErrUnmapped.
func (vm *ValueMap) Apply(v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	if !isScalar(v) {
		return nil, fmt.Errorf("a value map needs a single value, got %s", kindName(v))
	}
	text := textOf(v)
	k := foldKey(text)
	if k == "" {
		return v, nil
	}
	if out, ok := vm.entries[k]; ok {
		return out, nil
	}
	if vm.count != nil {
		if out, ok := vm.count(k); ok {
			return out, nil
		}
	}
	return nil, &unmappedError{value: text, vm: vm}
}

type unmappedError struct {
	value string
	vm    *ValueMap
}

func (e *unmappedError) Error() string {
	msg := fmt.Sprintf("%s is not in the ", quoteShort(e.value))
	if e.vm.name != "" {
		msg += e.vm.name + " map"
	} else {
		msg += "map"
		if len(e.vm.keys) <= 12 {
			msg += " (" + strings.Join(e.vm.keys, ", ") + ")"
		}
	}
	return msg + "; add it to the map or set a default"
}

func (e *unmappedError) Unwrap() error { return ErrUnmapped }

// Name returns the preset's name, or "" for a map written out in the file.
func (vm *ValueMap) Name() string { return vm.name }

// ValueMapPresets lists the preset value maps (stars, emoji_5, ...), sorted.
func ValueMapPresets() []string {
	names := make([]string, 0, len(presets))
	for n := range presets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func num(n int) json.Number { return json.Number(fmt.Sprint(n)) }

func preset(name string, table map[int][]string, count func(string) (any, bool)) *ValueMap {
	vm := &ValueMap{name: name, entries: map[string]any{}, count: count}
	for value, labels := range table {
		for _, l := range labels {
			vm.entries[foldKey(l)] = num(value)
		}
	}
	return vm
}

// presets are the named value maps. README.md lists their tables.
var presets = map[string]*ValueMap{
	"stars": preset("stars", nil, countStars),
	"emoji_5": preset("emoji_5", map[int][]string{
		1: {"😡", "😠", "🤬", "😭", "😫"},
		2: {"😞", "🙁", "☹", "😟", "😕", "😒"},
		3: {"😐", "😑", "😶"},
		4: {"🙂", "😊", "☺"},
		5: {"😀", "😃", "😄", "😁", "😍", "🤩", "🥰"},
	}, numberPassThrough),
	"csat_labels": preset("csat_labels", map[int][]string{
		1: {"very dissatisfied", "very unsatisfied", "extremely dissatisfied"},
		2: {"dissatisfied", "unsatisfied", "somewhat dissatisfied"},
		3: {"neutral", "neither satisfied nor dissatisfied", "neither"},
		4: {"satisfied", "somewhat satisfied"},
		5: {"very satisfied", "extremely satisfied"},
	}, numberPassThrough),
	"thumbs": preset("thumbs", map[int][]string{
		1: {"👍", "thumbs up", "thumbsup", "up"},
		0: {"👎", "thumbs down", "thumbsdown", "down"},
	}, numberPassThrough),
}

// numberPassThrough lets a preset accept a value that is already a number.
func numberPassThrough(s string) (any, bool) {
	if f, ok := parseNumber(s); ok {
		return numberValue(f), true
	}
	return nil, false
}

// countStars counts ★ and ⭐ (and 🌟), ignoring ☆ and spaces; a number passes
// through.
func countStars(s string) (any, bool) {
	if out, ok := numberPassThrough(s); ok {
		return out, true
	}
	n := 0
	for _, r := range s {
		switch r {
		case '★', '⭐', '🌟':
			n++
		case '☆', ' ', '\t':
		default:
			return nil, false
		}
	}
	return num(n), true
}
