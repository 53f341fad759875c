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
