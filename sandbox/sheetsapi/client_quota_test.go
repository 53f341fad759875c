package sheetsapi

import (
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/sheets/v4"
)

func TestClientQuota(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	e := newEnv(t, Options{Now: clock.Now, Quotas: ptr(DefaultQuotas()), ProjectNumber: "42"})
	id := e.srv.CreateSpreadsheet("S")
	alice, bob := e.client(t, "token-alice"), e.client(t, "token-bob")
	appendRow := func(svc *sheets.Service) error {
		_, err := svc.Spreadsheets.Values.Append(id, "Sheet1!A1", &sheets.ValueRange{Values: [][]any{{"x"}}}).
			ValueInputOption("RAW").InsertDataOption("INSERT_ROWS").Context(e.ctx).Do()
		return err
	}
	for i := range DefaultPerUserPerMinute {
		if err := appendRow(alice); err != nil {
			t.Fatalf("write %d of %d: %v", i+1, DefaultPerUserPerMinute, err)
		}
		clock.Advance(500 * time.Millisecond) // 60 writes over 30 s
	}
	err := appendRow(alice)
	gerr := apiErr(t, err, http.StatusTooManyRequests)
	wantMsg := "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute per user' of service 'sheets.googleapis.com' for consumer 'project_number:42'."
	if gerr.Message != wantMsg {
		t.Errorf("429 message = %q", gerr.Message)
	}
	var body struct {
		Error struct {
			Code    int
			Status  string
			Details []struct {
				Type     string            `json:"@type"`
				Reason   string            `json:"reason"`
				Metadata map[string]string `json:"metadata"`
			}
		}
	}
	if err := json.Unmarshal([]byte(gerr.Body), &body); err != nil {
		t.Fatalf("429 body %q: %v", gerr.Body, err)
	}
	if body.Error.Status != "RESOURCE_EXHAUSTED" || body.Error.Details[0].Reason != "RATE_LIMIT_EXCEEDED" {
		t.Errorf("429 body = %+v", body.Error)
	}
	md := body.Error.Details[0].Metadata
	if md["quota_limit"] != "WriteRequestsPerMinutePerUser" || md["quota_metric"] != "sheets.googleapis.com/write_requests" || md["quota_limit_value"] != "60" {
		t.Errorf("429 metadata = %v", md)
	}

	// Reads and other users have their own buckets.
	if _, err := alice.Spreadsheets.Values.Get(id, "Sheet1!A:A").Context(e.ctx).Do(); err != nil {
		t.Errorf("read while writes are over quota: %v", err)
	}
	if err := appendRow(bob); err != nil {
		t.Errorf("another user's write: %v", err)
	}

	// The window slides: 60 s after the first write, one more is allowed.
	clock.Advance(29 * time.Second) // 59.5 s after the first write
	apiErr(t, appendRow(alice), http.StatusTooManyRequests)
	clock.Advance(time.Second)
	if err := appendRow(alice); err != nil {
		t.Errorf("write after the window slid: %v", err)
	}
	apiErr(t, appendRow(alice), http.StatusTooManyRequests)

	var quotaHits []string
	for _, le := range e.srv.Log() {
		if le.QuotaLimit != "" {
			quotaHits = append(quotaHits, le.QuotaLimit+" "+le.User)
		}
	}
	want := []string{"WriteRequestsPerMinutePerUser token-alice", "WriteRequestsPerMinutePerUser token-alice", "WriteRequestsPerMinutePerUser token-alice"}
	if diff := cmp.Diff(want, quotaHits); diff != "" {
		t.Errorf("quota rejections in the log (-want +got):\n%s", diff)
	}
}

func TestClientQuotaPerProjectAndBatch(t *testing.T) {
	t.Parallel()
	clock := &fakeClock{t: time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)}
	e := newEnv(t, Options{Now: clock.Now, Quotas: &Quotas{WritePerUser: 3, WritePerProject: 5, ReadPerUser: 1}})
	id := e.srv.CreateSpreadsheet("S")
	batch := func(svc *sheets.Service) error {
		_, err := svc.Spreadsheets.Values.BatchUpdate(id, &sheets.BatchUpdateValuesRequest{ValueInputOption: "RAW", Data: []*sheets.ValueRange{
			{Range: "A1", Values: [][]any{{1}}}, {Range: "B1", Values: [][]any{{2}}}, {Range: "C1", Values: [][]any{{3}}},
		}}).Context(e.ctx).Do()
		return err
	}
	a, b := e.client(t, "a"), e.client(t, "b")
	for i := range 3 {
		if err := batch(a); err != nil {
			t.Fatalf("batch %d (one request each): %v", i, err)
		}
	}
	apiErr(t, batch(a), http.StatusTooManyRequests)
	for range 2 {
		if err := batch(b); err != nil {
			t.Fatal(err)
		}
	}
	gerr := apiErr(t, batch(b), http.StatusTooManyRequests)
	if gerr.Message != "Quota exceeded for quota metric 'Write requests' and limit 'Write requests per minute' of service 'sheets.googleapis.com' for consumer 'project_number:123456789'." {
		t.Errorf("project quota message = %q", gerr.Message)
	}
	if _, err := b.Spreadsheets.Values.Get(id, "A1").Context(e.ctx).Do(); err != nil {
		t.Fatal(err)
	}
	_, err := b.Spreadsheets.Values.Get(id, "A1").Context(e.ctx).Do()
	if gerr := apiErr(t, err, http.StatusTooManyRequests); gerr.Message != "Quota exceeded for quota metric 'Read requests' and limit 'Read requests per minute per user' of service 'sheets.googleapis.com' for consumer 'project_number:123456789'." {
		t.Errorf("read quota message = %q", gerr.Message)
	}
	clock.Advance(61 * time.Second)
	if err := batch(b); err != nil {
		t.Errorf("after a minute: %v", err)
	}
}

func TestClientAuth(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{RequireAuth: true})
	id := e.srv.CreateSpreadsheet("S")
	_, err := e.svc.Spreadsheets.Get(id).Context(e.ctx).Do()
	if gerr := apiErr(t, err, http.StatusUnauthorized); gerr.Message == "" {
		t.Error("401 without a message")
	}
	authed := e.client(t, "good")
	if _, err := authed.Spreadsheets.Get(id).Context(e.ctx).Do(); err != nil {
		t.Fatalf("with a token: %v", err)
	}
	e.srv.RevokeToken("good")
	_, err = authed.Spreadsheets.Get(id).Context(e.ctx).Do()
	apiErr(t, err, http.StatusUnauthorized)
	e.srv.RestoreToken("good")
	if _, err := authed.Spreadsheets.Get(id).Context(e.ctx).Do(); err != nil {
		t.Errorf("after RestoreToken: %v", err)
	}
}
