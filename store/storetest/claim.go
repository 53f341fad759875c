package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

var claimTests = []test{
	{"OldestFirstWithLimit", testClaimOrderAndLimit},
	{"DueTime", testClaimDueTime},
	{"OnlyItsSync", testClaimOnlyItsSync},
	{"UncertainAfterTokenChange", testClaimUncertainAfterTokenChange},
	{"UncertainAfterStale", testClaimUncertainAfterStale},
	{"NeedsTheLease", testClaimNeedsLease},
	{"PreviousAttemptAt", testClaimPreviousAttemptAt},
}

// testClaimPreviousAttemptAt checks that a claim reports when the previous
// attempt was claimed: zero on a first attempt, the earlier claim's time
// after an ambiguous attempt and after a takeover.
func testClaimPreviousAttemptAt(t *testing.T, h *harness) {
	h.ingest(incoming(response("typeform", "a", "x", Epoch), "sheet"),
		incoming(response("typeform", "b", "x", Epoch), "sheet"))
	l := h.lease("sheet", "w1")
	first := h.claim("sheet", l, 10)
	for _, d := range first {
		if !d.PreviousAttemptAt.IsZero() {
			t.Errorf("%s: first attempt reports a previous attempt at %v", d.Response.Key, d.PreviousAttemptAt)
		}
	}
	claimedAt := h.clock.Now()
	h.clock.Advance(10 * time.Second)
	h.settle(l, store.Outcome{ID: first[0].ID, State: store.Pending, Uncertain: true, NextAt: h.clock.Now(), Class: "ambiguous", Error: "timeout", At: h.clock.Now()})
	h.clock.Advance(2 * time.Hour)
	l2 := h.lease("sheet", "w2") // w1's lease expired; b is left sending
	again := h.claim("sheet", l2, 10)
	if len(again) != 2 {
		t.Fatalf("re-claim = %v, want a and b", keysOf(again))
	}
	for _, d := range again {
		if !d.Uncertain || !d.PreviousAttemptAt.Equal(claimedAt) {
			t.Errorf("%s: uncertain %v, previous attempt at %v; want uncertain and %v", d.Response.Key, d.Uncertain, d.PreviousAttemptAt, claimedAt)
		}
	}
}

func testClaimOrderAndLimit(t *testing.T, h *harness) {
	for i := range 5 {
		h.ingest(incoming(response("typeform", key(i), "x", Epoch), "sheet"))
		h.clock.Advance(time.Second)
	}
	l := h.lease("sheet", "w1")
	first := h.claim("sheet", l, 3)
	if diff := cmp.Diff([]string{key(0), key(1), key(2)}, keysOf(first)); diff != "" {
		t.Errorf("first claim (-want +got):\n%s", diff)
	}
	for _, d := range first {
		want := store.Delivery{
			ID: d.ID, Sync: "sheet", Version: 1, Attempts: 1,
			Key:             survey.DeliveryKey("sheet", "typeform", d.Response.Key, 1),
			Response:        response("typeform", d.Response.Key, "x", Epoch),
			ResponseVersion: 1,
		}
		if diff := cmp.Diff(want, d); diff != "" {
			t.Errorf("claimed %s (-want +got):\n%s", d.Response.Key, diff)
		}
	}
	second := h.claim("sheet", l, 3)
	if diff := cmp.Diff([]string{key(3), key(4)}, keysOf(second)); diff != "" {
		t.Errorf("second claim (-want +got):\n%s", diff)
	}
	if third := h.claim("sheet", l, 3); len(third) != 0 {
		t.Errorf("third claim = %v, want nothing left", keysOf(third))
	}
	if got := countsOf(h.syncStats("sheet")); got != (counts{Sending: 5}) {
		t.Errorf("counts = %+v, want 5 sending", got)
	}
	if _, err := h.s.Claim(h.ctx, store.ClaimRequest{Sync: "sheet", Lease: l, Limit: 0}); err == nil {
		t.Error("Claim with limit 0 succeeded, want an error")
	}
}

func testClaimDueTime(t *testing.T, h *harness) {
	h.ingest(incoming(response("typeform", "a", "x", Epoch), "sheet"),
		incoming(response("typeform", "b", "x", Epoch), "sheet"))
	l := h.lease("sheet", "w1")
	ds := h.claim("sheet", l, 10)
	retryAt := h.clock.Now().Add(time.Minute)
	h.settle(l,
		store.Outcome{ID: ds[0].ID, State: store.Pending, NextAt: retryAt.Add(time.Minute), Class: "transient", Error: "503", At: h.clock.Now()},
		store.Outcome{ID: ds[1].ID, State: store.Pending, NextAt: retryAt, Class: "transient", Error: "503", At: h.clock.Now()},
	)
	if got := h.claim("sheet", l, 10); len(got) != 0 {
		t.Errorf("claimed %v before they were due", keysOf(got))
	}
	// A claim's own Now decides what is due.
	early, err := h.s.Claim(h.ctx, store.ClaimRequest{Sync: "sheet", Lease: l, Limit: 10, Now: retryAt.Add(-time.Microsecond)})
	if err != nil || len(early) != 0 {
		t.Errorf("claim just before due = %v, %v; want nothing", keysOf(early), err)
	}
	h.clock.Advance(2 * time.Minute)
	got := h.claim("sheet", l, 10)
	// Oldest due first: b was due a minute before a.
	if diff := cmp.Diff([]string{"b", "a"}, keysOf(got)); diff != "" {
		t.Errorf("claim when due (-want +got):\n%s", diff)
	}
	for _, d := range got {
		if d.Attempts != 2 {
			t.Errorf("%s attempts = %d, want 2", d.Response.Key, d.Attempts)
		}
	}
}

func testClaimOnlyItsSync(t *testing.T, h *harness) {
	h.ingest(incoming(response("typeform", "a", "x", Epoch), "sheet", "crm"),
		incoming(response("typeform", "b", "x", Epoch), "crm"))
	l := h.lease("all", "w1")
	if got := keysOf(h.claim("sheet", l, 10)); !cmp.Equal(got, []string{"a"}) {
		t.Errorf("sheet claimed %v, want [a]", got)
	}
	crm := h.claim("crm", l, 10)
	if got := keysOf(crm); !cmp.Equal(got, []string{"a", "b"}) {
		t.Errorf("crm claimed %v, want [a b]", got)
	}
	for _, d := range crm {
		if d.Sync != "crm" {
			t.Errorf("crm claim returned a delivery of %s", d.Sync)
		}
	}
}

func testClaimUncertainAfterTokenChange(t *testing.T, h *harness) {
	h.ingest(incoming(response("typeform", "a", "x", Epoch), "sheet"),
		incoming(response("typeform", "b", "x", Epoch), "sheet"))
	old, err := h.s.AcquireLease(h.ctx, "sheet", "w1", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ds := h.claim("sheet", old, 10)
	if len(ds) != 2 || ds[0].Uncertain {
		t.Fatalf("first claim = %v, want two certain deliveries", keysOf(ds))
	}
	// w1 dies while sending; its lease runs out and w2 takes over.
	h.clock.Advance(2 * time.Minute)
	next := h.lease("sheet", "w2")
	again := h.claim("sheet", next, 10)
	if diff := cmp.Diff([]string{"a", "b"}, keysOf(again)); diff != "" {
		t.Fatalf("takeover claim (-want +got):\n%s", diff)
	}
	for i, d := range again {
		if !d.Uncertain || d.Attempts != 2 || d.Key != ds[i].Key || d.Version != 1 {
			t.Errorf("%s re-claimed as uncertain %v attempts %d key %s; want uncertain, 2 attempts, the same key %s",
				d.Response.Key, d.Uncertain, d.Attempts, d.Key, ds[i].Key)
		}
	}
	if got := h.syncStats("sheet"); got.Sending != 2 || got.Uncertain != 2 {
		t.Errorf("stats sending %d uncertain %d, want 2 and 2", got.Sending, got.Uncertain)
	}
	// Reconciled as applied: delivered, no longer uncertain.
	h.settle(next, h.delivered(again[0]), h.delivered(again[1]))
	if got := countsOf(h.syncStats("sheet")); got != (counts{Delivered: 2}) {
		t.Errorf("counts = %+v, want 2 delivered", got)
	}
}

func testClaimUncertainAfterStale(t *testing.T, h *harness) {
	h.ingest(incoming(response("typeform", "a", "x", Epoch), "sheet"))
	l := h.lease("sheet", "w1")
	req := store.ClaimRequest{Sync: "sheet", Lease: l, Limit: 10, StaleAfter: 5 * time.Minute}
	claim := func() []store.Delivery {
		t.Helper()
		req.Now = h.clock.Now()
		ds, err := h.s.Claim(h.ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		return ds
	}
	if ds := claim(); len(ds) != 1 || ds[0].Uncertain {
		t.Fatalf("first claim = %+v, want one certain delivery", ds)
	}
	h.clock.Advance(4 * time.Minute)
	if ds := claim(); len(ds) != 0 {
		t.Errorf("claim before StaleAfter = %v, want nothing", keysOf(ds))
	}
	h.clock.Advance(time.Minute)
	ds := claim()
	if len(ds) != 1 || !ds[0].Uncertain || ds[0].Attempts != 2 {
		t.Fatalf("claim after StaleAfter = %+v, want the delivery back as uncertain, attempt 2", ds)
	}
	// The default StaleAfter is 10 minutes.
	req.StaleAfter = 0
	h.clock.Advance(9 * time.Minute)
	if ds := claim(); len(ds) != 0 {
		t.Errorf("claim 9 minutes later = %v, want nothing", keysOf(ds))
	}
	h.clock.Advance(time.Minute)
	if ds := claim(); len(ds) != 1 || !ds[0].Uncertain {
		t.Errorf("claim 10 minutes later = %v, want the stale delivery", keysOf(ds))
	}
}

func testClaimNeedsLease(t *testing.T, h *harness) {
	h.ingest(incoming(response("typeform", "a", "x", Epoch), "sheet"))
	old, err := h.s.AcquireLease(h.ctx, "sheet", "w1", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(2 * time.Minute)
	next := h.lease("sheet", "w2")
	_, err = h.s.Claim(h.ctx, store.ClaimRequest{Sync: "sheet", Lease: old, Limit: 10, Now: h.clock.Now()})
	if !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("claim under a lost lease: err = %v, want ErrLeaseLost", err)
	}
	ds := h.claim("sheet", next, 10)
	if len(ds) != 1 || ds[0].Uncertain || ds[0].Attempts != 1 {
		t.Errorf("claim by the new holder = %+v, want the delivery untouched by the failed claim", ds)
	}
}
