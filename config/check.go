package config

import (
	"fmt"
	"net"
	"os"
	"regexp"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
)

// check runs the checks that need only the file itself: references between
// sections, names, addresses, schedules and time zones. Connector-specific
// settings and mapping files are checked by their own packages.
func (c *Config) check() ErrorList {
	var errs ErrorList

	if _, _, err := c.StoreDriver(); err != nil {
		errs = append(errs, &Error{Pos: c.At("store"), Msg: err.Error()})
	}
	if _, _, err := net.SplitHostPort(c.Listen); err != nil {
		errs = append(errs, Errorf(c.At("listen"), "listen %q: want host:port, such as 127.0.0.1:8080", c.Listen))
	}
	switch c.Log.Level {
	case "", "debug", "info", "warn", "error":
	default:
		errs = append(errs, Errorf(c.At("log", "level"), "log.level %q: want debug, info, warn or error", c.Log.Level))
	}
	switch c.Log.Format {
	case "", "json", "text":
	default:
		errs = append(errs, Errorf(c.At("log", "format"), "log.format %q: want json or text", c.Log.Format))
	}
	if c.Dispatch.BatchSize < 1 {
		errs = append(errs, Errorf(c.At("dispatch", "batch_size"), "dispatch.batch_size must be at least 1"))
	}
	if c.Dispatch.BackoffMax < c.Dispatch.BackoffMin {
		errs = append(errs, Errorf(c.At("dispatch", "backoff_max"), "dispatch.backoff_max (%s) is shorter than dispatch.backoff_min (%s)", c.Dispatch.BackoffMax, c.Dispatch.BackoffMin))
	}
	if c.Dispatch.Lease < time.Second {
		errs = append(errs, Errorf(c.At("dispatch", "lease"), "dispatch.lease must be at least 1s"))
	}
	if c.Console.Token.IsSet() {
		if err := c.Console.Token.Check(); err != nil {
			errs = append(errs, &Error{Pos: c.Console.Token.Pos(), Msg: err.Error(), Warning: true})
		}
	}

	names := map[string]Pos{}
	for _, s := range c.Sources {
		names[s.Name] = s.Pos
	}
	for _, d := range c.Destinations {
		if prev, ok := names[d.Name]; ok {
			errs = append(errs, Errorf(d.Pos, "destination %q has the same name as the source at line %d; names must be unique", d.Name, prev.Line))
		}
	}

	syncNames := map[string]Pos{}
	for i := range c.Syncs {
		s := &c.Syncs[i]
		errs = append(errs, c.checkSync(s)...)
		if s.Name == "" && s.Source != "" && s.To != "" {
			s.Name = s.Source + "-to-" + s.To
		}
		if s.Name != "" {
			if !namePattern.MatchString(s.Name) {
				errs = append(errs, Errorf(s.Pos, "sync name %q: use letters, digits, '-', '_' or '.', at most 64", s.Name))
			}
			if prev, ok := syncNames[s.Name]; ok {
				errs = append(errs, Errorf(s.Pos, "sync %q is defined twice (first at line %d); give each sync a distinct name", s.Name, prev.Line))
			}
			syncNames[s.Name] = s.Pos
		}
	}

	jobNames := map[string]Pos{}
	for i := range c.Scores {
		j := &c.Scores[i]
		errs = append(errs, c.checkScoreJob(j)...)
		if prev, ok := jobNames[j.Name]; ok && j.Name != "" {
			errs = append(errs, Errorf(j.Pos, "score job %q is defined twice (first at line %d)", j.Name, prev.Line))
		}
		jobNames[j.Name] = j.Pos
	}
	return errs
}

func (c *Config) checkSync(s *Sync) ErrorList {
	var errs ErrorList
	if s.Source == "" {
		errs = append(errs, Errorf(s.Pos, "sync: missing required key \"source\""))
	} else if c.Sources.Get(s.Source) == nil {
		errs = append(errs, Errorf(s.At("source"), "sync: source %q is not defined%s", s.Source, suggestName(s.Source, c.Sources)))
	}
	if s.To == "" {
		errs = append(errs, Errorf(s.Pos, "sync: missing required key \"to\""))
	} else if c.Destinations.Get(s.To) == nil {
		errs = append(errs, Errorf(s.At("to"), "sync: destination %q is not defined%s", s.To, suggestName(s.To, c.Destinations)))
	}
	if s.Mapping == "" {
		errs = append(errs, Errorf(s.Pos, "sync: missing required key \"mapping\""))
	} else if _, err := os.Stat(c.Resolve(s.Mapping)); err != nil {
		errs = append(errs, Errorf(s.At("mapping"), "sync: mapping file %s: %v", s.Mapping, unwrapPathError(err)))
	}
	return errs
}

func suggestName(name string, ps Plugins) string {
	var names []string
	for _, p := range ps {
		names = append(names, p.Name)
	}
	if s := Suggest(name, names); s != "" {
		return fmt.Sprintf("; did you mean %q?", s)
	}
	if len(names) > 0 {
		return fmt.Sprintf(" (defined: %s)", strings.Join(names, ", "))
	}
	return ""
}

var (
	rollingPeriod = regexp.MustCompile(`^rolling_([1-9][0-9]{0,3})d$`)
	scalePattern  = regexp.MustCompile(`^(-?[0-9]+)-([0-9]+)$`)
)

// CronParser is the one schedule parser used both to check schedules and to
// run them: five fields or a descriptor such as @hourly.
var CronParser = cron.NewParser(cron.Minute | cron.Hour | cron.Dom | cron.Month | cron.Dow | cron.Descriptor)

func (c *Config) checkScoreJob(j *ScoreJob) ErrorList {
	var errs ErrorList
	at := func(key string) Pos {
		if n := j.Node.Get(key); n != nil {
			return n.Pos
		}
		return j.Pos
	}
	req := func(key, val string) {
		if val == "" {
			errs = append(errs, Errorf(j.Pos, "score job: missing required key %q", key))
		}
	}
	req("name", j.Name)
	req("schedule", j.Schedule)
	req("source", j.Source)
	req("metric", j.Metric)
	req("field", j.Field)

	if j.Schedule != "" {
		spec := strings.TrimSpace(j.Schedule)
		if strings.HasPrefix(spec, "TZ=") || strings.HasPrefix(spec, "CRON_TZ=") {
			errs = append(errs, Errorf(at("schedule"), "schedule %q: a TZ= or CRON_TZ= prefix is not allowed; set the zone with the timezone key instead", j.Schedule))
		} else if sched, err := CronParser.Parse(spec); err != nil {
			errs = append(errs, Errorf(at("schedule"), "schedule %q: %v (write five fields such as \"0 6 * * MON\" or a descriptor such as @hourly)", j.Schedule, err))
		} else if loc, err := time.LoadLocation(j.Timezone); err == nil {
			if w := dstWarning(sched, loc, time.Now()); w != "" {
				e := Errorf(at("schedule"), "schedule %q: %s", j.Schedule, w)
				e.Warning = true
				errs = append(errs, e)
			}
		}
	}
	if j.Timezone != "" {
		if _, err := time.LoadLocation(j.Timezone); err != nil {
			errs = append(errs, Errorf(at("timezone"), "timezone %q is not a known IANA zone such as Europe/Berlin", j.Timezone))
		}
	}
	if j.Source != "" && c.Sources.Get(j.Source) == nil {
		errs = append(errs, Errorf(at("source"), "source %q is not defined%s", j.Source, suggestName(j.Source, c.Sources)))
	}
	if j.To != "" && c.Destinations.Get(j.To) == nil {
		errs = append(errs, Errorf(at("to"), "destination %q is not defined%s", j.To, suggestName(j.To, c.Destinations)))
	}
	switch j.Metric {
	case "", "csat", "nps", "ces":
	default:
		errs = append(errs, Errorf(at("metric"), "metric %q: want csat, nps or ces", j.Metric))
	}
	switch {
	case j.Period == "", j.Period == "day", j.Period == "week", j.Period == "month", j.Period == "quarter", j.Period == "all":
	case rollingPeriod.MatchString(j.Period):
	default:
		errs = append(errs, Errorf(at("period"), "period %q: want day, week, month, quarter, all or rolling_<N>d such as rolling_30d", j.Period))
	}
	if j.Scale != "" && !scalePattern.MatchString(j.Scale) {
		errs = append(errs, Errorf(at("scale"), "scale %q: write it as min-max, such as 1-5 or 0-10", j.Scale))
	}
	if j.Periods < 0 {
		errs = append(errs, Errorf(at("periods"), "periods must not be negative"))
	}
	if j.Request != "" {
		if _, err := os.Stat(c.Resolve(j.Request)); err != nil {
			errs = append(errs, Errorf(at("request"), "request mapping %s: %v", j.Request, unwrapPathError(err)))
		}
	}
	if j.Sheet != "" && j.To == "" {
		errs = append(errs, Errorf(at("sheet"), "sheet is set but to is empty; name the Sheets destination the summary goes to"))
	}
	return errs
}

// RollingDays returns N for a rolling_<N>d period, or 0.
func RollingDays(period string) int {
	m := rollingPeriod.FindStringSubmatch(period)
	if m == nil {
		return 0
	}
	var n int
	fmt.Sscan(m[1], &n)
	return n
}
