package sheetsapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"
)

// MaxCellChars is the most characters one cell may hold.
const MaxCellChars = 50_000

// kindSkip marks a null in a prepared block: the cell is left as it is.
// It never reaches a sheet.
const kindSkip kind = 255

// block is a ValueRange's values converted to cells, row-major.
type block struct {
	rows        [][]cell
	width       int
	cells       int // non-null values
	rowsTouched int // rows with at least one non-null value
	colsTouched int // columns with at least one non-null value
}

// makeBlock converts values, transposing COLUMNS input; prefix names the
// ValueRange in error messages ("" or "data[2].").
func makeBlock(values [][]any, major string, mode inputMode, prefix string) (block, *apiError) {
	var b block
	if major == "COLUMNS" {
		height := 0
		for _, col := range values {
			height = max(height, len(col))
		}
		b.width = len(values)
		b.rows = make([][]cell, height)
		for i := range b.rows {
			b.rows[i] = make([]cell, b.width)
			for j := range b.rows[i] {
				b.rows[i][j].kind = kindSkip
			}
		}
	} else {
		b.rows = make([][]cell, len(values))
		for i, row := range values {
			b.rows[i] = make([]cell, len(row))
			b.width = max(b.width, len(row))
		}
	}
	colTouched := make([]bool, b.width)
	rowTouched := make([]bool, len(b.rows))
	for i, vals := range values {
		for j, v := range vals {
			c, skip, err := parseInput(v, mode)
			if err != nil {
				return block{}, badRequest("Invalid %s: %s", valueAt(prefix, i, j), err.Error())
			}
			if len(c.s) > MaxCellChars && utf8.RuneCountInString(c.s) > MaxCellChars {
				return block{}, badRequest("Your input contains more than the maximum of %d characters in a single cell.", MaxCellChars)
			}
			row, col := i, j
			if major == "COLUMNS" {
				row, col = j, i
			}
			if skip {
				b.rows[row][col].kind = kindSkip
				continue
			}
			b.rows[row][col] = c
			b.cells++
			colTouched[col], rowTouched[row] = true, true
		}
	}
	for _, t := range colTouched {
		if t {
			b.colsTouched++
		}
	}
	for _, t := range rowTouched {
		if t {
			b.rowsTouched++
		}
	}
	return b, nil
}

// write stores the block with its top-left corner at (r0, c0). Callers
// have checked the grid bounds.
func (b block) write(sh *sheet, r0, c0 int) {
	for i, row := range b.rows {
		if len(row) > 0 {
			sh.reserve(r0+i, c0+len(row))
		}
		for j, c := range row {
			if c.kind != kindSkip {
				sh.set(r0+i, c0+j, c)
			}
		}
	}
	sh.trimTail()
}

// parseInputOption reads the required valueInputOption.
func parseInputOption(v string) (inputMode, *apiError) {
	switch v {
	case valueInputRaw:
		return inputRaw, nil
	case valueInputUserEntered:
		return inputUserEntered, nil
	case "":
		return 0, badRequest("'valueInputOption' is required but not specified")
	case "INPUT_VALUE_OPTION_UNSPECIFIED":
		return 0, badRequest("Invalid valueInputOption: INPUT_VALUE_OPTION_UNSPECIFIED")
	}
	_, e := enumParam("value_input_option", "ValueInputOption", v, "", valueInputRaw, valueInputUserEntered)
	return 0, e
}

func parseMajor(v string) (string, *apiError) {
	m, e := enumParam("major_dimension", "Dimension", v, "ROWS", "DIMENSION_UNSPECIFIED", "ROWS", "COLUMNS")
	if m == "DIMENSION_UNSPECIFIED" {
		m = "ROWS"
	}
	return m, e
}

// decodeBody reads a JSON body; strict bodies reject unknown fields, as
// Google does ("Unknown name").
func decodeBody(body []byte, v any, strict bool) *apiError {
	if len(bytes.TrimSpace(body)) == 0 {
		return nil
	}
	dec := json.NewDecoder(bytes.NewReader(body))
	if strict {
		dec.DisallowUnknownFields()
	}
	if err := dec.Decode(v); err != nil {
		msg := err.Error()
		if name, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
			return badRequest("Invalid JSON payload received. Unknown name %s: Cannot find field.", name)
		}
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return badRequest("Invalid JSON payload received. Invalid value for field %q.", te.Field)
		}
		return badRequest("Invalid JSON payload received. %s", msg)
	}
	return nil
}

// updatePlan is a checked values.update, ready to apply.
type updatePlan struct {
	sheet     *sheet
	requested A1Range
	target    gridRect
	block     block
}

// planUpdate checks one ValueRange write against the range and the grid.
func planUpdate(ss *spreadsheet, rng string, in valueRangeIn, mode inputMode, prefix string) (updatePlan, *apiError) {
	sh, r, e := ss.resolve(rng)
	if e != nil {
		return updatePlan{}, e
	}
	r.Sheet = sh.title
	if in.Range != "" && in.Range != rng {
		bsh, br, e := ss.resolve(in.Range)
		br.Sheet = r.Sheet
		if e != nil || bsh != sh || br != r {
			return updatePlan{}, badRequest("Requested range [%s] does not match the range in the URL [%s]", in.Range, rng)
		}
	}
	major, e := parseMajor(in.MajorDimension)
	if e != nil {
		return updatePlan{}, e
	}
	b, e := makeBlock(in.Values, major, mode, prefix)
	if e != nil {
		return updatePlan{}, e
	}
	if !sh.inGrid(sh.bound(r)) {
		return updatePlan{}, errGridLimits(FormatA1(r), sh.rowCount, sh.colCount)
	}
	t := gridRect{r0: r.StartRow, c0: r.StartCol, r1: r.StartRow + len(b.rows), c1: r.StartCol + b.width}
	if !r.SingleCell() {
		if r.EndRow != Unbounded && t.r1 > r.EndRow {
			return updatePlan{}, badRequest("Requested writing within range [%s], but tried writing to row [%d]", FormatA1(r), r.EndRow+1)
		}
		if r.EndCol != Unbounded && t.c1 > r.EndCol {
			return updatePlan{}, badRequest("Requested writing within range [%s], but tried writing to column [%s]", FormatA1(r), ColumnName(r.EndCol))
		}
	}
	if !sh.inGrid(t) {
		return updatePlan{}, errGridLimits(sh.a1(t), sh.rowCount, sh.colCount)
	}
	return updatePlan{sheet: sh, requested: r, target: t, block: b}, nil
}

// apply writes the plan and describes it as an UpdateValuesResponse.
func (p updatePlan) apply(id string, include bool, o readOptions) updateValuesResponseJSON {
	p.block.write(p.sheet, p.target.r0, p.target.c0)
	p.sheet.version++
	resp := updateValuesResponseJSON{SpreadsheetID: id}
	if p.target.rows() > 0 && p.target.cols() > 0 {
		resp.UpdatedRange = p.sheet.a1(p.target)
		resp.UpdatedRows, resp.UpdatedColumns, resp.UpdatedCells = p.block.rowsTouched, p.block.colsTouched, p.block.cells
	} else {
		resp.UpdatedRange = p.sheet.a1(p.sheet.bound(p.requested))
	}
	if include {
		shown := p.target
		if !p.requested.SingleCell() {
			shown = p.sheet.bound(p.requested)
		}
		vr := readRange(p.sheet, shown, o)
		resp.UpdatedData = &vr
	}
	return resp
}

// responseOptions reads includeValuesInResponse and the response render options.
func responseOptions(include, value, date string) (bool, readOptions, *apiError) {
	o, e := readOptions{}.withRender(value, date, "responseValueRenderOption", "responseDateTimeRenderOption")
	return include == "true", o, e
}

// valuesUpdate serves values.update (PUT): writes inside the grid only.
func (s *Server) valuesUpdate(c *call) (any, *apiError) {
	mode, e := parseInputOption(c.query.Get("valueInputOption"))
	if e != nil {
		return nil, e
	}
	include, o, e := responseOptions(c.query.Get("includeValuesInResponse"), c.query.Get("responseValueRenderOption"), c.query.Get("responseDateTimeRenderOption"))
	if e != nil {
		return nil, e
	}
	var in valueRangeIn
	if e := decodeBody(c.body, &in, true); e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.books[c.id]
	if ss == nil {
		return nil, errNotFound
	}
	p, e := planUpdate(ss, c.rng, in, mode, "")
	if e != nil {
		return nil, e
	}
	resp := p.apply(ss.id, include, o)
	c.applied, c.rows = true, p.block.rowsTouched
	return resp, nil
}

// valuesBatchUpdate serves values.batchUpdate: every range is checked
// before any is written.
func (s *Server) valuesBatchUpdate(c *call) (any, *apiError) {
	var in batchUpdateValuesIn
	if e := decodeBody(c.body, &in, true); e != nil {
		return nil, e
	}
	for _, d := range in.Data {
		c.ranges = append(c.ranges, d.Range)
	}
	mode, e := parseInputOption(in.ValueInputOption)
	if e != nil {
		return nil, e
	}
	_, o, e := responseOptions("", in.ResponseValueRenderOption, in.ResponseDateTimeRenderOption)
	if e != nil {
		return nil, e
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.books[c.id]
	if ss == nil {
		return nil, errNotFound
	}
	plans := make([]updatePlan, len(in.Data))
	for i, d := range in.Data {
		if plans[i], e = planUpdate(ss, d.Range, valueRangeIn{MajorDimension: d.MajorDimension, Values: d.Values}, mode, ""); e != nil {
			return nil, e.prefixed(fmt.Sprintf("Invalid data[%d]: ", i))
		}
	}
	resp := batchUpdateValuesResponseJSON{SpreadsheetID: ss.id}
	sheets := map[*sheet]bool{}
	for _, p := range plans {
		r := p.apply(ss.id, in.IncludeValuesInResponse, o)
		resp.Responses = append(resp.Responses, r)
		resp.TotalUpdatedRows += r.UpdatedRows
		resp.TotalUpdatedColumns += r.UpdatedColumns
		resp.TotalUpdatedCells += r.UpdatedCells
		if r.UpdatedCells > 0 {
			sheets[p.sheet] = true
		}
	}
	resp.TotalUpdatedSheets = len(sheets)
	c.applied, c.rows = true, resp.TotalUpdatedRows
	return resp, nil
}
