package mapping

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/surveysync/surveysync/config"
)

type pipeKind uint8

const (
	pipeFunc pipeKind = iota
	pipeDefault
	pipeOptional
	pipeUnlessPrefix
)

// compiledPipe is one pipe with its arguments checked.
type compiledPipe struct {
	name string
	kind pipeKind
	fn   func(any) (any, error)
	arg  any    // default's value
	text string // unless_prefix's prefix
}

// pipeDef describes a pipe: how many arguments it takes and how to build it.
type pipeDef struct {
	min, max int
	usage    string
	build    func(args []pipeArg, env *compileEnv) (compiledPipe, error)
}

var pipeDefs map[string]pipeDef

func init() {
	pipeDefs = map[string]pipeDef{
		"lower":         {0, 0, "lower", textPipe(strings.ToLower)},
		"upper":         {0, 0, "upper", textPipe(strings.ToUpper)},
		"trim":          {0, 0, "trim", textPipe(strings.TrimSpace)},
		"default":       {1, 1, "default <value>", buildDefault},
		"optional":      {0, 0, "optional", func([]pipeArg, *compileEnv) (compiledPipe, error) { return compiledPipe{kind: pipeOptional}, nil }},
		"unless_prefix": {1, 1, "unless_prefix <prefix>", buildUnlessPrefix},
		"truncate":      {1, 1, "truncate <characters>", buildTruncate},
		"replace":       {2, 2, "replace <old> <new>", buildReplace},
		"join":          {1, 1, "join <separator>", buildJoin},
		"split":         {1, 1, "split <separator>", buildSplit},
		"pluck":         {1, 1, "pluck <field>", buildPluck},
		"first":         {0, 0, "first", fnPipe(pipeFirst)},
		"last":          {0, 0, "last", fnPipe(pipeLast)},
		"len":           {0, 0, "len", fnPipe(pipeLen)},
		"number":        {0, 0, "number", fnPipe(pipeNumber)},
		"integer":       {0, 0, "integer", fnPipe(pipeInteger)},
		"bool":          {0, 0, "bool", fnPipe(pipeBool)},
		"string":        {0, 0, "string", fnPipe(func(v any) (any, error) { return textOf(v), nil })},
		"json":          {0, 0, "json", fnPipe(pipeJSON)},
		"map":           {1, 1, "map <preset or name under maps>", buildMap},
		"format_time":   {1, 2, "format_time <format> [timezone]", buildFormatTime},
		"unix":          {0, 0, "unix", unixPipe(time.Second)},
		"unix_ms":       {0, 0, "unix_ms", unixPipe(time.Millisecond)},
	}
}

// PipeNames lists the pipes expressions may use, sorted.
func PipeNames() []string {
	names := make([]string, 0, len(pipeDefs))
	for n := range pipeDefs {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func compilePipe(name string, args []pipeArg, env *compileEnv) (compiledPipe, error) {
	def, ok := pipeDefs[name]
	if !ok {
		msg := fmt.Sprintf("unknown pipe %q", name)
		if s := config.Suggest(name, PipeNames()); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		} else {
			msg += " (known pipes: " + strings.Join(PipeNames(), ", ") + ")"
		}
		return compiledPipe{}, errors.New(msg)
	}
	if len(args) < def.min || len(args) > def.max {
		want := "no arguments"
		switch {
		case def.min == def.max && def.min == 1:
			want = "1 argument"
		case def.min == def.max && def.min > 1:
			want = fmt.Sprintf("%d arguments", def.min)
		case def.min != def.max:
			want = fmt.Sprintf("%d to %d arguments", def.min, def.max)
		}
		return compiledPipe{}, fmt.Errorf("pipe %s takes %s, got %d (write %s)", name, want, len(args), def.usage)
	}
	cp, err := def.build(args, env)
	if err != nil {
		return compiledPipe{}, fmt.Errorf("pipe %s: %w", name, err)
	}
	cp.name = name
	return cp, nil
}

func fnPipe(fn func(any) (any, error)) func([]pipeArg, *compileEnv) (compiledPipe, error) {
	return func([]pipeArg, *compileEnv) (compiledPipe, error) {
		return compiledPipe{fn: fn}, nil
	}
}

// textPipe applies f to the text form of a single value; null stays null.
func textPipe(f func(string) string) func([]pipeArg, *compileEnv) (compiledPipe, error) {
	return fnPipe(func(v any) (any, error) {
		if v == nil {
			return nil, nil
		}
		if !isScalar(v) {
			return nil, fmt.Errorf("needs a single value, got %s", kindName(v))
		}
		return f(textOf(v)), nil
	})
}

// argText is an argument as text: quoted text as written inside the quotes,
// bare words as written.
func argText(a pipeArg) string {
	if a.quoted {
		return a.value.(string)
	}
	return a.text
}

func buildDefault(args []pipeArg, _ *compileEnv) (compiledPipe, error) {
	return compiledPipe{kind: pipeDefault, arg: args[0].value}, nil
}

func buildUnlessPrefix(args []pipeArg, _ *compileEnv) (compiledPipe, error) {
	p := argText(args[0])
	if p == "" {
		return compiledPipe{}, errors.New("the prefix is empty")
	}
	return compiledPipe{kind: pipeUnlessPrefix, text: p}, nil
}

func buildTruncate(args []pipeArg, _ *compileEnv) (compiledPipe, error) {
	n, err := strconv.Atoi(args[0].text)
	if err != nil || n < 0 || args[0].quoted {
		return compiledPipe{}, fmt.Errorf("%s is not a whole number of characters", args[0].text)
	}
	return textPipe(func(s string) string { return truncateRunes(s, n) })(nil, nil)
}

func truncateRunes(s string, n int) string {
	if len(s) <= n {
		return s
	}
	count := 0
	for i := range s {
		if count == n {
			return s[:i]
		}
		count++
	}
	return s
}

func buildReplace(args []pipeArg, _ *compileEnv) (compiledPipe, error) {
	old, repl := argText(args[0]), argText(args[1])
	if old == "" {
		return compiledPipe{}, errors.New("the text to replace is empty")
	}
	return textPipe(func(s string) string { return strings.ReplaceAll(s, old, repl) })(nil, nil)
}

func buildJoin(args []pipeArg, _ *compileEnv) (compiledPipe, error) {
	sep := argText(args[0])
	return fnPipe(func(v any) (any, error) {
		list, ok := v.([]any)
		if !ok {
			if _, isMap := v.(map[string]any); isMap {
				return nil, errors.New("needs a list, got an object")
			}
			return v, nil
		}
		var b strings.Builder
		n := 0
		for _, e := range list {
			if e == nil {
				continue
			}
			if n > 0 {
				b.WriteString(sep)
			}
			b.WriteString(textOf(e))
			n++
		}
		return b.String(), nil
	})(nil, nil)
}

func buildSplit(args []pipeArg, _ *compileEnv) (compiledPipe, error) {
	sep := argText(args[0])
	if sep == "" {
		return compiledPipe{}, errors.New("the separator is empty")
	}
	return fnPipe(func(v any) (any, error) {
		if v == nil {
			return nil, nil
		}
		if !isScalar(v) {
			return nil, fmt.Errorf("needs text, got %s", kindName(v))
		}
		out := []any{}
		for piece := range strings.SplitSeq(textOf(v), sep) {
			if piece = strings.TrimSpace(piece); piece != "" {
				out = append(out, piece)
			}
		}
		return out, nil
	})(nil, nil)
}

// buildPluck takes one field from each object of a list, skipping objects
// that lack it: [{"text": "a"}, {"text": "b"}] | pluck text → ["a", "b"].
func buildPluck(args []pipeArg, _ *compileEnv) (compiledPipe, error) {
	name := argText(args[0])
	steps, err := parseSubPath(name)
	if err != nil {
		return compiledPipe{}, err
	}
	return fnPipe(func(v any) (any, error) {
		list, ok := v.([]any)
		if !ok {
			if v == nil {
				return nil, nil
			}
			return nil, fmt.Errorf("needs a list, got %s", kindName(v))
		}
		out := make([]any, 0, len(list))
		for _, e := range list {
			if got, found := walk(e, steps); found {
				out = append(out, got)
			}
		}
		return out, nil
	})(nil, nil)
}

func pipeFirst(v any) (any, error) {
	if list, ok := v.([]any); ok {
		if len(list) == 0 {
			return missingMarker, nil
		}
		return list[0], nil
	}
	return v, nil
}

func pipeLast(v any) (any, error) {
	if list, ok := v.([]any); ok {
		if len(list) == 0 {
			return missingMarker, nil
		}
		return list[len(list)-1], nil
	}
	return v, nil
}

func pipeLen(v any) (any, error) {
	n := 0
	switch x := v.(type) {
	case nil:
	case []any:
		n = len(x)
	case map[string]any:
		n = len(x)
	case string:
		n = utf8.RuneCountInString(x)
	default:
		return nil, fmt.Errorf("needs text, a list or an object, got %s", kindName(v))
	}
	return json.Number(strconv.Itoa(n)), nil
}

// toNumber converts a value to a JSON-ready number; null and empty text stay
// null.
func toNumber(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case json.Number:
		if _, ok := parseNumber(string(x)); ok {
			return x, nil
		}
	case float64:
		if !math.IsInf(x, 0) && !math.IsNaN(x) {
			return x, nil
		}
	case string:
		s := strings.TrimSpace(x)
		if s == "" {
			return nil, nil
		}
		if f, ok := parseNumber(s); ok {
			return numberFromText(s, f), nil
		}
	}
	return nil, fmt.Errorf("%s is not a number", quoteShort(v))
}

// numberFromText keeps number text that is valid JSON as json.Number, so
// that large ids keep every digit.
func numberFromText(s string, f float64) any {
	s = strings.TrimPrefix(s, "+")
	if validJSONNumber(s) {
		return json.Number(s)
	}
	return f
}

func validJSONNumber(s string) bool {
	d := jsonDecoder{s: s}
	if s == "" || (s[0] != '-' && !isDigit(s[0])) {
		return false
	}
	_, err := d.number()
	return err == nil && d.i == len(s)
}

func pipeNumber(v any) (any, error) { return toNumber(v) }

func pipeInteger(v any) (any, error) {
	n, err := toNumber(v)
	if err != nil || n == nil {
		return n, err
	}
	f, _ := toFloat(n)
	if f != math.Trunc(f) || math.Abs(f) >= 1<<53 {
		return nil, fmt.Errorf("%s is not a whole number", quoteShort(v))
	}
	return json.Number(strconv.FormatInt(int64(f), 10)), nil
}

// toBool understands true/false, yes/no, y/n, on/off and 1/0, in any case.
func toBool(v any) (any, error) {
	switch x := v.(type) {
	case nil:
		return nil, nil
	case bool:
		return x, nil
	case json.Number, float64:
		f, _ := toFloat(x)
		switch f {
		case 1:
			return true, nil
		case 0:
			return false, nil
		}
	case string:
		switch strings.ToLower(strings.TrimSpace(x)) {
		case "":
			return nil, nil
		case "true", "yes", "y", "on", "1":
			return true, nil
		case "false", "no", "n", "off", "0":
			return false, nil
		}
	}
	return nil, fmt.Errorf("%s is not true or false", quoteShort(v))
}

func pipeBool(v any) (any, error) { return toBool(v) }

func pipeJSON(v any) (any, error) {
	return compactJSON(v)
}

func buildMap(args []pipeArg, env *compileEnv) (compiledPipe, error) {
	name := argText(args[0])
	vm, err := lookupMap(name, env)
	if err != nil {
		return compiledPipe{}, err
	}
	return fnPipe(vm.Apply)(nil, nil)
}

// lookupMap finds a value map by name among the file's maps and the presets.
func lookupMap(name string, env *compileEnv) (*ValueMap, error) {
	if env != nil {
		if vm, ok := env.maps[name]; ok {
			return vm, nil
		}
	}
	if vm, ok := presets[name]; ok {
		return vm, nil
	}
	names := ValueMapPresets()
	if env != nil {
		for n := range env.maps {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	msg := fmt.Sprintf("unknown value map %q", name)
	if s := config.Suggest(name, names); s != "" {
		return nil, fmt.Errorf("%s; did you mean %q?", msg, s)
	}
	return nil, fmt.Errorf("%s (known: %s; or define it under maps)", msg, strings.Join(names, ", "))
}

func buildFormatTime(args []pipeArg, _ *compileEnv) (compiledPipe, error) {
	tf, err := compileTimeFormat(argText(args[0]))
	if err != nil {
		return compiledPipe{}, err
	}
	loc := time.UTC
	if len(args) == 2 {
		loc, err = loadZone(argText(args[1]))
		if err != nil {
			return compiledPipe{}, err
		}
	}
	return fnPipe(func(v any) (any, error) {
		if v == nil || v == "" {
			return v, nil
		}
		t, _, err := parseTime(v, time.UTC, nil)
		if err != nil {
			return nil, err
		}
		return t.In(loc).Format(tf.layout), nil
	})(nil, nil)
}

func unixPipe(unit time.Duration) func([]pipeArg, *compileEnv) (compiledPipe, error) {
	return fnPipe(func(v any) (any, error) {
		if v == nil || v == "" {
			return v, nil
		}
		t, _, err := parseTime(v, time.UTC, nil)
		if err != nil {
			return nil, err
		}
		if unit == time.Millisecond {
			return json.Number(strconv.FormatInt(t.UnixMilli(), 10)), nil
		}
		return json.Number(strconv.FormatInt(t.Unix(), 10)), nil
	})
}
