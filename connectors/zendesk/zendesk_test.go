package zendesk

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/connectors/internal/batchtest"
	"github.com/surveysync/surveysync/sandbox/zendeskapi"
)

func TestFieldUpdatesGoInOneJobAndSettlePerTicket(t *testing.T) {
	t.Parallel()
	srv, ts := emulator(t, 5, zendeskapi.Options{})
	d := destination(t, ts.URL, nil)
	res := deliver(t, d, batchtest.Requests(t, fieldsMapping,
		`{"ticket_id": 1, "score": 5, "band": "promoter"}`,
		`{"ticket_id": 2, "score": 3, "band": "passive"}`,
		`{"ticket_id": 3, "score": 1, "band": "angry"}`,
		`{"ticket_id": 99, "score": 1, "band": "detractor"}`,
		`{"ticket_id": 1, "score": 4, "band": "promoter"}`,
	))
	got := make([]connectors.Class, len(res))
	for i, r := range res {
		got[i] = classOf(r)
	}
	if want := []connectors.Class{"", "", connectors.ClassPermanent, connectors.ClassPermanent, ""}; !cmp.Equal(got, want) {
		t.Fatalf("classes %v, want %v (errors %v)", got, want, res)
	}
	if !strings.Contains(res[2].Err.Error(), "NPS band") || !strings.Contains(res[3].Err.Error(), "no such ticket") {
		t.Errorf("errors %q and %q should name the field and the missing ticket", res[2].Err, res[3].Err)
	}
	bulk := 0
	for _, e := range srv.Log() {
		if strings.HasPrefix(e.Path, "/api/v2/tickets/update_many") {
			bulk++
		}
		if e.Method == http.MethodPut && !strings.Contains(e.Path, "update_many") {
			t.Errorf("single update %s %s; field updates of several tickets go in update_many", e.Method, e.Path)
		}
	}
	if bulk != 2 {
		t.Errorf("%d update_many requests, want 2 (ticket 1 twice, in order)", bulk)
	}
	tk, _ := srv.Ticket(1)
	if tk.Fields[101] != "4" || tk.Fields[103] != "promoter" {
		t.Errorf("ticket 1 fields %v, want the later response's score 4", tk.Fields)
	}
}

func TestCommentIsAddedOnceAfterAnUnknownOutcome(t *testing.T) {
	t.Parallel()
	srv, ts := emulator(t, 1, zendeskapi.Options{})
	d := destination(t, ts.URL, nil)
	b := batchtest.Requests(t, commentMapping, `{"ticket_id": 1, "score": 2, "comment": "Slow \"delivery\" 😞"}`)
	if res := deliver(t, d, b); res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	tk, _ := srv.Ticket(1)
	want := "CSAT 2: Slow \"delivery\" 😞\n\n" + commentMarker(b.Items[0].DeliveryKey)
	if n := len(tk.Comments); n != 2 || tk.Comments[1].Body != want || tk.Comments[1].Public {
		t.Fatalf("comments %+v, want the description and an internal comment %q", tk.Comments, want)
	}
	// The same delivery again, as after a lost answer: the comment is found.
	b.Items[0].Uncertain = true
	srv.ResetLog()
	if res := deliver(t, d, b); res[0].Err != nil || !strings.Contains(res[0].Ref, "comment:") {
		t.Fatalf("reconciled delivery: %v %q", res[0].Err, res[0].Ref)
	}
	if got := requests(srv); !cmp.Equal(got, []string{"GET /api/v2/tickets/1/comments.json"}) {
		t.Errorf("requests %v, want only the read of the comments", got)
	}
	if tk, _ := srv.Ticket(1); len(tk.Comments) != 2 {
		t.Errorf("%d comments after the uncertain retry, want 2", len(tk.Comments))
	}
}

func TestUncertainCommentNotFoundIsSent(t *testing.T) {
	t.Parallel()
	srv, ts := emulator(t, 1, zendeskapi.Options{})
	d := destination(t, ts.URL, nil)
	b := batchtest.Requests(t, commentMapping, `{"ticket_id": 1, "score": 2, "comment": "x"}`)
	b.Items[0].Uncertain = true
	if res := deliver(t, d, b); res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	if got, want := requests(srv), []string{"GET /api/v2/tickets/1/comments.json", "PUT /api/v2/tickets/1.json"}; !cmp.Equal(got, want) {
		t.Errorf("requests %v, want %v", got, want)
	}
}

func TestUncertainCommentWaitsBeforeReading(t *testing.T) {
	t.Parallel()
	srv, ts := emulator(t, 1, zendeskapi.Options{})
	d := destination(t, ts.URL, func(c *Config) { c.ReconcileAfter = time.Hour })
	b := batchtest.Requests(t, commentMapping, `{"ticket_id": 1, "score": 2, "comment": "x"}`)
	b.Items[0].Uncertain = true
	res := deliver(t, d, b)
	if classOf(res[0]) != connectors.ClassAmbiguous || len(srv.Log()) != 0 {
		t.Errorf("result %v after %v; want an unknown outcome and no request before reconcile_after", res[0].Err, requests(srv))
	}
}

func TestTicketCreateIsIdempotent(t *testing.T) {
	t.Parallel()
	srv, ts := emulator(t, 0, zendeskapi.Options{})
	d := destination(t, ts.URL, nil)
	b := batchtest.Requests(t, createMapping, `{"email": "ann@example.com", "score": 1, "comment": "Never again"}`)
	first := deliver(t, d, b)
	if first[0].Err != nil {
		t.Fatal(first[0].Err)
	}
	// Sent again without doubt (say, the settle was lost): the key answers.
	second := deliver(t, d, b)
	if second[0].Err != nil || second[0].Ref != first[0].Ref {
		t.Fatalf("second delivery %v %q, want the first ticket %q", second[0].Err, second[0].Ref, first[0].Ref)
	}
	var lookups []string
	for _, e := range srv.Log() {
		lookups = append(lookups, e.Idempotency)
	}
	if !cmp.Equal(lookups, []string{zendeskapi.LookupMiss, zendeskapi.LookupHit}) {
		t.Errorf("idempotency lookups %v, want miss then hit", lookups)
	}
	// In doubt: the ticket is found by its external_id before any POST.
	b.Items[0].Uncertain = true
	srv.ResetLog()
	third := deliver(t, d, b)
	if third[0].Err != nil || third[0].Ref != first[0].Ref {
		t.Fatalf("uncertain delivery %v %q, want %q", third[0].Err, third[0].Ref, first[0].Ref)
	}
	if got := requests(srv); len(got) != 1 || !strings.HasPrefix(got[0], "GET /api/v2/tickets.json") {
		t.Errorf("requests %v, want one lookup by external_id", got)
	}
	if n := srv.CreatedTickets(); n != 1 {
		t.Errorf("%d tickets created, want 1", n)
	}
	tickets := srv.Tickets()
	if tk := tickets[len(tickets)-1]; tk.ExternalID != b.Items[0].DeliveryKey || tk.Subject != "Low score from ann@example.com" || tk.Fields[101] != "1" {
		t.Errorf("ticket %+v", tk)
	}
}

func TestPerTicketLimitHoldsOnlyThatTicket(t *testing.T) {
	t.Parallel()
	srv, ts := emulator(t, 3, zendeskapi.Options{TicketUpdateLimit: 2})
	d := destination(t, ts.URL, nil)
	res := deliver(t, d, batchtest.Requests(t, commentMapping,
		`{"ticket_id": 1, "score": 1, "comment": "a"}`,
		`{"ticket_id": 1, "score": 2, "comment": "b"}`,
		`{"ticket_id": 1, "score": 3, "comment": "c"}`,
		`{"ticket_id": 1, "score": 4, "comment": "d"}`,
		`{"ticket_id": 2, "score": 5, "comment": "e"}`,
		`{"ticket_id": 3, "score": 5, "comment": "f"}`,
	))
	got := make([]connectors.Class, len(res))
	for i, r := range res {
		got[i] = classOf(r)
	}
	want := []connectors.Class{"", "", connectors.ClassRetryAfter, connectors.ClassTransient, "", ""}
	if !cmp.Equal(got, want) {
		t.Fatalf("classes %v, want %v: %v", got, want, res)
	}
	if _, after := connectors.Classify(res[2].Err); after < 9*time.Minute {
		t.Errorf("retry after %s, want Zendesk's ~10 minutes", after)
	}
	if until := d.account.PausedUntil(); !until.IsZero() {
		t.Errorf("account bucket paused until %v; a per-ticket limit must not stall other tickets", until)
	}
	// Ticket 1 stays held without a request; ticket 2 is updated at once.
	srv.ResetLog()
	res = deliver(t, d, batchtest.Requests(t, commentMapping, `{"ticket_id": 1, "score": 1, "comment": "g"}`, `{"ticket_id": 2, "score": 1, "comment": "h"}`))
	if classOf(res[0]) != connectors.ClassRetryAfter || res[1].Err != nil {
		t.Errorf("results %v, want ticket 1 held and ticket 2 delivered", res)
	}
	if got := requests(srv); !cmp.Equal(got, []string{"PUT /api/v2/tickets/2.json"}) {
		t.Errorf("requests %v, want only ticket 2's update", got)
	}
}

func TestAccountLimitPausesTheBucket(t *testing.T) {
	t.Parallel()
	// The emulator's clock stands half way through a minute, so its
	// Retry-After is 30 seconds.
	mid := time.Date(2026, 3, 2, 10, 0, 30, 0, time.UTC)
	srv, ts := emulator(t, 3, zendeskapi.Options{RateLimit: 1, Now: func() time.Time { return mid }})
	d := destination(t, ts.URL, nil)
	// The second update meets the account's limit and waits in the bucket
	// for its Retry-After, longer than this delivery may take.
	b := batchtest.Requests(t, commentMapping, `{"ticket_id": 1, "score": 1, "comment": "a"}`, `{"ticket_id": 2, "score": 1, "comment": "b"}`)
	ctx, cancel := context.WithTimeout(context.Background(), 500*time.Millisecond)
	defer cancel()
	res := d.Deliver(ctx, b)
	log := srv.Log()
	var throttled *zendeskapi.Entry
	for i := range log {
		if log[i].Status == http.StatusTooManyRequests {
			throttled = &log[i]
		}
	}
	if throttled == nil || throttled.Limit != zendeskapi.LimitAccount {
		t.Fatalf("log %+v, want one 429 of the account limit", log)
	}
	if n := len(log); n != 2 {
		t.Errorf("%d requests, want 2: nothing may follow the 429 before its Retry-After", n)
	}
	if until := d.account.PausedUntil(); until.Before(time.Now().Add(25 * time.Second)) {
		t.Errorf("account bucket paused until %v, want about 30 seconds from now (Retry-After)", until)
	}
	delivered := 0
	for _, r := range res {
		if r.Err == nil {
			delivered++
		}
	}
	if delivered != 1 {
		t.Errorf("results %v, want one delivered", res)
	}
}

func TestAnswersAreClassified(t *testing.T) {
	t.Parallel()
	cases := []struct {
		name   string
		status int
		ctype  string
		body   string
		want   connectors.Class
		text   string
	}{
		{"unauthorized", 401, "text/plain", "Couldn't authenticate you", connectors.ClassPaused, "credentials"},
		{"forbidden", 403, "application/json", `{"error":"Forbidden","description":"You do not have access to this page."}`, connectors.ClassPaused, "permission"},
		{"record invalid", 422, "application/json", `{"error":"RecordInvalid","description":"Record validation errors","details":{"base":[{"error":"InvalidValue","description":"CSAT (field 101, integer): \"five\" is not an integer","field_key":"101"}]}}`, connectors.ClassPermanent, `custom field 101: InvalidValue CSAT (field 101, integer): "five" is not an integer`},
		{"status invalid", 422, "application/json", `{"error":"RecordInvalid","description":"Record validation errors","details":{"status":[{"description":"Status: closed prevents ticket update"}]}}`, connectors.ClassPermanent, "field status: Status: closed prevents ticket update"},
		{"not found", 404, "application/json", `{"error":"RecordNotFound","description":"Not found"}`, connectors.ClassPermanent, "has no ticket 1"},
		{"unavailable", 503, "text/plain", "Service Unavailable", connectors.ClassAmbiguous, "503"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", tc.ctype)
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			}))
			t.Cleanup(ts.Close)
			d := destination(t, ts.URL, nil)
			res := deliver(t, d, batchtest.Requests(t, commentMapping, `{"ticket_id": 1, "score": 1, "comment": "a"}`))
			if got := classOf(res[0]); got != tc.want || !strings.Contains(res[0].Err.Error(), tc.text) {
				t.Errorf("got %s %v, want %s with %q", got, res[0].Err, tc.want, tc.text)
			}
		})
	}
}

func TestOAuthBearer(t *testing.T) {
	t.Parallel()
	srv, ts := emulator(t, 1, zendeskapi.Options{BearerTokens: []string{"oauth-1"}, Credentials: []zendeskapi.Credential{}})
	d := destination(t, ts.URL, func(c *Config) {
		c.Email, c.Token, c.OAuthToken = "", config.Secret{}, secretFile(t, "oauth-1")
	})
	if res := deliver(t, d, batchtest.Requests(t, fieldsMapping, `{"ticket_id": 1, "score": 5, "band": "promoter"}`)); res[0].Err != nil {
		t.Fatal(res[0].Err)
	}
	if e := srv.Log()[0]; e.User != "oauth" || e.Status != http.StatusOK {
		t.Errorf("request by %q answered %d, want the OAuth user and 200", e.User, e.Status)
	}
}
