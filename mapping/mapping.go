package mapping

import (
	"errors"
	"fmt"
	"os"
	"sort"
	"strings"

	"github.com/surveysync/surveysync/config"
)

// Kind tells what a mapping renders.
type Kind uint8

const (
	// SheetRows mappings render one row per response for a spreadsheet tab.
	SheetRows Kind = iota + 1
	// Requests mappings render one HTTP request per response (or per batch).
	Requests
)

// String names the kind.
func (k Kind) String() string {
	switch k {
	case SheetRows:
		return "sheet rows"
	case Requests:
		return "requests"
	}
	return "unknown"
}

// Mapping is a compiled mapping file. It is safe for concurrent use.
type Mapping struct {
	file      string
	kind      Kind
	filter    *Filter
	filterPos config.Pos
	// proj is what the mapping's templates and filter can reach in a payload.
	proj  *projection
	sheet *sheetMapping
	req   *requestMapping
}

// Load reads and compiles a mapping file. Every mistake in it is reported at
// once, as a config.ErrorList of file:line:col errors.
func Load(path string) (*Mapping, error) {
	src, err := os.ReadFile(path)
	if err != nil {
		var pe *os.PathError
		if errors.As(err, &pe) {
			err = pe.Err
		}
		return nil, config.ErrorList{config.Errorf(config.Pos{File: path}, "cannot read mapping file: %v", err)}
	}
	return Parse(path, src)
}

// topKeys are the keys a mapping file may hold.
var topKeys = []string{"sheet", "key", "options", "columns", "request", "filter", "maps"}

// Parse compiles mapping file source; file names it in errors. Every mistake
// is reported at once, as a config.ErrorList.
func Parse(file string, src []byte) (*Mapping, error) {
	root, err := parseYAML(file, src)
	if err != nil {
		return nil, yamlHint(config.AsList(err), src)
	}
	var errs loadErrors
	m := &Mapping{file: file}
	switch root.Kind {
	case config.MapNode:
	case config.NullNode:
		errs.add(config.Pos{File: file, Line: 1, Col: 1}, "the mapping file is empty; it needs columns (for a sheet) or request (for an HTTP destination)")
		return nil, errs.err()
	default:
		errs.add(root.Pos, "expected a mapping file with keys such as sheet, key and columns, got %s", root.Kind)
		return nil, errs.err()
	}
	if root.Get("preset") != nil {
		// A preset expands into a request mapping first (preset.go).
		if root = expandPreset(root, &errs); root == nil {
			return nil, errs.err()
		}
	}
	for _, p := range root.Pairs {
		if !contains(topKeys, p.Key.Value) {
			errs.add(p.Key.Pos, "%s", unknownKey(p.Key.Value, topKeys))
		}
	}
	env := &compileEnv{maps: compileNamedMaps(root.Get("maps"), &errs)}
	m.filter = compileFilter(root.Get("filter"), env, &errs)
	m.filterPos = keyPos(root, "filter")

	columns, request := root.Get("columns"), root.Get("request")
	switch {
	case columns != nil && request != nil:
		errs.add(keyPos(root, "request"), "a mapping has either columns (rows for a sheet) or request (for an HTTP destination), not both; split it into two files")
	case columns != nil:
		m.kind = SheetRows
		m.sheet = compileSheet(root, env, &errs)
	case request != nil:
		m.kind = Requests
		for _, k := range []string{"sheet", "key", "options"} {
			if root.Get(k) != nil {
				errs.add(keyPos(root, k), "%s only applies to sheet mappings (with columns), not to a request mapping", k)
			}
		}
		m.req = compileRequest(request, env, &errs)
	default:
		errs.add(root.Pos, "the mapping needs columns (rows for a sheet) or request (for an HTTP destination)")
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	m.proj = m.projection()
	return m, nil
}

// projection collects every payload path the mapping uses.
func (m *Mapping) projection() *projection {
	p := &projection{}
	p.addFilter(m.filter)
	if m.sheet != nil {
		for _, c := range m.sheet.columns {
			p.addExpr(c.value)
		}
	}
	if rm := m.req; rm != nil {
		p.addExpr(rm.path)
		p.addExpr(rm.idem)
		for _, q := range rm.query {
			p.addExpr(q.expr)
		}
		for _, h := range rm.headers {
			p.addExpr(h.expr)
		}
		rm.body.visit(func(e *Expr) { p.addExpr(e) })
	}
	return p
}

// parseYAML is config.Parse, turning a panic inside the YAML library into an
// error: a mapping file written by hand must never crash the daemon.
func parseYAML(file string, src []byte) (root *config.Node, err error) {
	defer func() {
		if p := recover(); p != nil {
			root, err = nil, config.Errorf(config.Pos{File: file, Line: 1, Col: 1}, "yaml: the file cannot be read as YAML (internal error in the YAML reader: %v)", p)
		}
	}()
	return config.Parse(file, src)
}

// File returns the file the mapping was read from.
func (m *Mapping) File() string { return m.file }

// Kind tells whether the mapping renders sheet rows or requests.
func (m *Mapping) Kind() Kind { return m.kind }

// Filter returns the mapping's own filter, or nil.
func (m *Mapping) Filter() *Filter { return m.filter }

// Match reports whether the response passes the mapping's filter.
func (m *Mapping) Match(in *Input) (bool, error) {
	defer in.project(m.proj)()
	return m.filter.Match(in)
}

// compileNamedMaps compiles the maps: section, whose entries columns and the
// map pipe refer to by name.
func compileNamedMaps(n *config.Node, errs *loadErrors) map[string]*ValueMap {
	if n == nil || n.Kind == config.NullNode {
		return nil
	}
	if n.Kind != config.MapNode {
		errs.add(n.Pos, "maps: expected named value maps such as mood: {\"😞\": 1, \"😀\": 5}, got %s", n.Kind)
		return nil
	}
	out := map[string]*ValueMap{}
	for _, p := range n.Pairs {
		name := p.Key.Value
		if _, preset := presets[name]; preset {
			errs.add(p.Key.Pos, "maps: %q is the name of a preset; choose another name", name)
			continue
		}
		if p.Value.Kind != config.MapNode {
			errs.add(p.Value.Pos, "maps: %s: expected a mapping of labels to values, got %s", name, p.Value.Kind)
			continue
		}
		if vm := compileValueMap(p.Value, nil, "maps: "+name, errs); vm != nil {
			out[name] = vm
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// unknownKey words the error for a key that is not allowed, with a
// suggestion or the list of allowed keys.
func unknownKey(key string, known []string) string {
	msg := fmt.Sprintf("unknown key %q", key)
	if s := config.Suggest(key, known); s != "" {
		return msg + fmt.Sprintf("; did you mean %q?", s)
	}
	sorted := append([]string(nil), known...)
	sort.Strings(sorted)
	return msg + " (known keys: " + strings.Join(sorted, ", ") + ")"
}

// checkKeys reports keys of n that are not in known.
func checkKeys(n *config.Node, prefix string, known []string, errs *loadErrors) {
	for _, p := range n.Pairs {
		if !contains(known, p.Key.Value) {
			errs.add(p.Key.Pos, "%s%s", prefix, unknownKey(p.Key.Value, known))
		}
	}
}

// keyPos returns the position of key in a mapping node.
func keyPos(n *config.Node, key string) config.Pos {
	for _, p := range n.Pairs {
		if p.Key.Value == key {
			return p.Key.Pos
		}
	}
	return n.Pos
}

// yamlHint adds advice to YAML syntax errors caused by a value that starts
// with {{ and is not quoted, the most common mistake in mapping files.
func yamlHint(list config.ErrorList, src []byte) error {
	lines := strings.Split(string(src), "\n")
	for _, e := range list {
		if e.Pos.Line < 1 || e.Pos.Line > len(lines) {
			continue
		}
		for ln := max(e.Pos.Line-1, 1); ln <= min(e.Pos.Line, len(lines)); ln++ {
			line := lines[ln-1]
			if unquotedTemplate(line) {
				e.Msg += "; a value that starts with {{ must be in quotes, like \"{{ comment }}\""
				if ln != e.Pos.Line {
					e.Msg += fmt.Sprintf(" (line %d)", ln)
				}
				break
			}
		}
	}
	return list
}

// unquotedTemplate reports whether a YAML line has a value starting with {{.
func unquotedTemplate(line string) bool {
	for _, sep := range []string{": {{", ":{{", "- {{", "[{{", ", {{"} {
		if strings.Contains(line, sep) {
			return true
		}
	}
	return strings.HasPrefix(strings.TrimSpace(line), "{{")
}
