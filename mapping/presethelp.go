package mapping

import (
	"fmt"
	"strings"

	"github.com/surveysync/surveysync/config"
)

// Helpers for the expand functions of presets (see RegisterPreset).

// CheckPresetKeys adds to errs, at each key, the keys of n that the preset
// named preset does not take, with a suggestion when one is close.
func CheckPresetKeys(n *config.Node, preset string, known []string, errs *config.ErrorList) {
	for _, p := range n.Pairs {
		ok := false
		for _, k := range known {
			ok = ok || p.Key.Value == k
		}
		if ok {
			continue
		}
		msg := fmt.Sprintf("unknown key %q for preset %s", p.Key.Value, preset)
		if s := config.Suggest(p.Key.Value, known); s != "" {
			msg += fmt.Sprintf("; did you mean %q?", s)
		} else {
			msg += " (keys: " + strings.Join(known, ", ") + ", filter, maps)"
		}
		*errs = append(*errs, config.Errorf(p.Key.Pos, "%s", msg))
	}
}

// PresetText is a string scalar written by a preset, placed at pos.
func PresetText(value string, pos config.Pos) *config.Node {
	return &config.Node{Kind: config.ScalarNode, Pos: pos, Value: value, Type: config.StringScalar}
}

// PresetPair is a mapping entry written by a preset, its key placed where
// its value was written.
func PresetPair(key string, value *config.Node) config.Pair {
	return config.Pair{Key: PresetText(key, value.Pos), Value: value}
}
