// Package httppoll is the source that polls a survey tool's JSON API on an
// interval: items at a path, a key at a path, an incremental cursor sent as
// a query parameter, and pagination by next-page token, next link or page
// number.
//
// The cursor advances only in the transaction that stores the last page of a
// poll, so a crash mid-poll re-reads from the old cursor: the responses
// already stored are duplicates, and nothing is skipped.
package httppoll

import (
	"context"
	_ "embed"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/mapping"
	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

//go:embed sample.yaml
var sample string

func init() {
	connectors.RegisterSource(connectors.SourceSpec{
		Type:    "http_poll",
		Summary: "A JSON API polled on an interval with an incremental cursor and pagination.",
		Sample:  sample,
		Config:  func() connectors.Config { return DefaultConfig() },
		New: func(name string, cfg connectors.Config, deps connectors.Deps) (connectors.Source, error) {
			return New(name, cfg.(*Config), deps)
		},
	})
}

// Config configures a polled API.
type Config struct {
	// URL is the endpoint to GET, such as https://api.delighted.com/v1/survey_responses.json.
	URL string `yaml:"url"`
	// Interval is the time between polls. Default 5m.
	Interval time.Duration `yaml:"interval"`
	// Auth adds credentials to every request.
	Auth connectors.AuthConfig `yaml:"auth"`
	// Headers are added to every request (plain text).
	Headers map[string]string `yaml:"headers"`
	// Query parameters sent on every request, such as per_page: "100".
	Query map[string]string `yaml:"query"`
	// Items is the path of the array of responses in each answer, such as
	// items or data.responses; empty means the answer is the array.
	Items string `yaml:"items"`
	// Cursor makes polls incremental.
	Cursor Cursor `yaml:"cursor"`
	// Pagination follows further pages within a poll.
	Pagination Pagination `yaml:"pagination"`
	// MaxPages bounds the pages read in one poll. Default 1000.
	MaxPages int `yaml:"max_pages"`
	// Timeout bounds one request. Default 30s.
	Timeout time.Duration `yaml:"timeout"`
	// RateLimit paces requests.
	RateLimit RateLimit `yaml:"rate_limit"`
	// Backfill names the API's date filters, used by surveysync backfill.
	Backfill Window `yaml:"backfill"`
	// AllowPrivateNetwork lets the URL's name resolve to an internal
	// address (loopback, a private network, link-local, carrier-grade NAT),
	// for a survey tool on the operator's own network. Without it such a
	// connection is refused when it is made. A URL written with an address,
	// or with localhost, needs no such setting. Cloud metadata addresses
	// stay refused.
	AllowPrivateNetwork bool `yaml:"allow_private_network"`

	connectors.ResponseConfig `yaml:",inline"`
}

// Cursor is an incremental cursor: the newest value of Field seen is saved
// and sent as Param on the next poll.
type Cursor struct {
	// Param is the query parameter, such as since or updated_since.
	Param string `yaml:"param"`
	// Field is the item field whose newest value is kept, such as updated_at.
	Field string `yaml:"field"`
	// Initial is sent on the very first poll; empty sends nothing.
	Initial string `yaml:"initial"`
}

// Pagination follows pages within one poll.
type Pagination struct {
	// Type is none, token, link or page. Default none.
	Type string `yaml:"type"`
	// TokenField is the answer path of the next-page token (type token),
	// such as paging.next.after.
	TokenField string `yaml:"token_field"`
	// TokenParam is the query parameter the token is sent in (type token).
	TokenParam string `yaml:"token_param"`
	// LinkField is the answer path of the next page's URL (type link); empty
	// reads the Link header's rel="next".
	LinkField string `yaml:"link_field"`
	// PageParam is the page-number parameter (type page), such as page.
	PageParam string `yaml:"page_param"`
	// FirstPage is the first page number (type page). Default 1.
	FirstPage int `yaml:"first_page"`
}

// RateLimit is a request budget.
type RateLimit struct {
	Requests int           `yaml:"requests"`
	Per      time.Duration `yaml:"per"`
}

// Window names the API's date filters for backfills.
type Window struct {
	// SinceParam and UntilParam are the query parameters of the window.
	SinceParam string `yaml:"since_param"`
	UntilParam string `yaml:"until_param"`
	// Format is how times are written: unix (seconds) or rfc3339. Default rfc3339.
	Format string `yaml:"format"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() *Config {
	return &Config{Interval: 5 * time.Minute, MaxPages: 1000, Timeout: 30 * time.Second, Pagination: Pagination{Type: "none", FirstPage: 1}}
}

// Validate checks the configuration without I/O.
func (c *Config) Validate() error {
	var errs []error
	u, err := url.Parse(c.URL)
	if c.URL == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		errs = append(errs, fmt.Errorf("url: %q is not an http(s) URL", c.URL))
	} else if u.User != nil {
		errs = append(errs, errors.New("url: must not carry credentials; use auth with a secret reference"))
	}
	if c.Interval < time.Second {
		errs = append(errs, errors.New("interval: must be at least 1s"))
	}
	if err := c.Auth.Validate(); err != nil {
		errs = append(errs, err)
	}
	for k := range c.Headers {
		if strings.EqualFold(k, "Authorization") {
			errs = append(errs, errors.New("headers: put Authorization under auth, as a secret reference"))
		}
	}
	if (c.Cursor.Param == "") != (c.Cursor.Field == "") {
		errs = append(errs, errors.New("cursor: set both param and field, or neither"))
	}
	switch c.Pagination.Type {
	case "", "none":
	case "token":
		if c.Pagination.TokenField == "" || c.Pagination.TokenParam == "" {
			errs = append(errs, errors.New("pagination: type token needs token_field and token_param"))
		}
	case "link":
	case "page":
		if c.Pagination.PageParam == "" {
			errs = append(errs, errors.New("pagination: type page needs page_param"))
		}
	default:
		errs = append(errs, fmt.Errorf("pagination: type %q: want none, token, link or page", c.Pagination.Type))
	}
	if c.MaxPages < 1 {
		errs = append(errs, errors.New("max_pages: must be at least 1"))
	}
	if c.Timeout <= 0 {
		errs = append(errs, errors.New("timeout: must be positive"))
	}
	if (c.RateLimit.Requests > 0) != (c.RateLimit.Per > 0) {
		errs = append(errs, errors.New("rate_limit: set both requests and per"))
	}
	switch c.Backfill.Format {
	case "", "rfc3339", "unix":
	default:
		errs = append(errs, fmt.Errorf("backfill.format: %q: want rfc3339 or unix", c.Backfill.Format))
	}
	for key, p := range map[string]string{"items": c.Items, "cursor.field": c.Cursor.Field, "pagination.token_field": c.Pagination.TokenField, "pagination.link_field": c.Pagination.LinkField} {
		if p != "" {
			if _, err := mapping.CompileExpr(connectors.ExprText(p), config.Pos{}); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", key, err))
			}
		}
	}
	if err := c.ResponseConfig.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Source is a polled API.
type Source struct {
	name   string
	cfg    *Config
	base   *url.URL
	client *http.Client
	x      *connectors.Extractor
	items  *mapping.Expr
	cursor *mapping.Expr
	token  *mapping.Expr
	link   *mapping.Expr
	log    *slog.Logger
	now    func() time.Time
}

var (
	_ connectors.Source       = (*Source)(nil)
	_ connectors.PolicySource = (*Source)(nil)
	_ connectors.Backfiller   = (*Source)(nil)
)

func compilePath(p string) *mapping.Expr {
	if p == "" {
		return nil
	}
	e, _ := mapping.CompileExpr(connectors.ExprText(p), config.Pos{})
	return e
}

// New builds the source; it resolves the secrets.
func New(name string, cfg *Config, deps connectors.Deps) (*Source, error) {
	base, err := url.Parse(cfg.URL)
	if err != nil {
		return nil, err
	}
	h := http.Header{}
	for k, v := range cfg.Headers {
		h.Set(k, v)
	}
	if err := cfg.Auth.Apply(h); err != nil {
		return nil, err
	}
	h.Set("Accept", "application/json")
	bucket := deps.Clients.Bucket("poll:"+name, cfg.RateLimit.Requests, cfg.RateLimit.Per, 1)
	x, err := cfg.Extractor()
	if err != nil {
		return nil, err
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	client := deps.Clients.New(connectors.ClientOptions{
		Name: name, Timeout: cfg.Timeout, Bucket: bucket, Header: h, RetryMax: 4,
		AllowHosts: connectors.URLHosts(cfg.URL), AllowPrivate: cfg.AllowPrivateNetwork,
	})
	return &Source{
		name: name, cfg: cfg, base: base,
		client: client,
		x:      x,
		items:  compilePath(cfg.Items), cursor: compilePath(cfg.Cursor.Field),
		token: compilePath(cfg.Pagination.TokenField), link: compilePath(cfg.Pagination.LinkField),
		log: log, now: deps.Clock(),
	}, nil
}

// UpdatePolicy returns how updates of stored responses are treated.
func (s *Source) UpdatePolicy() store.UpdatePolicy { return s.cfg.UpdatePolicy() }

// Close releases idle connections.
func (s *Source) Close() error {
	s.client.CloseIdleConnections()
	return nil
}

// Run polls on the interval until ctx ends. A failed poll is logged and
// retried at the next interval; the cursor is untouched by it.
func (s *Source) Run(ctx context.Context, sink connectors.Sink) error {
	for {
		rep, err := s.Poll(ctx, sink, nil, nil)
		switch {
		case ctx.Err() != nil:
			return nil
		case err != nil:
			s.log.Error("poll failed; retrying at the next interval", "err", err)
		case rep.Inserted+rep.Updated > 0:
			s.log.Info("poll ingested responses", "inserted", rep.Inserted, "updated", rep.Updated, "duplicates", rep.Duplicates)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(s.cfg.Interval):
		}
	}
}

// Backfill polls the window with the API's date filters, through every
// page, leaving the live cursor untouched.
func (s *Source) Backfill(ctx context.Context, sink connectors.Sink, req connectors.BackfillRequest, progress func(read int)) error {
	if len(req.Files) > 0 {
		return errors.New("an http_poll source reads its API; files cannot be given")
	}
	read := 0
	_, err := s.Poll(ctx, sink, &BackfillWindow{Since: req.Since, Until: req.Until}, func(_ int, fetched int, _ connectors.IngestReport) {
		read += fetched
		if progress != nil {
			progress(read)
		}
	})
	return err
}

// BackfillWindow bounds a backfill poll.
type BackfillWindow struct {
	Since, Until time.Time
}

// PageFunc receives each page's counts during a poll.
type PageFunc func(page int, fetched int, rep connectors.IngestReport)

// Poll reads every page once and ingests what it finds. With a window
// (backfill) the saved cursor is neither used nor advanced and the API's
// date filters are sent instead.
func (s *Source) Poll(ctx context.Context, sink connectors.Sink, window *BackfillWindow, onPage PageFunc) (connectors.IngestReport, error) {
	var total connectors.IngestReport
	q := s.base.Query()
	for k, v := range s.cfg.Query {
		q.Set(k, v)
	}
	var cursor string
	if window == nil && s.cfg.Cursor.Param != "" {
		saved, ok, err := sink.State(ctx, "cursor")
		if err != nil {
			return total, err
		}
		cursor = s.cfg.Cursor.Initial
		if ok {
			cursor = saved
		}
		if cursor != "" {
			q.Set(s.cfg.Cursor.Param, cursor)
		}
	}
	if window != nil {
		if err := s.applyWindow(q, window); err != nil {
			return total, err
		}
	}
	newest := cursor
	next := *s.base
	next.RawQuery = q.Encode()
	page := s.cfg.Pagination.FirstPage
	if s.cfg.Pagination.Type == "page" {
		q.Set(s.cfg.Pagination.PageParam, strconv.Itoa(page))
		next.RawQuery = q.Encode()
	}
	for n := 1; ; n++ {
		if n > s.cfg.MaxPages {
			// The cursor only advances with a complete poll (an API that
			// lists newest first would otherwise skip what was not read), so
			// a poll cut short reads the same pages again next time.
			s.log.Warn("stopped at max_pages before the last page; the cursor is not advanced, so raise max_pages or narrow the query (per_page, a filter)", "max_pages", s.cfg.MaxPages)
			break
		}
		body, hdr, err := s.get(ctx, next.String())
		if err != nil {
			return total, err
		}
		items, err := s.itemsOf(body)
		if err != nil {
			return total, err
		}
		responses, rejects, top := s.extract(items, n)
		if window != nil {
			// The API's filter may use another time than the submission
			// time the window is about; keep exactly the window.
			req := connectors.BackfillRequest{Since: window.Since, Until: window.Until}
			kept := responses[:0]
			for _, r := range responses {
				if req.InWindow(r.SubmittedAt) {
					kept = append(kept, r)
				}
			}
			responses = kept
		}
		if s.cursor != nil && newer(top, newest) {
			newest = top
		}
		if len(rejects) > 0 {
			if err := sink.Reject(ctx, rejects); err != nil {
				return total, err
			}
		}
		more, nextURL, err := s.nextPage(body, hdr, q, &page, len(items))
		if err != nil {
			return total, err
		}
		var state []store.SourceState
		if !more && window == nil && newest != "" && newest != cursor {
			state = []store.SourceState{{Name: "cursor", Value: newest}}
		}
		if len(responses) > 0 || len(state) > 0 {
			rep, err := sink.Ingest(ctx, responses, state)
			if err != nil {
				return total, err
			}
			total.Add(rep)
		}
		if onPage != nil {
			onPage(n, len(items), total)
		}
		if !more {
			break
		}
		next = *nextURL
	}
	return total, nil
}

func (s *Source) applyWindow(q url.Values, w *BackfillWindow) error {
	b := s.cfg.Backfill
	if b.SinceParam == "" && b.UntilParam == "" {
		return errors.New("this source has no backfill.since_param / until_param; set them to the API's date filters")
	}
	format := func(t time.Time) string {
		if b.Format == "unix" {
			return strconv.FormatInt(t.Unix(), 10)
		}
		return t.UTC().Format(time.RFC3339)
	}
	if b.SinceParam != "" && !w.Since.IsZero() {
		q.Set(b.SinceParam, format(w.Since))
	}
	if b.UntilParam != "" && !w.Until.IsZero() {
		q.Set(b.UntilParam, format(w.Until))
	}
	return nil
}

// get performs one GET and returns the decoded answer.
func (s *Source) get(ctx context.Context, u string) (any, http.Header, error) {
	req, err := http.NewRequestWithContext(connectors.SafeRead(ctx), http.MethodGet, u, nil)
	if err != nil {
		return nil, nil, err
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", redactURL(u), err)
	}
	data := connectors.ReadBody(resp, 64<<20)
	if resp.StatusCode/100 != 2 {
		return nil, nil, fmt.Errorf("GET %s: %d %s", redactURL(u), resp.StatusCode, connectors.Snippet(data))
	}
	v, err := decodeJSON(data)
	if err != nil {
		return nil, nil, fmt.Errorf("GET %s: %w", redactURL(u), err)
	}
	return v, resp.Header, nil
}

func redactURL(u string) string {
	p, err := url.Parse(u)
	if err != nil {
		return "the configured URL"
	}
	p.RawQuery = ""
	return p.String()
}

func decodeJSON(data []byte) (any, error) {
	dec := json.NewDecoder(strings.NewReader(string(data)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, fmt.Errorf("the answer is not JSON: %w", err)
	}
	return v, nil
}

func (s *Source) eval(e *mapping.Expr, v any) (any, error) {
	m, ok := v.(map[string]any)
	if !ok {
		return nil, errors.New("the answer is not a JSON object")
	}
	return e.Eval(&mapping.Input{Fields: m})
}

func (s *Source) itemsOf(body any) ([]any, error) {
	v := body
	if s.items != nil {
		var err error
		if v, err = s.eval(s.items, body); err != nil {
			return nil, fmt.Errorf("items: %w", err)
		}
	}
	if v == nil {
		return nil, nil
	}
	list, ok := v.([]any)
	if !ok {
		return nil, fmt.Errorf("items: expected a list of responses at %q", s.cfg.Items)
	}
	return list, nil
}

// extract turns the items of the nth page of a poll into responses, and
// returns the newest cursor value.
func (s *Source) extract(items []any, page int) ([]survey.Response, []store.Rejected, string) {
	now := s.now()
	var (
		out     []survey.Response
		rejects []store.Rejected
		top     string
	)
	// Items are numbered within their page, so the page is part of where a
	// reject came from; the query is left out, as in errors.
	ref := func(i int) string { return fmt.Sprintf("%s page %d item %d", redactURL(s.cfg.URL), page, i) }
	for i, it := range items {
		m, ok := it.(map[string]any)
		if !ok {
			raw, _ := json.Marshal(it)
			rejects = append(rejects, store.Rejected{Source: s.name, Ref: ref(i), Reason: "item is not a JSON object", Payload: raw, At: now})
			continue
		}
		if s.cursor != nil {
			if v, err := s.cursor.Eval(&mapping.Input{Fields: m}); err == nil {
				if c := cursorText(v); newer(c, top) {
					top = c
				}
			}
		}
		r, err := s.x.Extract(s.name, m, nil, now)
		switch {
		case errors.Is(err, connectors.ErrNotAccepted):
		case err != nil:
			raw, _ := json.Marshal(m)
			rejects = append(rejects, store.Rejected{Source: s.name, Ref: ref(i), Reason: err.Error(), Payload: raw, At: now})
		default:
			out = append(out, r)
		}
	}
	return out, rejects, top
}

func cursorText(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return t.String()
	case nil:
		return ""
	default:
		return fmt.Sprint(t)
	}
}

// newer reports whether cursor value a is after b: numerically when both
// are numbers, else as text (ISO 8601 times in one format sort as text).
func newer(a, b string) bool {
	if a == "" {
		return false
	}
	if b == "" {
		return true
	}
	fa, ea := strconv.ParseFloat(a, 64)
	fb, eb := strconv.ParseFloat(b, 64)
	if ea == nil && eb == nil {
		return fa > fb
	}
	return a > b
}

// nextPage works out whether another page follows and its URL.
func (s *Source) nextPage(body any, hdr http.Header, q url.Values, page *int, n int) (bool, *url.URL, error) {
	switch s.cfg.Pagination.Type {
	case "token":
		v, err := s.eval(s.token, body)
		tok := cursorText(v)
		if err != nil || tok == "" || n == 0 {
			return false, nil, nil
		}
		q.Set(s.cfg.Pagination.TokenParam, tok)
		u := *s.base
		u.RawQuery = q.Encode()
		return true, &u, nil
	case "page":
		if n == 0 {
			return false, nil, nil
		}
		*page++
		q.Set(s.cfg.Pagination.PageParam, strconv.Itoa(*page))
		u := *s.base
		u.RawQuery = q.Encode()
		return true, &u, nil
	case "link":
		var next string
		if s.link != nil {
			v, err := s.eval(s.link, body)
			if err == nil {
				next = cursorText(v)
			}
		} else {
			next = linkNext(hdr.Get("Link"))
		}
		if next == "" || n == 0 {
			return false, nil, nil
		}
		u, err := s.base.Parse(next)
		if err != nil {
			return false, nil, fmt.Errorf("next link %q: %w", next, err)
		}
		// A link from the answer must not send credentials elsewhere.
		if u.Scheme != s.base.Scheme || u.Host != s.base.Host {
			return false, nil, fmt.Errorf("next link points to %s://%s, not to the configured %s://%s; refusing to follow it", u.Scheme, u.Host, s.base.Scheme, s.base.Host)
		}
		return true, u, nil
	}
	return false, nil, nil
}

// linkNext returns the rel="next" URL of a Link header.
func linkNext(h string) string {
	for _, part := range strings.Split(h, ",") {
		segs := strings.Split(part, ";")
		if len(segs) < 2 {
			continue
		}
		target := strings.Trim(strings.TrimSpace(segs[0]), "<>")
		for _, p := range segs[1:] {
			p = strings.ReplaceAll(strings.TrimSpace(p), " ", "")
			if p == `rel="next"` || p == "rel=next" {
				return target
			}
		}
	}
	return ""
}
