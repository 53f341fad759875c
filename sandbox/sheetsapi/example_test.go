package sheetsapi_test

import (
	"context"
	"fmt"
	"net/http/httptest"

	"github.com/surveysync/surveysync/sandbox/sheetsapi"
	"google.golang.org/api/option"
	"google.golang.org/api/sheets/v4"
)

// The real Sheets client, pointed at the emulator.
func Example() {
	srv := sheetsapi.New(sheetsapi.Options{Seed: 1})
	defer srv.Close()
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	id := srv.CreateSpreadsheet("Survey responses", "Responses")

	ctx := context.Background()
	svc, err := sheets.NewService(ctx, option.WithEndpoint(ts.URL+"/"), option.WithoutAuthentication())
	if err != nil {
		fmt.Println(err)
		return
	}
	resp, err := svc.Spreadsheets.Values.Append(id, "Responses!A:A", &sheets.ValueRange{Values: [][]any{
		{"Response ID", "Rating", "Comment"},
		{"r-1", 5, "=HYPERLINK(\"x\")"},
	}}).ValueInputOption("RAW").InsertDataOption("INSERT_ROWS").Context(ctx).Do()
	if err != nil {
		fmt.Println(err)
		return
	}
	fmt.Println(resp.Updates.UpdatedRange, resp.Updates.UpdatedCells)
	fmt.Println(srv.Values(id, "Responses")[1], srv.IsFormula(id, "Responses", 1, 2))

	_, err = svc.Spreadsheets.Values.Get(id, "Nope!A1").Context(ctx).Do()
	fmt.Println(err)
	// Output:
	// Responses!A1:C2 6
	// [r-1 5 =HYPERLINK("x")] false
	// googleapi: Error 400: Unable to parse range: Nope!A1, badRequest
}
