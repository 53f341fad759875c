package engine

import (
	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/mapping"
)

// ScorePlan is a compiled score job.
type ScorePlan struct {
	Name        string
	Job         *config.ScoreJob
	Source      *SourcePlan
	Destination *DestinationPlan
	Field       *mapping.Expr
	Contact     *mapping.Expr
	ValueMap    *mapping.ValueMap
	Filter      *mapping.Filter
	// Request is the request mapping sent once per segment, if any.
	Request *mapping.Mapping
}

// compileScoreJob compiles the expressions, value map, filter and request
// mapping of a score job.
func compileScoreJob(p *Plan, j *config.ScoreJob) (*ScorePlan, config.ErrorList) {
	var errs config.ErrorList
	at := func(key string) config.Pos {
		if n := j.Node.Get(key); n != nil {
			return n.Pos
		}
		return j.Pos
	}
	sp := &ScorePlan{Name: j.Name, Job: j, Source: p.source(j.Source), Destination: p.destination(j.To)}
	if j.Field != "" {
		e, err := mapping.CompileExpr(exprTemplate(j.Field), at("field"))
		errs.Add(at("field"), err)
		sp.Field = e
	}
	if j.Contact != "" {
		e, err := mapping.CompileExpr(exprTemplate(j.Contact), at("contact"))
		errs.Add(at("contact"), err)
		sp.Contact = e
	} else if j.OnePerContact {
		errs = append(errs, config.Errorf(at("one_per_contact"), "one_per_contact needs contact: the expression that identifies a respondent, such as contact.email"))
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
	if j.Request != "" {
		m, err := mapping.Load(p.Config.Resolve(j.Request))
		errs.Add(at("request"), err)
		sp.Request = m
	}
	return sp, errs
}

// exprTemplate accepts a bare path ("rating") or a template ("{{ rating }}").
func exprTemplate(s string) string {
	for i := 0; i+1 < len(s); i++ {
		if s[i] == '{' && s[i+1] == '{' {
			return s
		}
	}
	return "{{ " + s + " }}"
}
