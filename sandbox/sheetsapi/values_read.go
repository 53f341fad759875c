package sheetsapi

import (
	"fmt"
	"net/url"
	"slices"
)

// readOptions are the render parameters of a read.
type readOptions struct {
	major    string // ROWS or COLUMNS
	valueOpt string
	dateOpt  string
}

// enumParam validates an enum query or body value; "" means the default.
func enumParam(param, typ, v, def string, allowed ...string) (string, *apiError) {
	if v == "" {
		return def, nil
	}
	if slices.Contains(allowed, v) {
		return v, nil
	}
	return "", badRequest("Invalid value at '%s' (type.googleapis.com/google.apps.sheets.v4.%s), %q", param, typ, v)
}

func parseReadOptions(q url.Values, valueParam, dateParam string) (readOptions, *apiError) {
	var o readOptions
	var e *apiError
	if o.major, e = enumParam("major_dimension", "Dimension", q.Get("majorDimension"), "ROWS", "DIMENSION_UNSPECIFIED", "ROWS", "COLUMNS"); e != nil {
		return o, e
	}
	if o.major == "DIMENSION_UNSPECIFIED" {
		o.major = "ROWS"
	}
	return o.withRender(q.Get(valueParam), q.Get(dateParam), valueParam, dateParam)
}

func (o readOptions) withRender(value, date, valueParam, dateParam string) (readOptions, *apiError) {
	var e *apiError
	if o.valueOpt, e = enumParam(snake(valueParam), "ValueRenderOption", value, renderFormatted, renderFormatted, renderUnformatted, renderFormula); e != nil {
		return o, e
	}
	if o.dateOpt, e = enumParam(snake(dateParam), "DateTimeRenderOption", date, dateSerial, dateSerial, dateFormatted); e != nil {
		return o, e
	}
	if o.major == "" {
		o.major = "ROWS"
	}
	return o, nil
}

// snake turns a parameter name into the proto field name Google quotes in
// enum errors ("valueRenderOption" → "value_render_option").
func snake(s string) string {
	out := make([]byte, 0, len(s)+4)
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			out = append(out, '_', c+'a'-'A')
			continue
		}
		out = append(out, c)
	}
	return string(out)
}

// readRange renders the bounded rectangle g of sh, leaving out empty
// trailing rows and columns; only the rows of g are visited.
func readRange(sh *sheet, g gridRect, o readOptions) valueRangeJSON {
	vr := valueRangeJSON{Range: sh.a1(g), MajorDimension: o.major}
	if o.major == "COLUMNS" {
		vr.Values = readColumns(sh, g, o)
	} else {
		vr.Values = readRows(sh, g, o)
	}
	return vr
}

func readRows(sh *sheet, g gridRect, o readOptions) [][]any {
	var out [][]any
	last := -1 // index in out of the last non-empty row
	for row := g.r0; row < g.r1 && row < len(sh.rows); row++ {
		r := sh.rows[row]
		hi := min(g.c1, len(r))
		for hi > g.c0 && r[hi-1].empty() {
			hi--
		}
		var vals []any
		if hi > g.c0 {
			vals = make([]any, hi-g.c0)
			for col := g.c0; col < hi; col++ {
				vals[col-g.c0] = renderOrEmpty(sh, row, col, r[col], o)
			}
		}
		if vals != nil {
			for len(out) < row-g.r0 {
				out = append(out, []any{})
			}
			out = append(out, vals)
			last = len(out) - 1
		}
	}
	return out[:last+1]
}

func readColumns(sh *sheet, g gridRect, o readOptions) [][]any {
	r1 := min(g.r1, len(sh.rows))
	var out [][]any
	for col := g.c0; col < g.c1; col++ {
		lastRow := -1
		for row := g.r0; row < r1; row++ {
			if !sh.at(row, col).empty() {
				lastRow = row
			}
		}
		var vals []any
		if lastRow >= 0 {
			vals = make([]any, lastRow-g.r0+1)
			for row := g.r0; row <= lastRow; row++ {
				vals[row-g.r0] = renderOrEmpty(sh, row, col, sh.at(row, col), o)
			}
		}
		out = append(out, vals)
	}
	n := len(out)
	for n > 0 && out[n-1] == nil {
		n--
	}
	out = out[:n]
	for i := range out {
		if out[i] == nil {
			out[i] = []any{}
		}
	}
	return out
}

func renderOrEmpty(sh *sheet, row, col int, c cell, o readOptions) any {
	if c.empty() {
		return ""
	}
	return c.render(o.valueOpt, o.dateOpt, sh.cellFormat(row, col, c))
}

// valuesGet serves values.get.
func (s *Server) valuesGet(c *call) (any, *apiError) {
	o, e := parseReadOptions(c.query, "valueRenderOption", "dateTimeRenderOption")
	if e != nil {
		return nil, e
	}
	s.mu.RLock()
	defer s.mu.RUnlock()
	ss := s.books[c.id]
	if ss == nil {
		return nil, errNotFound
	}
	sh, g, e := ss.resolveInGrid(c.rng)
	if e != nil {
		return nil, e
	}
	return readRange(sh, g, o), nil
}

// valuesBatchGet serves values.batchGet: the ranges come back in request
// order, and one bad range fails the whole call.
func (s *Server) valuesBatchGet(c *call) (any, *apiError) {
	o, e := parseReadOptions(c.query, "valueRenderOption", "dateTimeRenderOption")
	if e != nil {
		return nil, e
	}
	ranges := c.query["ranges"]
	c.ranges = ranges
	s.mu.RLock()
	defer s.mu.RUnlock()
	ss := s.books[c.id]
	if ss == nil {
		return nil, errNotFound
	}
	resp := batchGetValuesResponseJSON{SpreadsheetID: ss.id}
	for _, rng := range ranges {
		sh, g, e := ss.resolveInGrid(rng)
		if e != nil {
			return nil, e
		}
		resp.ValueRanges = append(resp.ValueRanges, readRange(sh, g, o))
	}
	return resp, nil
}

// valueAt formats a (row, col) pair for error messages.
func valueAt(prefix string, i, j int) string { return fmt.Sprintf("%svalues[%d][%d]", prefix, i, j) }
