package mapping

import (
	"encoding/json"

	"github.com/surveysync/surveysync/config"
)

// Check renders a sample response through the mapping, as validate --sample
// does, and reports every problem at its place in the mapping file instead of
// stopping at the first: each missing field, failed conversion and unknown
// value. Filter fields the sample lacks, and a sample the filter turns away,
// are reported as warnings. A request
// body that would not marshal to JSON is an error.
func (m *Mapping) Check(in *Input) config.ErrorList {
	var out config.ErrorList
	collect := func(re *RenderError) {
		out = append(out, &config.Error{Pos: re.Pos, Msg: re.Msg})
	}
	defer in.project(m.proj)()
	if _, err := in.fields(); err != nil {
		return config.ErrorList{config.Errorf(config.Pos{File: m.file}, "sample response: %v", err)}
	}
	out = append(out, m.filter.check(in)...)
	if ok, err := m.filter.Match(in); err == nil && !ok {
		w := config.Errorf(m.filterPos, "filter: the sample response does not pass the filter, so it would not be delivered")
		w.Warning = true
		out = append(out, w)
	}
	switch {
	case m.sheet != nil:
		m.sheet.render(in, collect)
	case m.req != nil:
		req, err := m.req.render(in, collect)
		if err != nil {
			out.Add(config.Pos{File: m.file}, err)
			break
		}
		if _, err := json.Marshal(req.Body); err != nil {
			out = append(out, config.Errorf(config.Pos{File: m.file}, "the rendered body is not valid JSON: %v", err))
		}
	}
	out.Sort()
	return out
}
