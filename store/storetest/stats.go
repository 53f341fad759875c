package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/surveysync/surveysync/store"
)

var statsTests = []test{
	{"Empty", testStatsEmpty},
	{"Counts", testStatsCounts},
	{"OldestPendingIncludesRetries", testStatsOldestPending},
	{"OldestPendingLeavesOutSending", testStatsOldestPendingNotSending},
}

func testStatsOldestPending(t *testing.T, h *harness) {
	t0 := h.clock.Now()
	h.ingest(incoming(response("typeform", "a", "x", Epoch), "sheet"))
	l := h.lease("sheet", "w1")
	ds := h.claim("sheet", l, 10)
	// a waits two hours for a retry; b, planned later, is due first.
	h.settle(l, store.Outcome{ID: ds[0].ID, State: store.Pending, NextAt: t0.Add(2 * time.Hour), Error: "HTTP 503", At: t0})
	t1 := h.clock.Advance(time.Minute)
	h.ingest(incoming(response("typeform", "b", "x", Epoch), "sheet"))
	if got := h.syncStats("sheet").OldestPending; !got.Equal(t0) {
		t.Errorf("OldestPending = %s, want a's planning time %s", got, t0)
	}
	// Released before being sent, b keeps its planning time too.
	ds = h.claim("sheet", l, 10)
	if len(ds) != 1 || ds[0].Response.Key != "b" {
		t.Fatalf("claimed %v, want b", keysOf(ds))
	}
	h.settle(l, store.Outcome{ID: ds[0].ID, State: store.Pending, Release: true, NextAt: t1.Add(time.Hour), At: t1})
	h.clock.Advance(3 * time.Hour)
	l = h.lease("sheet", "w1") // the first one ran out
	first := h.claim("sheet", l, 1)
	if len(first) != 1 || first[0].Response.Key != "b" {
		t.Fatalf("claimed %v, want b (due first)", keysOf(first))
	}
	h.settle(l, h.delivered(first[0]))
	if got := h.syncStats("sheet").OldestPending; !got.Equal(t0) {
		t.Errorf("OldestPending after b was delivered = %s, want a's %s", got, t0)
	}
	h.deliverAll("sheet", l)
	if got := h.syncStats("sheet").OldestPending; !got.IsZero() {
		t.Errorf("OldestPending with nothing pending = %s, want zero", got)
	}
}

// testStatsOldestPendingNotSending checks that OldestPending is the
// planning time of the oldest delivery waiting to be claimed: deliveries in
// flight are sending, not pending, however long ago they were planned,
// whether on their first attempt or on a retry.
func testStatsOldestPendingNotSending(t *testing.T, h *harness) {
	h.ingest(incoming(response("typeform", "a", "x", Epoch), "sheet"))
	l := h.lease("sheet", "w1")
	if ds := h.claim("sheet", l, 10); len(ds) != 1 {
		t.Fatalf("claimed %v, want a", keysOf(ds))
	}
	t1 := h.clock.Advance(time.Minute)
	h.ingest(incoming(response("typeform", "b", "x", Epoch), "sheet"),
		incoming(response("typeform", "c", "x", Epoch), "sheet"))
	if got := h.syncStats("sheet").OldestPending; !got.Equal(t1) {
		t.Errorf("OldestPending with a in flight = %s, want b's planning time %s", got, t1)
	}

	// b fails and waits for a retry; claimed again, it is sending too.
	b := h.claim("sheet", l, 1)
	if len(b) != 1 || b[0].Response.Key != "b" {
		t.Fatalf("claimed %v, want b", keysOf(b))
	}
	h.settle(l, store.Outcome{ID: b[0].ID, State: store.Pending, NextAt: t1.Add(30 * time.Second), Class: "transient", Error: "HTTP 503", At: t1})
	t2 := h.clock.Advance(time.Minute)
	h.ingest(incoming(response("typeform", "d", "x", Epoch), "sheet"))
	if again := h.claim("sheet", l, 2); len(again) != 2 {
		t.Fatalf("claimed %v, want c and b", keysOf(again))
	}
	if got := h.syncStats("sheet").OldestPending; !got.Equal(t2) {
		t.Errorf("OldestPending with a, b and c in flight = %s, want d's planning time %s", got, t2)
	}
}

func testStatsEmpty(t *testing.T, h *harness) {
	st := h.stats(time.Time{})
	if len(st.Syncs)+len(st.Sources)+len(st.Pauses)+len(st.Leases) != 0 {
		t.Errorf("Stats of an empty ledger = %+v, want nothing", st)
	}
}

func testStatsCounts(t *testing.T, h *harness) {
	t0 := h.clock.Now()
	h.ingest(
		incoming(response("typeform", "a", "x", Epoch), "sheet", "crm"),
		incoming(response("typeform", "b", "x", Epoch), "sheet", "crm"),
		incoming(response("typeform", "c", "x", Epoch), "sheet"),
	)
	t1 := h.clock.Advance(time.Minute)
	if _, err := h.s.Ingest(h.ctx, []store.Incoming{
		incoming(response("poll", "d", "x", Epoch), "sheet"),
		incoming(response("poll", "e", "x", Epoch), "sheet"),
	}, []store.SourceState{{Source: "poll", Name: "cursor", Value: "2026-03-02T09:01:00Z"}}); err != nil {
		t.Fatal(err)
	}
	if err := h.s.Reject(h.ctx, []store.Rejected{{Source: "poll", Ref: "page 3", Reason: "no id", Payload: []byte(`{}`)}}); err != nil {
		t.Fatal(err)
	}
	if err := h.s.SetPause(h.ctx, "crm", "HubSpot token revoked"); err != nil {
		t.Fatal(err)
	}

	l := h.lease("sheet", "w1")
	t2 := h.clock.Advance(time.Minute)
	sheet := h.claim("sheet", l, 4) // a b c d
	h.settle(l,
		h.delivered(sheet[0]),
		store.Outcome{ID: sheet[1].ID, State: store.Dead, Class: "permanent", Error: "HTTP 400", At: t2.Add(-time.Second)},
		store.Outcome{ID: sheet[2].ID, State: store.Pending, Uncertain: true, NextAt: t2.Add(time.Hour), Class: "ambiguous", Error: "timeout", At: t2},
	) // d stays sending
	t3 := h.clock.Advance(time.Minute)
	more := h.claim("sheet", l, 1) // e
	h.settle(l, h.delivered(more[0]))

	st := h.stats(t3)
	want := &store.Stats{
		Syncs: []store.SyncStats{
			{Sync: "crm", Pending: 2, OldestPending: t0},
			{
				Sync: "sheet", Pending: 1, Sending: 1, Delivered: 2, Dead: 1, Uncertain: 1, DeliveredSince: 1,
				OldestPending: t0, LastSuccess: t3, LastError: "timeout", LastErrorAt: t2,
			},
		},
		Sources: []store.SourceStats{
			{Source: "poll", Responses: 2, LastIngest: t1, Cursor: "2026-03-02T09:01:00Z", Rejected: 1},
			{Source: "typeform", Responses: 3, LastIngest: t0},
		},
		Pauses: []store.Pause{{Destination: "crm", Reason: "HubSpot token revoked", Since: t1}},
		Leases: []store.Lease{l},
	}
	if diff := cmp.Diff(want, st, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Stats (-want +got):\n%s", diff)
	}
	if got := h.stats(t2).Syncs[1].DeliveredSince; got != 2 {
		t.Errorf("DeliveredSince(t2) = %d, want 2", got)
	}
	if got := h.stats(time.Time{}).Syncs[1].DeliveredSince; got != 2 {
		t.Errorf("DeliveredSince(zero) = %d, want 2 (all)", got)
	}
}
