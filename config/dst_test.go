package config

import (
	"testing"
	"time"
)

// TestDSTWarning checks which schedules are warned about in Europe/Berlin,
// whose clocks skip 02:00–03:00 on 2027-03-28 and pass it twice on
// 2026-10-25.
func TestDSTWarning(t *testing.T) {
	t.Parallel()
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	from := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	tests := []struct {
		spec string
		loc  *time.Location
		want string
	}{
		{"30 2 * * *", berlin, "in Europe/Berlin the clocks skip 02:30 on 2027-03-28 (that day's run does not happen) and they pass 02:30 on 2026-10-25 twice (the job runs twice; its summary is replaced, so the result is the same); pick a time outside 02:00–03:00"},
		{"0 6 * * MON", berlin, ""},
		{"@hourly", berlin, ""},
		{"@daily", berlin, ""},
		{"30 2 * * *", time.UTC, ""},
		// Sundays at 02:15: both changes fall on a Sunday.
		{"15 2 * * SUN", berlin, "in Europe/Berlin the clocks skip 02:15 on 2027-03-28"},
		// Only on the 1st of the month: never a change day in 2026-27.
		{"30 2 1 * *", berlin, ""},
		{"@every 1h", berlin, ""},
	}
	for _, tc := range tests {
		s, err := CronParser.Parse(tc.spec)
		if err != nil {
			t.Fatalf("%s: %v", tc.spec, err)
		}
		got := dstWarning(s, tc.loc, from)
		if tc.want == "" && got != "" || tc.want != "" && (len(got) < len(tc.want) || got[:len(tc.want)] != tc.want) {
			t.Errorf("%s in %s:\n got %q\nwant %q", tc.spec, tc.loc, got, tc.want)
		}
	}
}
