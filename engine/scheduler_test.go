package engine

import (
	"log/slog"
	"sort"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/surveysync/surveysync/config"
)

// TestHourlyJobAcrossDSTRunsOncePerHour runs the real cron on a fake clock
// (testing/synctest) through both 2000 daylight-saving changes in
// Europe/Berlin: the job runs at minute 0 of every hour that exists on the
// wall clock, exactly one real hour apart, so the spring day has 23 runs
// and the autumn day 25, with no hour skipped or doubled.
func TestHourlyJobAcrossDSTRunsOncePerHour(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	sched, err := config.CronParser.Parse("@hourly")
	if err != nil {
		t.Fatal(err)
	}
	synctest.Test(t, func(t *testing.T) {
		var mu sync.Mutex
		var slots []time.Time
		c := startCron(berlin, sched, slog.New(slog.DiscardHandler), func(slot time.Time) {
			mu.Lock()
			slots = append(slots, slot)
			mu.Unlock()
		})
		// The bubble's clock starts at 2000-01-01 00:00 UTC.
		time.Sleep(time.Until(time.Date(2000, 11, 1, 0, 0, 0, 0, time.UTC)))
		<-c.Stop().Done()

		mu.Lock()
		defer mu.Unlock()
		sort.Slice(slots, func(i, j int) bool { return slots[i].Before(slots[j]) })
		for i, s := range slots {
			if s.Minute() != 0 || s.Second() != 0 {
				t.Fatalf("run at %s is not on the hour", s)
			}
			if i > 0 && s.Sub(slots[i-1]) != time.Hour {
				t.Fatalf("runs at %s and %s are %s apart, want 1h", slots[i-1], s, s.Sub(slots[i-1]))
			}
		}
		perDay := map[string]int{}
		for _, s := range slots {
			perDay[s.In(berlin).Format(time.DateOnly)]++
		}
		for day, want := range map[string]int{"2000-03-25": 24, "2000-03-26": 23, "2000-03-27": 24, "2000-10-28": 24, "2000-10-29": 25, "2000-10-30": 24} {
			if perDay[day] != want {
				t.Errorf("%s: %d runs, want %d (one per hour of that day)", day, perDay[day], want)
			}
		}
		var hours []int
		for _, s := range slots {
			if s.In(berlin).Format(time.DateOnly) == "2000-03-26" {
				hours = append(hours, s.In(berlin).Hour())
			}
		}
		for _, h := range hours {
			if h == 2 {
				t.Errorf("a run at 02:00 on 2000-03-26, an hour the Berlin clock skipped")
			}
		}
	})
}

func TestMissedSlot(t *testing.T) {
	t.Parallel()
	sched, _ := config.CronParser.Parse("0 6 * * MON")
	berlin, _ := time.LoadLocation("Europe/Berlin")
	at := func(s string) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, berlin)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	tests := []struct {
		last, now, want string
	}{
		{"2026-11-16 06:00", "2026-11-20 12:00", ""},                 // nothing missed
		{"2026-11-16 06:00", "2026-11-23 06:00", "2026-11-23 06:00"}, // due right now
		{"2026-11-02 06:00", "2026-11-23 09:00", "2026-11-23 06:00"}, // three missed: run once, the latest
	}
	for _, tc := range tests {
		got := missedSlot(sched, at(tc.last), at(tc.now))
		want := time.Time{}
		if tc.want != "" {
			want = at(tc.want)
		}
		if !got.Equal(want) {
			t.Errorf("last %s, now %s: missed %v, want %v", tc.last, tc.now, got, want)
		}
	}
	if got := missedSlot(sched, time.Time{}, at("2026-11-23 09:00")); !got.IsZero() {
		t.Errorf("a job that never ran has no missed slot, got %v", got)
	}
}
