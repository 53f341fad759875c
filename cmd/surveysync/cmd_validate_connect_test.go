package main

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/surveysync/surveysync/sandbox/hubspotapi"
	"github.com/surveysync/surveysync/sandbox/sheetsapi"
	"github.com/surveysync/surveysync/sandbox/zendeskapi"
)

// The emulators' credentials. The tests check that no token is printed.
const (
	connectHubSpotToken = "pat-na1-connect-right-token"
	connectZendeskEmail = "surveys@acme.example"
	connectZendeskToken = "zd-connect-right-token"
	connectSpreadsheet  = "connect-test"
	connectFieldID      = 360001234567
)

// connectFixture is a configuration whose destinations are the Sheets,
// HubSpot and Zendesk emulators on loopback, plus a generic http API.
type connectFixture struct {
	t      *testing.T
	dir    string
	sheets *sheetsapi.Server
	hub    *hubspotapi.Server
	zen    *zendeskapi.Server
	// files are written by write; tests change them first.
	files map[string]string
}

func newConnectFixture(t *testing.T) *connectFixture {
	t.Helper()
	f := &connectFixture{t: t, dir: t.TempDir()}
	f.sheets = sheetsapi.New(sheetsapi.Options{})
	t.Cleanup(func() { f.sheets.Close() })
	if err := f.sheets.CreateSpreadsheetWithID(connectSpreadsheet, "Survey responses", "Responses"); err != nil {
		t.Fatal(err)
	}
	if err := f.sheets.SetRow(connectSpreadsheet, "Responses", 0, []any{"Key", "Score", "Comment"}); err != nil {
		t.Fatal(err)
	}
	sheetsSrv := httptest.NewServer(f.sheets.Handler())
	t.Cleanup(sheetsSrv.Close)

	f.hub = hubspotapi.New(hubspotapi.Options{
		Tokens:            []string{connectHubSpotToken},
		ContactProperties: []hubspotapi.Property{{Name: "last_nps"}, {Name: "last_nps_comment"}, {Name: "survey_response_id", Unique: true}},
	})
	hubSrv := httptest.NewServer(f.hub.Handler())
	t.Cleanup(hubSrv.Close)

	f.zen = zendeskapi.New(zendeskapi.Options{
		Credentials: []zendeskapi.Credential{{Email: connectZendeskEmail, Token: connectZendeskToken}},
		Fields:      []zendeskapi.Field{{ID: connectFieldID, Title: "NPS score", Type: zendeskapi.FieldInteger}},
	})
	zenSrv := httptest.NewServer(f.zen.Handler())
	t.Cleanup(zenSrv.Close)

	f.files = map[string]string{
		"secrets/hubspot-token": connectHubSpotToken + "\n",
		"secrets/zendesk-token": connectZendeskToken + "\n",
		"surveysync.yaml": fmt.Sprintf(`store: sqlite:./data/ledger.db
sources:
  hook: {type: file, paths: [./in/*.jsonl], key: id, submitted_at: at}
destinations:
  sheet:
    type: google_sheets
    spreadsheet: %s
    endpoint: %s/
  hubspot:
    type: hubspot
    endpoint: %s
    token: "${file:./secrets/hubspot-token}"
  zendesk:
    type: zendesk
    endpoint: %s/api/v2
    email: %s
    token: "${file:./secrets/zendesk-token}"
  crm:
    type: http
    endpoint: http://127.0.0.1:9/
syncs:
  - {name: to-sheet, source: hook, mapping: mappings/sheet.yaml, to: sheet}
  - {name: to-hubspot, source: hook, mapping: mappings/hubspot.yaml, to: hubspot}
  - {name: to-zendesk, source: hook, mapping: mappings/zendesk.yaml, to: zendesk}
  - {name: to-crm, source: hook, mapping: mappings/crm.yaml, to: crm}
`, connectSpreadsheet, sheetsSrv.URL, hubSrv.URL, zenSrv.URL, connectZendeskEmail),
		"mappings/sheet.yaml": `sheet: Responses
key: Key
columns:
  Key: "{{ key }}"
  Score: "{{ score }}"
  Comment: "{{ comment | optional }}"
`,
		"mappings/hubspot.yaml": `preset: hubspot.contact_upsert
id: "{{ email }}"
properties:
  last_nps: "{{ score }}"
  last_nps_comment: "{{ comment | optional }}"
`,
		"mappings/zendesk.yaml": fmt.Sprintf(`preset: zendesk.ticket_fields
ticket: "{{ ticket_id }}"
fields:
  %d: "{{ score }}"
`, connectFieldID),
		"mappings/crm.yaml": `request:
  method: POST
  path: /responses
  body: {id: "{{ key }}", score: "{{ score }}"}
`,
	}
	return f
}

// validate writes the files and runs validate --connect with extra flags.
func (f *connectFixture) validate(args ...string) (stdout, stderr string, code int) {
	f.t.Helper()
	for name, content := range f.files {
		p := filepath.Join(f.dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			f.t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o600); err != nil {
			f.t.Fatal(err)
		}
	}
	args = append([]string{"validate", "--connect", "--config", filepath.Join(f.dir, "surveysync.yaml")}, args...)
	stdout, stderr, code = run(f.t, args...)
	for _, secret := range []string{connectHubSpotToken, connectZendeskToken, "wrong-token"} {
		if strings.Contains(stdout+stderr, secret) {
			f.t.Errorf("validate --connect printed a token:\n%s%s", stdout, stderr)
		}
	}
	return stdout, stderr, code
}

// readOnly fails the test if validate --connect sent anything but reads.
func (f *connectFixture) readOnly() {
	f.t.Helper()
	for _, e := range f.sheets.Log() {
		if e.Method != http.MethodGet {
			f.t.Errorf("the Sheets emulator got %s %s", e.Method, e.Operation)
		}
	}
	for _, e := range f.hub.Log() {
		if e.Method != http.MethodGet {
			f.t.Errorf("the HubSpot emulator got %s %s", e.Method, e.Path)
		}
	}
	for _, e := range f.zen.Log() {
		if e.Method != http.MethodGet {
			f.t.Errorf("the Zendesk emulator got %s %s", e.Method, e.Path)
		}
	}
}

func TestValidateConnectPassesWhenEveryDestinationFits(t *testing.T) {
	t.Parallel()
	f := newConnectFixture(t)
	stdout, stderr, code := f.validate()
	if code != exitOK {
		t.Fatalf("validate --connect exited %d, want 0:\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "checked live: hubspot, sheet, zendesk; not contacted: crm") {
		t.Errorf("the summary does not name the destinations checked and skipped:\n%s", stdout)
	}
	if !strings.Contains(stderr, "warning: ") || !strings.Contains(stderr, "destination crm: type http has no read-only check") {
		t.Errorf("no note that the http destination was not contacted:\n%s", stderr)
	}
	for name, n := range map[string]int{"Sheets": len(f.sheets.Log()), "HubSpot": len(f.hub.Log()), "Zendesk": len(f.zen.Log())} {
		if n == 0 {
			t.Errorf("the %s emulator was not contacted", name)
		}
	}
	f.readOnly()
}

func TestValidateConnectReportsAMissingHeader(t *testing.T) {
	t.Parallel()
	f := newConnectFixture(t)
	if err := f.sheets.SetRow(connectSpreadsheet, "Responses", 0, []any{"Key", "Score"}); err != nil {
		t.Fatal(err)
	}
	stdout, stderr, code := f.validate()
	if code != exitFailure {
		t.Fatalf("validate --connect exited %d, want 1:\n%s%s", code, stdout, stderr)
	}
	want := `surveysync.yaml:5:3: destination sheet: tab "Responses" has no column "Comment" in row 1`
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	f.readOnly()
}

func TestValidateConnectNotesATabTheFirstDeliveryCreates(t *testing.T) {
	t.Parallel()
	f := newConnectFixture(t)
	// No tab holds these headers, so none is taken for a renamed one.
	f.files["mappings/sheet.yaml"] = strings.Replace(f.files["mappings/sheet.yaml"], "sheet: Responses", "sheet: NPS 2026", 1) + "  Channel: \"{{ channel }}\"\n"
	stdout, stderr, code := f.validate()
	if code != exitOK {
		t.Fatalf("validate --connect exited %d, want 0:\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, `warning: `) || !strings.Contains(stderr, `destination sheet: tab "NPS 2026" is not in spreadsheet connect-test; the first delivery creates it`) {
		t.Errorf("no note about the tab to be created:\n%s", stderr)
	}
	if _, ok := f.sheets.SheetID(connectSpreadsheet, "NPS 2026"); ok {
		t.Error("validate --connect created the tab")
	}
	f.readOnly()
}

func TestValidateConnectNotesATabFoundByItsHeaders(t *testing.T) {
	t.Parallel()
	f := newConnectFixture(t)
	f.files["mappings/sheet.yaml"] = strings.Replace(f.files["mappings/sheet.yaml"], "sheet: Responses", "sheet: NPS 2026", 1)
	stdout, stderr, code := f.validate()
	if code != exitOK {
		t.Fatalf("validate --connect exited %d, want 0:\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, `destination sheet: spreadsheet connect-test has no tab named "NPS 2026"; deliveries go to tab "Responses"`) {
		t.Errorf("no note about the tab followed by its headers:\n%s", stderr)
	}
	f.readOnly()
}

func TestValidateConnectReportsAMissingHubSpotProperty(t *testing.T) {
	t.Parallel()
	f := newConnectFixture(t)
	f.files["mappings/hubspot.yaml"] = `preset: hubspot.contact_upsert
id: "{{ email }}"
properties:
  last_nps: "{{ score }}"
  last_csat: "{{ rating }}"
`
	stdout, stderr, code := f.validate()
	if code != exitFailure {
		t.Fatalf("validate --connect exited %d, want 1:\n%s%s", code, stdout, stderr)
	}
	want := `mappings/hubspot.yaml:5:14: destination hubspot: contact property "last_csat" (body.properties.last_csat) does not exist in HubSpot`
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	if strings.Contains(stderr, `"last_nps"`) {
		t.Errorf("an existing property was reported:\n%s", stderr)
	}
	f.readOnly()
}

func TestValidateConnectReportsAnIDPropertyWithoutUniqueValues(t *testing.T) {
	t.Parallel()
	f := newConnectFixture(t)
	f.files["mappings/hubspot.yaml"] = `preset: hubspot.contact_upsert
id: "{{ key }}"
id_property: last_nps_comment
properties: {last_nps: "{{ score }}"}
`
	_, stderr, code := f.validate()
	if code != exitFailure || !strings.Contains(stderr, `destination hubspot: idProperty "last_nps_comment" is not a property with unique values`) {
		t.Errorf("validate --connect exited %d without the idProperty error:\n%s", code, stderr)
	}
}

func TestValidateConnectReportsARefusedHubSpotToken(t *testing.T) {
	t.Parallel()
	f := newConnectFixture(t)
	f.files["secrets/hubspot-token"] = "wrong-token\n"
	_, stderr, code := f.validate()
	if code != exitFailure {
		t.Fatalf("validate --connect exited %d, want 1:\n%s", code, stderr)
	}
	want := "surveysync.yaml:9:3: destination hubspot: hubspot rejected the credentials (401) when reading the contact property definitions"
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
}

func TestValidateConnectReportsAWrongZendeskField(t *testing.T) {
	t.Parallel()
	f := newConnectFixture(t)
	f.files["mappings/zendesk.yaml"] = `preset: zendesk.ticket_fields
ticket: "{{ ticket_id }}"
fields:
  360001234568: "{{ score }}"
`
	stdout, stderr, code := f.validate()
	if code != exitFailure {
		t.Fatalf("validate --connect exited %d, want 1:\n%s%s", code, stdout, stderr)
	}
	want := `mappings/zendesk.yaml:4:17: destination zendesk: custom field 360001234568 (body.ticket.custom_fields[0].id) does not exist in Zendesk (its custom fields: 360001234567 "NPS score")`
	if !strings.Contains(stderr, want) {
		t.Errorf("stderr lacks %q:\n%s", want, stderr)
	}
	f.readOnly()
}

func TestValidateConnectChecksTemplatedFieldIDsWithASample(t *testing.T) {
	t.Parallel()
	f := newConnectFixture(t)
	f.files["mappings/zendesk.yaml"] = `request:
  method: PUT
  path: "/tickets/{{ ticket_id }}.json"
  body:
    ticket:
      custom_fields:
        - {id: "{{ field }}", value: "{{ score }}"}
`
	_, stderr, code := f.validate()
	if code != exitOK || !strings.Contains(stderr, "they could not be checked without a sample response the sync renders (--sample)") {
		t.Errorf("without --sample: exited %d, want 0 with a note:\n%s", code, stderr)
	}
	f.files["sample.json"] = `{"id": "r1", "at": "2026-05-01T10:00:00Z", "key": "r1", "email": "jane@example.com", "score": 9, "ticket_id": 42, "field": 360009999999}`
	_, stderr, code = f.validate("--sample", filepath.Join(f.dir, "sample.json"))
	want := "custom field 360009999999 (body.ticket.custom_fields[0].id as the sample rendered it) does not exist in Zendesk"
	if code != exitFailure || !strings.Contains(stderr, want) {
		t.Errorf("with --sample: exited %d, want 1 and %q:\n%s", code, want, stderr)
	}
}

func TestValidateConnectNamesTheHostItCannotReach(t *testing.T) {
	t.Parallel()
	f := newConnectFixture(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	cfg := f.files["surveysync.yaml"]
	start := strings.Index(cfg, "  zendesk:\n    type: zendesk\n    endpoint: ")
	end := strings.Index(cfg[start:], "/api/v2")
	f.files["surveysync.yaml"] = cfg[:start] + "  zendesk:\n    type: zendesk\n    endpoint: http://" + closed + cfg[start+end:]
	stdout, stderr, code := f.validate("--connect-timeout", "20s")
	if code != exitFailure {
		t.Fatalf("validate --connect exited %d, want 1:\n%s%s", code, stdout, stderr)
	}
	if !strings.Contains(stderr, "destination zendesk: reading the ticket fields: ") || !strings.Contains(stderr, closed) || !strings.Contains(stderr, "connection refused") {
		t.Errorf("the error does not name the host and the cause:\n%s", stderr)
	}
}

func TestValidateConnectJSONHoldsTheProblems(t *testing.T) {
	t.Parallel()
	f := newConnectFixture(t)
	f.files["mappings/hubspot.yaml"] = strings.Replace(f.files["mappings/hubspot.yaml"], "last_nps:", "last_npss:", 1)
	stdout, stderr, code := f.validate("--json")
	if code != exitFailure {
		t.Fatalf("validate --connect --json exited %d, want 1:\n%s%s", code, stdout, stderr)
	}
	var res validateResult
	if err := json.Unmarshal([]byte(stdout), &res); err != nil {
		t.Fatalf("%v\n%s", err, stdout)
	}
	if res.Valid || len(res.Errors) != 1 || !strings.Contains(res.Errors[0], `contact property "last_npss" (body.properties.last_npss) does not exist in HubSpot (did you mean "last_nps"?)`) {
		t.Errorf("errors = %q", res.Errors)
	}
	if res.Connect == nil || strings.Join(res.Connect.Checked, ",") != "hubspot,sheet,zendesk" || strings.Join(res.Connect.Skipped, ",") != "crm" {
		t.Errorf("connect = %+v", res.Connect)
	}
}

func TestValidateConnectContactsNothingWhileTheConfigurationHasErrors(t *testing.T) {
	t.Parallel()
	f := newConnectFixture(t)
	f.files["mappings/crm.yaml"] = "request: {method: POTS, path: /x}\n"
	_, stderr, code := f.validate()
	if code != exitFailure || !strings.Contains(stderr, "--connect: no destination was contacted") {
		t.Errorf("exited %d:\n%s", code, stderr)
	}
	if n := len(f.hub.Log()) + len(f.zen.Log()) + len(f.sheets.Log()); n != 0 {
		t.Errorf("the emulators got %d requests", n)
	}
}

func TestValidateConnectIsTimeBound(t *testing.T) {
	t.Parallel()
	f := newConnectFixture(t)
	release := make(chan struct{})
	hang := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-r.Context().Done():
		case <-release:
		}
	}))
	t.Cleanup(hang.Close)
	t.Cleanup(func() { close(release) })
	cfg := f.files["surveysync.yaml"]
	start := strings.Index(cfg, "  zendesk:\n    type: zendesk\n    endpoint: ")
	end := strings.Index(cfg[start:], "/api/v2")
	f.files["surveysync.yaml"] = cfg[:start] + "  zendesk:\n    type: zendesk\n    endpoint: " + hang.URL + cfg[start+end:]
	began := time.Now()
	stdout, stderr, code := f.validate("--connect-timeout", "1s")
	if took := time.Since(began); took > 10*time.Second {
		t.Errorf("validate --connect --connect-timeout 1s took %s", took)
	}
	if code != exitFailure || !strings.Contains(stderr, "destination zendesk: the check did not finish within its time limit of 1s: reading the ticket fields") {
		t.Errorf("exited %d without the time limit's error:\n%s%s", code, stdout, stderr)
	}
	// The destinations are checked at once: one that hangs costs the others nothing.
	if len(f.hub.Log()) == 0 || strings.Contains(stderr, "destination hubspot:") {
		t.Errorf("hubspot was not checked within the limit:\n%s", stderr)
	}
}

func TestValidateConnectMasksATokenTheServiceEchoes(t *testing.T) {
	t.Parallel()
	f := newConnectFixture(t)
	// Some APIs and debugging proxies quote the credential they refuse.
	echo := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		msg, _ := json.Marshal("invalid token: " + r.Header.Get("Authorization"))
		_, _ = fmt.Fprintf(w, `{"status":"error","message":%s,"category":"INVALID_AUTHENTICATION"}`, msg)
	}))
	t.Cleanup(echo.Close)
	cfg := f.files["surveysync.yaml"]
	start := strings.Index(cfg, "  hubspot:\n    type: hubspot\n    endpoint: ")
	end := strings.Index(cfg[start:], "\n    token:")
	f.files["surveysync.yaml"] = cfg[:start] + "  hubspot:\n    type: hubspot\n    endpoint: " + echo.URL + cfg[start+end:]
	_, stderr, code := f.validate() // fails the test if the token is printed
	if code != exitFailure || !strings.Contains(stderr, "destination hubspot: hubspot rejected the credentials (401) when reading the contact property definitions: invalid token: Bearer [redacted]") {
		t.Errorf("exited %d without the masked refusal:\n%s", code, stderr)
	}
}
