package engine

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/mapping"
	"github.com/surveysync/surveysync/scores"
	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

// ScoreReport is one computation of a score job.
type ScoreReport struct {
	Job  string     `json:"job"`
	AsOf time.Time  `json:"as_of"`
	Rows []ScoreRow `json:"rows"`
	// Scanned counts the stored responses read; Filtered those the job's
	// filter dropped; NoRating those without a rating.
	Scanned  int `json:"scanned"`
	Filtered int `json:"filtered"`
	NoRating int `json:"no_rating"`
}

// NoRatings reports, as an error, a computation in which responses were
// read and kept by the filter but none had a rating: the job's field most
// likely names a field the responses do not have. Writing that report would
// replace a summary with an empty one.
func (rep *ScoreReport) NoRatings(sp *ScorePlan) error {
	kept := rep.Scanned - rep.Filtered
	if kept == 0 || rep.NoRating < kept {
		return nil
	}
	return fmt.Errorf("score job %s: none of the %d responses read has a value at field %s; check the job's field (nothing was written)",
		sp.Name, kept, sp.Job.Field)
}

// ComputeScores computes a score job from the stored responses submitted
// before asOf, never from a destination.
//
// The responses are read a page at a time (store.Store.ScanBatches): the
// store reads the next page while this goroutine turns the current one
// into observations. When every field of the job is a plain path, the
// fields are picked out of the raw JSON without decoding it (see
// fieldPicker), and the texts kept (contacts, segments) are interned, so a
// response costs no allocation unless it brings a new text.
func ComputeScores(ctx context.Context, st store.Store, sp *ScorePlan, asOf time.Time) (*ScoreReport, error) {
	opts := scores.Options{
		Period:          sp.Period,
		RollingDays:     sp.RollingDays,
		Location:        sp.Location,
		AsOf:            asOf,
		GroupBy:         sp.GroupBy,
		DedupeByContact: sp.Job.OnePerContact,
	}
	if opts.DedupeByContact {
		opts.SizeHint = responsesHint(ctx, st, sp.Job.Source)
	}
	acc, err := scores.NewAccumulator(sp.Definition, opts)
	if err != nil {
		return nil, fmt.Errorf("score job %s: %w", sp.Name, err)
	}
	rep := &ScoreReport{Job: sp.Name, AsOf: asOf}
	c := scoreCollector{sp: sp, acc: acc, rep: rep, asOf: asOf, texts: map[string]string{}}
	if len(sp.Segments) > 0 {
		c.segment = make([]string, len(sp.Segments))
	}
	if sp.picker != nil {
		c.fields = make([]pickedField, sp.picker.n)
	}
	err = st.ScanBatches(ctx, sp.Job.Source, sp.windowStart(asOf), asOf, func(rs []survey.Response) error {
		for i := range rs {
			if err := c.add(&rs[i]); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("score job %s: reading responses: %w", sp.Name, err)
	}
	rep.Rows = ScoreRows(sp.Name, sp.GroupBy, acc.Results())
	return rep, nil
}

// maxSizeHint bounds the accumulator's size hint (observations).
const maxSizeHint = 1 << 21

// responsesHint returns how many responses source has stored, at most
// maxSizeHint, or 0 when the ledger cannot say. A job that keeps one
// response per contact sizes its memory with it up front: growing it step
// by step to a million entries costs more than the rest of the job.
func responsesHint(ctx context.Context, st store.Store, source string) int {
	stats, err := st.Stats(ctx, time.Now())
	if err != nil {
		return 0
	}
	for _, s := range stats.Sources {
		if s.Source == source {
			return int(min(s.Responses, maxSizeHint))
		}
	}
	return 0
}

// maxInterned bounds how many distinct texts a score job interns; past it,
// new texts are allocated each time they are seen.
const maxInterned = 1 << 20

// scoreCollector turns stored responses into observations of one job.
type scoreCollector struct {
	sp   *ScorePlan
	acc  *scores.Accumulator
	rep  *ScoreReport
	asOf time.Time
	// fields are the picked fields of the current response (fast path).
	fields []pickedField
	// segment is reused for every observation: the accumulator copies it.
	segment []string
	// texts interns contacts and segment values.
	texts map[string]string
}

// add counts one response. Its payload is valid only during the call:
// nothing kept refers to it.
func (c *scoreCollector) add(r *survey.Response) error {
	c.rep.Scanned++
	if c.fields != nil && c.sp.picker.pickFields(r.Payload, c.fields) {
		return c.addPicked(r)
	}
	sp, rep := c.sp, c.rep
	in := &mapping.Input{Response: r, Now: c.asOf}
	if sp.Filter != nil {
		ok, err := sp.Filter.Match(in)
		if err != nil || !ok {
			rep.Filtered++
			return nil
		}
	}
	v, err := sp.Field.Eval(in)
	if err != nil || v == nil {
		rep.NoRating++
		return nil
	}
	if sp.ValueMap != nil {
		// Labels, emoji and stars the map knows become numbers; values it
		// does not know are read as numbers themselves, and anything
		// else is counted as invalid, never dropped silently.
		if mv, err := sp.ValueMap.Apply(v); err == nil {
			v = mv
		}
	}
	o := scores.Observation{At: r.SubmittedAt, Value: toRating(v), Key: r.Key}
	if sp.Contact != nil {
		if ct, err := sp.Contact.Eval(in); err == nil {
			o.Contact = text(ct)
		}
	}
	if len(c.segment) > 0 {
		o.Segment = c.segment
		for i, e := range sp.Segments {
			o.Segment[i] = ""
			if s, err := e.Eval(in); err == nil {
				o.Segment[i] = text(s)
			}
		}
	}
	return c.acc.Add(o)
}

// addPicked adds an observation from fields picked out of the raw JSON:
// the rating, then the contact when the job has one, then the segments.
func (c *scoreCollector) addPicked(r *survey.Response) error {
	sp, f := c.sp, c.fields
	if f[0].kind == pickedMissing {
		c.rep.NoRating++
		return nil
	}
	o := scores.Observation{At: r.SubmittedAt, Value: c.rating(&f[0]), Key: r.Key}
	i := 1
	if sp.Contact != nil {
		o.Contact = c.text(&f[1])
		i = 2
	}
	if len(c.segment) > 0 {
		o.Segment = c.segment
		for j := range c.segment {
			o.Segment[j] = c.text(&f[i+j])
		}
	}
	return c.acc.Add(o)
}

// rating reads a picked rating as toRating reads the general path's value.
func (c *scoreCollector) rating(f *pickedField) float64 {
	if c.sp.ValueMap != nil {
		v := f.value()
		if mv, err := c.sp.ValueMap.Apply(v); err == nil {
			v = mv
		}
		return toRating(v)
	}
	switch f.kind {
	case pickedNumber:
		return f.num
	case pickedString:
		s := f.str
		if !f.escaped {
			s = string(f.raw) // does not escape: no allocation
		}
		v, err := strconv.ParseFloat(strings.TrimSpace(s), 64)
		if err != nil {
			return math.NaN()
		}
		return v
	}
	return math.NaN()
}

// text reads a picked field as text() reads the general path's value,
// interning it.
func (c *scoreCollector) text(f *pickedField) string {
	switch f.kind {
	case pickedString, pickedNumber:
		if f.escaped {
			return f.str
		}
		if s, ok := c.texts[string(f.raw)]; ok {
			return s
		}
		s := string(f.raw)
		if len(c.texts) < maxInterned {
			c.texts[s] = s
		}
		return s
	case pickedTrue:
		return "true"
	case pickedFalse:
		return "false"
	}
	return ""
}

// toRating turns a rendered value into a rating; anything that is not a
// number becomes NaN, which the scores package counts as invalid.
func toRating(v any) float64 {
	switch t := v.(type) {
	case float64:
		return t
	case json.Number:
		f, err := t.Float64()
		if err != nil {
			return math.NaN()
		}
		return f
	case int:
		return float64(t)
	case int64:
		return float64(t)
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(t), 64)
		if err != nil {
			return math.NaN()
		}
		return f
	}
	return math.NaN()
}

func text(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return t
	case json.Number:
		return t.String()
	default:
		return fmt.Sprint(t)
	}
}

// SummaryHeader is the header of a score job's summary table.
func (sp *ScorePlan) SummaryHeader() []string {
	h := []string{"Period", "Period start"}
	h = append(h, sp.GroupBy...)
	return append(h, "Score", "Margin of error", "n", "Positive", "Neutral", "Negative", "Invalid", "Deduplicated", "Basis", "Definition")
}

// SummaryTable renders rows as the job's summary table.
func (sp *ScorePlan) SummaryTable(rows []ScoreRow) connectors.Table {
	t := connectors.Table{Tab: sp.Job.Sheet, Header: sp.SummaryHeader()}
	num := func(p *float64) survey.Value {
		if p == nil {
			return survey.Null
		}
		return survey.Number(math.Round(*p*100) / 100)
	}
	for _, r := range rows {
		cells := []survey.Value{survey.Text(r.Period), survey.DateTime(r.PeriodStart.In(sp.Location))}
		for _, g := range sp.GroupBy {
			cells = append(cells, survey.Text(r.Segment[g]))
		}
		cells = append(cells, num(r.Score), num(r.MarginOfError),
			survey.Number(float64(r.N)), survey.Number(float64(r.Positive)), survey.Number(float64(r.Neutral)),
			survey.Number(float64(r.Negative)), survey.Number(float64(r.Invalid)), survey.Number(float64(r.Deduplicated)),
			survey.Text(r.Basis), survey.Text(r.Definition))
		t.Rows = append(t.Rows, cells)
	}
	return t
}

// latestPerSegment keeps each segment's row of the newest period.
func latestPerSegment(rows []ScoreRow) []ScoreRow {
	idx := map[string]int{}
	var out []ScoreRow
	for _, r := range rows {
		k := segmentKey(r.Segment)
		if i, ok := idx[k]; ok {
			if r.PeriodStart.After(out[i].PeriodStart) {
				out[i] = r
			}
			continue
		}
		idx[k] = len(out)
		out = append(out, r)
	}
	return out
}

func segmentKey(seg map[string]string) string {
	b, _ := json.Marshal(seg)
	return string(b)
}

// WriteScores sends a computed report to the job's destination: the
// summary tab replaced in place, and/or one request per segment for the
// newest period. Both are idempotent, so a repeated run changes nothing.
func WriteScores(ctx context.Context, dest connectors.Destination, sp *ScorePlan, rep *ScoreReport) error {
	if sp.Job.Sheet != "" {
		tw, ok := dest.(connectors.TableWriter)
		if !ok {
			return fmt.Errorf("score job %s: destination %s cannot hold a summary table", sp.Name, sp.Job.To)
		}
		if err := tw.WriteTable(ctx, sp.SummaryTable(rep.Rows)); err != nil {
			return fmt.Errorf("score job %s: writing the summary tab %q: %w", sp.Name, sp.Job.Sheet, err)
		}
	}
	if sp.Request == nil {
		return nil
	}
	latest := latestPerSegment(rep.Rows)
	b := &connectors.Batch{Sync: "scores:" + sp.Name, Mapping: sp.Request}
	for _, row := range latest {
		raw, err := json.Marshal(row)
		if err != nil {
			return err
		}
		key := sp.Name + ":" + row.Period + ":" + segmentKey(row.Segment)
		r := &survey.Response{Source: "scores:" + sp.Name, Key: key, SubmittedAt: rep.AsOf, Payload: raw}
		it := &connectors.Item{ResponseKey: key, DeliveryKey: survey.DeliveryKey(b.Sync, r.Source, key, 1), Version: 1, Attempt: 1, Response: r}
		req, err := sp.Request.RenderRequest(&mapping.Input{Response: r, Sync: b.Sync, DeliveryKey: it.DeliveryKey, Version: 1, Now: rep.AsOf})
		if err != nil {
			return fmt.Errorf("score job %s: rendering the request for %s: %w", sp.Name, key, err)
		}
		it.Request = req
		b.Items = append(b.Items, it)
	}
	if len(b.Items) == 0 {
		return nil
	}
	var errs []error
	for i, res := range dest.Deliver(ctx, b) {
		if res.Err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", b.Items[i].ResponseKey, res.Err))
		}
	}
	return errors.Join(errs...)
}
