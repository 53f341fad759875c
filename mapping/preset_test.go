package mapping

import (
	"strings"
	"sync"
	"testing"

	"github.com/surveysync/surveysync/config"
)

var registerTestPreset sync.Once

// testPreset expands {preset: test.note, text: ...} into a POST of the text.
func testPreset(n *config.Node) (*config.Node, error) {
	text := n.Get("text")
	if text == nil {
		return nil, config.ErrorList{config.Errorf(config.Pos{}, "test.note: missing required key \"text\"")}
	}
	scalar := func(v string) *config.Node { return &config.Node{Kind: config.ScalarNode, Value: v, Pos: text.Pos} }
	body := &config.Node{Kind: config.MapNode, Pairs: []config.Pair{{Key: scalar("note"), Value: text}}}
	req := &config.Node{Kind: config.MapNode, Pairs: []config.Pair{
		{Key: scalar("method"), Value: scalar("POST")},
		{Key: scalar("path"), Value: scalar("/notes")},
		{Key: scalar("body"), Value: body},
	}}
	return &config.Node{Kind: config.MapNode, Pairs: []config.Pair{{Key: scalar("request"), Value: req}}}, nil
}

func TestRequestPreset(t *testing.T) {
	t.Parallel()
	registerTestPreset.Do(func() { RegisterPreset("test.note", testPreset) })

	m := mustParse(t, "preset: test.note\nfilter: [{field: rating, lte: 2}]\ntext: \"CSAT {{ rating }}\"\n")
	if m.Kind() != Requests {
		t.Fatalf("Kind = %v", m.Kind())
	}
	in := testInput(t, `{"rating": 1}`)
	if ok, err := m.Match(in); !ok || err != nil {
		t.Fatalf("Match = %v, %v", ok, err)
	}
	req, err := m.RenderRequest(in)
	if err != nil {
		t.Fatal(err)
	}
	if req.Method != "POST" || req.Path != "/notes" || req.Body.(map[string]any)["note"] != "CSAT 1" {
		t.Errorf("request = %+v", req)
	}
	// Errors in values the preset reuses keep their place in the file.
	_, err = Parse("m.yaml", []byte("preset: test.note\ntext: \"{{ rating | lowr }}\"\n"))
	if err == nil || !strings.HasPrefix(err.Error(), `m.yaml:2:7: request: body.note: expression {{ rating | lowr }}: unknown pipe "lowr"`) {
		t.Errorf("error = %v", err)
	}
	for src, want := range map[string]string{
		"preset: test.nte\ntext: x\n":                   `m.yaml:1:9: preset: unknown preset "test.nte"; did you mean "test.note"?`,
		"preset: test.note\n":                           `m.yaml:1:1: test.note: missing required key "text"`,
		"preset: test.note\ntext: x\ncolumns: {a: b}\n": `m.yaml:3:1: columns: a mapping with a preset has no columns`,
		"preset: [x]\n":                                 `m.yaml:1:9: preset: expected a preset name`,
	} {
		_, err := Parse("m.yaml", []byte(src))
		if err == nil || !strings.HasPrefix(err.Error(), want) {
			t.Errorf("Parse(%q) error = %v, want prefix %q", src, err, want)
		}
	}
}
