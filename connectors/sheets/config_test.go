package sheets_test

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/connectors/sheets"
)

func TestParseSpreadsheet(t *testing.T) {
	t.Parallel()
	const id = "1AbCdEfGhIjKlMnOpQrStUvWxYz0123456789abcdEfG"
	tests := []struct {
		name, in, want, err string
	}{
		{name: "bare id", in: id, want: id},
		{name: "bare id with spaces", in: "  " + id + " ", want: id},
		{name: "edit url", in: "https://docs.google.com/spreadsheets/d/" + id + "/edit#gid=0", want: id},
		{name: "url with user index", in: "https://docs.google.com/spreadsheets/u/1/d/" + id + "/edit?usp=sharing", want: id},
		{name: "url without path tail", in: "https://docs.google.com/spreadsheets/d/" + id, want: id},
		{name: "empty", in: "", err: "set the spreadsheet's ID or URL"},
		{name: "drive url", in: "https://drive.google.com/file/d/abc/view", err: "has no /spreadsheets/d/<ID>"},
		{name: "not a url", in: "my sheet", err: "neither a spreadsheet ID nor"},
		{name: "ftp", in: "ftp://docs.google.com/spreadsheets/d/abc", err: "neither a spreadsheet ID nor"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got, err := sheets.ParseSpreadsheet(tt.in)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("ParseSpreadsheet(%q) error = %v, want it to contain %q", tt.in, err, tt.err)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseSpreadsheet(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
			}
		})
	}
}

// configure decodes a destination entry the way surveysync.yaml is read.
func configure(t *testing.T, body string) (*sheets.Config, config.ErrorList) {
	t.Helper()
	src := "destinations:\n  sheet:\n    type: google_sheets\n" + indent(body, "    ")
	root, err := config.Parse("surveysync.yaml", []byte(src))
	if err != nil {
		t.Fatalf("parse: %v\n%s", err, src)
	}
	var ps config.Plugins
	if err := ps.UnmarshalNode(root.Get("destinations")); err != nil {
		t.Fatalf("plugins: %v", err)
	}
	_, cfg, errs := connectors.ConfigureDestination(ps.Get("sheet"))
	c, _ := cfg.(*sheets.Config)
	return c, errs
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		if l != "" {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

func TestConfigDefaults(t *testing.T) {
	t.Parallel()
	cfg, errs := configure(t, "spreadsheet: abc123\ncredentials: \"${file:./sa.json}\"\n")
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	want := sheets.DefaultConfig()
	got := *cfg
	got.Spreadsheet, got.Credentials = "", config.Secret{}
	if diff := cmp.Diff(*want, got, cmp.AllowUnexported(config.Secret{})); diff != "" {
		t.Errorf("defaults (-want +got):\n%s", diff)
	}
	if cfg.BatchBytes != 2<<20 || cfg.Timeout.Seconds() != 120 || cfg.CellLimit != 9_500_000 {
		t.Errorf("defaults: batch_bytes %d, timeout %s, cell_limit %d", cfg.BatchBytes, cfg.Timeout, cfg.CellLimit)
	}
}

func TestConfigValues(t *testing.T) {
	t.Parallel()
	cfg, errs := configure(t, `spreadsheet: https://docs.google.com/spreadsheets/d/abc_DEF-123/edit#gid=7
endpoint: http://127.0.0.1:9999
sheet_id: 0
quota: {writes_per_minute: 120, reads_per_minute: 0}
batch_rows: 100
batch_bytes: 512KB
dates: text
long_text: dead_letter
append_missing_headers: true
cell_limit: 5000000
cell_warn: 0.8
timeout: 2s
reconcile_after: 0s
`)
	if len(errs) > 0 {
		t.Fatalf("errors: %v", errs)
	}
	if cfg.SpreadsheetID() != "abc_DEF-123" || cfg.SheetID == nil || *cfg.SheetID != 0 || cfg.BatchBytes != 512<<10 ||
		cfg.Quota.WritesPerMinute != 120 || cfg.Quota.ReadsPerMinute != 0 || cfg.Dates != "text" || !cfg.AppendMissingHeaders {
		t.Errorf("decoded %+v", cfg)
	}
}

func TestConfigErrors(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		body string
		want []string
	}{
		{"no spreadsheet, no credentials", "batch_rows: 10\n", []string{
			"spreadsheet: set the spreadsheet's ID or URL",
			"credentials: set credentials to a service-account key",
		}},
		{"both credentials and adc", "spreadsheet: abc\ncredentials: \"${env:SA}\"\nadc: true\n", []string{"set either credentials or adc: true, not both"}},
		{"literal credentials", "spreadsheet: abc\ncredentials: '{\"type\":\"service_account\"}'\n", []string{"a literal secret is not allowed"}},
		{"bad url", "spreadsheet: https://example.com/x\nadc: true\n", []string{"has no /spreadsheets/d/<ID>"}},
		{"bad values", `spreadsheet: abc
endpoint: ftp://x
scopes: [spreadsheets]
sheet_id: -1
quota: {writes_per_minute: -1}
batch_rows: 0
batch_bytes: 100
dates: iso
long_text: cut
cell_limit: 0
cell_warn: 1.5
timeout: 0s
`, []string{
			"endpoint: \"ftp://x\" is not an http(s) URL",
			"scopes: \"spreadsheets\" is not a Google OAuth scope",
			"sheet_id: must be 0 or more",
			"quota: writes_per_minute and reads_per_minute must be 0",
			"batch_rows: must be at least 1",
			"batch_bytes: must be at least 1KB",
			"dates: \"iso\" is not serial or text",
			"long_text: \"cut\" is not truncate or dead_letter",
			"cell_limit: must be positive and at most 10000000, Google's limit",
			"cell_warn: must be a share above 0",
			"timeout: must be positive",
		}},
		{"unknown key", "spreadsheet: abc\nadc: true\nbatch_size: 10\n", []string{"batch_size"}},
		{"bad size", "spreadsheet: abc\nadc: true\nbatch_bytes: lots\n", []string{"\"lots\" is not a size"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			_, errs := configure(t, tt.body)
			text := errs.Error()
			for _, w := range tt.want {
				if !strings.Contains(text, w) {
					t.Errorf("errors do not mention %q:\n%s", w, text)
				}
			}
			for _, e := range errs {
				if e.Pos.Line == 0 {
					t.Errorf("error without a position: %v", e)
				}
			}
		})
	}
}

// TestSample checks that sample.yaml, which is also the README's
// configuration section, is a valid destination.
func TestSample(t *testing.T) {
	t.Parallel()
	spec, ok := connectors.LookupDestination("google_sheets")
	if !ok {
		t.Fatal("google_sheets is not registered")
	}
	root, err := config.Parse("sample.yaml", []byte("destinations:\n"+indent(spec.Sample, "  ")))
	if err != nil {
		t.Fatal(err)
	}
	var ps config.Plugins
	if err := ps.UnmarshalNode(root.Get("destinations")); err != nil {
		t.Fatal(err)
	}
	if _, _, errs := connectors.ConfigureDestination(ps[0]); len(errs) > 0 {
		t.Fatalf("sample.yaml: %v", errs)
	}
}
