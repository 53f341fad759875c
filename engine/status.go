package engine

import (
	"context"
	"sort"
	"time"

	"github.com/surveysync/surveysync/store"
)

// Status is what `surveysync status` and the console show: per sync and per
// source, read from the ledger. It never contains a secret.
type Status struct {
	GeneratedAt  time.Time           `json:"generated_at"`
	Syncs        []SyncStatus        `json:"syncs"`
	Sources      []SourceStatus      `json:"sources"`
	Destinations []DestinationStatus `json:"destinations"`
	Dispatchers  []DispatcherStatus  `json:"dispatchers"`
}

// SyncStatus describes one sync.
type SyncStatus struct {
	Name        string `json:"name"`
	Source      string `json:"source"`
	Destination string `json:"destination"`
	// Pending counts deliveries waiting, including retries and those in flight.
	Pending int64 `json:"pending"`
	// Uncertain counts pending deliveries whose last attempt may have been
	// applied; they are reconciled before anything is re-sent.
	Uncertain      int64     `json:"uncertain"`
	Delivered      int64     `json:"delivered"`
	DeliveredToday int64     `json:"delivered_today"`
	Dead           int64     `json:"dead"`
	Paused         string    `json:"paused,omitempty"`
	ConfigPaused   bool      `json:"config_paused,omitempty"`
	OldestPending  time.Time `json:"oldest_pending,omitzero"`
	LastSuccess    time.Time `json:"last_success,omitzero"`
	LastError      string    `json:"last_error,omitempty"`
	LastErrorAt    time.Time `json:"last_error_at,omitzero"`
}

// SourceStatus describes one source.
type SourceStatus struct {
	Name       string    `json:"name"`
	Type       string    `json:"type"`
	Responses  int64     `json:"responses"`
	LastIngest time.Time `json:"last_ingest,omitzero"`
	Cursor     string    `json:"cursor,omitempty"`
	Rejected   int64     `json:"rejected"`
}

// DestinationStatus describes one destination.
type DestinationStatus struct {
	Name        string    `json:"name"`
	Type        string    `json:"type"`
	Paused      bool      `json:"paused"`
	Reason      string    `json:"reason,omitempty"`
	PausedSince time.Time `json:"paused_since,omitzero"`
}

// DispatcherStatus describes who holds a dispatch lease.
type DispatcherStatus struct {
	Lease     string    `json:"lease"`
	Holder    string    `json:"holder"`
	ExpiresAt time.Time `json:"expires_at"`
}

// StartOfDay returns midnight of t's day in t's location.
func StartOfDay(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// ReadStatus builds the status of plan from the ledger. "Today" is the
// calendar day of now in now's location.
func ReadStatus(ctx context.Context, plan *Plan, st store.Store, now time.Time) (*Status, error) {
	stats, err := st.Stats(ctx, StartOfDay(now))
	if err != nil {
		return nil, err
	}
	out := &Status{GeneratedAt: now}
	pauses := map[string]store.Pause{}
	for _, p := range stats.Pauses {
		pauses[p.Destination] = p
	}
	bySync := map[string]store.SyncStats{}
	for _, s := range stats.Syncs {
		bySync[s.Sync] = s
	}
	for _, sp := range plan.Syncs {
		s := bySync[sp.Name]
		ss := SyncStatus{
			Name: sp.Name, Source: sp.Config.Source, Destination: sp.Config.To,
			Pending: s.Pending + s.Sending, Uncertain: s.Uncertain, Delivered: s.Delivered,
			DeliveredToday: s.DeliveredSince, Dead: s.Dead,
			OldestPending: s.OldestPending, LastSuccess: s.LastSuccess, LastError: s.LastError, LastErrorAt: s.LastErrorAt,
			ConfigPaused: sp.Config.Paused,
		}
		if p, ok := pauses[sp.Config.To]; ok {
			ss.Paused = p.Reason
		}
		out.Syncs = append(out.Syncs, ss)
	}
	bySource := map[string]store.SourceStats{}
	for _, s := range stats.Sources {
		bySource[s.Source] = s
	}
	for _, sp := range plan.Sources {
		s := bySource[sp.Name]
		out.Sources = append(out.Sources, SourceStatus{Name: sp.Name, Type: sp.Type, Responses: s.Responses, LastIngest: s.LastIngest, Cursor: s.Cursor, Rejected: s.Rejected})
	}
	for _, dp := range plan.Destinations {
		ds := DestinationStatus{Name: dp.Name, Type: dp.Type}
		if p, ok := pauses[dp.Name]; ok {
			ds.Paused, ds.Reason, ds.PausedSince = true, p.Reason, p.Since
		}
		out.Destinations = append(out.Destinations, ds)
	}
	for _, l := range stats.Leases {
		if l.ExpiresAt.After(now) {
			out.Dispatchers = append(out.Dispatchers, DispatcherStatus{Lease: l.Name, Holder: l.Holder, ExpiresAt: l.ExpiresAt})
		}
	}
	sort.Slice(out.Dispatchers, func(i, j int) bool { return out.Dispatchers[i].Lease < out.Dispatchers[j].Lease })
	return out, nil
}
