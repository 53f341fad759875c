package httppoll_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/connectors"
	_ "github.com/surveysync/surveysync/connectors/all"
	"github.com/surveysync/surveysync/connectors/httppoll"
	"github.com/surveysync/surveysync/engine"
	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

// item is one survey response as the fake API holds it.
type item map[string]any

func response(id, updated string) item {
	return item{"id": id, "updated_at": updated, "rating": 5}
}

// fakeAPI is a survey tool's list endpoint: items newest last, filtered by
// since (inclusive, as many APIs do) and by the window parameters from and
// to, in pages of pageSize, paginated as paging says.
type fakeAPI struct {
	t        *testing.T
	srv      *httptest.Server
	paging   string // none, token, link, link_field, page
	pageSize int
	// timeFormat is how from and to are written: unix or rfc3339.
	timeFormat string

	mu       sync.Mutex
	items    []item
	requests []*http.Request
	// broken, when set, decides which requests get a garbled answer.
	broken func(r *http.Request) bool
	// extra is sent at the end of every page, such as items that are not
	// responses.
	extra []any
}

func newFakeAPI(t *testing.T, paging string, pageSize int) *fakeAPI {
	a := &fakeAPI{t: t, paging: paging, pageSize: pageSize, timeFormat: "rfc3339"}
	a.srv = httptest.NewServer(a)
	t.Cleanup(a.srv.Close)
	return a
}

func (a *fakeAPI) url() string { return a.srv.URL + "/v1/responses" }

func (a *fakeAPI) add(items ...item) {
	a.mu.Lock()
	a.items = append(a.items, items...)
	a.mu.Unlock()
}

func (a *fakeAPI) log() []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	for _, r := range a.requests {
		out = append(out, r.URL.RequestURI())
	}
	return out
}

func (a *fakeAPI) reset() {
	a.mu.Lock()
	a.requests = nil
	a.mu.Unlock()
}

func (a *fakeAPI) parseTime(s string) time.Time {
	if a.timeFormat == "unix" {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			a.t.Errorf("window parameter %q is not Unix seconds", s)
		}
		return time.Unix(n, 0)
	}
	tm, err := time.Parse(time.RFC3339, s)
	if err != nil {
		a.t.Errorf("window parameter %q is not RFC 3339", s)
	}
	return tm
}

func (a *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.requests = append(a.requests, r)
	if r.URL.Path != "/v1/responses" {
		http.NotFound(w, r)
		return
	}
	if a.broken != nil && a.broken(r) {
		w.Write([]byte(`{"data": [`))
		return
	}
	q := r.URL.Query()
	var sel []item
	for _, it := range a.items {
		at := it["updated_at"].(string)
		if s := q.Get("since"); s != "" && at < s {
			continue
		}
		tm, _ := time.Parse(time.RFC3339, at)
		if s := q.Get("from"); s != "" && tm.Before(a.parseTime(s)) {
			continue
		}
		if s := q.Get("to"); s != "" && !tm.Before(a.parseTime(s)) {
			continue
		}
		sel = append(sel, it)
	}
	offset, size := 0, a.pageSize
	switch a.paging {
	case "none":
		size = len(sel)
	case "token":
		offset, _ = strconv.Atoi(q.Get("after"))
	case "link", "link_field":
		offset, _ = strconv.Atoi(q.Get("offset"))
	case "page":
		p, _ := strconv.Atoi(q.Get("page"))
		offset = (p - 1) * size
	}
	offset = min(max(offset, 0), len(sel))
	end := min(offset+size, len(sel))
	page := make([]any, 0, end-offset+len(a.extra))
	for _, it := range sel[offset:end] {
		page = append(page, it)
	}
	page = append(page, a.extra...)
	body := map[string]any{"data": page}
	if end < len(sel) {
		next := *r.URL
		nq := next.Query()
		nq.Set("offset", strconv.Itoa(end))
		next.RawQuery = nq.Encode()
		switch a.paging {
		case "token":
			body["paging"] = map[string]any{"next": map[string]any{"after": strconv.Itoa(end)}}
		case "link":
			w.Header().Set("Link", fmt.Sprintf(`<%s/v1/responses?page=0>; rel="prev", <%s%s>; rel="next"`, a.srv.URL, a.srv.URL, next.RequestURI()))
		case "link_field":
			body["links"] = map[string]any{"next": next.RequestURI()}
		}
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(body)
}

// ledger is an engine holding the ledger, running nothing, and a source
// built from the engine's compiled configuration.
type ledger struct {
	e    *engine.Engine
	sink connectors.Sink
	src  *httppoll.Source
}

// newLedger configures source "api" of type http_poll with settings (YAML
// lines indented by four spaces) and a sync to an http destination that is
// never dispatched to.
func newLedger(t *testing.T, settings string) *ledger {
	t.Helper()
	dir := t.TempDir()
	write := func(name, content string) {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write("token", "poll-secret-token")
	write("m.yaml", "request: {method: POST, path: /x, body: {k: \"{{ key }}\"}}\n")
	write("surveysync.yaml", `store: sqlite:./ledger.db
sources:
  api:
    type: http_poll
    auth: {bearer: "${file:./token}"}
`+settings+`
destinations:
  out: {type: http, endpoint: "http://127.0.0.1:1"}
syncs:
  - {name: s, source: api, mapping: m.yaml, to: out}
`)
	cfg, errs := config.Load(filepath.Join(dir, "surveysync.yaml"))
	if errs.Err() != nil {
		t.Fatal(errs)
	}
	plan, errs := engine.Compile(cfg)
	if errs.Err() != nil {
		t.Fatal(errs)
	}
	e, err := engine.New(context.Background(), plan, engine.Options{Parts: engine.Parts{NoHTTP: true, NoSources: true, NoDispatch: true, NoScores: true}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Close() })
	l := &ledger{e: e}
	l.sink, _ = e.Sink("api")
	l.src, err = httppoll.New("api", plan.Sources[0].Config.(*httppoll.Config), connectors.Deps{Clients: e.Clients()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.src.Close() })
	return l
}

func (l *ledger) poll(t *testing.T) connectors.IngestReport {
	t.Helper()
	rep, err := l.src.Poll(context.Background(), l.sink, nil, nil)
	if err != nil {
		t.Fatalf("Poll: %v", err)
	}
	return rep
}

func (l *ledger) cursor(t *testing.T) string {
	t.Helper()
	v, ok, err := l.sink.State(context.Background(), "cursor")
	if err != nil {
		t.Fatal(err)
	}
	if !ok {
		return "(none)"
	}
	return v
}

func (l *ledger) keys(t *testing.T) []string {
	t.Helper()
	var out []string
	err := l.e.Store().ScanResponses(context.Background(), "api", time.Time{}, time.Time{}, func(r *survey.Response) error {
		out = append(out, r.Key)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

func (l *ledger) planned(t *testing.T) int64 {
	t.Helper()
	st, err := l.e.Store().Stats(context.Background(), time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	var n int64
	for _, s := range st.Syncs {
		n += s.Pending + s.Sending + s.Delivered
	}
	return n
}

var paginations = []struct {
	name, paging, settings string
}{
	{"no pagination", "none", "    pagination: {type: none}"},
	{"token", "token", "    pagination: {type: token, token_field: paging.next.after, token_param: after}"},
	{"link header", "link", "    pagination: {type: link}"},
	{"link field", "link_field", "    pagination: {type: link, link_field: links.next}"},
	{"page numbers", "page", "    pagination: {type: page, page_param: page, first_page: 1}"},
}

func pollSettings(api *fakeAPI, paging string) string {
	return fmt.Sprintf(`    url: %s
    items: data
    key: id
    submitted_at: updated_at
    cursor: {param: since, field: updated_at, initial: "2026-01-01T00:00:00Z"}
    query: {per_page: "2"}
%s`, api.url(), paging)
}

func TestPaginationAndCursor(t *testing.T) {
	t.Parallel()
	for _, pg := range paginations {
		t.Run(pg.name, func(t *testing.T) {
			t.Parallel()
			api := newFakeAPI(t, pg.paging, 2)
			api.add(
				response("r1", "2026-05-01T10:00:00Z"), response("r2", "2026-05-01T11:00:00Z"),
				response("r3", "2026-05-01T12:00:00Z"), response("r4", "2026-05-01T13:00:00Z"),
				response("r5", "2026-05-01T14:00:00Z"),
				response("old", "2025-12-31T23:00:00Z"), // before the initial cursor
			)
			l := newLedger(t, pollSettings(api, pg.settings))

			var pages []int
			rep, err := l.src.Poll(context.Background(), l.sink, nil, func(page, fetched int, _ connectors.IngestReport) {
				pages = append(pages, fetched)
			})
			if err != nil {
				t.Fatal(err)
			}
			if rep.Inserted != 5 {
				t.Errorf("first poll inserted %d, want 5", rep.Inserted)
			}
			wantPages := map[string][]int{"none": {5}, "page": {2, 2, 1, 0}}[pg.paging]
			if wantPages == nil {
				wantPages = []int{2, 2, 1}
			}
			if diff := cmp.Diff(wantPages, pages); diff != "" {
				t.Errorf("items per page (-want +got):\n%s", diff)
			}
			if got := l.cursor(t); got != "2026-05-01T14:00:00Z" {
				t.Errorf("cursor after the first poll = %q, want the newest updated_at", got)
			}
			for _, r := range api.requests {
				if r.URL.Query().Get("since") != "2026-01-01T00:00:00Z" || r.URL.Query().Get("per_page") != "2" {
					t.Errorf("first poll request %s does not carry the initial cursor and the query", r.URL.RequestURI())
				}
				if r.Header.Get("Authorization") != "Bearer poll-secret-token" || r.Header.Get("Accept") != "application/json" {
					t.Errorf("request %s has headers %v", r.URL.RequestURI(), r.Header)
				}
			}

			// The next poll starts at the saved cursor: the newest item
			// again (since is inclusive), as a duplicate.
			api.reset()
			rep = l.poll(t)
			if rep.Inserted != 0 || rep.Duplicates != 1 {
				t.Errorf("second poll: %+v, want only the boundary item as a duplicate", rep)
			}
			if got := api.log(); len(got) == 0 || !strings.Contains(got[0], "since=2026-05-01T14%3A00%3A00Z") {
				t.Errorf("second poll requests %q, want since= the saved cursor", got)
			}

			api.add(response("r6", "2026-05-02T09:00:00Z"), response("r7", "2026-05-02T10:00:00Z"))
			rep = l.poll(t)
			if rep.Inserted != 2 || rep.Duplicates != 1 {
				t.Errorf("third poll: %+v, want 2 inserted and 1 duplicate", rep)
			}
			if got := l.cursor(t); got != "2026-05-02T10:00:00Z" {
				t.Errorf("cursor = %q", got)
			}
			if diff := cmp.Diff([]string{"r1", "r2", "r3", "r4", "r5", "r6", "r7"}, l.keys(t)); diff != "" {
				t.Errorf("stored (-want +got):\n%s", diff)
			}
			if n := l.planned(t); n != 7 {
				t.Errorf("%d deliveries planned, want 7", n)
			}
		})
	}
}

// TestCursorIsSavedOnlyWithTheLastPage: a poll that fails on its second
// page leaves the cursor where it was, and the next poll reads everything
// from there again, storing nothing twice.
func TestCursorIsSavedOnlyWithTheLastPage(t *testing.T) {
	t.Parallel()
	for _, pg := range paginations[1:] {
		t.Run(pg.name, func(t *testing.T) {
			t.Parallel()
			api := newFakeAPI(t, pg.paging, 2)
			for i := range 5 {
				api.add(response(fmt.Sprintf("r%d", i+1), fmt.Sprintf("2026-05-01T1%d:00:00Z", i)))
			}
			l := newLedger(t, pollSettings(api, pg.settings))
			second := 0
			api.broken = func(*http.Request) bool { second++; return second == 2 }
			if _, err := l.src.Poll(context.Background(), l.sink, nil, nil); err == nil || !strings.Contains(err.Error(), "the answer is not JSON") {
				t.Fatalf("Poll = %v, want the second page's failure", err)
			}
			if got := l.cursor(t); got != "(none)" {
				t.Errorf("a failed poll saved the cursor %q", got)
			}
			if diff := cmp.Diff([]string{"r1", "r2"}, l.keys(t)); diff != "" {
				t.Errorf("stored before the failure (-want +got):\n%s", diff)
			}

			api.broken = nil
			api.reset()
			rep := l.poll(t)
			if rep.Inserted != 3 || rep.Duplicates != 2 {
				t.Errorf("next poll: %+v, want 3 inserted and the first page's 2 as duplicates", rep)
			}
			if got := api.log(); !strings.Contains(got[0], "since=2026-01-01") {
				t.Errorf("the next poll started at %s, want the initial cursor again", got[0])
			}
			if got := l.cursor(t); got != "2026-05-01T14:00:00Z" {
				t.Errorf("cursor = %q", got)
			}
			if n := l.planned(t); n != 5 {
				t.Errorf("%d deliveries planned, want 5 (none twice)", n)
			}
		})
	}
}

func TestNextLinkToAnotherHostIsRefused(t *testing.T) {
	t.Parallel()
	var elsewhere sync.WaitGroup
	evil := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		t.Errorf("a request with headers %v was sent to another host", r.Header)
		elsewhere.Done()
	}))
	defer evil.Close()
	tests := []struct {
		name, settings, next string
	}{
		{"header, other host", "    pagination: {type: link}", evil.URL + "/v1/responses?offset=2"},
		{"field, other host", "    pagination: {type: link, link_field: links.next}", evil.URL + "/steal"},
		{"field, protocol-relative", "    pagination: {type: link, link_field: links.next}", "//" + strings.TrimPrefix(evil.URL, "http://") + "/steal"},
		{"field, other scheme", "    pagination: {type: link, link_field: links.next}", "https://" + strings.TrimPrefix(evil.URL, "http://") + "/steal"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			var mu sync.Mutex
			calls := 0
			api := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				mu.Lock()
				calls++
				mu.Unlock()
				if strings.Contains(tc.settings, "link_field") {
					fmt.Fprintf(w, `{"data": [{"id": "a", "updated_at": "2026-05-01T10:00:00Z"}], "links": {"next": %q}}`, tc.next)
					return
				}
				w.Header().Set("Link", "<"+tc.next+`>; rel="next"`)
				fmt.Fprint(w, `{"data": [{"id": "a", "updated_at": "2026-05-01T10:00:00Z"}]}`)
			}))
			defer api.Close()
			l := newLedger(t, fmt.Sprintf("    url: %s/v1/responses\n    items: data\n    key: id\n    cursor: {param: since, field: updated_at}\n%s", api.URL, tc.settings))
			_, err := l.src.Poll(context.Background(), l.sink, nil, nil)
			if err == nil || !strings.Contains(err.Error(), "refusing to follow it") {
				t.Errorf("Poll = %v, want the link refused", err)
			}
			if calls != 1 {
				t.Errorf("the API saw %d requests, want 1", calls)
			}
			if got := l.cursor(t); got != "(none)" {
				t.Errorf("the cursor advanced to %q past a refused page", got)
			}
		})
	}
}

func TestRelativeNextLinkStaysOnTheHost(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, "link_field", 1)
	api.add(response("a", "2026-05-01T10:00:00Z"), response("b", "2026-05-01T11:00:00Z"))
	l := newLedger(t, pollSettings(api, "    pagination: {type: link, link_field: links.next}"))
	if rep := l.poll(t); rep.Inserted != 2 {
		t.Errorf("inserted %d, want 2", rep.Inserted)
	}
	for _, r := range api.requests {
		if r.Header.Get("Authorization") == "" {
			t.Errorf("request %s lost its credentials", r.URL)
		}
	}
}

func TestItemsThatAreNotResponsesAreRejected(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, "token", 2)
	api.add(response("a", "2026-05-01T10:00:00Z"), response("b", "2026-05-01T11:00:00Z"), response("c", "2026-05-01T12:00:00Z"))
	api.extra = []any{"text", 7, nil, map[string]any{"updated_at": "2026-05-01T12:30:00Z", "rating": 1}}
	l := newLedger(t, pollSettings(api, "    pagination: {type: token, token_field: paging.next.after, token_param: after}"))
	rep := l.poll(t)
	if rep.Inserted != 3 {
		t.Errorf("inserted %d, want the 3 good items", rep.Inserted)
	}
	rs, err := l.e.Store().Rejects(context.Background(), "api", 100)
	if err != nil {
		t.Fatal(err)
	}
	type rej struct{ Ref, Reason, Payload string }
	var got []rej
	for _, r := range rs {
		got = append(got, rej{r.Ref, r.Reason, string(r.Payload)})
	}
	keyMissing := "key: field id is missing from the response"
	want := []rej{
		{api.url() + " page 1 item 2", "item is not a JSON object", `"text"`},
		{api.url() + " page 1 item 3", "item is not a JSON object", "7"},
		{api.url() + " page 1 item 4", "item is not a JSON object", "null"},
		{api.url() + " page 1 item 5", keyMissing, `{"rating":1,"updated_at":"2026-05-01T12:30:00Z"}`},
		{api.url() + " page 2 item 1", "item is not a JSON object", `"text"`},
		{api.url() + " page 2 item 2", "item is not a JSON object", "7"},
		{api.url() + " page 2 item 3", "item is not a JSON object", "null"},
		{api.url() + " page 2 item 4", keyMissing, `{"rating":1,"updated_at":"2026-05-01T12:30:00Z"}`},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("rejects (-want +got):\n%s", diff)
	}
	// A keyless item's time still counts for the cursor: it was read.
	if got := l.cursor(t); got != "2026-05-01T12:30:00Z" {
		t.Errorf("cursor = %q", got)
	}
}

func TestAnswersThatAreNotAListFailThePoll(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, items, body, want string
	}{
		{"items not a list", "data", `{"data": {"id": 1}}`, `items: expected a list of responses at "data"`},
		{"answer not an object", "data", `[{"id": 1}]`, "items: the answer is not a JSON object"},
		{"bare object without items path", "", `{"id": 1}`, `items: expected a list of responses at ""`},
		{"not JSON", "", `<html>`, "the answer is not JSON"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, tc.body) }))
			defer srv.Close()
			items := ""
			if tc.items != "" {
				items = "    items: " + tc.items + "\n"
			}
			l := newLedger(t, fmt.Sprintf("    url: %s/list?api_version=2\n%s    key: id", srv.URL, items))
			_, err := l.src.Poll(context.Background(), l.sink, nil, nil)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("Poll = %v, want an error containing %q", err, tc.want)
			}
		})
	}
	// A missing items path (null) is an empty page.
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, `{"data": null}`) }))
	defer srv.Close()
	l := newLedger(t, fmt.Sprintf("    url: %s\n    items: data\n    key: id", srv.URL))
	if rep := l.poll(t); rep != (connectors.IngestReport{}) {
		t.Errorf("a null list ingested %+v", rep)
	}
}

func TestServerErrorsAndRefusals(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	count := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		count++
		n := count
		mu.Unlock()
		switch {
		case r.URL.Query().Get("fail") == "401":
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error": "bad token"}`)
		case n == 1:
			w.WriteHeader(http.StatusBadGateway)
		default:
			fmt.Fprint(w, `[{"id": "x"}]`)
		}
	}))
	defer srv.Close()
	// A 5xx on a GET is retried within the poll.
	l := newLedger(t, fmt.Sprintf("    url: %s\n    key: id", srv.URL))
	if rep := l.poll(t); rep.Inserted != 1 {
		t.Errorf("after a 502: %+v", rep)
	}
	if count != 2 {
		t.Errorf("%d requests, want the 502 and its retry", count)
	}
	// A 4xx fails the poll with the answer's text, and no query string
	// (which may hold a key) in the message.
	l = newLedger(t, fmt.Sprintf("    url: %s/list?fail=401\n    key: id", srv.URL))
	_, err := l.src.Poll(context.Background(), l.sink, nil, nil)
	if err == nil || !strings.Contains(err.Error(), `401 {"error": "bad token"}`) || strings.Contains(err.Error(), "fail=401") {
		t.Errorf("Poll = %v, want the 401 with its body and without the query", err)
	}
	if strings.Contains(err.Error(), "poll-secret-token") {
		t.Errorf("the error shows the token: %v", err)
	}
}

func TestBackfillSendsTheWindow(t *testing.T) {
	t.Parallel()
	since := time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC)
	until := time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC)
	for _, format := range []string{"unix", "rfc3339"} {
		t.Run(format, func(t *testing.T) {
			t.Parallel()
			api := newFakeAPI(t, "token", 2)
			api.timeFormat = format
			api.add(
				response("feb", "2026-02-10T00:00:00Z"),
				response("mar1", "2026-03-01T00:00:00Z"), response("mar2", "2026-03-15T00:00:00Z"), response("mar3", "2026-03-31T23:59:59Z"),
				response("apr", "2026-04-01T00:00:00Z"),
				response("may", "2026-05-01T00:00:00Z"),
			)
			l := newLedger(t, pollSettings(api, "    pagination: {type: token, token_field: paging.next.after, token_param: after}")+
				"\n    backfill: {since_param: from, until_param: to, format: "+format+"}")
			// A live poll first: the cursor is at May.
			l.poll(t)
			if got := l.cursor(t); got != "2026-05-01T00:00:00Z" {
				t.Fatalf("cursor = %q", got)
			}
			api.reset()
			var read []int
			err := l.src.Backfill(context.Background(), l.sink, connectors.BackfillRequest{Since: since, Until: until}, func(n int) { read = append(read, n) })
			if err != nil {
				t.Fatal(err)
			}
			wantFrom, wantTo := since.Format(time.RFC3339), until.Format(time.RFC3339)
			if format == "unix" {
				wantFrom, wantTo = strconv.FormatInt(since.Unix(), 10), strconv.FormatInt(until.Unix(), 10)
			}
			reqs := api.log()
			if len(reqs) != 2 {
				t.Errorf("backfill requests %q, want two pages", reqs)
			}
			for _, r := range api.requests {
				q := r.URL.Query()
				if q.Get("from") != wantFrom || q.Get("to") != wantTo {
					t.Errorf("backfill request %s: from=%q to=%q, want %q and %q", r.URL.RequestURI(), q.Get("from"), q.Get("to"), wantFrom, wantTo)
				}
				if q.Has("since") {
					t.Errorf("backfill request %s sends the live cursor", r.URL.RequestURI())
				}
			}
			if diff := cmp.Diff([]int{2, 3}, read); diff != "" {
				t.Errorf("progress (-want +got):\n%s", diff)
			}
			if got := l.cursor(t); got != "2026-05-01T00:00:00Z" {
				t.Errorf("the backfill moved the live cursor to %q", got)
			}
		})
	}
}

// TestBackfillKeepsExactlyTheWindow: an API whose date filter uses another
// time (here: it ignores the filter) does not widen the backfill.
func TestBackfillKeepsExactlyTheWindow(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `[{"id": "in", "at": "2026-03-05T00:00:00Z"}, {"id": "before", "at": "2026-02-05T00:00:00Z"}, {"id": "at-until", "at": "2026-04-01T00:00:00Z"}]`)
	}))
	defer srv.Close()
	l := newLedger(t, fmt.Sprintf("    url: %s\n    key: id\n    submitted_at: at\n    backfill: {since_param: created_after}", srv.URL))
	err := l.src.Backfill(context.Background(), l.sink, connectors.BackfillRequest{
		Since: time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		Until: time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC),
	}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"in"}, l.keys(t)); diff != "" {
		t.Errorf("stored (-want +got):\n%s", diff)
	}
}

func TestBackfillRefusals(t *testing.T) {
	t.Parallel()
	l := newLedger(t, "    url: http://127.0.0.1:1/x\n    key: id")
	if err := l.src.Backfill(context.Background(), l.sink, connectors.BackfillRequest{}, nil); err == nil || !strings.Contains(err.Error(), "backfill.since_param") {
		t.Errorf("Backfill without window parameters = %v", err)
	}
	if err := l.src.Backfill(context.Background(), l.sink, connectors.BackfillRequest{Files: []string{"a.jsonl"}}, nil); err == nil || !strings.Contains(err.Error(), "files cannot be given") {
		t.Errorf("Backfill with files = %v", err)
	}
}

func TestMaxPagesBoundsAPoll(t *testing.T) {
	t.Parallel()
	api := newFakeAPI(t, "page", 1)
	for i := range 5 {
		api.add(response(fmt.Sprintf("r%d", i), fmt.Sprintf("2026-05-01T1%d:00:00Z", i)))
	}
	l := newLedger(t, pollSettings(api, "    pagination: {type: page, page_param: page}\n    max_pages: 3"))
	if rep := l.poll(t); rep.Inserted != 3 {
		t.Errorf("inserted %d, want the 3 pages' items", rep.Inserted)
	}
	if n := len(api.log()); n != 3 {
		t.Errorf("%d requests, want 3", n)
	}
}

func TestConfigValidate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		edit func(*httppoll.Config)
		want string
	}{
		{"defaults with a URL", func(c *httppoll.Config) {}, ""},
		{"no URL", func(c *httppoll.Config) { c.URL = "" }, `url: "" is not an http(s) URL`},
		{"not http", func(c *httppoll.Config) { c.URL = "ftp://x/y" }, "is not an http(s) URL"},
		{"credentials in the URL", func(c *httppoll.Config) { c.URL = "https://me:pw@api.example.com/" }, "url: must not carry credentials"},
		{"interval", func(c *httppoll.Config) { c.Interval = time.Millisecond }, "interval: must be at least 1s"},
		{"authorization header", func(c *httppoll.Config) { c.Headers = map[string]string{"authorization": "Bearer x"} }, "headers: put Authorization under auth"},
		{"half a cursor", func(c *httppoll.Config) { c.Cursor.Param = "since" }, "cursor: set both param and field"},
		{"token without field", func(c *httppoll.Config) { c.Pagination.Type = "token" }, "pagination: type token needs token_field and token_param"},
		{"page without param", func(c *httppoll.Config) { c.Pagination.Type = "page" }, "pagination: type page needs page_param"},
		{"unknown pagination", func(c *httppoll.Config) { c.Pagination.Type = "cursor" }, `pagination: type "cursor": want none, token, link or page`},
		{"max pages", func(c *httppoll.Config) { c.MaxPages = 0 }, "max_pages: must be at least 1"},
		{"timeout", func(c *httppoll.Config) { c.Timeout = 0 }, "timeout: must be positive"},
		{"half a rate limit", func(c *httppoll.Config) { c.RateLimit.Requests = 5 }, "rate_limit: set both requests and per"},
		{"backfill format", func(c *httppoll.Config) { c.Backfill.Format = "iso" }, `backfill.format: "iso": want rfc3339 or unix`},
		{"bad items path", func(c *httppoll.Config) { c.Items = "{{ data | nope }}" }, "items: "},
		{"bad cursor field", func(c *httppoll.Config) { c.Cursor = httppoll.Cursor{Param: "since", Field: "{{ x"} }, "cursor.field: "},
		{"response settings", func(c *httppoll.Config) { c.Timezone = "Nowhere/Else" }, "timezone: "},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			c := httppoll.DefaultConfig()
			c.URL = "https://api.example.com/v1/responses"
			tc.edit(c)
			err := c.Validate()
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("Validate = %v, want nil", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("Validate = %v, want an error containing %q", err, tc.want)
			}
		})
	}
}

// memSink is an in-memory Sink for tests that run in a synctest bubble,
// where the engine's ledger (whose goroutines live outside) cannot be used.
type memSink struct {
	mu      sync.Mutex
	keys    map[string]bool
	state   map[string]string
	rejects int
}

func newMemSink() *memSink { return &memSink{keys: map[string]bool{}, state: map[string]string{}} }

func (s *memSink) Ingest(_ context.Context, rs []survey.Response, st []store.SourceState) (connectors.IngestReport, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var rep connectors.IngestReport
	for _, r := range rs {
		if s.keys[r.Key] {
			rep.Duplicates++
			continue
		}
		s.keys[r.Key] = true
		rep.Inserted++
	}
	for _, x := range st {
		s.state[x.Name] = x.Value
	}
	return rep, nil
}

func (s *memSink) Reject(_ context.Context, rs []store.Rejected) error {
	s.mu.Lock()
	s.rejects += len(rs)
	s.mu.Unlock()
	return nil
}

func (s *memSink) State(_ context.Context, name string) (string, bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	v, ok := s.state[name]
	return v, ok, nil
}

func (s *memSink) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.keys)
}

// bubbleServer serves h outside any synctest bubble with keep-alives off,
// so that a client in a bubble holds no idle connection and the bubble's
// clock can advance while it waits.
func bubbleServer(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(h)
	srv.Config.SetKeepAlivesEnabled(false)
	srv.Start()
	t.Cleanup(srv.Close)
	return srv
}

func TestThrottleIsWaitedOut(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var calls int
	srv := bubbleServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 1 {
			w.Header().Set("Retry-After", "45")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		fmt.Fprint(w, `[{"id": "x"}]`)
	})
	synctest.Test(t, func(t *testing.T) {
		cfg := httppoll.DefaultConfig()
		cfg.URL = srv.URL
		cfg.Key = "id"
		src, err := httppoll.New("api", cfg, connectors.Deps{Clients: connectors.NewClients(nil, nil)})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		sink := newMemSink()
		start := time.Now()
		rep, err := src.Poll(context.Background(), sink, nil, nil)
		if err != nil {
			t.Fatalf("Poll: %v", err)
		}
		if rep.Inserted != 1 {
			t.Errorf("inserted %d, want 1", rep.Inserted)
		}
		if d := time.Since(start); d != 45*time.Second {
			t.Errorf("the poll took %s, want the 45s Retry-After", d)
		}
	})
	if calls != 2 {
		t.Errorf("%d requests, want the 429 and one after the wait", calls)
	}
}

func TestRunPollsOnItsInterval(t *testing.T) {
	t.Parallel()
	var mu sync.Mutex
	var calls int
	srv := bubbleServer(t, func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		calls++
		n := calls
		mu.Unlock()
		if n == 2 {
			w.WriteHeader(http.StatusForbidden) // one failed poll
			return
		}
		fmt.Fprintf(w, `[{"id": "r%d"}]`, n)
	})
	synctest.Test(t, func(t *testing.T) {
		cfg := httppoll.DefaultConfig()
		cfg.URL = srv.URL
		cfg.Key = "id"
		cfg.Interval = time.Minute
		src, err := httppoll.New("api", cfg, connectors.Deps{Clients: connectors.NewClients(nil, nil)})
		if err != nil {
			t.Fatal(err)
		}
		defer src.Close()
		sink := newMemSink()
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- src.Run(ctx, sink) }()
		time.Sleep(150 * time.Second) // polls at 0s, 60s (fails) and 120s
		synctest.Wait()
		if n := sink.count(); n != 2 {
			t.Errorf("%d responses after 150s, want 2 (one poll of three failed)", n)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run = %v, want nil", err)
		}
	})
	if calls != 3 {
		t.Errorf("%d polls, want 3", calls)
	}
}

// TestCursorFieldNamedLikeABuiltin: item fields are read as written, even
// one named like a mapping built-in (submitted_at, version).
func TestCursorFieldNamedLikeABuiltin(t *testing.T) {
	t.Parallel()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"items": [{"key": "a", "submitted_at": 1777629600}, {"key": "b", "submitted_at": 1777633200}], "version": {"next": null}}`)
	}))
	defer srv.Close()
	cfg := httppoll.DefaultConfig()
	cfg.URL = srv.URL
	cfg.Items = "items"
	cfg.Key = "key"
	cfg.SubmittedAt = "submitted_at"
	cfg.Cursor = httppoll.Cursor{Param: "since", Field: "submitted_at"}
	cfg.Pagination = httppoll.Pagination{Type: "token", TokenField: "version.next", TokenParam: "v"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	src, err := httppoll.New("api", cfg, connectors.Deps{Clients: connectors.NewClients(nil, nil)})
	if err != nil {
		t.Fatal(err)
	}
	defer src.Close()
	sink := newMemSink()
	rep, err := src.Poll(context.Background(), sink, nil, nil)
	if err != nil || rep.Inserted != 2 || sink.rejects != 0 {
		t.Fatalf("Poll = %+v, %v with %d rejects", rep, err, sink.rejects)
	}
	if v, _, _ := sink.State(context.Background(), "cursor"); v != "1777633200" {
		t.Errorf("cursor = %q, want the newest submitted_at", v)
	}
}
