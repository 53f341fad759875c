package config

import (
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// dstWarning tells, for a schedule that fires at particular hours, whether
// one of its times falls where the zone's clocks jump within a year of
// from: a time skipped in spring makes the run disappear that day, a time
// passed twice in autumn makes it run twice. It returns "" when neither
// happens, and for schedules that fire every hour (each wall-clock hour
// still runs once) or at fixed intervals.
func dstWarning(s cron.Schedule, loc *time.Location, from time.Time) string {
	spec, ok := s.(*cron.SpecSchedule)
	if !ok || spec.Hour&(1<<24-1) == 1<<24-1 {
		return ""
	}
	var skipped, repeated []string
	var window string
	end := from.AddDate(1, 0, 0)
	for t := from.Truncate(time.Hour); t.Before(end); t = t.Add(time.Hour) {
		_, before := t.In(loc).Zone()
		_, after := t.Add(time.Hour).In(loc).Zone()
		if before == after {
			continue
		}
		// The transition is within (t, t+1h]: find its minute.
		at := t
		for _, o := at.Add(time.Minute).In(loc).Zone(); o == before; _, o = at.Add(time.Minute).In(loc).Zone() {
			at = at.Add(time.Minute)
		}
		at = at.Add(time.Minute) // the first instant at the new offset
		jump := time.Duration(after-before) * time.Second
		// The wall-clock times affected start at the old offset's reading
		// of the transition instant (spring) or the new one's (autumn).
		wall := at.In(time.FixedZone("", before))
		if jump < 0 {
			wall = at.In(time.FixedZone("", after))
			jump = -jump
		}
		for m := time.Duration(0); m < jump; m += time.Minute {
			w := wall.Add(m)
			if !matches(spec, w) {
				continue
			}
			day := w.Format("2006-01-02")
			if window == "" {
				window = fmt.Sprintf("%s–%s", wall.Format("15:04"), wall.Add(jump).Format("15:04"))
			}
			if after > before {
				skipped = append(skipped, w.Format("15:04")+" on "+day)
			} else {
				repeated = append(repeated, w.Format("15:04")+" on "+day)
			}
			break
		}
	}
	if len(skipped) == 0 && len(repeated) == 0 {
		return ""
	}
	var parts []string
	if len(skipped) > 0 {
		parts = append(parts, "the clocks skip "+skipped[0]+" (that day's run does not happen)")
	}
	if len(repeated) > 0 {
		parts = append(parts, "they pass "+repeated[0]+" twice (the job runs twice; its summary is replaced, so the result is the same)")
	}
	return fmt.Sprintf("in %s %s; pick a time outside %s", loc, strings.Join(parts, " and "), window)
}

// matches reports whether spec fires at the wall-clock minute of t, by
// robfig/cron's rules for days of month and of week.
func matches(spec *cron.SpecSchedule, t time.Time) bool {
	const star = 1 << 63
	bit := func(field uint64, v int) bool { return field&(1<<uint(v)) != 0 }
	if !bit(spec.Minute, t.Minute()) || !bit(spec.Hour, t.Hour()) || !bit(spec.Month, int(t.Month())) {
		return false
	}
	dom, dow := bit(spec.Dom, t.Day()), bit(spec.Dow, int(t.Weekday()))
	if spec.Dom&star != 0 || spec.Dow&star != 0 {
		return dom && dow
	}
	return dom || dow
}
