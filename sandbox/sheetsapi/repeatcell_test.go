package sheetsapi

import (
	"encoding/json"
	"net/http"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/sheets/v4"
)

// dateColumnFormat is the request the Sheets destination sends for a date
// column: from row 2 down, to the end of the grid.
func dateColumnFormat(sheetID int64, col int64, typ, pattern string) *sheets.Request {
	return &sheets.Request{RepeatCell: &sheets.RepeatCellRequest{
		Range: &sheets.GridRange{SheetId: sheetID, StartRowIndex: 1, StartColumnIndex: col, EndColumnIndex: col + 1,
			ForceSendFields: []string{"SheetId", "StartColumnIndex"}},
		Cell:   &sheets.CellData{UserEnteredFormat: &sheets.CellFormat{NumberFormat: &sheets.NumberFormat{Type: typ, Pattern: pattern}}},
		Fields: "userEnteredFormat.numberFormat",
	}}
}

func TestRepeatCellNumberFormatRendersDates(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	id := e.srv.CreateSpreadsheet("S", "Responses")
	// 2026-05-01 08:30:15 and 2026-05-01 as serial numbers, written RAW.
	const at, day = 46143.35434027778, 46143.0
	e.seed(t, id, "Responses!A1", [][]any{{"key", "submitted", "day", "rating"}, {"r1", at, day, 4}})

	resp, err := e.svc.Spreadsheets.BatchUpdate(id, &sheets.BatchUpdateSpreadsheetRequest{Requests: []*sheets.Request{
		dateColumnFormat(0, 1, "DATE_TIME", "yyyy-mm-dd hh:mm:ss"),
		dateColumnFormat(0, 2, "DATE", ""),
	}}).Context(e.ctx).Do()
	if err != nil {
		t.Fatalf("batchUpdate: %v", err)
	}
	if len(resp.Replies) != 2 {
		t.Fatalf("replies = %d, want one (empty) per request", len(resp.Replies))
	}
	for i, r := range resp.Replies {
		if raw, _ := json.Marshal(r); string(raw) != "{}" {
			t.Errorf("reply %d = %s, want {}", i, raw)
		}
	}

	// Rows appended after the format was set are covered too.
	if _, err := e.svc.Spreadsheets.Values.Append(id, "'Responses'!A1", &sheets.ValueRange{Values: [][]any{{"r2", at + 1, day + 1, 5}}}).
		ValueInputOption("RAW").InsertDataOption("INSERT_ROWS").Context(e.ctx).Do(); err != nil {
		t.Fatalf("append: %v", err)
	}

	read := func(value, date string) [][]any {
		t.Helper()
		got, err := e.svc.Spreadsheets.Values.Get(id, "Responses!A1:D3").ValueRenderOption(value).DateTimeRenderOption(date).Context(e.ctx).Do()
		if err != nil {
			t.Fatal(err)
		}
		return got.Values
	}
	tests := []struct {
		value, date string
		want        [][]any
	}{
		{"FORMATTED_VALUE", "SERIAL_NUMBER", [][]any{
			{"key", "submitted", "day", "rating"},
			{"r1", "2026-05-01 08:30:15", "5/1/2026", "4"},
			{"r2", "2026-05-02 08:30:15", "5/2/2026", "5"},
		}},
		{"UNFORMATTED_VALUE", "FORMATTED_STRING", [][]any{
			{"key", "submitted", "day", "rating"},
			{"r1", "2026-05-01 08:30:15", "5/1/2026", 4.0},
			{"r2", "2026-05-02 08:30:15", "5/2/2026", 5.0},
		}},
		{"UNFORMATTED_VALUE", "SERIAL_NUMBER", [][]any{
			{"key", "submitted", "day", "rating"},
			{"r1", at, day, 4.0},
			{"r2", at + 1, day + 1, 5.0},
		}},
	}
	for _, tt := range tests {
		if diff := cmp.Diff(tt.want, read(tt.value, tt.date)); diff != "" {
			t.Errorf("%s/%s (-want +got):\n%s", tt.value, tt.date, diff)
		}
	}

	// The header row is outside the range; GridData reports the format.
	if typ, _ := e.srv.NumberFormat(id, "Responses", 0, 1); typ != "" {
		t.Errorf("header cell has number format %q, want none", typ)
	}
	ss, err := e.svc.Spreadsheets.Get(id).Ranges("Responses!B2").IncludeGridData(true).Context(e.ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	cd := ss.Sheets[0].Data[0].RowData[0].Values[0]
	if cd.UserEnteredFormat == nil || cd.UserEnteredFormat.NumberFormat == nil ||
		cd.UserEnteredFormat.NumberFormat.Type != "DATE_TIME" || cd.UserEnteredFormat.NumberFormat.Pattern != "yyyy-mm-dd hh:mm:ss" {
		t.Errorf("gridData userEnteredFormat = %+v, want DATE_TIME yyyy-mm-dd hh:mm:ss", cd.UserEnteredFormat)
	}
	if cd.FormattedValue != "2026-05-01 08:30:15" {
		t.Errorf("gridData formattedValue = %q", cd.FormattedValue)
	}
}

// TestRepeatCellReplacesTypedFormats sets a number format over numbers
// typed with formats of their own, then clears it.
func TestRepeatCellReplacesTypedFormats(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	id := e.srv.CreateSpreadsheet("S", "Tab")
	if _, err := e.svc.Spreadsheets.Values.Update(id, "Tab!A1", &sheets.ValueRange{Values: [][]any{{"2024-05-01", "$5", "1234.5"}}}).
		ValueInputOption("USER_ENTERED").Context(e.ctx).Do(); err != nil {
		t.Fatal(err)
	}
	batch := func(reqs ...*sheets.Request) {
		t.Helper()
		if _, err := e.svc.Spreadsheets.BatchUpdate(id, &sheets.BatchUpdateSpreadsheetRequest{Requests: reqs}).Context(e.ctx).Do(); err != nil {
			t.Fatalf("batchUpdate: %v", err)
		}
	}
	want := [][]any{{"2024-05-01", "$5.00", "1234.5"}}
	if diff := cmp.Diff(want, e.srv.FormattedValues(id, "Tab")); diff != "" {
		t.Errorf("typed formats (-want +got):\n%s", diff)
	}
	batch(&sheets.Request{RepeatCell: &sheets.RepeatCellRequest{
		Range:  &sheets.GridRange{SheetId: 0, EndRowIndex: 1, ForceSendFields: []string{"SheetId"}},
		Cell:   &sheets.CellData{UserEnteredFormat: &sheets.CellFormat{NumberFormat: &sheets.NumberFormat{Type: "NUMBER", Pattern: "#,##0.00"}}},
		Fields: "userEnteredFormat.numberFormat",
	}})
	want = [][]any{{"45,413.00", "5.00", "1,234.50"}}
	if diff := cmp.Diff(want, e.srv.FormattedValues(id, "Tab")); diff != "" {
		t.Errorf("after NUMBER #,##0.00 (-want +got):\n%s", diff)
	}
	// Selecting the number format without setting one clears it; other
	// formats in the mask are accepted and not kept.
	batch(&sheets.Request{RepeatCell: &sheets.RepeatCellRequest{
		Range:  &sheets.GridRange{SheetId: 0, ForceSendFields: []string{"SheetId"}},
		Cell:   &sheets.CellData{UserEnteredFormat: &sheets.CellFormat{HorizontalAlignment: "CENTER"}},
		Fields: "userEnteredFormat(numberFormat,horizontalAlignment)",
	}})
	want = [][]any{{"45413", "5", "1234.5"}}
	if diff := cmp.Diff(want, e.srv.FormattedValues(id, "Tab")); diff != "" {
		t.Errorf("after clearing (-want +got):\n%s", diff)
	}
}

// TestRepeatCellFollowsRowChanges checks that a bounded format range moves
// with inserted and deleted rows, and that rows inserted inside it or
// right below it take its format.
func TestRepeatCellFollowsRowChanges(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	id := e.srv.CreateSpreadsheet("S", "Tab")
	e.seed(t, id, "Tab!A1", [][]any{{1}, {2}, {3}, {4}, {5}})
	if _, err := e.svc.Spreadsheets.BatchUpdate(id, &sheets.BatchUpdateSpreadsheetRequest{Requests: []*sheets.Request{{RepeatCell: &sheets.RepeatCellRequest{
		Range:  &sheets.GridRange{SheetId: 0, StartRowIndex: 1, EndRowIndex: 3, EndColumnIndex: 1, ForceSendFields: []string{"SheetId"}},
		Cell:   &sheets.CellData{UserEnteredFormat: &sheets.CellFormat{NumberFormat: &sheets.NumberFormat{Type: "PERCENT"}}},
		Fields: "userEnteredFormat.numberFormat",
	}}}}).Context(e.ctx).Do(); err != nil {
		t.Fatal(err)
	}
	want := [][]any{{"1"}, {"200.00%"}, {"300.00%"}, {"4"}, {"5"}}
	if diff := cmp.Diff(want, e.srv.FormattedValues(id, "Tab")); diff != "" {
		t.Errorf("formatted (-want +got):\n%s", diff)
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(e.srv.InsertRows(id, "Tab", 0, 1)) // above: the range moves down
	must(e.srv.InsertRows(id, "Tab", 4, 1)) // right below its end: inherits
	e.seed(t, id, "Tab!A1", [][]any{{0}})
	e.seed(t, id, "Tab!A5", [][]any{{3.5}})
	want = [][]any{{"0"}, {"1"}, {"200.00%"}, {"300.00%"}, {"350.00%"}, {"4"}, {"5"}}
	if diff := cmp.Diff(want, e.srv.FormattedValues(id, "Tab")); diff != "" {
		t.Errorf("after inserts (-want +got):\n%s", diff)
	}
	must(e.srv.DeleteRows(id, "Tab", 1, 2)) // its first row and the row above
	want = [][]any{{"0"}, {"300.00%"}, {"350.00%"}, {"4"}, {"5"}}
	if diff := cmp.Diff(want, e.srv.FormattedValues(id, "Tab")); diff != "" {
		t.Errorf("after delete (-want +got):\n%s", diff)
	}
	must(e.srv.DeleteRows(id, "Tab", 1, 2)) // the rest of it
	want = [][]any{{"0"}, {"4"}, {"5"}}
	if diff := cmp.Diff(want, e.srv.FormattedValues(id, "Tab")); diff != "" {
		t.Errorf("after deleting the range (-want +got):\n%s", diff)
	}
}

func TestRepeatCellErrors(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	id := e.srv.CreateSpreadsheet("S", "Tab")
	nf := &sheets.CellData{UserEnteredFormat: &sheets.CellFormat{NumberFormat: &sheets.NumberFormat{Type: "DATE"}}}
	whole := &sheets.GridRange{SheetId: 0, ForceSendFields: []string{"SheetId"}}
	tests := []struct {
		name    string
		req     *sheets.RepeatCellRequest
		code    int
		message string
	}{
		{"no fields", &sheets.RepeatCellRequest{Range: whole, Cell: nf}, http.StatusBadRequest,
			"Invalid requests[1].repeatCell: At least one field must be specified in 'fields'."},
		{"values", &sheets.RepeatCellRequest{Range: whole, Cell: nf, Fields: "userEnteredValue"}, http.StatusNotImplemented,
			"Invalid requests[1].repeatCell: fields userEnteredValue: the Sheets sandbox emulator's repeatCell sets only userEnteredFormat (and keeps only its numberFormat)"},
		{"no type", &sheets.RepeatCellRequest{Range: whole, Fields: "userEnteredFormat.numberFormat",
			Cell: &sheets.CellData{UserEnteredFormat: &sheets.CellFormat{NumberFormat: &sheets.NumberFormat{Pattern: "0.0"}}}}, http.StatusBadRequest,
			"Invalid requests[1].repeatCell: cell.userEnteredFormat.numberFormat.type must be set"},
		{"unknown sheet", &sheets.RepeatCellRequest{Range: &sheets.GridRange{SheetId: 99}, Cell: nf, Fields: "userEnteredFormat.numberFormat"},
			http.StatusBadRequest, "Invalid requests[1].repeatCell: No grid with id: 99"},
		{"past the grid", &sheets.RepeatCellRequest{Range: &sheets.GridRange{SheetId: 0, StartRowIndex: 5, EndRowIndex: 1001, ForceSendFields: []string{"SheetId"}},
			Cell: nf, Fields: "userEnteredFormat.numberFormat"}, http.StatusBadRequest,
			"Invalid requests[1].repeatCell: Range (Tab!A6:Z1001) exceeds grid limits. Max rows: 1000, max columns: 26"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// The first request is valid: nothing of the batch is applied.
			_, err := e.svc.Spreadsheets.BatchUpdate(id, &sheets.BatchUpdateSpreadsheetRequest{Requests: []*sheets.Request{
				{RepeatCell: &sheets.RepeatCellRequest{Range: whole, Cell: nf, Fields: "userEnteredFormat.numberFormat"}},
				{RepeatCell: tt.req},
			}}).Context(e.ctx).Do()
			if gerr := apiErr(t, err, tt.code); gerr.Message != tt.message {
				t.Errorf("message = %q\nwant      %q", gerr.Message, tt.message)
			}
			if typ, _ := e.srv.NumberFormat(id, "Tab", 0, 0); typ != "" {
				t.Errorf("the valid request was applied (%s) although the batch failed", typ)
			}
		})
	}
}

func TestRepeatCellFormatsPersist(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sheets.json")
	e := newEnv(t, Options{SavePath: path})
	id := e.srv.CreateSpreadsheet("S", "Tab")
	e.seed(t, id, "Tab!A1", [][]any{{"when"}, {46143.5}})
	if _, err := e.svc.Spreadsheets.BatchUpdate(id, &sheets.BatchUpdateSpreadsheetRequest{Requests: []*sheets.Request{
		dateColumnFormat(0, 0, "DATE_TIME", "dd.mm.yyyy hh:mm"),
	}}).Context(e.ctx).Do(); err != nil {
		t.Fatal(err)
	}
	want := [][]any{{"when"}, {"01.05.2026 12:00"}}
	if diff := cmp.Diff(want, e.srv.FormattedValues(id, "Tab")); diff != "" {
		t.Fatalf("formatted (-want +got):\n%s", diff)
	}
	if err := e.srv.Close(); err != nil {
		t.Fatal(err)
	}
	again, err := Open(Options{SavePath: path})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { again.Close() })
	if diff := cmp.Diff(want, again.FormattedValues(id, "Tab")); diff != "" {
		t.Errorf("formatted after reload (-want +got):\n%s", diff)
	}
}
