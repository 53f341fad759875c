package mapping

import (
	"errors"
	"strings"
	"testing"

	"github.com/surveysync/surveysync/config"
)

func compileFilterText(t *testing.T, src string) (*Filter, error) {
	t.Helper()
	n, err := config.Parse("surveysync.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	return CompileFilter(n.Get("filter"))
}

func TestFilterOperators(t *testing.T) {
	t.Parallel()
	payload := `{"rating": 4, "rating_text": "2", "channel": "WhatsApp", "tags": ["vip", "eu"], "comment": "I want a refund",
		"email": "a@example.com", "blank": "", "nothing": null, "empty": [], "when": "2024-05-01T10:00:00Z", "unix": 1714557600,
		"flag": true, "obj": {"k": 1}}`
	tests := []struct {
		filter string
		want   bool
	}{
		{"{field: rating, equals: 4}", true},
		{"{field: rating, equals: 4.0}", true},
		{"{field: rating, equals: '4'}", true},
		{"{field: rating_text, equals: 2}", true},
		{"{field: channel, equals: whatsapp}", false},
		{"{field: '{{ channel | lower }}', equals: whatsapp}", true},
		{"{field: nothing, equals: null}", true},
		{"{field: missing, equals: null}", false},
		{"{field: flag, equals: true}", true},
		{"{field: rating, not_equals: 5}", true},
		{"{field: rating, not_equals: 4}", false},
		{"{field: missing, not_equals: 4}", true},
		{"{field: channel, in: [WhatsApp, email]}", true},
		{"{field: rating, in: [1, 2, 3]}", false},
		{"{field: missing, in: [1]}", false},
		{"{field: channel, not_in: [sms]}", true},
		{"{field: channel, not_in: [WhatsApp]}", false},
		{"{field: missing, not_in: [x]}", true},
		{"{field: rating, exists: true}", true},
		{"{field: nothing, exists: true}", false},
		{"{field: blank, exists: true}", false},
		{"{field: empty, exists: true}", false},
		{"{field: missing, exists: false}", true},
		{"{field: tags, exists: true}", true},
		{"{field: email, matches: '@example\\.com$'}", true},
		{"{field: email, matches: '^b'}", false},
		{"{field: tags, matches: '^e'}", true},
		{"{field: rating, matches: '^4$'}", true},
		{"{field: missing, matches: '.*'}", false},
		{"{field: nothing, matches: '.*'}", false},
		{"{field: tags, contains: vip}", true},
		{"{field: tags, contains: us}", false},
		{"{field: comment, contains: refund}", true},
		{"{field: comment, contains: Refund}", false},
		{"{field: obj, contains: k}", true},
		{"{field: nothing, contains: x}", false},
		{"{field: rating, gt: 3}", true},
		{"{field: rating, gt: 4}", false},
		{"{field: rating, gte: 4}", true},
		{"{field: rating, lt: 4}", false},
		{"{field: rating, lte: 4}", true},
		{"{field: rating_text, lte: 2}", true},
		{"{field: channel, gt: 1}", false},
		{"{field: missing, lt: 100}", false},
		{"{field: rating, gte: 1, lte: 5}", true},
		{"{field: rating, gte: 5, lte: 10}", false},
		{"{field: when, gte: 2024-05-01}", true},
		{"{field: when, lt: '2024-05-01T09:00:00Z'}", false},
		{"{field: unix, gte: 2024-05-01T10:00:00Z}", true},
		{"{field: channel, gte: 2024-05-01}", false},
		{"[{field: rating, equals: 4}, {field: channel, equals: sms}]", false},
		{"[{field: rating, equals: 4}, {field: channel, equals: WhatsApp}]", true},
		{"{any: [{field: rating, equals: 1}, {field: channel, equals: WhatsApp}]}", true},
		{"{any: [{field: rating, equals: 1}, {field: channel, equals: sms}]}", false},
		{"{all: [{field: rating, equals: 4}, {field: flag, equals: true}]}", true},
		{"{not: {field: rating, equals: 4}}", false},
		{"{not: [{field: rating, equals: 4}, {field: flag, equals: false}]}", true},
		{"[]", true},
		{"{any: []}", false},
	}
	for _, tt := range tests {
		t.Run(tt.filter, func(t *testing.T) {
			t.Parallel()
			f, err := compileFilterText(t, "filter: "+tt.filter+"\n")
			if err != nil {
				t.Fatal(err)
			}
			got, err := f.Match(testInput(t, payload))
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("Match = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestFilterNilMatchesAll(t *testing.T) {
	t.Parallel()
	var f *Filter
	if ok, err := f.Match(&Input{}); !ok || err != nil {
		t.Errorf("nil filter: Match = %v, %v; want true", ok, err)
	}
	n, _ := config.Parse("x.yaml", []byte("filter:\n"))
	f, err := CompileFilter(n.Get("filter"))
	if err != nil || f != nil {
		t.Errorf("CompileFilter(null) = %v, %v; want nil, nil", f, err)
	}
}

func TestFilterCompileErrors(t *testing.T) {
	t.Parallel()
	src := `filter:
  - {field: rating, equals: [1, 2]}
  - {field: rating, in: 1}
  - {field: rating, exists: yes please}
  - {field: rating, gt: soon}
  - {field: rating}
  - {field: rating, equal: 1}
  - {equals: 1}
  - {any: {field: a, equals: 1}}
  - {any: [], field: a}
  - just text
  - {field: [a], equals: 1}
  - {field: rating, contains: null}
  - {field: rating, in: [[1]]}
`
	n, err := config.Parse("surveysync.yaml", []byte(src))
	if err != nil {
		t.Fatal(err)
	}
	_, err = CompileFilter(n.Get("filter"))
	var list config.ErrorList
	if !errors.As(err, &list) {
		t.Fatalf("error = %v, want a config.ErrorList", err)
	}
	want := []string{
		"surveysync.yaml:2:29: filter: equals: expected a single value, got a list (use in: for a list)",
		"surveysync.yaml:3:25: filter: in: expected a list such as [whatsapp, email], got a scalar",
		"surveysync.yaml:4:29: filter: exists: expected true or false",
		"surveysync.yaml:5:25: filter: gt: expected a number or a date such as 2024-05-01, got \"soon\"",
		"surveysync.yaml:6:6: filter: the condition on rating has no operator; add one of equals, not_equals, in, not_in, exists, matches, contains, gt, gte, lt, lte",
		"surveysync.yaml:7:21: filter: unknown key \"equal\"; did you mean \"equals\"?",
		"surveysync.yaml:8:6: filter: missing required key \"field\" (the value to test, such as field: rating)",
		"surveysync.yaml:9:12: filter: any: expected a list of conditions, got a mapping",
		"surveysync.yaml:10:6: filter: any: must be alone in its condition; put the other keys in a separate list item",
		"surveysync.yaml:11:5: filter: expected a condition such as {field: rating, lte: 2} or a list of them, got a scalar",
		"surveysync.yaml:12:13: filter: field: expected an expression such as rating or \"{{ contact.email | lower }}\", got a list",
		"surveysync.yaml:13:31: filter: contains: expected a value to look for",
		"surveysync.yaml:14:25: filter: in: list items must be single values, got a list",
	}
	got := strings.Split(list.Error(), "\n")
	if len(got) != len(want) {
		t.Fatalf("got %d errors, want %d:\n%s", len(got), len(want), list.Error())
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("error %d:\n got  %s\n want %s", i, got[i], want[i])
		}
	}
}
