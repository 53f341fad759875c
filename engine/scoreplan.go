package engine

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/mapping"
	"github.com/surveysync/surveysync/scores"
)

// DefaultScorePeriods is how many periods a score job computes by default.
const DefaultScorePeriods = 12

// ScorePlan is a compiled score job.
type ScorePlan struct {
	Name        string
	Job         *config.ScoreJob
	Source      *SourcePlan
	Destination *DestinationPlan
	Definition  scores.Definition
	Schedule    cron.Schedule
	Location    *time.Location
	Period      scores.PeriodKind
	RollingDays int
	Periods     int
	GroupBy     []string
	Field       *mapping.Expr
	Contact     *mapping.Expr
	Segments    []*mapping.Expr
	ValueMap    *mapping.ValueMap
	Filter      *mapping.Filter
	// Request is the request mapping sent once per segment, if any.
	Request *mapping.Mapping
	// picker reads the rating, contact and segment fields straight from the
	// raw JSON when they are all plain paths and no filter applies.
	picker *fieldPicker
}

// variantAliases accepts the friendly names documented in the README as
// well as the scores package's own.
var variantAliases = map[string]scores.Variant{
	"percent":  scores.PercentSatisfied,
	"helpdesk": scores.GoodBad,
	"agree":    scores.PercentAgree,
}

// compileScoreJob checks a score job and compiles its definition, schedule,
// expressions, value map, filter and request mapping.
func compileScoreJob(p *Plan, j *config.ScoreJob) (*ScorePlan, config.ErrorList) {
	var errs config.ErrorList
	at := func(key string) config.Pos {
		if n := j.Node.Get(key); n != nil {
			return n.Pos
		}
		return j.Pos
	}
	sp := &ScorePlan{Name: j.Name, Job: j, Source: p.source(j.Source), Destination: p.destination(j.To), Location: time.UTC, Periods: j.Periods, GroupBy: j.GroupBy}
	if sp.Periods == 0 {
		sp.Periods = DefaultScorePeriods
	}
	if j.Timezone != "" {
		if loc, err := time.LoadLocation(j.Timezone); err == nil {
			sp.Location = loc
		}
	}
	if j.Schedule != "" {
		if s, err := config.CronParser.Parse(strings.TrimSpace(j.Schedule)); err == nil {
			sp.Schedule = s
		}
	}
	switch {
	case j.Period == "":
		sp.Period = scores.Week
	case config.RollingDays(j.Period) > 0:
		sp.Period, sp.RollingDays, sp.Periods = scores.Rolling, config.RollingDays(j.Period), 1
	default:
		sp.Period = scores.PeriodKind(j.Period)
	}

	def := scores.Definition{Metric: scores.Metric(j.Metric), HighIsGood: j.HighIsGood}
	if v, ok := variantAliases[j.Variant]; ok {
		def.Variant = v
	} else {
		def.Variant = scores.Variant(j.Variant)
	}
	if j.Scale != "" {
		s, err := scores.ParseScale(j.Scale)
		if err != nil {
			errs = append(errs, config.Errorf(at("scale"), "scale: %v", err))
		}
		def.Scale = s
	}
	def.Positive, def.Negative = j.Threshold, j.BadThreshold
	if def.Metric == scores.NPS {
		if j.Threshold != nil || j.BadThreshold != nil {
			errs = append(errs, config.Errorf(j.Pos, "nps: set promoters and detractors rather than threshold and bad_threshold"))
		}
		def.Positive, def.Negative = j.Promoters, j.Detractors
	} else if j.Promoters != nil || j.Detractors != nil {
		errs = append(errs, config.Errorf(at("promoters"), "promoters and detractors apply to nps only; use threshold and bad_threshold"))
	}
	if j.Metric != "" {
		if err := def.Validate(); err != nil {
			for _, e := range unjoin(err) {
				pos := j.Pos
				var fe *scores.FieldError
				if errors.As(e, &fe) {
					pos = at(configKey(def.Metric, fe.Field))
				}
				errs = append(errs, config.Errorf(pos, "score job %s: %v", j.Name, e))
			}
		}
	}
	sp.Definition = def.WithDefaults()

	if j.Field != "" {
		e, err := mapping.CompileExpr(connectors.ExprText(j.Field), at("field"))
		errs.Add(at("field"), err)
		sp.Field = e
	}
	if j.Contact != "" {
		e, err := mapping.CompileExpr(connectors.ExprText(j.Contact), at("contact"))
		errs.Add(at("contact"), err)
		sp.Contact = e
	} else if j.OnePerContact {
		errs = append(errs, config.Errorf(at("one_per_contact"), "one_per_contact needs contact: the expression that identifies a respondent, such as contact.email"))
	}
	for _, g := range j.GroupBy {
		e, err := mapping.CompileExpr(connectors.ExprText(g), at("group_by"))
		errs.Add(at("group_by"), err)
		sp.Segments = append(sp.Segments, e)
	}
	if j.Map != nil {
		vm, err := mapping.CompileValueMap(j.Map)
		errs.Add(at("map"), err)
		sp.ValueMap = vm
	}
	if j.Filter != nil {
		f, err := mapping.CompileFilter(j.Filter)
		errs.Add(at("filter"), err)
		sp.Filter = f
	}
	sp.picker = fastPicker(j)
	if j.Request != "" {
		m, err := mapping.Load(p.Config.Resolve(j.Request))
		errs.Add(at("request"), err)
		sp.Request = m
		if m != nil && m.Kind() != mapping.Requests {
			errs = append(errs, config.Errorf(at("request"), "request: %s is a sheet mapping; a score job's request needs a request mapping", j.Request))
		}
	}
	if j.To != "" && j.Sheet == "" && j.Request == "" {
		errs = append(errs, config.Errorf(at("to"), "score job %s: to is set, so say what to write: sheet (a summary tab) or request (a request mapping per segment)", j.Name))
	}
	if (j.Sheet != "" || j.Request != "") && j.To == "" {
		errs = append(errs, config.Errorf(j.Pos, "score job %s: name the destination with to", j.Name))
	}
	if j.Sheet != "" && sp.Destination != nil && sp.Destination.Config != nil && !sp.Destination.Spec.AcceptsKind(mapping.SheetRows) {
		errs = append(errs, config.Errorf(at("sheet"), "score job %s: destination %s (type %s) cannot hold a summary tab", j.Name, sp.Destination.Name, sp.Destination.Type))
	}
	return sp, errs
}

// configKey names the configuration key behind a definition field.
func configKey(m scores.Metric, field string) string {
	switch field {
	case "positive":
		if m == scores.NPS {
			return "promoters"
		}
		return "threshold"
	case "negative":
		if m == scores.NPS {
			return "detractors"
		}
		return "bad_threshold"
	}
	return field
}

func unjoin(err error) []error {
	if j, ok := err.(interface{ Unwrap() []error }); ok {
		return j.Unwrap()
	}
	return []error{err}
}

// ScoreJob returns the score job named name, or nil.
func (p *Plan) ScoreJob(name string) *ScorePlan {
	for _, s := range p.Scores {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// windowStart is the start of the oldest period a job computes at asOf; the
// zero time for "all".
func (sp *ScorePlan) windowStart(asOf time.Time) time.Time {
	t := asOf.In(sp.Location)
	y, m, d := t.Date()
	n := sp.Periods - 1
	day := func(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, sp.Location) }
	switch sp.Period {
	case scores.Day:
		return day(y, m, d-n)
	case scores.Week:
		wd := (int(t.Weekday()) + 6) % 7 // Monday is 0
		return day(y, m, d-wd-7*n)
	case scores.Month:
		return day(y, m-time.Month(n), 1)
	case scores.Quarter:
		q := (int(m) - 1) / 3 * 3
		return day(y, time.Month(q+1)-time.Month(3*n), 1)
	case scores.Year:
		return day(y-n, 1, 1)
	case scores.Rolling:
		return day(y, m, d-sp.RollingDays-1)
	}
	return time.Time{}
}

func (sp *ScorePlan) String() string { return fmt.Sprintf("score job %s", sp.Name) }

// fastPicker returns a picker for the job's fields when every one of them is
// a plain payload path and no filter applies; nil otherwise.
func fastPicker(j *config.ScoreJob) *fieldPicker {
	if j.Filter != nil {
		return nil
	}
	texts := []string{j.Field}
	if j.Contact != "" {
		texts = append(texts, j.Contact)
	}
	texts = append(texts, j.GroupBy...)
	var paths [][]string
	for _, t := range texts {
		keys, ok := simplePath(t)
		if !ok {
			return nil
		}
		paths = append(paths, keys)
	}
	return newFieldPicker(paths)
}
