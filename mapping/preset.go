package mapping

import (
	"fmt"
	"sort"
	"strings"
	"sync"

	"github.com/surveysync/surveysync/config"
)

// A request preset lets a mapping file say what it means in a few keys, such
// as
//
//	preset: hubspot.contact_upsert
//	id: "{{ contact.email }}"
//	properties: {last_csat: "{{ rating }}"}
//
// and expands, before anything is compiled, into the full request mapping
// the destination recognises. The expansion reuses the file's own nodes for
// every value written, so templates are compiled and errors are reported at
// the line and column they were written at. filter and maps stay at the top
// level and work as in any mapping. Connectors register their presets in
// their init functions.

var (
	presetMu       sync.RWMutex
	requestPresets = map[string]func(*config.Node) (*config.Node, error){}
)

// RegisterPreset adds a request preset. expand receives the mapping file's
// top-level node without its preset, filter and maps keys, and returns a
// mapping node with a request key (and nothing a request mapping does not
// take). It reports every mistake it finds as a config.ErrorList; errors
// without a position are placed at the preset's name. RegisterPreset is
// called from init functions and panics when a name is registered twice,
// which is a programming error.
func RegisterPreset(name string, expand func(n *config.Node) (*config.Node, error)) {
	presetMu.Lock()
	defer presetMu.Unlock()
	if _, dup := requestPresets[name]; dup {
		panic("mapping: preset registered twice: " + name)
	}
	requestPresets[name] = expand
}

// Presets returns the names of the registered request presets, sorted.
func Presets() []string {
	presetMu.RLock()
	defer presetMu.RUnlock()
	names := make([]string, 0, len(requestPresets))
	for n := range requestPresets {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// expandPreset replaces a file's top-level node that names a preset by the
// request mapping the preset expands to. It returns nil after recording
// errors when the preset cannot be expanded.
func expandPreset(root *config.Node, errs *loadErrors) *config.Node {
	name := root.Get("preset")
	namePos := keyPos(root, "preset")
	known := Presets()
	if name.Kind != config.ScalarNode || name.Type != config.StringScalar || strings.TrimSpace(name.Value) == "" {
		errs.add(name.Pos, "preset: expected a preset name such as hubspot.contact_upsert (known presets: %s)", strings.Join(known, ", "))
		return nil
	}
	presetMu.RLock()
	expand, ok := requestPresets[name.Value]
	presetMu.RUnlock()
	if !ok {
		msg := fmt.Sprintf("preset: unknown preset %q", name.Value)
		if s := config.Suggest(name.Value, known); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		}
		if len(known) == 0 {
			msg += " (no presets are registered in this program)"
		} else {
			msg += " (known presets: " + strings.Join(known, ", ") + ")"
		}
		errs.add(name.Pos, "%s", msg)
		return nil
	}
	failed := false
	for _, k := range []string{"request", "columns"} {
		if root.Get(k) != nil {
			errs.add(keyPos(root, k), "%s: a mapping with a preset has no %s; preset %s builds the request from its own keys", k, k, name.Value)
			failed = true
		}
	}
	if failed {
		return nil
	}
	out, err := expand(root.Without("preset", "filter", "maps"))
	if err != nil {
		for _, e := range config.AsList(err) {
			if e.Pos.Line == 0 {
				e.Pos = namePos
			}
			errs.list = append(errs.list, e)
		}
		return nil
	}
	if out == nil || out.Kind != config.MapNode || out.Get("request") == nil {
		errs.add(namePos, "preset %s did not expand to a request mapping", name.Value)
		return nil
	}
	merged := &config.Node{Kind: config.MapNode, Pos: root.Pos, Pairs: append([]config.Pair(nil), out.Pairs...)}
	for _, p := range root.Pairs {
		if p.Key.Value == "filter" || p.Key.Value == "maps" {
			merged.Pairs = append(merged.Pairs, p)
		}
	}
	return merged
}
