package scores

import (
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// mustLoad loads a time zone or fails the test.
func mustLoad(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	if err != nil {
		t.Fatalf("loading time zone %s: %v", name, err)
	}
	return loc
}

// utc parses an RFC 3339 instant.
func utc(t *testing.T, s string) time.Time {
	t.Helper()
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

// periodOfInstant scores one observation at instant and returns its period.
func periodOfInstant(t *testing.T, at time.Time, opts Options) Period {
	t.Helper()
	results, err := Compute(Definition{Metric: NPS}, []Observation{{At: at, Value: 9}}, opts)
	if err != nil {
		t.Fatal(err)
	}
	if len(results) != 1 {
		t.Fatalf("got %d results for one observation", len(results))
	}
	return results[0].Period
}

func TestCalendarPeriods(t *testing.T) {
	t.Parallel()
	const (
		berlin  = "Europe/Berlin"
		newYork = "America/New_York"
	)
	tests := []struct {
		name      string
		zone      string
		kind      PeriodKind
		at        string // RFC 3339
		wantLabel string
		wantStart string // RFC 3339, any offset
		wantEnd   string
		wantHours float64
	}{
		// Days on daylight-saving changes are 23 or 25 hours long.
		{"berlin spring forward day", berlin, Day, "2026-03-29T12:00:00+02:00", "2026-03-29", "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 23},
		{"berlin spring forward first instant", berlin, Day, "2026-03-28T23:00:00Z", "2026-03-29", "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 23},
		{"berlin spring forward last instant", berlin, Day, "2026-03-29T21:59:59Z", "2026-03-29", "2026-03-29T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 23},
		{"berlin after spring forward day", berlin, Day, "2026-03-29T22:00:00Z", "2026-03-30", "2026-03-30T00:00:00+02:00", "2026-03-31T00:00:00+02:00", 24},
		{"berlin fall back day", berlin, Day, "2026-10-25T02:30:00+01:00", "2026-10-25", "2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00", 25},
		{"berlin fall back repeated hour first pass", berlin, Day, "2026-10-25T02:30:00+02:00", "2026-10-25", "2026-10-25T00:00:00+02:00", "2026-10-26T00:00:00+01:00", 25},
		{"new york spring forward day", newYork, Day, "2026-03-08T12:00:00-04:00", "2026-03-08", "2026-03-08T00:00:00-05:00", "2026-03-09T00:00:00-04:00", 23},
		{"new york fall back day", newYork, Day, "2026-11-01T01:30:00-05:00", "2026-11-01", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00", 25},
		{"havana skips midnight: the day starts at the change", "America/Havana", Day, "2026-03-08T12:00:00-04:00", "2026-03-08", "2026-03-08T01:00:00-04:00", "2026-03-09T00:00:00-04:00", 23},
		{"havana: the evening before the change keeps its day", "America/Havana", Day, "2026-03-07T23:30:00-05:00", "2026-03-07", "2026-03-07T00:00:00-05:00", "2026-03-08T01:00:00-04:00", 24},
		{"new york late evening is still the local day", newYork, Day, "2026-11-02T04:59:59Z", "2026-11-01", "2026-11-01T00:00:00-04:00", "2026-11-02T00:00:00-05:00", 25},
		// ISO weeks start on Monday; their year is the ISO year.
		{"iso week of 2026-12-31", berlin, Week, "2026-12-31T12:00:00+01:00", "2026-W53", "2026-12-28T00:00:00+01:00", "2027-01-04T00:00:00+01:00", 168},
		{"iso week of 2027-01-01", berlin, Week, "2027-01-01T12:00:00+01:00", "2026-W53", "2026-12-28T00:00:00+01:00", "2027-01-04T00:00:00+01:00", 168},
		{"sunday night ends the week", berlin, Week, "2027-01-03T23:59:59+01:00", "2026-W53", "2026-12-28T00:00:00+01:00", "2027-01-04T00:00:00+01:00", 168},
		{"monday starts the next week", berlin, Week, "2027-01-04T00:00:00+01:00", "2027-W01", "2027-01-04T00:00:00+01:00", "2027-01-11T00:00:00+01:00", 168},
		{"iso week 1 starting in december", newYork, Week, "2024-12-31T12:00:00-05:00", "2025-W01", "2024-12-30T00:00:00-05:00", "2025-01-06T00:00:00-05:00", 168},
		{"iso week 1 of 2026", newYork, Week, "2026-01-01T12:00:00-05:00", "2026-W01", "2025-12-29T00:00:00-05:00", "2026-01-05T00:00:00-05:00", 168},
		{"week with spring forward", berlin, Week, "2026-03-25T12:00:00+01:00", "2026-W13", "2026-03-23T00:00:00+01:00", "2026-03-30T00:00:00+02:00", 167},
		{"week with fall back", newYork, Week, "2026-11-01T12:00:00-05:00", "2026-W44", "2026-10-26T00:00:00-04:00", "2026-11-02T00:00:00-05:00", 169},
		{"utc instant in the previous iso week", berlin, Week, "2026-11-22T23:30:00Z", "2026-W48", "2026-11-23T00:00:00+01:00", "2026-11-30T00:00:00+01:00", 168},
		// Months, quarters and years.
		{"march in berlin", berlin, Month, "2026-03-15T12:00:00+01:00", "2026-03", "2026-03-01T00:00:00+01:00", "2026-04-01T00:00:00+02:00", 743},
		{"november in new york", newYork, Month, "2026-11-30T23:00:00-05:00", "2026-11", "2026-11-01T00:00:00-04:00", "2026-12-01T00:00:00-05:00", 721},
		{"first quarter", berlin, Quarter, "2026-02-15T12:00:00+01:00", "2026-Q1", "2026-01-01T00:00:00+01:00", "2026-04-01T00:00:00+02:00", 2159},
		{"second quarter", berlin, Quarter, "2026-06-30T23:59:59+02:00", "2026-Q2", "2026-04-01T00:00:00+02:00", "2026-07-01T00:00:00+02:00", 2184},
		{"third quarter", berlin, Quarter, "2026-07-01T00:00:00+02:00", "2026-Q3", "2026-07-01T00:00:00+02:00", "2026-10-01T00:00:00+02:00", 2208},
		{"fourth quarter", newYork, Quarter, "2026-12-31T23:59:59-05:00", "2026-Q4", "2026-10-01T00:00:00-04:00", "2027-01-01T00:00:00-05:00", 2209},
		{"new year's eve in utc is next year in berlin", berlin, Quarter, "2026-12-31T23:30:00Z", "2027-Q1", "2027-01-01T00:00:00+01:00", "2027-04-01T00:00:00+02:00", 2159},
		{"year", newYork, Year, "2026-07-04T12:00:00-04:00", "2026", "2026-01-01T00:00:00-05:00", "2027-01-01T00:00:00-05:00", 8760},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			loc := mustLoad(t, tt.zone)
			got := periodOfInstant(t, utc(t, tt.at), Options{Period: tt.kind, Location: loc})
			want := Period{Kind: tt.kind, Start: utc(t, tt.wantStart), End: utc(t, tt.wantEnd), Label: tt.wantLabel}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("period mismatch (-want +got):\n%s", diff)
			}
			if got.Start.Location() != loc || got.End.Location() != loc {
				t.Errorf("period bounds are in %v and %v, want %v", got.Start.Location(), got.End.Location(), loc)
			}
			if hours := got.End.Sub(got.Start).Hours(); hours != tt.wantHours {
				t.Errorf("period lasts %v hours, want %v", hours, tt.wantHours)
			}
		})
	}
}

func TestRollingWindow(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name      string
		zone      string
		days      int
		asOf      string
		wantStart string
		wantHours float64
	}{
		{"30 days across fall back in berlin", "Europe/Berlin", 30, "2026-11-23T06:00:00+01:00", "2026-10-24T06:00:00+02:00", 30*24 + 1},
		{"7 days across spring forward in new york", "America/New_York", 7, "2026-03-12T00:00:00-04:00", "2026-03-05T00:00:00-05:00", 7*24 - 1},
		{"1 day in utc", "UTC", 1, "2026-11-23T00:00:00Z", "2026-11-22T00:00:00Z", 24},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			loc := mustLoad(t, tt.zone)
			asOf := utc(t, tt.asOf)
			start := utc(t, tt.wantStart)
			opts := Options{Period: Rolling, RollingDays: tt.days, AsOf: asOf, Location: loc}
			obs := []Observation{
				{At: start.Add(-time.Nanosecond), Value: 1}, // just before: out
				{At: start, Value: 9},                       // first instant: in
				{At: asOf.Add(-time.Nanosecond), Value: 10}, // last instant: in
				{At: asOf, Value: 1},                        // as-of: out
			}
			a, err := NewAccumulator(Definition{Metric: NPS}, opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range obs {
				if err := a.Add(o); err != nil {
					t.Fatal(err)
				}
			}
			results := a.Results()
			if len(results) != 1 {
				t.Fatalf("got %d results, want 1", len(results))
			}
			r := results[0]
			want := Period{Kind: Rolling, Start: start, End: asOf, Label: start.In(loc).Format(time.RFC3339) + "/" + asOf.In(loc).Format(time.RFC3339)}
			if diff := cmp.Diff(want, r.Period); diff != "" {
				t.Errorf("period mismatch (-want +got):\n%s", diff)
			}
			if hours := r.Period.End.Sub(r.Period.Start).Hours(); hours != tt.wantHours {
				t.Errorf("window lasts %v hours, want %v", hours, tt.wantHours)
			}
			if r.N != 2 || r.Score != 100 || a.Stats().OutOfWindow != 2 {
				t.Errorf("window holds N=%d score=%v with %d out of window; want the 2 promoters inside and 2 outside", r.N, r.Score, a.Stats().OutOfWindow)
			}
		})
	}
	t.Run("label in berlin", func(t *testing.T) {
		t.Parallel()
		loc := mustLoad(t, "Europe/Berlin")
		p := periodOfInstant(t, utc(t, "2026-11-01T00:00:00Z"), Options{Period: Rolling, RollingDays: 30, AsOf: utc(t, "2026-11-23T05:00:00Z"), Location: loc})
		if want := "2026-10-24T06:00:00+02:00/2026-11-23T06:00:00+01:00"; p.Label != want {
			t.Errorf("label = %q, want %q", p.Label, want)
		}
	})
}

func TestAllPeriod(t *testing.T) {
	t.Parallel()
	asOf := utc(t, "2026-11-23T06:00:00Z")
	tests := []struct {
		name string
		opts Options
		want Period
	}{
		{"unbounded", Options{}, Period{Kind: All, Label: "all"}},
		{"ends at as-of", Options{AsOf: asOf}, Period{Kind: All, End: asOf, Label: "all"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := periodOfInstant(t, utc(t, "2020-01-01T00:00:00Z"), tt.opts)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("period mismatch (-want +got):\n%s", diff)
			}
		})
	}
}

// TestCalendarPeriodsTileTime walks period after period through years of
// daylight-saving changes in zones with awkward rules (changes at midnight,
// half-hour changes, a skipped day) and checks that the periods are
// contiguous, non-empty where instants exist, and hold every instant that
// they are asked about.
func TestCalendarPeriodsTileTime(t *testing.T) {
	t.Parallel()
	zones := []string{
		"UTC", "Europe/Berlin", "America/New_York",
		"America/Santiago",    // changes at midnight
		"America/Havana",      // changes at midnight
		"America/Sao_Paulo",   // changed at midnight until 2019
		"Asia/Beirut",         // changes at midnight
		"Australia/Lord_Howe", // half-hour change
		"Pacific/Apia",        // skipped 2011-12-30 entirely
		"Asia/Kathmandu",      // +05:45
	}
	from := time.Date(2010, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2028, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, zone := range zones {
		for _, kind := range []PeriodKind{Day, Week, Month, Quarter, Year} {
			t.Run(zone+"/"+string(kind), func(t *testing.T) {
				t.Parallel()
				loc := mustLoad(t, zone)
				span := calendarSpanOf(kind, from, loc)
				for span.start.Before(to) {
					if !span.start.Before(span.end) {
						t.Fatalf("period %s is empty: [%v, %v)", span.anchor.label(kind), span.start, span.end)
					}
					for _, probe := range []time.Time{span.start, span.start.Add(span.end.Sub(span.start) / 2), span.end.Add(-time.Nanosecond)} {
						got := calendarSpanOf(kind, probe, loc)
						if got.anchor != span.anchor {
							t.Fatalf("instant %v falls in %s, want %s", probe, got.anchor.label(kind), span.anchor.label(kind))
						}
					}
					next := calendarSpanOf(kind, span.end, loc)
					if !next.start.Equal(span.end) {
						t.Fatalf("period %s ends at %v but the next one, %s, starts at %v", span.anchor.label(kind), span.end, next.anchor.label(kind), next.start)
					}
					if next.anchor.label(kind) <= span.anchor.label(kind) {
						t.Fatalf("period %s is followed by %s", span.anchor.label(kind), next.anchor.label(kind))
					}
					span = next
				}
			})
		}
	}
}

// TestDayPeriodMatchesLocalDate checks every half hour for two years that
// an instant's day is its local calendar date, in zones whose changes are at
// 02:00, at 02:00 by half an hour, and at midnight (which time.Date then
// places on the previous day).
func TestDayPeriodMatchesLocalDate(t *testing.T) {
	t.Parallel()
	for _, zone := range []string{"Europe/Berlin", "America/New_York", "Australia/Lord_Howe", "America/Havana", "America/Santiago", "Asia/Beirut"} {
		t.Run(zone, func(t *testing.T) {
			t.Parallel()
			loc := mustLoad(t, zone)
			for at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC); at.Year() < 2027; at = at.Add(30 * time.Minute) {
				span := calendarSpanOf(Day, at, loc)
				if want := at.In(loc).Format(time.DateOnly); span.anchor.label(Day) != want {
					t.Fatalf("instant %v is labelled %s, want %s", at, span.anchor.label(Day), want)
				}
				if !span.contains(at) {
					t.Fatalf("instant %v is outside its day [%v, %v)", at, span.start, span.end)
				}
			}
		})
	}
}
