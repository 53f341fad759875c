package sheetsapi

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
)

// batchUpdateIn is BatchUpdateSpreadsheetRequest; each request stays raw
// until its kind is known.
type batchUpdateIn struct {
	Requests                     []map[string]json.RawMessage `json:"requests"`
	IncludeSpreadsheetInResponse bool                         `json:"includeSpreadsheetInResponse"`
	ResponseRanges               []string                     `json:"responseRanges"`
	ResponseIncludeGridData      bool                         `json:"responseIncludeGridData"`
}

type dimensionRangeIn struct {
	SheetID    int64  `json:"sheetId"`
	Dimension  string `json:"dimension"`
	StartIndex *int   `json:"startIndex"`
	EndIndex   *int   `json:"endIndex"`
}

// sheetOp is one parsed batchUpdate request. apply runs twice: first on a
// copy of the workbook without cell data, to validate the whole batch, then
// on the real workbook. It must give the same result both times.
type sheetOp struct {
	kind  string
	apply func(ss *spreadsheet) (reply map[string]any, e *apiError)
}

// supportedRequests lists the batchUpdate request kinds the emulator runs.
var supportedRequests = []string{"addSheet", "appendDimension", "deleteDimension", "deleteSheet",
	"insertDimension", "repeatCell", "updateSheetProperties", "updateSpreadsheetProperties"}

// batchUpdate serves spreadsheets.batchUpdate. As in Google, every request
// is validated before any is applied, and one invalid request fails all.
func (s *Server) batchUpdate(c *call) (any, *apiError) {
	var in batchUpdateIn
	if e := decodeBody(c.body, &in, true); e != nil {
		return nil, e
	}
	for _, req := range in.Requests {
		for kind := range req {
			c.kinds = append(c.kinds, kind)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	ss := s.books[c.id]
	if ss == nil {
		return nil, errNotFound
	}
	ops := make([]sheetOp, len(in.Requests))
	for i, req := range in.Requests {
		op, e := s.parseOp(i, req)
		if e != nil {
			return nil, e
		}
		ops[i] = op
	}
	shadow := ss.metaClone()
	for i, op := range ops {
		if _, e := op.apply(shadow); e != nil {
			return nil, e.prefixed(fmt.Sprintf("Invalid requests[%d].%s: ", i, op.kind))
		}
	}
	resp := batchUpdateSpreadsheetResponseJSON{SpreadsheetID: ss.id}
	for i, op := range ops {
		reply, e := op.apply(ss)
		if e != nil {
			// Validation passed on the copy, so this is an emulator bug.
			return nil, &apiError{Code: http.StatusInternalServerError, Status: "INTERNAL",
				Message: fmt.Sprintf("sheets emulator: requests[%d].%s failed after validation: %s", i, op.kind, e.Message)}
		}
		if reply == nil {
			reply = map[string]any{}
		}
		resp.Replies = append(resp.Replies, reply)
	}
	c.applied = len(ops) > 0
	if in.IncludeSpreadsheetInResponse {
		rects, only, e := resolveRanges(ss, in.ResponseRanges)
		if e != nil {
			return nil, e
		}
		d := describe(ss, in.ResponseIncludeGridData, rects, only)
		resp.UpdatedSpreadsheet = &d
	}
	return resp, nil
}

// metaClone copies the workbook's structure without cell data.
func (ss *spreadsheet) metaClone() *spreadsheet {
	cp := *ss
	cp.sheets = make([]*sheet, len(ss.sheets))
	for i, sh := range ss.sheets {
		m := *sh
		m.rows, m.tables = nil, nil
		m.formats = slices.Clone(sh.formats)
		cp.sheets[i] = &m
	}
	return &cp
}

func (s *Server) parseOp(i int, req map[string]json.RawMessage) (sheetOp, *apiError) {
	if len(req) != 1 {
		return sheetOp{}, badRequest("Invalid requests[%d]: exactly one kind of request must be set, got %d", i, len(req))
	}
	var kind string
	var raw json.RawMessage
	for k, v := range req {
		kind, raw = k, v
	}
	op := sheetOp{kind: kind}
	bad := func(err error) (sheetOp, *apiError) {
		return sheetOp{}, badRequest("Invalid requests[%d].%s: %v", i, kind, err)
	}
	switch kind {
	case "addSheet":
		var r struct {
			Properties sheetPropsIn `json:"properties"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return bad(err)
		}
		var assigned *int64
		op.apply = func(ss *spreadsheet) (map[string]any, *apiError) {
			return s.addSheet(ss, r.Properties, &assigned)
		}
	case "deleteSheet":
		var r struct {
			SheetID int64 `json:"sheetId"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return bad(err)
		}
		op.apply = func(ss *spreadsheet) (map[string]any, *apiError) { return nil, deleteSheet(ss, r.SheetID) }
	case "updateSheetProperties":
		var r struct {
			Properties sheetPropsIn `json:"properties"`
			Fields     string       `json:"fields"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return bad(err)
		}
		mask, err := parseFieldMask(r.Fields)
		if r.Fields == "" || err != nil {
			return sheetOp{}, badRequest("Invalid requests[%d].%s: fields must be a field mask such as \"title\" or \"gridProperties.rowCount\"", i, kind)
		}
		op.apply = func(ss *spreadsheet) (map[string]any, *apiError) {
			return nil, s.updateSheetProperties(ss, r.Properties, mask)
		}
	case "appendDimension":
		var r struct {
			SheetID   int64  `json:"sheetId"`
			Dimension string `json:"dimension"`
			Length    int    `json:"length"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return bad(err)
		}
		op.apply = func(ss *spreadsheet) (map[string]any, *apiError) {
			return nil, s.appendDimension(ss, r.SheetID, r.Dimension, r.Length)
		}
	case "insertDimension", "deleteDimension":
		var r struct {
			Range dimensionRangeIn `json:"range"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return bad(err)
		}
		insert := kind == "insertDimension"
		op.apply = func(ss *spreadsheet) (map[string]any, *apiError) { return nil, s.changeDimension(ss, r.Range, insert) }
	case "updateSpreadsheetProperties":
		var r struct {
			Properties struct {
				Title    *string `json:"title"`
				Locale   *string `json:"locale"`
				TimeZone *string `json:"timeZone"`
			} `json:"properties"`
			Fields string `json:"fields"`
		}
		if err := json.Unmarshal(raw, &r); err != nil {
			return bad(err)
		}
		mask, err := parseFieldMask(r.Fields)
		if r.Fields == "" || err != nil {
			return sheetOp{}, badRequest("Invalid requests[%d].%s: fields must be a field mask such as \"title\"", i, kind)
		}
		op.apply = func(ss *spreadsheet) (map[string]any, *apiError) {
			p := r.Properties
			if p.Title != nil && mask.wants("title") {
				ss.title = *p.Title
			}
			if p.Locale != nil && mask.wants("locale") {
				ss.locale = *p.Locale
			}
			if p.TimeZone != nil && mask.wants("timeZone") {
				ss.timeZone = *p.TimeZone
			}
			return nil, nil
		}
	case "repeatCell":
		rc, e := parseRepeatCell(raw)
		if e != nil {
			return sheetOp{}, e.prefixed(fmt.Sprintf("Invalid requests[%d].%s: ", i, kind))
		}
		op.apply = func(ss *spreadsheet) (map[string]any, *apiError) { return nil, repeatCell(ss, rc) }
	case "":
		return sheetOp{}, badRequest("Invalid requests[%d]: no request kind set", i)
	default:
		return sheetOp{}, &apiError{Code: http.StatusNotImplemented, Status: "UNIMPLEMENTED",
			Message: fmt.Sprintf("Invalid requests[%d].%s: the Sheets sandbox emulator supports only %v", i, kind, supportedRequests)}
	}
	return op, nil
}

// addSheet runs an AddSheetRequest. The sheet id drawn during validation
// is kept in *assigned so the real run uses the same one.
func (s *Server) addSheet(ss *spreadsheet, p sheetPropsIn, assigned **int64) (map[string]any, *apiError) {
	var id int64
	switch {
	case p.SheetID != nil:
		id = *p.SheetID
		if ss.sheetByID(id) != nil {
			return nil, badRequest("A sheet with the id %d already exists.", id)
		}
	case *assigned != nil:
		id = **assigned
	default:
		id = ss.newSheetID(s.rnd)
		*assigned = &id
	}
	title := ss.freeTitle()
	if p.Title != nil {
		title = *p.Title
	}
	if e := checkTitle(ss, nil, title); e != nil {
		return nil, e
	}
	sh := newSheet(id, title, defaultRowCount, defaultColumnCount)
	if e := applyNewSheetProps(sh, p); e != nil {
		return nil, e
	}
	if ss.cellCount()+sh.cellCount() > s.opts.MaxCells {
		return nil, errCellLimit(s.opts.MaxCells)
	}
	ss.sheets = append(ss.sheets, sh)
	if p.Index != nil {
		ss.moveSheet(sh, *p.Index)
	}
	return map[string]any{"addSheet": addSheetResponseJSON{Properties: sheetProps(sh, ss.indexOf(sh))}}, nil
}

func deleteSheet(ss *spreadsheet, id int64) *apiError {
	sh := ss.sheetByID(id)
	if sh == nil {
		return badRequest("No grid with id: %d", id)
	}
	if len(ss.sheets) == 1 {
		return badRequest("You can't remove all the sheets in a document.")
	}
	i := ss.indexOf(sh)
	ss.sheets = append(ss.sheets[:i:i], ss.sheets[i+1:]...)
	return nil
}

// updateSheetProperties applies the fields the mask selects and the
// request sets; selected fields the request leaves out are kept.
func (s *Server) updateSheetProperties(ss *spreadsheet, p sheetPropsIn, mask maskNode) *apiError {
	var id int64 // absent means 0, as clients omit zero values
	if p.SheetID != nil {
		id = *p.SheetID
	}
	sh := ss.sheetByID(id)
	if sh == nil {
		return badRequest("No grid with id: %d", id)
	}
	if p.Title != nil && mask.wants("title") {
		if e := checkTitle(ss, sh, *p.Title); e != nil {
			return e
		}
		sh.title = *p.Title
	}
	if p.Hidden != nil && mask.wants("hidden") {
		if *p.Hidden && !sh.hidden {
			visible := 0
			for _, o := range ss.sheets {
				if !o.hidden {
					visible++
				}
			}
			if visible == 1 {
				return badRequest("You can't hide all the sheets in a document.")
			}
		}
		sh.hidden = *p.Hidden
	}
	if gp := p.GridProperties; gp != nil {
		rows, cols := sh.rowCount, sh.colCount
		if gp.RowCount != nil && mask.wants("gridProperties", "rowCount") {
			rows = *gp.RowCount
		}
		if gp.ColumnCount != nil && mask.wants("gridProperties", "columnCount") {
			cols = *gp.ColumnCount
		}
		if e := checkGridSize(rows, cols); e != nil {
			return e
		}
		if grown := int64(rows)*int64(cols) - sh.cellCount(); grown > 0 && ss.cellCount()+grown > s.opts.MaxCells {
			return errCellLimit(s.opts.MaxCells)
		}
		frozenRows, frozenCols := sh.frozenRows, sh.frozenCols
		if gp.FrozenRowCount != nil && mask.wants("gridProperties", "frozenRowCount") {
			frozenRows = *gp.FrozenRowCount
		}
		if gp.FrozenColumnCount != nil && mask.wants("gridProperties", "frozenColumnCount") {
			frozenCols = *gp.FrozenColumnCount
		}
		if frozenRows < 0 || frozenRows > rows || frozenCols < 0 || frozenCols > cols {
			return badRequest("Frozen rows or columns exceed the grid size.")
		}
		if rows != sh.rowCount || cols != sh.colCount {
			sh.resize(rows, cols)
		}
		sh.frozenRows, sh.frozenCols = frozenRows, frozenCols
	}
	if p.Index != nil && mask.wants("index") {
		ss.moveSheet(sh, *p.Index)
	}
	return nil
}

func (s *Server) appendDimension(ss *spreadsheet, id int64, dim string, length int) *apiError {
	sh := ss.sheetByID(id)
	if sh == nil {
		return badRequest("No grid with id: %d", id)
	}
	if length < 1 {
		return badRequest("length must be at least 1")
	}
	rows, cols := sh.rowCount, sh.colCount
	switch dim {
	case "ROWS":
		rows += length
	case "COLUMNS":
		cols += length
	default:
		return badRequest("dimension must be ROWS or COLUMNS, not %q", dim)
	}
	if e := checkGridSize(rows, cols); e != nil {
		return e
	}
	if ss.cellCount()-sh.cellCount()+int64(rows)*int64(cols) > s.opts.MaxCells {
		return errCellLimit(s.opts.MaxCells)
	}
	sh.rowCount, sh.colCount = rows, cols
	return nil
}

// changeDimension runs insertDimension or deleteDimension.
func (s *Server) changeDimension(ss *spreadsheet, r dimensionRangeIn, insert bool) *apiError {
	sh := ss.sheetByID(r.SheetID)
	if sh == nil {
		return badRequest("No grid with id: %d", r.SheetID)
	}
	if r.StartIndex == nil || r.EndIndex == nil || *r.StartIndex < 0 || *r.EndIndex <= *r.StartIndex {
		return badRequest("range must have 0 <= startIndex < endIndex")
	}
	start, end := *r.StartIndex, *r.EndIndex
	n := end - start
	var size int
	switch r.Dimension {
	case "ROWS":
		size = sh.rowCount
	case "COLUMNS":
		size = sh.colCount
	default:
		return badRequest("dimension must be ROWS or COLUMNS, not %q", r.Dimension)
	}
	if insert {
		if start > size {
			return badRequest("range.startIndex %d is past the end of the sheet (%d)", start, size)
		}
		rows, cols := sh.rowCount, sh.colCount
		if r.Dimension == "ROWS" {
			rows += n
		} else {
			cols += n
		}
		if e := checkGridSize(rows, cols); e != nil {
			return e
		}
		if ss.cellCount()-sh.cellCount()+int64(rows)*int64(cols) > s.opts.MaxCells {
			return errCellLimit(s.opts.MaxCells)
		}
		if r.Dimension == "ROWS" {
			sh.insertRows(start, n)
		} else {
			sh.insertColumns(start, n)
		}
		return nil
	}
	if end > size {
		return badRequest("range.endIndex %d is past the end of the sheet (%d)", end, size)
	}
	if n == size {
		if r.Dimension == "ROWS" {
			return badRequest("You can't delete all the rows on the sheet.")
		}
		return badRequest("You can't delete all the columns on the sheet.")
	}
	if r.Dimension == "ROWS" {
		sh.deleteRows(start, end)
	} else {
		sh.deleteColumns(start, end)
	}
	sh.trimTail()
	return nil
}
