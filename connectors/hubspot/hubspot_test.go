package hubspot

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/connectors/internal/batchtest"
	"github.com/surveysync/surveysync/sandbox/hubspotapi"
)

func TestUpsertSettlesA207ItemByItem(t *testing.T) {
	t.Parallel()
	srv, ts := emulator(t, hubspotapi.Options{})
	d := destination(t, ts.URL, nil)
	var payloads []string
	bad := map[int]bool{3: true, 17: true, 29: true, 41: true, 58: true, 77: true, 99: true}
	for i := range 100 {
		email := fmt.Sprintf("User%03d@Example.com", i)
		if bad[i] {
			email = fmt.Sprintf("user%03d at example.com", i)
		}
		payloads = append(payloads, fmt.Sprintf(`{"email": %q, "rating": %d}`, email, i%5+1))
	}
	res := deliver(t, d, batchtest.Requests(t, upsertMapping, payloads...))
	for i, r := range res {
		switch {
		case bad[i] && classOf(r) != connectors.ClassPermanent:
			t.Errorf("input %d: %v, want a permanent failure", i, r.Err)
		case bad[i] && !strings.Contains(r.Err.Error(), "is invalid"):
			t.Errorf("input %d: %q does not carry HubSpot's message", i, r.Err)
		case !bad[i] && r.Err != nil:
			t.Errorf("input %d: %v, want delivered", i, r.Err)
		case !bad[i] && !strings.HasPrefix(r.Ref, "contact:"):
			t.Errorf("input %d: ref %q, want the contact id", i, r.Ref)
		}
	}
	if n := countPath(srv, UpsertPath); n != 1 {
		t.Errorf("%d upsert requests, want 1 for 100 inputs", n)
	}
	contacts := contactsByEmail(srv)
	if len(contacts) != 93 {
		t.Errorf("%d contacts, want 93", len(contacts))
	}
	if c := contacts["user004@example.com"]; c.Properties["last_csat"] != "5" {
		t.Errorf("user004: last_csat %q, want \"5\" (lowercased email, number sent as text)", c.Properties["last_csat"])
	}
}

func TestUpsertSplitsInputsForOneContact(t *testing.T) {
	t.Parallel()
	srv, ts := emulator(t, hubspotapi.Options{})
	d := destination(t, ts.URL, nil)
	res := deliver(t, d, batchtest.Requests(t, upsertMapping,
		`{"email": "Ann@Example.com", "rating": 1, "comment": "first"}`,
		`{"email": "bob@example.com", "rating": 3}`,
		`{"email": "ann@example.com", "rating": 5}`,
	))
	for i, r := range res {
		if r.Err != nil {
			t.Errorf("item %d: %v", i, r.Err)
		}
	}
	if n := countPath(srv, UpsertPath); n != 2 {
		t.Errorf("%d upsert requests, want 2 (the second input for ann in a request of its own)", n)
	}
	contacts := contactsByEmail(srv)
	got := map[string]string{}
	for email, c := range contacts {
		got[email] = c.Properties["last_csat"] + "/" + c.Properties["last_csat_comment"]
	}
	want := map[string]string{"ann@example.com": "5/first", "bob@example.com": "3/"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("contacts (-want +got):\n%s", diff)
	}
}

func TestNoteIsCreatedOnceAndFoundAfterAnUnknownOutcome(t *testing.T) {
	t.Parallel()
	srv, ts := emulator(t, hubspotapi.Options{})
	d := destination(t, ts.URL, func(c *Config) { c.ReconcileAfter = time.Nanosecond })
	b := batchtest.Requests(t, upsertMapping, `{"email": "kim@example.com", "rating": 4, "note": "Fast \"and\" kind 😀"}`)
	res := deliver(t, d, b)
	if res[0].Err != nil {
		t.Fatalf("first delivery: %v", res[0].Err)
	}
	notes := srv.Notes()
	if len(notes) != 1 {
		t.Fatalf("%d notes, want 1", len(notes))
	}
	contact := contactsByEmail(srv)["kim@example.com"]
	wantBody := "Fast \"and\" kind 😀\n\n" + noteMarker(b.Items[0].DeliveryKey)
	if got := notes[0].Properties["hs_note_body"]; got != wantBody {
		t.Errorf("note body %q, want %q", got, wantBody)
	}
	if diff := cmp.Diff([]string{contact.ID}, notes[0].ContactIDs); diff != "" {
		t.Errorf("note associations (-want +got):\n%s", diff)
	}
	if want := "contact:" + contact.ID + " note:" + notes[0].ID; res[0].Ref != want {
		t.Errorf("ref %q, want %q", res[0].Ref, want)
	}

	// The same delivery again, as after a lost answer: the note is found,
	// not posted a second time.
	b.Items[0].Uncertain = true
	b.Items[0].Attempt = 2
	srv.ResetLog()
	res = deliver(t, d, b)
	if res[0].Err != nil {
		t.Fatalf("reconciled delivery: %v", res[0].Err)
	}
	if n := len(srv.Notes()); n != 1 {
		t.Errorf("%d notes after the uncertain retry, want 1", n)
	}
	if countPath(srv, notesSearchPath) != 1 || countPath(srv, NotesPath) != 0 {
		t.Errorf("requests %v; want one search and no note post", paths(srv))
	}
}

func TestUncertainNoteWaitsForTheSearchIndex(t *testing.T) {
	t.Parallel()
	srv, ts := emulator(t, hubspotapi.Options{})
	d := destination(t, ts.URL, func(c *Config) { c.ReconcileAfter = time.Hour })
	b := batchtest.Requests(t, upsertMapping, `{"email": "lee@example.com", "rating": 2, "note": "slow"}`)
	b.Items[0].Uncertain = true
	res := deliver(t, d, b)
	if classOf(res[0]) != connectors.ClassAmbiguous || !strings.Contains(res[0].Err.Error(), "search index") {
		t.Errorf("result %v, want an unknown outcome waiting for the search index", res[0].Err)
	}
	if countPath(srv, notesSearchPath) != 0 || countPath(srv, NotesPath) != 0 {
		t.Errorf("requests %v; want no search and no note before reconcile_after", paths(srv))
	}
}

func TestUncertainNoteNotFoundIsCreated(t *testing.T) {
	t.Parallel()
	srv, ts := emulator(t, hubspotapi.Options{})
	d := destination(t, ts.URL, func(c *Config) { c.ReconcileAfter = time.Nanosecond })
	b := batchtest.Requests(t, upsertMapping, `{"email": "max@example.com", "rating": 2, "note": "never arrived"}`)
	b.Items[0].Uncertain = true
	res := deliver(t, d, b)
	if res[0].Err != nil {
		t.Fatalf("delivery: %v", res[0].Err)
	}
	if got, want := paths(srv), []string{UpsertPath, notesSearchPath, NotesPath}; !cmp.Equal(got, want) {
		t.Errorf("requests %v, want %v", got, want)
	}
}

func TestNoteKeyProperty(t *testing.T) {
	t.Parallel()
	srv, ts := emulator(t, hubspotapi.Options{NoteProperties: []hubspotapi.Property{{Name: "surveysync_key"}}})
	d := destination(t, ts.URL, func(c *Config) { c.NoteKeyProperty = "surveysync_key"; c.ReconcileAfter = time.Nanosecond })
	b := batchtest.Requests(t, upsertMapping, `{"email": "ida@example.com", "rating": 5, "note": "great"}`)
	if res := deliver(t, d, b); res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	b.Items[0].Uncertain = true
	if res := deliver(t, d, b); res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	notes := srv.Notes()
	if len(notes) != 1 {
		t.Fatalf("%d notes, want 1", len(notes))
	}
	if got := notes[0].Properties["surveysync_key"]; got != b.Items[0].DeliveryKey {
		t.Errorf("surveysync_key %q, want the delivery key", got)
	}
	if got := notes[0].Properties["hs_note_body"]; got != "great" {
		t.Errorf("note body %q, want the text without a marker", got)
	}
}

func TestDailyLimitPausesUntilMidnight(t *testing.T) {
	t.Parallel()
	_, ts := emulator(t, hubspotapi.Options{DailyLimit: 1})
	d := destination(t, ts.URL, func(c *Config) { c.Timezone = "Europe/Berlin" })
	if res := deliver(t, d, batchtest.Requests(t, upsertMapping, `{"email": "a@example.com", "rating": 1}`)); res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	// The answer said no request is left today: the next batch is not sent.
	res := deliver(t, d, batchtest.Requests(t, upsertMapping, `{"email": "b@example.com", "rating": 1}`))
	if classOf(res[0]) != connectors.ClassPaused || !strings.Contains(res[0].Err.Error(), "daily API limit") || !strings.Contains(res[0].Err.Error(), "Europe/Berlin") {
		t.Errorf("result %v, want a pause naming the daily limit and the zone", res[0].Err)
	}
	if err := d.Probe(context.Background(), "s", nil); err == nil || err.Error() != res[0].Err.Error() {
		t.Errorf("Probe = %v, want the same pause", err)
	}
}

func TestDaily429Pauses(t *testing.T) {
	t.Parallel()
	var calls atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusTooManyRequests)
		fmt.Fprint(w, `{"status":"error","message":"You have reached your daily limit.","errorType":"RATE_LIMIT","policyName":"DAILY"}`)
	}))
	t.Cleanup(ts.Close)
	d := destination(t, ts.URL, nil)
	res := deliver(t, d, batchtest.Requests(t, upsertMapping, `{"email": "a@example.com", "rating": 1}`))
	if classOf(res[0]) != connectors.ClassPaused {
		t.Fatalf("result %v, want paused", res[0].Err)
	}
	before := calls.Load()
	res = deliver(t, d, batchtest.Requests(t, upsertMapping, `{"email": "a@example.com", "rating": 1}`))
	if classOf(res[0]) != connectors.ClassPaused || calls.Load() != before {
		t.Errorf("second batch: %v after %d more requests; want paused without a request", res[0].Err, calls.Load()-before)
	}
}

func TestRateLimitHeadersPauseTheBucket(t *testing.T) {
	t.Parallel()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-HubSpot-RateLimit-Remaining", "0")
		w.Header().Set("X-HubSpot-RateLimit-Interval-Milliseconds", "10000")
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"COMPLETE","results":[]}`)
	}))
	t.Cleanup(ts.Close)
	d := destination(t, ts.URL, nil)
	start := time.Now()
	if res := deliver(t, d, batchtest.Requests(t, upsertMapping, `{"email": "a@example.com", "rating": 1}`)); res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	if until := d.bucket.PausedUntil(); until.Before(start.Add(9 * time.Second)) {
		t.Errorf("bucket paused until %v, want about ten seconds after %v", until, start)
	}
}

func TestAnswersAreClassified(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		body   string
		want   connectors.Class
		text   string
	}{
		{"unauthorized", 401, `{"status":"error","message":"Authentication credentials not found.","category":"INVALID_AUTHENTICATION"}`, connectors.ClassPaused, "credentials"},
		{"missing scope", 403, `{"status":"error","message":"This app hasn't been granted all required scopes","category":"MISSING_SCOPES"}`, connectors.ClassPaused, "scopes"},
		{"conflict", 409, `{"status":"error","message":"Contact already exists. Existing ID: 37765128953","category":"CONFLICT"}`, connectors.ClassPermanent, "Existing ID: 37765128953"},
		{"validation", 400, `{"status":"error","message":"Property values were not valid: [{\"isValid\":false,\"message\":\"Property \\\"foo\\\" does not exist\"}]","category":"VALIDATION_ERROR"}`, connectors.ClassPermanent, `does not exist"}] (VALIDATION_ERROR)`},
		{"server error", 502, `bad gateway`, connectors.ClassTransient, "502"},
		{"ten secondly", 429, `{"status":"error","message":"You have reached your ten_secondly_rolling limit.","errorType":"RATE_LIMIT","policyName":"TEN_SECONDLY_ROLLING"}`, connectors.ClassRetryAfter, "TEN_SECONDLY_ROLLING"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			}))
			t.Cleanup(ts.Close)
			d := destination(t, ts.URL, nil)
			res := deliver(t, d, batchtest.Requests(t, upsertMapping, `{"email": "a@example.com", "rating": 1}`))
			if got := classOf(res[0]); got != tc.want || !strings.Contains(res[0].Err.Error(), tc.text) {
				t.Errorf("got %s %v, want %s with %q", got, res[0].Err, tc.want, tc.text)
			}
		})
	}
}

func TestUnattributedRejectionSendsInputsAlone(t *testing.T) {
	t.Parallel()
	var requests atomic.Int64
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests.Add(1)
		var body struct {
			Inputs []upsertInput `json:"inputs"`
		}
		_ = json.NewDecoder(r.Body).Decode(&body)
		w.Header().Set("Content-Type", "application/json")
		if len(body.Inputs) > 1 {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"status":"error","message":"Something in the batch is wrong","category":"VALIDATION_ERROR"}`)
			return
		}
		if body.Inputs[0].ID == "bad@example.com" {
			w.WriteHeader(http.StatusBadRequest)
			fmt.Fprint(w, `{"status":"error","message":"bad input","category":"VALIDATION_ERROR"}`)
			return
		}
		fmt.Fprintf(w, `{"status":"COMPLETE","results":[{"id":"7","properties":{},"objectWriteTraceId":%q}]}`, body.Inputs[0].ObjectWriteTraceID)
	}))
	t.Cleanup(ts.Close)
	d := destination(t, ts.URL, nil)
	res := deliver(t, d, batchtest.Requests(t, upsertMapping,
		`{"email": "a@example.com", "rating": 1}`, `{"email": "bad@example.com", "rating": 1}`, `{"email": "c@example.com", "rating": 1}`))
	got := []connectors.Class{classOf(res[0]), classOf(res[1]), classOf(res[2])}
	if want := []connectors.Class{"", connectors.ClassPermanent, ""}; !cmp.Equal(got, want) {
		t.Errorf("classes %v, want %v", got, want)
	}
	if n := requests.Load(); n != 4 {
		t.Errorf("%d requests, want the batch and then each input alone (4)", n)
	}
}

func TestOAuthRefreshToken(t *testing.T) {
	t.Parallel()
	var refreshed atomic.Int64
	tokens := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := r.ParseForm(); err != nil || r.Form.Get("grant_type") != "refresh_token" || r.Form.Get("refresh_token") != "refresh-1" ||
			r.Form.Get("client_id") != "app-1" || r.Form.Get("client_secret") != "shh" {
			http.Error(w, `{"error":"invalid_grant"}`, http.StatusBadRequest)
			return
		}
		refreshed.Add(1)
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"access_token":"oauth-access-1","token_type":"bearer","expires_in":1800,"refresh_token":"refresh-1"}`)
	}))
	t.Cleanup(tokens.Close)
	srv, ts := emulator(t, hubspotapi.Options{Tokens: []string{"oauth-access-1"}})
	d := destination(t, ts.URL, func(c *Config) {
		c.Token = config.Secret{}
		c.OAuth = &OAuthConfig{ClientID: "app-1", ClientSecret: secretFile(t, "shh"), RefreshToken: secretFile(t, "refresh-1"), TokenURL: tokens.URL}
	})
	for i := range 3 {
		res := deliver(t, d, batchtest.Requests(t, upsertMapping, fmt.Sprintf(`{"email": "o%d@example.com", "rating": 1}`, i)))
		if res[0].Err != nil {
			t.Fatalf("delivery %d: %v", i, res[0].Err)
		}
	}
	if n := len(srv.Contacts()); n != 3 {
		t.Errorf("%d contacts, want 3", n)
	}
	if n := refreshed.Load(); n != 1 {
		t.Errorf("%d token refreshes, want 1 (the access token is reused until it expires)", n)
	}
}

// paths lists the logged request paths in order.
func paths(s *hubspotapi.Server) []string {
	var out []string
	for _, e := range s.Log() {
		out = append(out, e.Path)
	}
	return out
}
