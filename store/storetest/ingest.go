package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

var ingestTests = []test{
	{"InsertsAndPlans", testIngestInserts},
	{"Duplicate", testIngestDuplicate},
	{"DuplicateWithinBatch", testIngestDuplicateWithinBatch},
	{"UpdateLatest", testIngestUpdateLatest},
	{"UpdateIgnore", testIngestUpdateIgnore},
	{"UpdateOutOfOrder", testIngestUpdateOutOfOrder},
	{"UpdateRedeliver", testIngestUpdateRedeliver},
	{"UpdateRedeliverInFlight", testIngestUpdateRedeliverInFlight},
	{"NewSyncForStoredResponse", testIngestNewSync},
	{"RedeliverFlag", testIngestRedeliverFlag},
	{"RedeliverTag", testIngestRedeliverTag},
	{"SourceState", testIngestSourceState},
	{"FailedIngestSavesNothing", testIngestFailureSavesNothing},
	{"Validation", testIngestValidation},
}

func testIngestInserts(t *testing.T, h *harness) {
	r1 := response("typeform", "a", "first", Epoch.Add(-time.Hour))
	r2 := response("typeform", "b", "first", Epoch.Add(-time.Minute))
	got := h.ingest(incoming(r1, "sheet", "crm"), incoming(r2, "sheet"))
	want := []store.IngestResult{
		{Outcome: store.Inserted, Version: 1, Planned: 2},
		{Outcome: store.Inserted, Version: 1, Planned: 1},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Ingest results (-want +got):\n%s", diff)
	}
	wantState := store.ResponseState{
		Hash: r1.Hash(), Version: 1,
		Deliveries: map[string]store.State{"sheet": store.Pending, "crm": store.Pending},
	}
	if diff := cmp.Diff(wantState, h.lookup("typeform", "a")); diff != "" {
		t.Errorf("Lookup(a) (-want +got):\n%s", diff)
	}
	if got := h.syncStats("sheet").Pending; got != 2 {
		t.Errorf("sheet pending = %d, want 2", got)
	}
}

func testIngestDuplicate(t *testing.T, h *harness) {
	r := response("typeform", "a", "first", Epoch)
	h.ingest(incoming(r, "sheet"))
	got := h.ingest(incoming(r, "sheet"))
	want := []store.IngestResult{{Outcome: store.Duplicate, Version: 1, Planned: 0}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("second ingest (-want +got):\n%s", diff)
	}
	if got := h.syncStats("sheet").Pending; got != 1 {
		t.Errorf("sheet pending = %d, want 1", got)
	}
	for _, src := range h.stats(time.Time{}).Sources {
		if src.Source == "typeform" && src.Responses != 1 {
			t.Errorf("typeform responses = %d, want 1", src.Responses)
		}
	}
}

func testIngestDuplicateWithinBatch(t *testing.T, h *harness) {
	r := response("typeform", "a", "first", Epoch)
	changed := response("typeform", "a", "second", Epoch)
	got := h.ingest(incoming(r, "sheet"), incoming(r, "sheet"), incoming(changed, "sheet"))
	want := []store.IngestResult{
		{Outcome: store.Inserted, Version: 1, Planned: 1},
		{Outcome: store.Duplicate, Version: 1},
		{Outcome: store.Updated, Version: 2},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if got := h.syncStats("sheet").Pending; got != 1 {
		t.Errorf("sheet pending = %d, want 1", got)
	}
}

func testIngestUpdateLatest(t *testing.T, h *harness) {
	a1 := response("delighted", "a", "score only", Epoch)
	b1 := response("delighted", "b", "score only", Epoch)
	h.ingest(incoming(a1, "sheet"), incoming(b1, "sheet"))
	l := h.lease("sheet", "w1")
	ds := h.claim("sheet", l, 1) // a is delivered, b stays pending
	h.settle(l, h.delivered(ds[0]))

	a2 := response("delighted", "a", "with comment", Epoch)
	b2 := response("delighted", "b", "with comment", Epoch)
	got := h.ingest(
		store.Incoming{Response: a2, Syncs: []string{"sheet"}, Policy: store.UpdateLatest},
		store.Incoming{Response: b2, Syncs: []string{"sheet"}}, // empty policy means latest
	)
	want := []store.IngestResult{{Outcome: store.Updated, Version: 2}, {Outcome: store.Updated, Version: 2}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("update results (-want +got):\n%s", diff)
	}
	if rs := h.lookup("delighted", "a"); rs.Hash != a2.Hash() || rs.Deliveries["sheet"] != store.Delivered {
		t.Errorf("a after update = %+v, want hash %s and still delivered", rs, a2.Hash())
	}
	ds = h.claim("sheet", l, 10)
	if len(ds) != 1 || ds[0].Response.Key != "b" {
		t.Fatalf("claimed %v, want only b", keysOf(ds))
	}
	if n := note(t, ds[0]); n != "with comment" || ds[0].ResponseVersion != 2 || ds[0].Version != 1 {
		t.Errorf("b claimed with note %q, response version %d, delivery version %d; want latest content (2) on delivery version 1",
			n, ds[0].ResponseVersion, ds[0].Version)
	}
}

func testIngestUpdateIgnore(t *testing.T, h *harness) {
	r1 := response("delighted", "a", "first", Epoch)
	h.ingest(incoming(r1, "sheet"))
	r2 := response("delighted", "a", "second", Epoch)
	got := h.ingest(store.Incoming{Response: r2, Syncs: []string{"sheet"}, Policy: store.UpdateIgnore})
	if diff := cmp.Diff([]store.IngestResult{{Outcome: store.Ignored, Version: 1}}, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if rs := h.lookup("delighted", "a"); rs.Hash != r1.Hash() {
		t.Errorf("hash after ignored update = %s, want the first content's %s", rs.Hash, r1.Hash())
	}
	ds := h.claim("sheet", h.lease("sheet", "w1"), 10)
	if len(ds) != 1 || note(t, ds[0]) != "first" {
		t.Errorf("claimed %v, want a with the first content", keysOf(ds))
	}
}

func testIngestUpdateRedeliver(t *testing.T, h *harness) {
	r1 := response("delighted", "a", "first", Epoch)
	h.ingest(incoming(r1, "crm", "sheet"))
	l := h.lease("dest", "w1")
	first := h.deliverAll("crm", l)
	h.deliverAll("sheet", l)

	r2 := response("delighted", "a", "second", Epoch)
	// Only crm routes the update: sheet's delivery is left alone.
	got := h.ingest(store.Incoming{Response: r2, Syncs: []string{"crm"}, Policy: store.UpdateRedeliver})
	if diff := cmp.Diff([]store.IngestResult{{Outcome: store.Updated, Version: 2, Planned: 1}}, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	ds := h.claim("crm", l, 10)
	if len(ds) != 1 {
		t.Fatalf("claimed %d deliveries, want the redelivery", len(ds))
	}
	d := ds[0]
	if d.Version != 2 || d.Key == first[0].Key || d.Key != survey.DeliveryKey("crm", "delighted", "a", 2) {
		t.Errorf("redelivery version %d key %s; want version 2 with a new key (first was %s)", d.Version, d.Key, first[0].Key)
	}
	if d.Attempts != 1 || d.Uncertain || note(t, d) != "second" {
		t.Errorf("redelivery attempts %d uncertain %v note %q; want 1, false, second", d.Attempts, d.Uncertain, note(t, d))
	}
	if n := len(h.claim("sheet", l, 10)); n != 0 {
		t.Errorf("sheet claimed %d, want 0 (not routed by the update)", n)
	}
}

func testIngestUpdateRedeliverInFlight(t *testing.T, h *harness) {
	// The update arrives while the first content is being sent, and while
	// an uncertain attempt waits for a retry: either may have applied the
	// old content, so each is delivered again once it succeeds.
	h.ingest(incoming(response("delighted", "a", "first", Epoch), "crm"),
		incoming(response("delighted", "b", "first", Epoch), "crm"))
	l := h.lease("crm", "w1")
	ds := h.claim("crm", l, 10)
	if len(ds) != 2 {
		t.Fatalf("claimed %d, want 2", len(ds))
	}
	h.settle(l, store.Outcome{ID: ds[1].ID, State: store.Pending, Uncertain: true, Class: "ambiguous", Error: "timeout", At: h.clock.Now()})

	got := h.ingest(
		store.Incoming{Response: response("delighted", "a", "second", Epoch), Syncs: []string{"crm"}, Policy: store.UpdateRedeliver},
		store.Incoming{Response: response("delighted", "b", "second", Epoch), Syncs: []string{"crm"}, Policy: store.UpdateRedeliver},
	)
	for i, r := range got {
		if r.Outcome != store.Updated || r.Planned != 1 {
			t.Errorf("result %d = %+v, want updated with 1 planned", i, r)
		}
	}
	h.settle(l, h.delivered(ds[0])) // a: the first content arrived
	again := h.claim("crm", l, 10)
	if len(again) != 2 {
		t.Fatalf("claimed %v after settling, want a's redelivery and b's retry", keysOf(again))
	}
	byKey := map[string]store.Delivery{}
	for _, d := range again {
		byKey[d.Response.Key] = d
	}
	if a := byKey["a"]; a.Version != 2 || note(t, a) != "second" {
		t.Errorf("a = version %d note %q; want a redelivery (version 2) of the second content", a.Version, note(t, a))
	}
	b := byKey["b"]
	if b.Version != 1 || !b.Uncertain || note(t, b) != "second" {
		t.Errorf("b = version %d uncertain %v note %q; want the uncertain version 1 with the second content", b.Version, b.Uncertain, note(t, b))
	}
	// b's reconcile finds the first content applied: it is delivered, and
	// then delivered again as version 2.
	h.settle(l, h.delivered(b), h.delivered(byKey["a"]))
	last := h.claim("crm", l, 10)
	if len(last) != 1 || last[0].Response.Key != "b" || last[0].Version != 2 {
		t.Errorf("claimed %v, want b's redelivery (version 2)", keysOf(last))
	}
}

func testIngestNewSync(t *testing.T, h *harness) {
	r := response("typeform", "a", "first", Epoch)
	h.ingest(incoming(r, "sheet"))
	l := h.lease("sheet", "w1")
	h.deliverAll("sheet", l)
	got := h.ingest(incoming(r, "sheet", "crm"))
	if diff := cmp.Diff([]store.IngestResult{{Outcome: store.Duplicate, Version: 1, Planned: 1}}, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	want := map[string]store.State{"sheet": store.Delivered, "crm": store.Pending}
	if diff := cmp.Diff(want, h.lookup("typeform", "a").Deliveries); diff != "" {
		t.Errorf("deliveries (-want +got):\n%s", diff)
	}
}

func testIngestRedeliverFlag(t *testing.T, h *harness) {
	a := response("typeform", "a", "first", Epoch)
	b := response("typeform", "b", "first", Epoch)
	h.ingest(incoming(a, "sheet"), incoming(b, "sheet"))
	l := h.lease("sheet", "w1")
	first := h.claim("sheet", l, 1)
	h.settle(l, h.delivered(first[0])) // a delivered, b pending

	got := h.ingest(
		store.Incoming{Response: a, Syncs: []string{"sheet"}, Redeliver: true},
		store.Incoming{Response: b, Syncs: []string{"sheet"}, Redeliver: true},
	)
	want := []store.IngestResult{
		{Outcome: store.Duplicate, Version: 1, Planned: 1},
		{Outcome: store.Duplicate, Version: 1, Planned: 0}, // not delivered yet: nothing to re-open
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	ds := h.claim("sheet", l, 10)
	versions := map[string]int{}
	for _, d := range ds {
		versions[d.Response.Key] = d.Version
		if d.Key != survey.DeliveryKey("sheet", "typeform", d.Response.Key, d.Version) {
			t.Errorf("%s key %s does not match its version %d", d.Response.Key, d.Key, d.Version)
		}
	}
	if diff := cmp.Diff(map[string]int{"a": 2, "b": 1}, versions); diff != "" {
		t.Errorf("claimed versions (-want +got):\n%s", diff)
	}
}

func testIngestRedeliverTag(t *testing.T, h *harness) {
	a := response("typeform", "a", "first", Epoch)
	b := response("typeform", "b", "first", Epoch)
	h.ingest(incoming(a, "sheet"))
	l := h.lease("sheet", "w1")
	h.deliverAll("sheet", l)

	backfill := func(tag string, r survey.Response) store.IngestResult {
		t.Helper()
		return h.ingest(store.Incoming{Response: r, Syncs: []string{"sheet"}, Redeliver: true, RedeliverTag: tag})[0]
	}
	if got := backfill("run-1", a).Planned; got != 1 {
		t.Errorf("first run planned %d, want 1", got)
	}
	h.deliverAll("sheet", l)
	if got := backfill("run-1", a).Planned; got != 0 {
		t.Errorf("resumed run planned %d, want 0 (already redelivered under run-1)", got)
	}
	if got := backfill("run-2", a).Planned; got != 1 {
		t.Errorf("new run planned %d, want 1", got)
	}

	// b is new to the ledger in run-1: its first delivery is run-1's, so
	// resuming run-1 after it was delivered does not send it again.
	if got := backfill("run-1", b); got.Outcome != store.Inserted || got.Planned != 1 {
		t.Errorf("run-1 on a new response = %+v, want inserted with 1 planned", got)
	}
	h.deliverAll("sheet", l)
	if got := backfill("run-1", b).Planned; got != 0 {
		t.Errorf("resumed run-1 planned %d for b, want 0", got)
	}
	if ds := h.claim("sheet", l, 10); len(ds) != 0 {
		t.Errorf("claimed %v after the runs were delivered, want nothing", keysOf(ds))
	}
}

func testIngestSourceState(t *testing.T, h *harness) {
	if _, ok, err := h.s.SourceState(h.ctx, "poll", "cursor"); err != nil || ok {
		t.Fatalf("SourceState before any ingest = ok %v, err %v; want absent", ok, err)
	}
	batch := []store.Incoming{incoming(response("poll", "a", "x", Epoch), "sheet")}
	if _, err := h.s.Ingest(h.ctx, batch, []store.SourceState{{Source: "poll", Name: "cursor", Value: "page-2"}}); err != nil {
		t.Fatal(err)
	}
	// State alone, with no responses, is saved too (an empty page).
	if _, err := h.s.Ingest(h.ctx, nil, []store.SourceState{
		{Source: "poll", Name: "cursor", Value: "page-3"},
		{Source: "files", Name: "sha256:abc", Value: "done"},
	}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []store.SourceState{{Source: "poll", Name: "cursor", Value: "page-3"}, {Source: "files", Name: "sha256:abc", Value: "done"}} {
		got, ok, err := h.s.SourceState(h.ctx, want.Source, want.Name)
		if err != nil || !ok || got != want.Value {
			t.Errorf("SourceState(%s, %s) = %q, %v, %v; want %q", want.Source, want.Name, got, ok, err, want.Value)
		}
	}
	if _, ok, _ := h.s.SourceState(h.ctx, "files", "cursor"); ok {
		t.Error("SourceState(files, cursor) found, want absent: names are per source")
	}
}

func testIngestFailureSavesNothing(t *testing.T, h *harness) {
	batch := []store.Incoming{
		incoming(response("poll", "a", "x", Epoch), "sheet"),
		incoming(survey.Response{Source: "poll", Payload: []byte(`{}`)}, "sheet"), // no key
	}
	if _, err := h.s.Ingest(h.ctx, batch, []store.SourceState{{Source: "poll", Name: "cursor", Value: "page-2"}}); err == nil {
		t.Fatal("Ingest of a response without a key succeeded")
	}
	if _, ok, err := h.s.SourceState(h.ctx, "poll", "cursor"); err != nil || ok {
		t.Errorf("cursor saved by a failed ingest (ok %v, err %v)", ok, err)
	}
	m, err := h.s.Lookup(h.ctx, "poll", []string{"a"})
	if err != nil || len(m) != 0 {
		t.Errorf("Lookup after a failed ingest = %v, %v; want nothing stored", m, err)
	}

	// A cancelled ingest saves nothing either.
	ctx, cancel := context.WithCancel(h.ctx)
	cancel()
	if _, err := h.s.Ingest(ctx, batch[:1], []store.SourceState{{Source: "poll", Name: "cursor", Value: "page-2"}}); err == nil {
		t.Fatal("Ingest with a cancelled context succeeded")
	}
	if _, ok, _ := h.s.SourceState(h.ctx, "poll", "cursor"); ok {
		t.Error("cursor saved by a cancelled ingest")
	}
}

func testIngestValidation(t *testing.T, h *harness) {
	cases := []struct {
		name string
		in   store.Incoming
	}{
		{"no source", incoming(survey.Response{Key: "a", Payload: []byte(`{}`)}, "sheet")},
		{"no key", incoming(survey.Response{Source: "s", Payload: []byte(`{}`)}, "sheet")},
		{"unknown policy", store.Incoming{Response: response("s", "a", "x", Epoch), Policy: "sometimes"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := h.s.Ingest(h.ctx, []store.Incoming{tc.in}, nil); err == nil {
				t.Error("Ingest succeeded, want an error")
			}
		})
	}
}

// testIngestUpdateOutOfOrder sends versions of a response whose source
// gives their times (Response.UpdatedAt) out of order: an older version
// arriving after a newer one is Stale and changes nothing; a newer one
// updates; a version without a time updates as the latest arrival, and an
// older one after it is still recognised as older than the newest time seen.
func testIngestUpdateOutOfOrder(t *testing.T, h *harness) {
	version := func(note string, minutes int) survey.Response {
		r := response("delighted", "a", note, Epoch)
		if minutes >= 0 {
			r.UpdatedAt = Epoch.Add(time.Duration(minutes) * time.Minute)
		}
		return r
	}
	steps := []struct {
		r    survey.Response
		want store.IngestResult
		note string
	}{
		{version("created", 0), store.IngestResult{Outcome: store.Inserted, Version: 1, Planned: 1}, "created"},
		{version("updated", 10), store.IngestResult{Outcome: store.Updated, Version: 2}, "updated"},
		{version("created", 0), store.IngestResult{Outcome: store.Stale, Version: 2}, "updated"},
		{version("updated again", 20), store.IngestResult{Outcome: store.Updated, Version: 3}, "updated again"},
		{version("no time", -1), store.IngestResult{Outcome: store.Updated, Version: 4}, "no time"},
		{version("updated", 10), store.IngestResult{Outcome: store.Stale, Version: 4}, "no time"},
	}
	for i, s := range steps {
		got := h.ingest(incoming(s.r, "sheet"))
		if diff := cmp.Diff([]store.IngestResult{s.want}, got); diff != "" {
			t.Errorf("step %d: results (-want +got):\n%s", i, diff)
		}
		if want := response("delighted", "a", s.note, Epoch); h.lookup("delighted", "a").Hash != want.Hash() {
			t.Errorf("step %d: the stored content is not %q", i, s.note)
		}
	}
	ds := h.claim("sheet", h.lease("sheet", "w1"), 10)
	if len(ds) != 1 || note(t, ds[0]) != "no time" {
		t.Errorf("claimed %v, want a with the content of the latest accepted version", keysOf(ds))
	}
}
