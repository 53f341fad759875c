package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

var ledgerTests = []test{
	{"Pauses", testPauses},
	{"Rejects", testRejects},
	{"Lookup", testLookup},
	{"LookupRedeliverTags", testLookupRedeliverTags},
	{"ScanOrderAndBounds", testScanOrderAndBounds},
	{"ScanManyAndStop", testScanManyAndStop},
	{"ScanBatches", testScanBatches},
	{"ScoreRuns", testScoreRuns},
	{"DeadLettersNewestFirst", testDeadLettersOrder},
}

func testPauses(t *testing.T, h *harness) {
	pauses := func() []store.Pause {
		t.Helper()
		p, err := h.s.Pauses(h.ctx)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	if p := pauses(); len(p) != 0 {
		t.Fatalf("Pauses of an empty ledger = %v", p)
	}
	since := h.clock.Now()
	for _, p := range []store.Pause{{Destination: "sheet", Reason: "tab Responses is missing"}, {Destination: "crm", Reason: "token revoked"}} {
		if err := h.s.SetPause(h.ctx, p.Destination, p.Reason); err != nil {
			t.Fatal(err)
		}
	}
	h.clock.Advance(time.Minute)
	if err := h.s.SetPause(h.ctx, "sheet", "header Email was deleted"); err != nil {
		t.Fatal(err)
	}
	want := []store.Pause{
		{Destination: "crm", Reason: "token revoked", Since: since},
		{Destination: "sheet", Reason: "header Email was deleted", Since: since},
	}
	if diff := cmp.Diff(want, pauses()); diff != "" {
		t.Errorf("Pauses (-want +got):\n%s", diff)
	}
	if err := h.s.SetPause(h.ctx, "crm", ""); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want[1:], pauses()); diff != "" {
		t.Errorf("Pauses after clearing crm (-want +got):\n%s", diff)
	}
}

func testRejects(t *testing.T, h *harness) {
	in := []store.Rejected{
		{Source: "files", Ref: "export.csv:3", Reason: "rating is not a number", Payload: []byte("a,b"), At: Epoch},
		{Source: "hook", Ref: "/hooks/typeform", Reason: "no response token", Payload: []byte(`{}`), At: Epoch.Add(time.Second)},
		{Source: "files", Ref: "export.csv:9", Reason: "bad date", Payload: []byte("c,d")}, // zero At: now
	}
	if err := h.s.Reject(h.ctx, in); err != nil {
		t.Fatal(err)
	}
	all, err := h.s.Rejects(h.ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	in[2].At = h.clock.Now()
	if diff := cmp.Diff(in, all, cmpopts.IgnoreFields(store.Rejected{}, "ID")); diff != "" {
		t.Errorf("Rejects (-want +got):\n%s", diff)
	}
	files, err := h.s.Rejects(h.ctx, "files", 1)
	if err != nil || len(files) != 1 || files[0].Ref != "export.csv:3" {
		t.Errorf("Rejects(files, 1) = %+v, %v; want the oldest of files", files, err)
	}
	if err := h.s.MarkRejectsReplayed(h.ctx, []int64{all[0].ID, all[1].ID}); err != nil {
		t.Fatal(err)
	}
	left, err := h.s.Rejects(h.ctx, "", 10)
	if err != nil || len(left) != 1 || left[0].ID != all[2].ID {
		t.Errorf("Rejects after replay = %+v, %v; want only the third", left, err)
	}
	for _, src := range h.stats(time.Time{}).Sources {
		if want := map[string]int64{"files": 1, "hook": 0}[src.Source]; src.Rejected != want {
			t.Errorf("%s rejected = %d, want %d", src.Source, src.Rejected, want)
		}
	}
}

func testLookup(t *testing.T, h *harness) {
	a := response("typeform", "a", "x", Epoch)
	b := response("typeform", "b", "x", Epoch)
	h.ingest(incoming(a, "sheet", "crm"), incoming(b), incoming(response("other", "c", "x", Epoch), "sheet"))
	l := h.lease("sheet", "w1")
	h.deliverAll("sheet", l)
	got, err := h.s.Lookup(h.ctx, "typeform", []string{"a", "b", "c", "never"})
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]store.ResponseState{
		"a": {Hash: a.Hash(), Version: 1, Deliveries: map[string]store.State{"sheet": store.Delivered, "crm": store.Pending}},
		"b": {Hash: b.Hash(), Version: 1},
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("Lookup (-want +got):\n%s", diff)
	}
	if empty, err := h.s.Lookup(h.ctx, "typeform", nil); err != nil || len(empty) != 0 {
		t.Errorf("Lookup of no keys = %v, %v; want an empty map", empty, err)
	}
}

// testLookupRedeliverTags checks that Lookup reports the tag each sync's
// delivery carries, which is what an ingest with Redeliver and a tag
// compares: a backfill dry run predicts from it that repeating a run
// re-sends nothing.
func testLookupRedeliverTags(t *testing.T, h *harness) {
	a := response("typeform", "a", "x", Epoch)
	b := response("typeform", "b", "x", Epoch)
	h.ingest(incoming(a, "sheet", "crm"))
	l := h.lease("all", "w1")
	h.deliverAll("sheet", l)
	h.deliverAll("crm", l)

	lookup := func() map[string]store.ResponseState {
		t.Helper()
		got, err := h.s.Lookup(h.ctx, "typeform", []string{"a", "b"})
		if err != nil {
			t.Fatalf("Lookup: %v", err)
		}
		return got
	}
	if got := lookup()["a"].RedeliverTags; len(got) != 0 {
		t.Errorf("tags before any redelivery = %v, want none", got)
	}

	backfill := func(tag string, r survey.Response, syncs ...string) store.IngestResult {
		t.Helper()
		return h.ingest(store.Incoming{Response: r, Syncs: syncs, Redeliver: true, RedeliverTag: tag})[0]
	}
	// run-1 re-opens a's sheet delivery only, and brings b in new.
	backfill("run-1", a, "sheet")
	backfill("run-1", b, "sheet")
	want := map[string]store.ResponseState{
		"a": {Hash: a.Hash(), Version: 1,
			Deliveries:    map[string]store.State{"sheet": store.Pending, "crm": store.Delivered},
			RedeliverTags: map[string]string{"sheet": "run-1"}},
		"b": {Hash: b.Hash(), Version: 1,
			Deliveries:    map[string]store.State{"sheet": store.Pending},
			RedeliverTags: map[string]string{"sheet": "run-1"}},
	}
	if diff := cmp.Diff(want, lookup()); diff != "" {
		t.Errorf("Lookup after run-1 (-want +got):\n%s", diff)
	}

	// Delivered, the tags stay: the prediction for a repeated run-1 is
	// "nothing to send", and the repeated run indeed plans nothing.
	h.deliverAll("sheet", l)
	want["a"].Deliveries["sheet"] = store.Delivered
	want["b"].Deliveries["sheet"] = store.Delivered
	if diff := cmp.Diff(want, lookup()); diff != "" {
		t.Errorf("Lookup after delivering run-1 (-want +got):\n%s", diff)
	}
	for _, r := range []survey.Response{a, b} {
		if got := backfill("run-1", r, "sheet").Planned; got != 0 {
			t.Errorf("repeated run-1 planned %d for %s, want 0", got, r.Key)
		}
	}

	// run-2 re-opens a again, under its own tag.
	if got := backfill("run-2", a, "sheet", "crm").Planned; got != 2 {
		t.Errorf("run-2 planned %d for a, want 2", got)
	}
	if diff := cmp.Diff(map[string]string{"sheet": "run-2", "crm": "run-2"}, lookup()["a"].RedeliverTags); diff != "" {
		t.Errorf("a's tags after run-2 (-want +got):\n%s", diff)
	}
}

func testScanOrderAndBounds(t *testing.T, h *harness) {
	at := func(m int) time.Time { return Epoch.Add(time.Duration(m) * time.Minute) }
	h.ingest(
		incoming(response("typeform", "m3", "x", at(3))),
		incoming(response("typeform", "m1", "x", at(1))),
		incoming(response("typeform", "none", "x", time.Time{})),
		incoming(response("typeform", "m2", "x", at(2))),
		incoming(response("typeform", "m2b", "x", at(2))),
		incoming(response("other", "o1", "x", at(1))),
	)
	scan := func(from, to time.Time) []string {
		t.Helper()
		var keys []string
		err := h.s.ScanResponses(h.ctx, "typeform", from, to, func(r *survey.Response) error {
			if r.Source != "typeform" {
				t.Errorf("scan returned %s of source %s", r.Key, r.Source)
			}
			keys = append(keys, r.Key)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return keys
	}
	cases := []struct {
		name     string
		from, to time.Time
		want     []string
	}{
		{"open both sides", time.Time{}, time.Time{}, []string{"none", "m1", "m2", "m2b", "m3"}},
		{"from inclusive", at(2), time.Time{}, []string{"m2", "m2b", "m3"}},
		{"to exclusive", time.Time{}, at(2), []string{"none", "m1"}},
		{"window", at(1), at(3), []string{"m1", "m2", "m2b"}},
		{"empty window", at(4), at(5), nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if diff := cmp.Diff(tc.want, scan(tc.from, tc.to)); diff != "" {
				t.Errorf("scan (-want +got):\n%s", diff)
			}
		})
	}
	// The latest content is what a scan sees.
	h.ingest(incoming(response("typeform", "m1", "updated", at(1))))
	err := h.s.ScanResponses(h.ctx, "typeform", at(1), at(2), func(r *survey.Response) error {
		if want := response("typeform", "m1", "updated", at(1)); !cmp.Equal(want, *r) {
			t.Errorf("scanned %+v, want %+v", *r, want)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func testScanManyAndStop(t *testing.T, h *harness) {
	const n = 1200
	batch := make([]store.Incoming, n)
	for i := range batch {
		// Submitted in reverse order of ingest, many sharing a second.
		batch[i] = incoming(response("typeform", fmt.Sprintf("k%04d", i), "x", Epoch.Add(time.Duration(n-i)/3*time.Second)))
	}
	h.ingest(batch...)
	var prev time.Time
	seen := map[string]bool{}
	err := h.s.ScanResponses(h.ctx, "typeform", time.Time{}, time.Time{}, func(r *survey.Response) error {
		if r.SubmittedAt.Before(prev) {
			t.Fatalf("%s submitted %s after %s: out of order", r.Key, r.SubmittedAt, prev)
		}
		if seen[r.Key] {
			t.Fatalf("%s scanned twice", r.Key)
		}
		prev, seen[r.Key] = r.SubmittedAt, true
		return nil
	})
	if err != nil || len(seen) != n {
		t.Fatalf("scan saw %d of %d responses, err %v", len(seen), n, err)
	}

	stop := errors.New("enough")
	calls := 0
	err = h.s.ScanResponses(h.ctx, "typeform", time.Time{}, time.Time{}, func(*survey.Response) error {
		calls++
		if calls == 10 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || calls != 10 {
		t.Errorf("scan stopped after %d calls with %v, want 10 calls and fn's error", calls, err)
	}
}

// testScanBatches checks that ScanBatches hands out what ScanResponses
// does (in any order), and stops at fn's error and at a cancelled context.
func testScanBatches(t *testing.T, h *harness) {
	const n = 1500
	batch := make([]store.Incoming, 0, n+1)
	for i := range n {
		// Out of submission order, many sharing a second, some updated
		// below; one in ten with no submission time.
		at := Epoch.Add(time.Duration((i*7919)%n/4) * time.Second)
		if i%10 == 0 {
			at = time.Time{}
		}
		batch = append(batch, incoming(response("typeform", fmt.Sprintf("k%04d", i), "x", at)))
	}
	batch = append(batch, incoming(response("other", "o", "x", Epoch)))
	h.ingest(batch...)
	h.ingest(incoming(response("typeform", "k0003", "updated", batch[3].Response.SubmittedAt)))

	each := func(from, to time.Time) []survey.Response {
		t.Helper()
		var out []survey.Response
		err := h.s.ScanResponses(h.ctx, "typeform", from, to, func(r *survey.Response) error {
			out = append(out, *r)
			return nil
		})
		if err != nil {
			t.Fatalf("ScanResponses: %v", err)
		}
		return out
	}
	batches := func(from, to time.Time) []survey.Response {
		t.Helper()
		var out []survey.Response
		err := h.s.ScanBatches(h.ctx, "typeform", from, to, func(rs []survey.Response) error {
			if len(rs) == 0 {
				t.Error("ScanBatches called fn with an empty batch")
			}
			for _, r := range rs {
				// Payloads are valid only during the call: keep a copy.
				r.Payload = append([]byte(nil), r.Payload...)
				out = append(out, r)
			}
			return nil
		})
		if err != nil {
			t.Fatalf("ScanBatches: %v", err)
		}
		return out
	}
	windows := []struct {
		name     string
		from, to time.Time
		want     int
	}{
		{"everything", time.Time{}, time.Time{}, n},
		{"window", Epoch.Add(30 * time.Second), Epoch.Add(200 * time.Second), 612},
		{"empty", Epoch.Add(time.Hour), Epoch.Add(2 * time.Hour), 0},
	}
	for _, w := range windows {
		want := each(w.from, w.to)
		if len(want) != w.want {
			t.Errorf("%s: ScanResponses saw %d responses, want %d", w.name, len(want), w.want)
		}
		byKey := cmpopts.SortSlices(func(a, b survey.Response) bool { return a.Key < b.Key })
		if diff := cmp.Diff(want, batches(w.from, w.to), cmpopts.EquateEmpty(), byKey); diff != "" {
			t.Errorf("%s: ScanBatches differs from ScanResponses (-each +batches):\n%s", w.name, diff)
		}
	}

	stop := errors.New("enough")
	calls, seen := 0, 0
	err := h.s.ScanBatches(h.ctx, "typeform", time.Time{}, time.Time{}, func(rs []survey.Response) error {
		calls++
		seen += len(rs)
		if seen >= n/3 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || seen < n/3 {
		t.Errorf("ScanBatches stopped after %d batches (%d responses) with %v, want fn's error after %d", calls, seen, err, n/3)
	}

	ctx, cancel := context.WithCancel(h.ctx)
	cancel()
	err = h.s.ScanBatches(ctx, "typeform", time.Time{}, time.Time{}, func([]survey.Response) error { return nil })
	if !errors.Is(err, context.Canceled) {
		t.Errorf("ScanBatches with a cancelled context = %v, want context.Canceled", err)
	}
}

func testScoreRuns(t *testing.T, h *harness) {
	last, err := h.s.LastScoreRun(h.ctx, "csat-weekly")
	if err != nil || !last.RanAt.IsZero() {
		t.Fatalf("LastScoreRun before any run = %+v, %v; want a zero RanAt", last, err)
	}
	var runs []store.ScoreRun
	for i := range 3 {
		run := store.ScoreRun{
			Job:          "csat-weekly",
			ScheduledFor: Epoch.Add(time.Duration(i) * 7 * 24 * time.Hour),
			RanAt:        Epoch.Add(time.Duration(i)*7*24*time.Hour + time.Second),
			Results:      []byte(fmt.Sprintf(`{"csat":%d}`, 80+i)),
		}
		if err := h.s.RecordScoreRun(h.ctx, run); err != nil {
			t.Fatal(err)
		}
		runs = append(runs, run)
	}
	if err := h.s.RecordScoreRun(h.ctx, store.ScoreRun{Job: "nps-monthly", ScheduledFor: Epoch, Results: []byte(`{}`)}); err != nil {
		t.Fatal(err)
	}
	last, err = h.s.LastScoreRun(h.ctx, "csat-weekly")
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(runs[2], last); diff != "" {
		t.Errorf("LastScoreRun (-want +got):\n%s", diff)
	}
	got, err := h.s.ScoreRuns(h.ctx, "csat-weekly", 2)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]store.ScoreRun{runs[2], runs[1]}, got); diff != "" {
		t.Errorf("ScoreRuns (-want +got):\n%s", diff)
	}
	nps, err := h.s.LastScoreRun(h.ctx, "nps-monthly")
	if err != nil || !nps.RanAt.Equal(h.clock.Now()) {
		t.Errorf("nps run = %+v, %v; want RanAt defaulted to now", nps, err)
	}
}

func testDeadLettersOrder(t *testing.T, h *harness) {
	h.ingest(incoming(response("typeform", "a", "x", Epoch), "sheet"),
		incoming(response("typeform", "b", "x", Epoch), "sheet", "crm"),
		incoming(response("typeform", "c", "x", Epoch), "sheet"))
	l := h.lease("all", "w1")
	for _, sync := range []string{"sheet", "crm"} {
		for _, d := range h.claim(sync, l, 10) {
			h.clock.Advance(time.Second)
			h.settle(l, store.Outcome{ID: d.ID, State: store.Dead, Class: "permanent", Error: "no " + d.Response.Key, At: h.clock.Now()})
		}
	}
	names := func(f store.DeadFilter) []string {
		t.Helper()
		dl, err := h.s.DeadLetters(h.ctx, f)
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, d := range dl {
			out = append(out, d.Sync+"/"+d.Key)
		}
		return out
	}
	if diff := cmp.Diff([]string{"crm/b", "sheet/c", "sheet/b", "sheet/a"}, names(store.DeadFilter{})); diff != "" {
		t.Errorf("all dead letters (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"sheet/c", "sheet/b"}, names(store.DeadFilter{Sync: "sheet", Limit: 2})); diff != "" {
		t.Errorf("sheet dead letters, limit 2 (-want +got):\n%s", diff)
	}
}
