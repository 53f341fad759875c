package storetest

import (
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/surveysync/surveysync/store"
)

var leaseTests = []test{
	{"HeldExpiredTakenOver", testLeaseLifecycle},
	{"Renew", testLeaseRenew},
	{"Release", testLeaseRelease},
	{"TokensGrow", testLeaseTokensGrow},
}

func testLeaseLifecycle(t *testing.T, h *harness) {
	a, err := h.s.AcquireLease(h.ctx, "sheet", "w1", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if a.Name != "sheet" || a.Holder != "w1" || a.Token <= 0 || !a.ExpiresAt.Equal(h.clock.Now().Add(time.Minute)) {
		t.Errorf("lease = %+v, want sheet held by w1 with a positive token until %s", a, h.clock.Now().Add(time.Minute))
	}
	if _, err := h.s.AcquireLease(h.ctx, "sheet", "w2", time.Minute); !errors.Is(err, store.ErrLeaseHeld) {
		t.Errorf("second holder: err = %v, want ErrLeaseHeld", err)
	}
	leases, err := h.s.Leases(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]store.Lease{a}, leases); diff != "" {
		t.Errorf("Leases (-want +got):\n%s", diff)
	}
	h.clock.Advance(time.Minute) // expires at exactly this instant
	b, err := h.s.AcquireLease(h.ctx, "sheet", "w2", time.Minute)
	if err != nil {
		t.Fatalf("takeover after expiry: %v", err)
	}
	if b.Token <= a.Token {
		t.Errorf("takeover token %d, want more than %d", b.Token, a.Token)
	}
	if _, err := h.s.RenewLease(h.ctx, a, time.Minute); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("renew by the old holder: err = %v, want ErrLeaseLost", err)
	}
	leases, err = h.s.Leases(h.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]store.Lease{b}, leases); diff != "" {
		t.Errorf("Leases after takeover (-want +got):\n%s", diff)
	}
}

func testLeaseRenew(t *testing.T, h *harness) {
	a, err := h.s.AcquireLease(h.ctx, "sheet", "w1", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	h.clock.Advance(50 * time.Second)
	renewed, err := h.s.RenewLease(h.ctx, a, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if renewed.Token != a.Token || !renewed.ExpiresAt.Equal(h.clock.Now().Add(time.Minute)) {
		t.Errorf("renewed = %+v, want token %d until %s", renewed, a.Token, h.clock.Now().Add(time.Minute))
	}
	h.clock.Advance(50 * time.Second) // past the first expiry, within the renewal
	if _, err := h.s.AcquireLease(h.ctx, "sheet", "w2", time.Minute); !errors.Is(err, store.ErrLeaseHeld) {
		t.Errorf("acquire during the renewal: err = %v, want ErrLeaseHeld", err)
	}
	h.ingest(incoming(response("typeform", "a", "x", Epoch), "sheet"))
	ds := h.claim("sheet", renewed, 10)
	h.settle(renewed, h.delivered(ds[0]))
}

func testLeaseRelease(t *testing.T, h *harness) {
	a := h.lease("sheet", "w1")
	if err := h.s.ReleaseLease(h.ctx, a); err != nil {
		t.Fatal(err)
	}
	if leases, err := h.s.Leases(h.ctx); err != nil || len(leases) != 0 {
		t.Errorf("Leases after release = %v, %v; want none", leases, err)
	}
	b, err := h.s.AcquireLease(h.ctx, "sheet", "w2", time.Minute)
	if err != nil {
		t.Fatalf("acquire right after release: %v", err)
	}
	if b.Token <= a.Token {
		t.Errorf("token after release %d, want more than %d", b.Token, a.Token)
	}
	if _, err := h.s.RenewLease(h.ctx, a, time.Minute); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("renew of a released lease: err = %v, want ErrLeaseLost", err)
	}
	if err := h.s.Settle(h.ctx, a, nil); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("settle under a released lease: err = %v, want ErrLeaseLost", err)
	}
	// Releasing a lease already lost changes nothing.
	if err := h.s.ReleaseLease(h.ctx, a); err != nil {
		t.Errorf("second release: %v", err)
	}
	if leases, err := h.s.Leases(h.ctx); err != nil || len(leases) != 1 || leases[0].Holder != "w2" {
		t.Errorf("Leases = %v, %v; want w2's lease kept", leases, err)
	}
}

func testLeaseTokensGrow(t *testing.T, h *harness) {
	var last int64
	for i, step := range []struct{ name, holder string }{
		{"sheet", "w1"}, {"crm", "w1"}, {"sheet", "w1"}, {"crm", "w2"}, {"sheet", "w1"},
	} {
		if i == 3 {
			h.clock.Advance(2 * time.Hour) // crm's lease (w1) runs out
		}
		l := h.lease(step.name, step.holder)
		if l.Token <= last {
			t.Errorf("acquisition %d (%s by %s): token %d, want more than %d", i, step.name, step.holder, l.Token, last)
		}
		last = l.Token
	}
}
