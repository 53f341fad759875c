package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/surveysync/surveysync/store"
)

var settleTests = []test{
	{"Delivered", testSettleDelivered},
	{"Retry", testSettleRetry},
	{"Dead", testSettleDead},
	{"Release", testSettleRelease},
	{"LostLeaseChangesNothing", testSettleFencing},
	{"OnlyWhatItClaimed", testSettleOnlyClaimed},
	{"Validation", testSettleValidation},
}

func testSettleDelivered(t *testing.T, h *harness) {
	h.ingest(incoming(response("typeform", "a", "x", Epoch), "sheet"))
	l := h.lease("sheet", "w1")
	ds := h.claim("sheet", l, 10)
	h.clock.Advance(time.Second)
	h.settle(l, h.delivered(ds[0]))
	if got := h.lookup("typeform", "a").Deliveries["sheet"]; got != store.Delivered {
		t.Errorf("state = %s, want delivered", got)
	}
	ss := h.syncStats("sheet")
	if countsOf(ss) != (counts{Delivered: 1}) || !ss.LastSuccess.Equal(h.clock.Now()) {
		t.Errorf("stats = %+v, want 1 delivered with last success %s", ss, h.clock.Now())
	}
	h.clock.Advance(30 * time.Minute)
	if ds := h.claim("sheet", l, 10); len(ds) != 0 {
		t.Errorf("claimed %v after delivery", keysOf(ds))
	}
}

func testSettleRetry(t *testing.T, h *harness) {
	h.ingest(incoming(response("typeform", "a", "x", Epoch), "sheet"),
		incoming(response("typeform", "b", "x", Epoch), "sheet"))
	l := h.lease("sheet", "w1")
	ds := h.claim("sheet", l, 10)
	h.settle(l,
		store.Outcome{ID: ds[0].ID, State: store.Pending, NextAt: h.clock.Now().Add(time.Minute), Class: "transient", Error: "HTTP 503", At: h.clock.Now()},
		store.Outcome{ID: ds[1].ID, State: store.Pending, Uncertain: true, NextAt: h.clock.Now().Add(time.Minute), Class: "ambiguous", Error: "timeout after sending", At: h.clock.Now()},
	)
	ss := h.syncStats("sheet")
	if countsOf(ss) != (counts{Pending: 2, Uncertain: 1}) {
		t.Errorf("counts = %+v, want 2 pending, 1 uncertain", countsOf(ss))
	}
	if ss.LastError == "" || !ss.LastErrorAt.Equal(h.clock.Now()) {
		t.Errorf("last error %q at %s, want one at %s", ss.LastError, ss.LastErrorAt, h.clock.Now())
	}
	h.clock.Advance(time.Minute)
	again := h.claim("sheet", l, 10)
	if len(again) != 2 {
		t.Fatalf("claimed %v when due, want both", keysOf(again))
	}
	for _, d := range again {
		wantUncertain := d.Response.Key == "b"
		if d.Attempts != 2 || d.Uncertain != wantUncertain || d.Key != ds[0].Key && d.Key != ds[1].Key {
			t.Errorf("%s: attempts %d uncertain %v; want 2 attempts, uncertain %v, the same key", d.Response.Key, d.Attempts, d.Uncertain, wantUncertain)
		}
	}
}

func testSettleDead(t *testing.T, h *harness) {
	r := response("typeform", "a", "x", Epoch)
	h.ingest(incoming(r, "sheet"))
	l := h.lease("sheet", "w1")
	ds := h.claim("sheet", l, 10)
	h.clock.Advance(time.Second)
	h.settle(l, store.Outcome{ID: ds[0].ID, State: store.Dead, Class: "permanent", Error: "HTTP 400: bad email", At: h.clock.Now()})
	ss := h.syncStats("sheet")
	if countsOf(ss) != (counts{Dead: 1}) || ss.LastError != "HTTP 400: bad email" {
		t.Errorf("stats = %+v, want 1 dead with the reason as last error", ss)
	}
	dead, err := h.s.DeadLetters(h.ctx, store.DeadFilter{Sync: "sheet"})
	if err != nil {
		t.Fatal(err)
	}
	want := []store.DeadLetter{{
		ID: ds[0].ID, Sync: "sheet", Source: "typeform", Key: "a", Attempts: 1,
		Class: "permanent", Reason: "HTTP 400: bad email", At: h.clock.Now(), Payload: r.Payload,
	}}
	if diff := cmp.Diff(want, dead); diff != "" {
		t.Errorf("DeadLetters (-want +got):\n%s", diff)
	}
	h.clock.Advance(30 * time.Minute)
	if ds := h.claim("sheet", l, 10); len(ds) != 0 {
		t.Errorf("claimed %v, want dead letters left alone", keysOf(ds))
	}
}

func testSettleRelease(t *testing.T, h *harness) {
	h.ingest(incoming(response("typeform", "a", "x", Epoch), "sheet"))
	l := h.lease("sheet", "w1")
	ds := h.claim("sheet", l, 10)
	h.settle(l, store.Outcome{ID: ds[0].ID, State: store.Pending, Release: true, Class: "paused", Error: "destination paused", At: h.clock.Now()})
	again := h.claim("sheet", l, 10)
	if len(again) != 1 || again[0].Attempts != 1 || again[0].Uncertain {
		t.Fatalf("claim after release = %+v, want the delivery at attempt 1 again", again)
	}

	// An uncertain delivery stays uncertain through a release.
	h.clock.Advance(2 * time.Hour) // the lease runs out
	next := h.lease("sheet", "w2")
	uncertain := h.claim("sheet", next, 10)
	if len(uncertain) != 1 || !uncertain[0].Uncertain || uncertain[0].Attempts != 2 {
		t.Fatalf("takeover claim = %+v, want it uncertain at attempt 2", uncertain)
	}
	h.settle(next, store.Outcome{ID: uncertain[0].ID, State: store.Pending, Release: true, At: h.clock.Now()})
	last := h.claim("sheet", next, 10)
	if len(last) != 1 || !last[0].Uncertain || last[0].Attempts != 2 {
		t.Errorf("claim after releasing an uncertain delivery = %+v, want still uncertain, attempt 2", last)
	}
}

func testSettleFencing(t *testing.T, h *harness) {
	h.ingest(incoming(response("typeform", "a", "x", Epoch), "sheet"))
	old, err := h.s.AcquireLease(h.ctx, "sheet", "w1", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	ds := h.claim("sheet", old, 10)

	// Expired, not yet taken over: the lease is no longer held.
	h.clock.Advance(2 * time.Minute)
	err = h.s.Settle(h.ctx, old, []store.Outcome{h.delivered(ds[0])})
	if !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("settle after expiry: err = %v, want ErrLeaseLost", err)
	}
	// Taken over: still lost, and the settle changed nothing.
	next := h.lease("sheet", "w2")
	err = h.s.Settle(h.ctx, old, []store.Outcome{h.delivered(ds[0])})
	if !errors.Is(err, store.ErrLeaseLost) {
		t.Fatalf("settle after takeover: err = %v, want ErrLeaseLost", err)
	}
	if got := countsOf(h.syncStats("sheet")); got != (counts{Sending: 1}) {
		t.Errorf("counts = %+v, want the delivery still sending", got)
	}
	again := h.claim("sheet", next, 10)
	if len(again) != 1 || !again[0].Uncertain {
		t.Fatalf("new holder claimed %+v, want the delivery as uncertain", again)
	}
	// The old holder's settle cannot touch the new holder's claim either.
	if err := h.s.Settle(h.ctx, old, []store.Outcome{{ID: again[0].ID, State: store.Dead, Error: "late"}}); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("late settle: err = %v, want ErrLeaseLost", err)
	}
	h.settle(next, h.delivered(again[0]))
	if got := countsOf(h.syncStats("sheet")); got != (counts{Delivered: 1}) {
		t.Errorf("counts = %+v, want 1 delivered", got)
	}
}

func testSettleOnlyClaimed(t *testing.T, h *harness) {
	h.ingest(incoming(response("typeform", "a", "x", Epoch), "sheet"),
		incoming(response("typeform", "b", "x", Epoch), "sheet"))
	l := h.lease("sheet", "w1")
	ds := h.claim("sheet", l, 1)
	h.settle(l, h.delivered(ds[0]))
	// Settling again, or settling a delivery never claimed, changes nothing.
	h.settle(l,
		store.Outcome{ID: ds[0].ID, State: store.Dead, Error: "again", At: h.clock.Now()},
		store.Outcome{ID: ds[0].ID + 1, State: store.Dead, Error: "never claimed", At: h.clock.Now()},
		store.Outcome{ID: 1 << 40, State: store.Delivered, At: h.clock.Now()},
	)
	if got := countsOf(h.syncStats("sheet")); got != (counts{Pending: 1, Delivered: 1}) {
		t.Errorf("counts = %+v, want 1 pending and 1 delivered", got)
	}
}

func testSettleValidation(t *testing.T, h *harness) {
	h.ingest(incoming(response("typeform", "a", "x", Epoch), "sheet"))
	l := h.lease("sheet", "w1")
	ds := h.claim("sheet", l, 10)
	for _, o := range []store.Outcome{
		{ID: ds[0].ID, State: store.Sending},
		{ID: ds[0].ID, State: "done"},
		{ID: ds[0].ID, State: store.Delivered, Release: true},
	} {
		good := h.delivered(ds[0])
		if err := h.s.Settle(h.ctx, l, []store.Outcome{good, o}); err == nil {
			t.Errorf("Settle with %+v succeeded, want an error", o)
		}
	}
	if got := countsOf(h.syncStats("sheet")); got != (counts{Sending: 1}) {
		t.Errorf("counts = %+v, want the invalid settles to change nothing", got)
	}
}
