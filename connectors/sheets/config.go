package sheets

import (
	"errors"
	"fmt"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/mapping"
)

// Defaults of the configuration.
const (
	// DefaultScope lets the credential read and write every spreadsheet it
	// can see. drive.file is the least-privilege choice (see README.md).
	DefaultScope = "https://www.googleapis.com/auth/spreadsheets"
	// DefaultEndpoint is Google's Sheets API.
	DefaultEndpoint = "https://sheets.googleapis.com/"
	// DefaultBatchRows is the most rows one append carries.
	DefaultBatchRows = 5000
	// DefaultBatchBytes bounds one request's body, as Google recommends.
	DefaultBatchBytes = 2 << 20
	// GoogleCellLimit is Google's limit of cells per workbook, all tabs
	// together, empty grid cells included.
	GoogleCellLimit = 10_000_000
	// DefaultCellLimit is where delivery pauses: 95 % of Google's limit,
	// leaving room for the people and tools that edit the same spreadsheet
	// between two of surveysync's reads of its size.
	DefaultCellLimit = GoogleCellLimit / 20 * 19
	// DefaultCellWarn is the share of the cell limit at which a warning is
	// logged.
	DefaultCellWarn = 0.9
	// DefaultTimeout bounds one attempt; Google gives up on a request after
	// 180 seconds.
	DefaultTimeout = 120 * time.Second
	// DefaultReconcileAfter is how long an append with an unknown outcome
	// may still be applied by Google (its processing limit is 180 s).
	DefaultReconcileAfter = 3 * time.Minute
	// DefaultPerMinute is Google's per-user quota of reads and of writes.
	DefaultPerMinute = 60
	// MaxColumns is the most columns a sheet holds (column ZZZ).
	MaxColumns = 18278
)

// Config configures a Google Sheets destination.
type Config struct {
	// Spreadsheet is the spreadsheet's ID or its full URL, such as
	// https://docs.google.com/spreadsheets/d/1AbC.../edit.
	Spreadsheet string `yaml:"spreadsheet"`
	// Credentials is a secret reference whose value is a service-account
	// key (JSON) or an OAuth2 authorized-user file (JSON).
	Credentials config.Secret `yaml:"credentials"`
	// ADC uses Application Default Credentials instead
	// (GOOGLE_APPLICATION_CREDENTIALS, gcloud's login, the metadata server).
	ADC bool `yaml:"adc"`
	// Scopes are the OAuth2 scopes requested. Default: the spreadsheets scope.
	Scopes []string `yaml:"scopes"`
	// Endpoint overrides the API's base URL, for a proxy or the sandbox.
	// With an endpoint and no credentials, requests carry no authorization.
	Endpoint string `yaml:"endpoint"`
	// SheetID pins the tab by its numeric id (the gid in the tab's URL), for
	// every sync of this destination; by default the tab is found by the
	// mapping's sheet name and followed by id when renamed.
	SheetID *int64 `yaml:"sheet_id"`
	// Quota is the request budget of the credential, shared by every
	// destination that uses it.
	Quota Quota `yaml:"quota"`
	// BatchRows is the most rows one append carries. Default 5000.
	BatchRows int `yaml:"batch_rows"`
	// BatchBytes bounds one request's body; a batch is split into several
	// appends above it. Default 2MB.
	BatchBytes ByteSize `yaml:"batch_bytes"`
	// Dates is how dates are written when the mapping leaves it at its
	// default: serial (serial numbers with a date format) or text (ISO text).
	Dates string `yaml:"dates"`
	// LongText is what happens to text longer than a cell holds (50,000
	// characters): truncate (with a marker) or dead_letter.
	LongText string `yaml:"long_text"`
	// AppendMissingHeaders adds mapped headers missing from the tab at the
	// end of its header row, instead of pausing.
	AppendMissingHeaders bool `yaml:"append_missing_headers"`
	// CellLimit is the workbook size, in cells, that an append may not
	// exceed: the sync pauses before it would. Default 9,500,000 (95 % of
	// Google's 10,000,000); at most 10,000,000.
	CellLimit int64 `yaml:"cell_limit"`
	// CellWarn is the share of CellLimit at which a warning is logged once.
	// Default 0.9.
	CellWarn float64 `yaml:"cell_warn"`
	// Timeout bounds one request attempt. Default 120s.
	Timeout time.Duration `yaml:"timeout"`
	// ReconcileAfter is how long after sending an append whose outcome is
	// unknown the key column is trusted to show it: rows missing from the
	// column before then are checked again later, never re-sent. Default 3m.
	ReconcileAfter time.Duration `yaml:"reconcile_after"`
	// AllowPrivateNetwork lets the endpoint's and the credentials' token
	// URL's names resolve to internal addresses (loopback, a private
	// network, link-local, carrier-grade NAT), for a proxy on the operator's
	// own network. Without it such a connection is refused when it is made.
	// An endpoint written as an address, or as localhost, needs no such
	// setting. Cloud metadata addresses stay refused.
	AllowPrivateNetwork bool `yaml:"allow_private_network"`
}

// Quota is a per-minute request budget.
type Quota struct {
	// WritesPerMinute paces writes (appends, updates, batch updates).
	// Default 60; 0 turns pacing off.
	WritesPerMinute int `yaml:"writes_per_minute"`
	// ReadsPerMinute paces reads (gets). Default 60; 0 turns pacing off.
	ReadsPerMinute int `yaml:"reads_per_minute"`
}

// ByteSize is a size in bytes, written as a number or with a unit such as
// 512KB or 2MB (1KB = 1024 bytes).
type ByteSize int64

// UnmarshalText reads a size.
func (b *ByteSize) UnmarshalText(text []byte) error {
	s := strings.TrimSpace(strings.ToUpper(string(text)))
	mult := int64(1)
	for _, u := range []struct {
		suffix string
		mult   int64
	}{{"KIB", 1 << 10}, {"MIB", 1 << 20}, {"KB", 1 << 10}, {"MB", 1 << 20}, {"K", 1 << 10}, {"M", 1 << 20}, {"B", 1}} {
		if rest, ok := strings.CutSuffix(s, u.suffix); ok {
			s, mult = strings.TrimSpace(rest), u.mult
			break
		}
	}
	n, err := strconv.ParseFloat(strings.ReplaceAll(s, "_", ""), 64)
	if err != nil || n < 0 {
		return fmt.Errorf("%q is not a size such as 2MB or 512KB", string(text))
	}
	*b = ByteSize(n * float64(mult))
	return nil
}

// DefaultConfig returns the defaults.
func DefaultConfig() *Config {
	return &Config{
		Scopes:         []string{DefaultScope},
		Quota:          Quota{WritesPerMinute: DefaultPerMinute, ReadsPerMinute: DefaultPerMinute},
		BatchRows:      DefaultBatchRows,
		BatchBytes:     DefaultBatchBytes,
		Dates:          string(mapping.DatesSerial),
		LongText:       string(mapping.LongTextTruncate),
		CellLimit:      DefaultCellLimit,
		CellWarn:       DefaultCellWarn,
		Timeout:        DefaultTimeout,
		ReconcileAfter: DefaultReconcileAfter,
	}
}

// spreadsheetURL matches the /d/<id> part of a spreadsheet's URL.
var spreadsheetURL = regexp.MustCompile(`/spreadsheets/(?:u/\d+/)?d/([A-Za-z0-9_-]+)`)

// spreadsheetID matches a bare spreadsheet ID.
var spreadsheetID = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

// ParseSpreadsheet returns the spreadsheet ID of an ID or a spreadsheet URL.
func ParseSpreadsheet(s string) (string, error) {
	s = strings.TrimSpace(s)
	switch {
	case s == "":
		return "", errors.New("set the spreadsheet's ID or URL, such as https://docs.google.com/spreadsheets/d/1AbC.../edit")
	case spreadsheetID.MatchString(s):
		return s, nil
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") {
		return "", fmt.Errorf("%q is neither a spreadsheet ID nor a spreadsheet URL such as https://docs.google.com/spreadsheets/d/1AbC.../edit", s)
	}
	m := spreadsheetURL.FindStringSubmatch(u.Path)
	if m == nil {
		return "", fmt.Errorf("%q has no /spreadsheets/d/<ID> in its path; copy the URL from the browser's address bar while the spreadsheet is open", s)
	}
	return m[1], nil
}

// SpreadsheetID returns the configured spreadsheet's ID.
func (c *Config) SpreadsheetID() string {
	id, _ := ParseSpreadsheet(c.Spreadsheet)
	return id
}

// Validate checks the configuration without I/O.
func (c *Config) Validate() error {
	var errs []error
	if _, err := ParseSpreadsheet(c.Spreadsheet); err != nil {
		errs = append(errs, fmt.Errorf("spreadsheet: %w", err))
	}
	switch {
	case c.Credentials.IsSet() && c.ADC:
		errs = append(errs, errors.New("credentials: set either credentials or adc: true, not both"))
	case !c.Credentials.IsSet() && !c.ADC && c.Endpoint == "":
		errs = append(errs, errors.New("credentials: set credentials to a service-account key or an authorized-user file (a secret reference such as \"${file:./sa.json}\"), or adc: true for Application Default Credentials"))
	}
	if len(c.Scopes) == 0 {
		errs = append(errs, fmt.Errorf("scopes: list at least one scope, such as %s", DefaultScope))
	}
	for _, s := range c.Scopes {
		if !strings.HasPrefix(s, "https://www.googleapis.com/auth/") {
			errs = append(errs, fmt.Errorf("scopes: %q is not a Google OAuth scope such as %s or https://www.googleapis.com/auth/drive.file", s, DefaultScope))
		}
	}
	if c.Endpoint != "" {
		u, err := url.Parse(c.Endpoint)
		switch {
		case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
			errs = append(errs, fmt.Errorf("endpoint: %q is not an http(s) URL", c.Endpoint))
		case u.User != nil:
			errs = append(errs, errors.New("endpoint: must not carry credentials"))
		case u.RawQuery != "" || u.Fragment != "":
			errs = append(errs, errors.New("endpoint: must not carry a query or fragment"))
		}
	}
	if c.SheetID != nil && *c.SheetID < 0 {
		errs = append(errs, errors.New("sheet_id: must be 0 or more (the number after gid= in the tab's URL)"))
	}
	if c.Quota.WritesPerMinute < 0 || c.Quota.ReadsPerMinute < 0 {
		errs = append(errs, errors.New("quota: writes_per_minute and reads_per_minute must be 0 (no pacing) or more"))
	}
	if c.BatchRows < 1 {
		errs = append(errs, errors.New("batch_rows: must be at least 1"))
	}
	if c.BatchBytes < 1<<10 {
		errs = append(errs, errors.New("batch_bytes: must be at least 1KB"))
	}
	switch mapping.DateMode(c.Dates) {
	case mapping.DatesSerial, mapping.DatesText:
	default:
		errs = append(errs, fmt.Errorf("dates: %q is not serial or text", c.Dates))
	}
	switch mapping.LongTextMode(c.LongText) {
	case mapping.LongTextTruncate, mapping.LongTextDeadLetter:
	default:
		errs = append(errs, fmt.Errorf("long_text: %q is not truncate or dead_letter", c.LongText))
	}
	if c.CellLimit < 1 || c.CellLimit > GoogleCellLimit {
		errs = append(errs, errors.New("cell_limit: must be positive and at most 10000000, Google's limit"))
	}
	if c.CellWarn <= 0 || c.CellWarn > 1 {
		errs = append(errs, errors.New("cell_warn: must be a share above 0 and at most 1, such as 0.9"))
	}
	if c.Timeout <= 0 {
		errs = append(errs, errors.New("timeout: must be positive"))
	}
	return errors.Join(errs...)
}

// endpoint returns the base URL with a trailing slash.
func (c *Config) endpoint() string {
	e := c.Endpoint
	if e == "" {
		e = DefaultEndpoint
	}
	if !strings.HasSuffix(e, "/") {
		e += "/"
	}
	return e
}
