package sheetsapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strings"
)

// gridRangeIn is a GridRange: zero-based, half-open, absent ends unbounded.
type gridRangeIn struct {
	SheetID          int64 `json:"sheetId"`
	StartRowIndex    *int  `json:"startRowIndex"`
	EndRowIndex      *int  `json:"endRowIndex"`
	StartColumnIndex *int  `json:"startColumnIndex"`
	EndColumnIndex   *int  `json:"endColumnIndex"`
}

// rule turns the range into a formatRule without a format, checking the
// indexes.
func (g gridRangeIn) rule() (formatRule, *apiError) {
	r := formatRule{r1: Unbounded, c1: Unbounded}
	for _, b := range []struct {
		name string
		v    *int
		into *int
	}{
		{"startRowIndex", g.StartRowIndex, &r.r0}, {"endRowIndex", g.EndRowIndex, &r.r1},
		{"startColumnIndex", g.StartColumnIndex, &r.c0}, {"endColumnIndex", g.EndColumnIndex, &r.c1},
	} {
		if b.v == nil {
			continue
		}
		if *b.v < 0 {
			return formatRule{}, badRequest("range.%s must not be negative, got %d", b.name, *b.v)
		}
		*b.into = *b.v
	}
	if (r.r1 != Unbounded && r.r1 < r.r0) || (r.c1 != Unbounded && r.c1 < r.c0) {
		return formatRule{}, badRequest("range must have startIndex <= endIndex")
	}
	return r, nil
}

// repeatCellIn is a RepeatCellRequest; the cell stays raw so that fields
// the emulator does not keep can be told from absent ones.
type repeatCellIn struct {
	Range  *gridRangeIn               `json:"range"`
	Cell   map[string]json.RawMessage `json:"cell"`
	Fields string                     `json:"fields"`
}

// repeatCellOp is a parsed repeatCell: the range, and the number format to
// set when the fields select one.
type repeatCellOp struct {
	sheetID int64
	rule    formatRule
	setsNF  bool
}

// parseRepeatCell reads a RepeatCellRequest. Only the cell's
// userEnteredFormat is supported, and of it only numberFormat is kept:
// other formats (colours, fonts, alignment…) are accepted and dropped, as
// they change no value the API returns. Fields that write values, notes or
// validation answer 501.
func parseRepeatCell(raw json.RawMessage) (repeatCellOp, *apiError) {
	var in repeatCellIn
	if e := decodeBody(raw, &in, true); e != nil {
		return repeatCellOp{}, e
	}
	if in.Range == nil {
		return repeatCellOp{}, badRequest("range must be set")
	}
	if strings.TrimSpace(in.Fields) == "" {
		return repeatCellOp{}, badRequest("At least one field must be specified in 'fields'.")
	}
	mask, err := parseFieldMask(in.Fields)
	if err != nil {
		return repeatCellOp{}, badRequest("Invalid field mask %q: %v", in.Fields, err)
	}
	var other []string
	for name := range mask {
		if name != "userEnteredFormat" {
			other = append(other, name)
		}
	}
	if len(other) > 0 {
		sort.Strings(other)
		return repeatCellOp{}, &apiError{Code: http.StatusNotImplemented, Status: "UNIMPLEMENTED",
			Message: "fields " + strings.Join(other, ", ") + ": the Sheets sandbox emulator's repeatCell sets only userEnteredFormat (and keeps only its numberFormat)"}
	}
	rule, e := in.Range.rule()
	if e != nil {
		return repeatCellOp{}, e
	}
	op := repeatCellOp{sheetID: in.Range.SheetID, rule: rule, setsNF: mask.wants("userEnteredFormat", "numberFormat")}
	if !op.setsNF {
		return op, nil
	}
	var format map[string]json.RawMessage
	if f, ok := in.Cell["userEnteredFormat"]; ok {
		if err := json.Unmarshal(f, &format); err != nil {
			return repeatCellOp{}, badRequest("Invalid JSON payload received. Invalid value for field \"cell.userEnteredFormat\".")
		}
	}
	nfRaw, ok := format["numberFormat"]
	if !ok || string(nfRaw) == "null" {
		return op, nil // selected but not set: back to the automatic format
	}
	var nf struct {
		Type    string `json:"type"`
		Pattern string `json:"pattern"`
	}
	if e := decodeBody(nfRaw, &nf, true); e != nil {
		return repeatCellOp{}, e
	}
	if !slices.Contains(numberFormatTypes, nf.Type) {
		if nf.Type == "" || nf.Type == "NUMBER_FORMAT_TYPE_UNSPECIFIED" {
			return repeatCellOp{}, badRequest("cell.userEnteredFormat.numberFormat.type must be set")
		}
		return repeatCellOp{}, badRequest("Invalid value at 'requests.repeat_cell.cell.user_entered_format.number_format.type' (type.googleapis.com/google.apps.sheets.v4.NumberFormat.Type), %q", nf.Type)
	}
	op.rule.f = numFmt{typ: nf.Type, pattern: nf.Pattern}
	return op, nil
}

// repeatCell applies a parsed repeatCell to the workbook.
func repeatCell(ss *spreadsheet, op repeatCellOp) *apiError {
	sh := ss.sheetByID(op.sheetID)
	if sh == nil {
		return badRequest("No grid with id: %d", op.sheetID)
	}
	r := op.rule
	g := gridRect{r0: r.r0, c0: r.c0, r1: r.r1, c1: r.c1}
	if g.r1 == Unbounded {
		g.r1 = max(g.r0+1, sh.rowCount)
	}
	if g.c1 == Unbounded {
		g.c1 = max(g.c0+1, sh.colCount)
	}
	if !sh.inGrid(g) {
		return errGridLimits(sh.a1(g), sh.rowCount, sh.colCount)
	}
	if op.setsNF {
		sh.setNumberFormat(r)
	}
	return nil
}
