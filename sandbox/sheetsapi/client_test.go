package sheetsapi

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/sheets/v4"
)

// These tests drive the real google.golang.org/api/sheets/v4 client over
// loopback, the way surveysync's Sheets connector talks to Google.

func TestClientCreateAndGet(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	created, err := e.svc.Spreadsheets.Create(&sheets.Spreadsheet{
		Properties: &sheets.SpreadsheetProperties{Title: "Survey responses"},
		Sheets: []*sheets.Sheet{
			{Properties: &sheets.SheetProperties{Title: "Responses"}},
			{Properties: &sheets.SheetProperties{Title: "Jon's Data", GridProperties: &sheets.GridProperties{RowCount: 50, ColumnCount: 5, FrozenRowCount: 1}}},
		},
	}).Context(e.ctx).Do()
	if err != nil {
		t.Fatalf("create: %v", err)
	}
	if len(created.SpreadsheetId) != 44 {
		t.Errorf("spreadsheetId %q: want 44 characters like Google's", created.SpreadsheetId)
	}
	got, err := e.svc.Spreadsheets.Get(created.SpreadsheetId).Context(e.ctx).Do()
	if err != nil {
		t.Fatalf("get: %v", err)
	}
	type tab struct {
		Title            string
		Index            int64
		Rows, Cols, Frzn int64
	}
	var tabs []tab
	for _, sh := range got.Sheets {
		p := sh.Properties
		tabs = append(tabs, tab{p.Title, p.Index, p.GridProperties.RowCount, p.GridProperties.ColumnCount, p.GridProperties.FrozenRowCount})
	}
	want := []tab{{"Responses", 0, 1000, 26, 0}, {"Jon's Data", 1, 50, 5, 1}}
	if diff := cmp.Diff(want, tabs); diff != "" {
		t.Errorf("tabs (-want +got):\n%s", diff)
	}
	if got.Properties.Title != "Survey responses" || got.Properties.Locale != "en_US" {
		t.Errorf("properties = %+v", got.Properties)
	}
	if got.Sheets[0].Properties.SheetId != 0 {
		t.Errorf("first sheetId = %d, want 0", got.Sheets[0].Properties.SheetId)
	}

	masked, err := e.svc.Spreadsheets.Get(created.SpreadsheetId).Fields("sheets.properties.title").Context(e.ctx).Do()
	if err != nil {
		t.Fatalf("get with fields: %v", err)
	}
	if masked.SpreadsheetId != "" || masked.Properties != nil || masked.Sheets[1].Properties.Title != "Jon's Data" || masked.Sheets[1].Properties.GridProperties != nil {
		t.Errorf("fields=sheets.properties.title returned more or less than asked: %+v", masked)
	}

	_, err = e.svc.Spreadsheets.Get("no-such-id").Context(e.ctx).Do()
	apiErr(t, err, http.StatusNotFound)
}

func TestClientAppendInsertRows(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	id := e.srv.CreateSpreadsheet("S", "Responses")

	resp, err := e.svc.Spreadsheets.Values.Append(id, "Responses!A:A", &sheets.ValueRange{Values: [][]any{{"Response ID", "Rating", "Comment"}}}).
		ValueInputOption("RAW").InsertDataOption("INSERT_ROWS").Context(e.ctx).Do()
	if err != nil {
		t.Fatalf("append header: %v", err)
	}
	if resp.TableRange != "" {
		t.Errorf("tableRange on an empty sheet = %q, want empty", resp.TableRange)
	}
	if resp.Updates.UpdatedRange != "Responses!A1:C1" {
		t.Errorf("updatedRange = %q", resp.Updates.UpdatedRange)
	}

	resp, err = e.svc.Spreadsheets.Values.Append(id, "Responses!A:A", &sheets.ValueRange{Values: [][]any{
		{"r1", 5, "great"},
		{"r2", 3},
	}}).ValueInputOption("RAW").InsertDataOption("INSERT_ROWS").IncludeValuesInResponse(true).Context(e.ctx).Do()
	if err != nil {
		t.Fatalf("append rows: %v", err)
	}
	wantUpd := sheets.UpdateValuesResponse{SpreadsheetId: id, UpdatedRange: "Responses!A2:C3", UpdatedRows: 2, UpdatedColumns: 3, UpdatedCells: 5,
		UpdatedData: &sheets.ValueRange{Range: "Responses!A2:C3", MajorDimension: "ROWS", Values: [][]any{{"r1", "5", "great"}, {"r2", "3"}}}}
	resp.Updates.ServerResponse = wantUpd.ServerResponse
	resp.Updates.UpdatedData.ServerResponse = wantUpd.UpdatedData.ServerResponse
	if diff := cmp.Diff(wantUpd, *resp.Updates); diff != "" {
		t.Errorf("updates (-want +got):\n%s", diff)
	}
	if resp.TableRange != "Responses!A1:C1" {
		t.Errorf("tableRange = %q, want Responses!A1:C1", resp.TableRange)
	}

	// INSERT_ROWS grows the grid by the rows appended, every time.
	got, err := e.svc.Spreadsheets.Get(id).Context(e.ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	if rows := got.Sheets[0].Properties.GridProperties.RowCount; rows != 1003 {
		t.Errorf("rowCount = %d, want 1003 (1000 + 3 inserted)", rows)
	}

	// A row below the table, separated by a blank row, is not part of it
	// and gets shifted down by INSERT_ROWS.
	if err := e.srv.SetRow(id, "Responses", 5, []any{"human note"}); err != nil {
		t.Fatal(err)
	}
	resp, err = e.svc.Spreadsheets.Values.Append(id, "Responses!A1", &sheets.ValueRange{Values: [][]any{{"r3", 4, "ok"}}}).
		ValueInputOption("RAW").InsertDataOption("INSERT_ROWS").Context(e.ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	if resp.TableRange != "Responses!A1:C3" || resp.Updates.UpdatedRange != "Responses!A4:C4" {
		t.Errorf("tableRange, updatedRange = %q, %q", resp.TableRange, resp.Updates.UpdatedRange)
	}
	want := [][]any{
		{"Response ID", "Rating", "Comment"},
		{"r1", 5.0, "great"},
		{"r2", 3.0},
		{"r3", 4.0, "ok"},
		{},
		{},
		{"human note"},
	}
	if diff := cmp.Diff(want, e.srv.Values(id, "Responses")); diff != "" {
		t.Errorf("sheet (-want +got):\n%s", diff)
	}
}

func TestClientAppendOverwrite(t *testing.T) {
	t.Parallel()
	e := newEnv(t, Options{})
	id := e.srv.CreateSpreadsheet("S", "T")
	if err := e.srv.SetGridSize(id, "T", 2, 3); err != nil {
		t.Fatal(err)
	}
	for _, v := range [][]any{{"a"}, {"b"}, {"c"}} {
		if _, err := e.svc.Spreadsheets.Values.Append(id, "T", &sheets.ValueRange{Values: [][]any{v}}).ValueInputOption("RAW").Context(e.ctx).Do(); err != nil {
			t.Fatalf("append %v: %v", v, err)
		}
	}
	got, err := e.svc.Spreadsheets.Get(id).Context(e.ctx).Do()
	if err != nil {
		t.Fatal(err)
	}
	// OVERWRITE grows the grid only past its end: 2 rows, then a third.
	if rows := got.Sheets[0].Properties.GridProperties.RowCount; rows != 3 {
		t.Errorf("rowCount = %d, want 3", rows)
	}
	if diff := cmp.Diff([][]any{{"a"}, {"b"}, {"c"}}, e.srv.Values(id, "T")); diff != "" {
		t.Errorf("values (-want +got):\n%s", diff)
	}
}
