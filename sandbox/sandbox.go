// Package sandbox serves local emulators of the Google Sheets, HubSpot and
// Zendesk APIs on one listener, with fault injection and a web page that
// shows what they hold, so an ops person can try a mapping without any
// account and tests can prove delivery against faithful fakes. It is never
// needed in production.
//
// The emulators share one mux without prefixes, as their real paths do not
// overlap: Sheets under /v4/ (point a Sheets destination's endpoint at the
// sandbox's root URL), HubSpot under /crm/, Zendesk under /api/v2/. The page
// is at /.
package sandbox

import (
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"sort"
	"strings"

	"github.com/surveysync/surveysync/sandbox/fault"
	"github.com/surveysync/surveysync/sandbox/hubspotapi"
	"github.com/surveysync/surveysync/sandbox/sheetsapi"
	"github.com/surveysync/surveysync/sandbox/view"
	"github.com/surveysync/surveysync/sandbox/zendeskapi"
)

// DemoSpreadsheetID is the spreadsheet the demo configuration writes to.
const DemoSpreadsheetID = "sandbox-survey-responses"

// Options configure a Sandbox.
type Options struct {
	// Dir, when set, keeps the Sheets emulator's data in Dir/sheets.json
	// across restarts; empty keeps everything in memory.
	Dir string
	// Faults sets fault injection per emulator: keys "sheets", "hubspot",
	// "zendesk".
	Faults map[string]fault.Config
	// Demo seeds the demo spreadsheet, HubSpot properties and Zendesk
	// tickets and fields that the examples use.
	Demo bool
	// SheetsQuotas overrides the Sheets per-minute quotas; nil keeps
	// Google's defaults (60 per user, 300 per project, reads and writes).
	SheetsQuotas *sheetsapi.Quotas
	// Logger receives the emulators' logs.
	Logger *slog.Logger
}

// Sandbox is the three emulators and the page.
type Sandbox struct {
	sheets  *sheetsapi.Server
	hubspot *hubspotapi.Server
	zendesk *zendeskapi.Server
	mux     *http.ServeMux
}

// FaultTargets lists the emulators faults can be set for.
var FaultTargets = []string{"sheets", "hubspot", "zendesk"}

// New starts the emulators.
func New(o Options) (*Sandbox, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	for k := range o.Faults {
		if !contains(FaultTargets, k) {
			return nil, fmt.Errorf("faults for %q: want one of %s", k, strings.Join(FaultTargets, ", "))
		}
	}
	so := sheetsapi.Options{Logger: o.Logger.With("emulator", "sheets"), Faults: fault.New(o.Faults["sheets"]), Quotas: o.SheetsQuotas}
	if o.Dir != "" {
		so.SavePath = filepath.Join(o.Dir, "sheets.json")
	}
	sheets, err := sheetsapi.Open(so)
	if err != nil {
		return nil, fmt.Errorf("sheets emulator: %w", err)
	}
	ho := hubspotapi.Options{Faults: fault.New(o.Faults["hubspot"])}
	zo := zendeskapi.Options{Subdomain: "sandbox", Faults: fault.New(o.Faults["zendesk"])}
	if o.Demo {
		ho.ContactProperties = demoHubSpotProperties
		zo.Fields = demoZendeskFields
		zo.Tickets = demoTickets()
	}
	s := &Sandbox{
		sheets:  sheets,
		hubspot: hubspotapi.New(ho),
		zendesk: zendeskapi.New(zo),
		mux:     http.NewServeMux(),
	}
	if o.Demo {
		if _, ok := s.sheets.SheetID(DemoSpreadsheetID, "Sheet1"); !ok {
			_ = s.sheets.CreateSpreadsheetWithID(DemoSpreadsheetID, "Survey responses (sandbox)", "Sheet1")
		}
	}
	s.sheets.Register(s.mux)
	s.mux.Handle("/crm/", s.hubspot.Handler())
	s.mux.Handle("/api/v2/", s.zendesk.Handler())
	s.mux.Handle("/{$}", s.page())
	s.mux.HandleFunc("GET /tables", s.tablesFragment)
	return s, nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Handler serves every emulator and the page.
func (s *Sandbox) Handler() http.Handler { return s.mux }

// Sheets returns the Google Sheets emulator.
func (s *Sandbox) Sheets() *sheetsapi.Server { return s.sheets }

// HubSpot returns the HubSpot emulator.
func (s *Sandbox) HubSpot() *hubspotapi.Server { return s.hubspot }

// Zendesk returns the Zendesk emulator.
func (s *Sandbox) Zendesk() *zendeskapi.Server { return s.zendesk }

// Close saves the Sheets data (when a directory was given) and stops.
func (s *Sandbox) Close() error { return s.sheets.Close() }

// Tables returns every emulator's tables, for the page and for printing.
func (s *Sandbox) Tables() []view.Table {
	var out []view.Table
	for _, src := range []view.Source{s.sheets, s.hubspot, s.zendesk} {
		out = append(out, src.Tables()...)
	}
	return out
}

// groups orders tables by group, keeping each group's own order.
func groups(tables []view.Table) []tableGroup {
	idx := map[string]int{}
	var out []tableGroup
	for _, t := range tables {
		i, ok := idx[t.Group]
		if !ok {
			i = len(out)
			idx[t.Group] = i
			out = append(out, tableGroup{Name: t.Group})
		}
		out[i].Tables = append(out[i].Tables, t)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	return out
}

type tableGroup struct {
	Name   string
	Tables []view.Table
}

var demoHubSpotProperties = []hubspotapi.Property{
	{Name: "last_csat"}, {Name: "last_csat_comment"}, {Name: "last_nps"}, {Name: "last_nps_comment"},
	{Name: "last_survey_at"}, {Name: "survey_response_id", Unique: true},
}

var demoZendeskFields = []zendeskapi.Field{
	{ID: 360001, Title: "NPS score", Type: zendeskapi.FieldInteger},
	{ID: 360002, Title: "NPS category", Type: zendeskapi.FieldTagger, Tags: []string{"promoter", "passive", "detractor"}},
	{ID: 360003, Title: "CSAT score", Type: zendeskapi.FieldInteger},
	{ID: 360004, Title: "Survey comment", Type: zendeskapi.FieldText},
}

func demoTickets() []zendeskapi.NewTicket {
	var out []zendeskapi.NewTicket
	for i := 1; i <= 50; i++ {
		out = append(out, zendeskapi.NewTicket{
			Subject:        fmt.Sprintf("Order question #%d", 1000+i),
			Description:    "Where is my order?",
			Status:         "solved",
			RequesterEmail: fmt.Sprintf("customer%02d@example.com", i),
		})
	}
	return out
}
