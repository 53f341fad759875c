package hubspot

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/surveysync/surveysync/mapping"
	"github.com/surveysync/surveysync/survey"
)

func TestPresetExpandsToTheRequestMapping(t *testing.T) {
	t.Parallel()
	preset := `
preset: hubspot.contact_upsert
id: "{{ contact.email }}"
properties: {last_csat: "{{ rating }}", last_csat_comment: "{{ comment }}"}
note: "CSAT {{ rating }}: {{ comment }}"
filter:
  - {field: "{{ rating }}", exists: true}
`
	raw := `
request:
  method: POST
  path: /crm/v3/objects/contacts/batch/upsert
  body:
    id: "{{ contact.email }}"
    idProperty: email
    properties: {last_csat: "{{ rating }}", last_csat_comment: "{{ comment }}"}
    note: {body: "CSAT {{ rating }}: {{ comment }}"}
  batch: {max: 100, path: inputs}
`
	pm, err := mapping.Parse("preset.yaml", []byte(preset))
	if err != nil {
		t.Fatal(err)
	}
	rm, err := mapping.Parse("raw.yaml", []byte(raw))
	if err != nil {
		t.Fatal(err)
	}
	if pm.BatchMax() != 100 || pm.Filter() == nil {
		t.Errorf("BatchMax %d, filter %v; want 100 and the file's filter", pm.BatchMax(), pm.Filter())
	}
	r := &survey.Response{Source: "s", Key: "k", SubmittedAt: time.Unix(1700000000, 0), Payload: []byte(`{"contact": {"email": "A@B.co"}, "rating": 4, "comment": "ok \"then\""}`)}
	got, err := pm.RenderRequest(&mapping.Input{Response: r, Sync: "y"})
	if err != nil {
		t.Fatal(err)
	}
	want, err := rm.RenderRequest(&mapping.Input{Response: r, Sync: "y"})
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("preset request (-raw +preset):\n%s", diff)
	}
}

func TestPresetErrorsArePositioned(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name string
		src  string
		want []string
	}{
		{
			name: "unknown key",
			src:  "preset: hubspot.contact_upsert\nid: \"{{ email }}\"\nproperties: {a: \"{{ b }}\"}\nnotes: x\n",
			want: []string{`m.yaml:4:1: unknown key "notes" for preset hubspot.contact_upsert; did you mean "note"?`},
		},
		{
			name: "missing keys",
			src:  "# csat\npreset: hubspot.contact_upsert\n",
			want: []string{
				`m.yaml:2:1: preset hubspot.contact_upsert: missing key "id"`,
				`m.yaml:2:1: preset hubspot.contact_upsert: missing key "properties"`,
			},
		},
		{
			name: "unknown preset",
			src:  "preset: hubspot.contact_upsrt\n",
			want: []string{`m.yaml:1:9: preset: unknown preset "hubspot.contact_upsrt"; did you mean "hubspot.contact_upsert"? (known presets: `},
		},
		{
			name: "template mistake in a property",
			src:  "preset: hubspot.contact_upsert\nid: \"{{ email }}\"\nproperties:\n  last_csat: \"{{ rating | nonsense }}\"\n",
			want: []string{`m.yaml:4:14: request: body.properties.last_csat: `},
		},
		{
			name: "object property",
			src:  "preset: hubspot.contact_upsert\nid: \"{{ email }}\"\nproperties:\n  last_csat: {value: 1}\n",
			want: []string{`m.yaml:4:15: properties: last_csat: a HubSpot property takes one value`},
		},
		{
			name: "request beside a preset",
			src:  "preset: hubspot.contact_upsert\nrequest: {}\n",
			want: []string{`m.yaml:2:1: request: a mapping with a preset has no request`},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			_, err := mapping.Parse("m.yaml", []byte(tc.src))
			if err == nil {
				t.Fatal("Parse succeeded, want errors")
			}
			lines := strings.Split(err.Error(), "\n")
			if len(lines) != len(tc.want) {
				t.Fatalf("errors:\n%s\nwant %d", err, len(tc.want))
			}
			for i, w := range tc.want {
				if !strings.HasPrefix(lines[i], w) {
					t.Errorf("error %d = %q, want it to start with %q", i, lines[i], w)
				}
			}
		})
	}
}
