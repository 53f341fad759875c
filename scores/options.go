package scores

import (
	"errors"
	"fmt"
	"time"
)

// Options says how observations are split into results. The zero value puts
// everything in one UTC period with no segments and no deduplication.
type Options struct {
	// Period is the kind of time period; the zero value means All.
	Period PeriodKind
	// RollingDays is the window length in calendar days for Rolling.
	RollingDays int
	// Location is the time zone that periods start and end in; nil means
	// UTC. Scores for a team in Berlin use Europe/Berlin so that a day runs
	// from midnight to midnight there.
	Location *time.Location
	// AsOf, when set, ignores every observation at or after it, so that a
	// re-run over the same stored responses gives the same numbers even if
	// newer ones arrived since. Rolling windows end at AsOf, which they
	// require.
	AsOf time.Time
	// GroupBy names the response fields that segment the results, such as
	// agent, channel or survey. Observation.Segment carries their values in
	// this order.
	GroupBy []string
	// DedupeByContact keeps one response per contact in each result: the
	// latest (see Observation). Contacts with several conversations
	// otherwise answer the same survey repeatedly and weigh more.
	DedupeByContact bool
	// SizeHint is the number of observations expected, if known. It only
	// sizes memory up front; Compute sets it to the number it is given.
	SizeHint int
}

// normalised returns a copy of o with defaults filled in, or the problems
// with it.
func (o Options) normalised() (Options, error) {
	if o.Period == "" {
		o.Period = All
	}
	if o.Location == nil {
		o.Location = time.UTC
	}
	var errs []error
	if _, err := ParsePeriodKind(string(o.Period)); err != nil {
		errs = append(errs, err)
	}
	if o.Period == Rolling {
		if o.RollingDays <= 0 {
			errs = append(errs, fmt.Errorf("rolling period needs a number of days above 0, got %d", o.RollingDays))
		}
		if o.AsOf.IsZero() {
			errs = append(errs, errors.New("rolling period needs an as-of time to end at"))
		}
	} else if o.RollingDays != 0 {
		errs = append(errs, fmt.Errorf("rolling days only apply to the rolling period, not %s", o.Period))
	}
	if o.SizeHint < 0 {
		o.SizeHint = 0
	}
	seen := make(map[string]bool, len(o.GroupBy))
	for _, key := range o.GroupBy {
		switch {
		case key == "":
			errs = append(errs, errors.New("group-by key is empty"))
		case seen[key]:
			errs = append(errs, fmt.Errorf("group-by key %q appears twice", key))
		}
		seen[key] = true
	}
	return o, errors.Join(errs...)
}
