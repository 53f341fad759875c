package storetest

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/surveysync/surveysync/store"
)

var replayTests = []test{
	{"Dead", testReplayDead},
	{"DeliveredNeedsKeys", testReplayDeliveredNeedsKeys},
	{"DeliveredByKey", testReplayDelivered},
	{"LeavesOthersAlone", testReplayLeavesOthersAlone},
}

// killAll claims every delivery of sync and settles it dead.
func (h *harness) killAll(sync string, l store.Lease) []store.Delivery {
	h.t.Helper()
	ds := h.claim(sync, l, 1000)
	outcomes := make([]store.Outcome, len(ds))
	for i, d := range ds {
		outcomes[i] = store.Outcome{ID: d.ID, State: store.Dead, Class: "permanent", Error: "HTTP 400", At: h.clock.Now()}
	}
	h.settle(l, outcomes...)
	return ds
}

func testReplayDead(t *testing.T, h *harness) {
	h.ingest(incoming(response("typeform", "a", "x", Epoch), "sheet", "crm"),
		incoming(response("typeform", "b", "x", Epoch), "sheet"))
	l := h.lease("all", "w1")
	dead := h.killAll("sheet", l)
	h.killAll("crm", l)

	n, err := h.s.Replay(h.ctx, store.ReplayRequest{Sync: "sheet", Dead: true})
	if err != nil || n != 2 {
		t.Fatalf("Replay(sheet dead) = %d, %v; want 2", n, err)
	}
	again := h.claim("sheet", l, 10)
	if len(again) != 2 {
		t.Fatalf("claimed %v after replay, want both", keysOf(again))
	}
	for i, d := range again {
		if d.Version != 1 || d.Key != dead[i].Key || d.Attempts != 1 {
			t.Errorf("%s after replay: version %d attempts %d key %s; want the same version and key, attempts counted afresh",
				d.Response.Key, d.Version, d.Attempts, d.Key)
		}
	}
	if got := h.syncStats("crm").Dead; got != 1 {
		t.Errorf("crm dead = %d, want 1 (replay of sheet only)", got)
	}
	// An empty sync replays every sync's dead letters.
	if n, err := h.s.Replay(h.ctx, store.ReplayRequest{Dead: true}); err != nil || n != 1 {
		t.Errorf("Replay(all dead) = %d, %v; want 1", n, err)
	}
	if dl, err := h.s.DeadLetters(h.ctx, store.DeadFilter{}); err != nil || len(dl) != 0 {
		t.Errorf("DeadLetters after replays = %d, %v; want none", len(dl), err)
	}
}

func testReplayDeliveredNeedsKeys(t *testing.T, h *harness) {
	h.ingest(incoming(response("typeform", "a", "x", Epoch), "sheet"))
	h.deliverAll("sheet", h.lease("sheet", "w1"))
	for _, req := range []store.ReplayRequest{
		{Sync: "sheet", Delivered: true},
		{Sync: "sheet"},
		{Delivered: true, Keys: []string{"a"}},
	} {
		if n, err := h.s.Replay(h.ctx, req); err == nil {
			t.Errorf("Replay(%+v) = %d, nil; want an error", req, n)
		}
	}
	if got := countsOf(h.syncStats("sheet")); got != (counts{Delivered: 1}) {
		t.Errorf("counts = %+v, want nothing re-opened", got)
	}
}

func testReplayDelivered(t *testing.T, h *harness) {
	h.ingest(incoming(response("typeform", "a", "x", Epoch), "sheet"),
		incoming(response("typeform", "b", "x", Epoch), "sheet"),
		incoming(response("typeform", "c", "x", Epoch), "sheet"))
	l := h.lease("sheet", "w1")
	first := h.deliverAll("sheet", l)
	n, err := h.s.Replay(h.ctx, store.ReplayRequest{Sync: "sheet", Keys: []string{"a", "c", "unknown"}, Delivered: true})
	if err != nil || n != 2 {
		t.Fatalf("Replay = %d, %v; want 2", n, err)
	}
	again := h.claim("sheet", l, 10)
	if diff := cmp.Diff([]string{"a", "c"}, keysOf(again)); diff != "" {
		t.Fatalf("claimed after replay (-want +got):\n%s", diff)
	}
	for _, d := range again {
		if d.Version != 2 || d.Key == first[0].Key || d.Key == first[2].Key || d.Attempts != 1 {
			t.Errorf("%s: version %d key %s attempts %d; want a redelivery (version 2, new key, attempt 1)", d.Response.Key, d.Version, d.Key, d.Attempts)
		}
	}
}

func testReplayLeavesOthersAlone(t *testing.T, h *harness) {
	h.ingest(incoming(response("typeform", "a", "x", Epoch), "sheet"),
		incoming(response("typeform", "b", "x", Epoch), "sheet"),
		incoming(response("typeform", "c", "x", Epoch), "sheet"))
	l := h.lease("sheet", "w1")
	ds := h.claim("sheet", l, 2) // a sending, b dead, c pending
	h.settle(l, store.Outcome{ID: ds[1].ID, State: store.Dead, Error: "HTTP 400", At: h.clock.Now()})
	// Dead by key re-opens only the dead one of the keys; pending and
	// sending deliveries are not touched by either kind of replay.
	n, err := h.s.Replay(h.ctx, store.ReplayRequest{Sync: "sheet", Keys: []string{"a", "b", "c"}, Dead: true, Delivered: true})
	if err != nil || n != 1 {
		t.Fatalf("Replay = %d, %v; want 1 (b)", n, err)
	}
	if got := countsOf(h.syncStats("sheet")); got != (counts{Pending: 2, Sending: 1}) {
		t.Errorf("counts = %+v, want 2 pending, 1 sending", got)
	}
	h.clock.Advance(time.Second)
	if got := keysOf(h.claim("sheet", l, 10)); !cmp.Equal(got, []string{"b", "c"}) && !cmp.Equal(got, []string{"c", "b"}) {
		t.Errorf("claimed %v, want b and c", got)
	}
}
