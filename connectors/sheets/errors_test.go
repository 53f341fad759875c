package sheets_test

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"golang.org/x/oauth2"
	"google.golang.org/api/googleapi"

	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/connectors/sheets"
)

func TestClassifyErrors(t *testing.T) {
	t.Parallel()
	const sa = "sync@proj.iam.gserviceaccount.com"
	gerr := func(code int, msg string) error {
		return fmt.Errorf("wrapped: %w", &googleapi.Error{Code: code, Message: msg, Header: http.Header{}})
	}
	timeout := &url.Error{Op: "Post", URL: "https://sheets.googleapis.com/v4/x", Err: context.DeadlineExceeded}
	refused := &url.Error{Op: "Post", URL: "https://sheets.googleapis.com/v4/x", Err: &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connection refused")}}
	revoked := &url.Error{Op: "Post", URL: "https://sheets.googleapis.com/v4/x", Err: &oauth2.RetrieveError{
		Response: &http.Response{StatusCode: 400}, Body: []byte(`{"error":"invalid_grant","error_description":"Token has been expired or revoked."}`)}}
	tests := []struct {
		name  string
		email string
		err   error
		kind  int
		class connectors.Class
		msg   string
	}{
		{"429", sa, gerr(429, "Quota exceeded"), 2, connectors.ClassRetryAfter, "throttled by Google (429 Quota exceeded)"},
		{"401", sa, gerr(401, "Request had invalid authentication credentials."), 2, connectors.ClassPaused, "Google rejected the credentials (401"},
		{"403 service account", sa, gerr(403, "The caller does not have permission"), 2, connectors.ClassPaused,
			"sync@proj.iam.gserviceaccount.com may not edit spreadsheet SHEET (403 The caller does not have permission); share the spreadsheet with sync@proj.iam.gserviceaccount.com as an Editor"},
		{"403 user", "", gerr(403, "The caller does not have permission"), 2, connectors.ClassPaused, "share it with the account that was authorised"},
		{"403 protected", sa, gerr(403, "You are trying to edit a protected cell or object."), 2, connectors.ClassPaused, "the tab or range is protected"},
		{"404", sa, gerr(404, "Requested entity was not found."), 0, connectors.ClassPaused, "spreadsheet SHEET was not found (404 Requested entity was not found.); check spreadsheet in the destination's settings and that it is shared with sync@"},
		{"parse range", sa, gerr(400, "Unable to parse range: 'Old'!A1"), 2, connectors.ClassTransient, "unable to parse range"},
		{"cell limit", sa, gerr(400, "This action would increase the number of cells in the workbook above the limit of 10000000 cells."), 2, connectors.ClassPaused, "the workbook is full"},
		{"other 400", sa, gerr(400, "Invalid values[1][2]: struct_value {\n}"), 2, connectors.ClassPermanent, "Google refused it: 400 Invalid values[1][2]"},
		{"500 on a read", sa, gerr(500, "Internal error encountered."), 0, connectors.ClassTransient, "500 Internal error"},
		{"503 on an update", sa, gerr(503, "The service is currently unavailable."), 1, connectors.ClassTransient, "503"},
		{"500 on an append", sa, gerr(500, "Internal error encountered."), 2, connectors.ClassAmbiguous, "the rows may have been added"},
		{"timeout on an append", sa, timeout, 2, connectors.ClassAmbiguous, "the rows may have been added"},
		{"timeout on a read", sa, timeout, 0, connectors.ClassTransient, "deadline exceeded"},
		{"refused on an append", sa, refused, 2, connectors.ClassTransient, "connection refused"},
		{"token refused", sa, revoked, 2, connectors.ClassPaused, "Google refused to issue an access token (invalid_grant: Token has been expired or revoked.)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			got := sheets.ClassifyError(tt.email, tt.err, tt.kind)
			class, _ := connectors.Classify(got)
			if class != tt.class || !strings.Contains(got.Error(), tt.msg) {
				t.Fatalf("classified as %s: %v\nwant %s containing %q", class, got, tt.class, tt.msg)
			}
		})
	}
	if !sheets.IsParseRange(sheets.ClassifyError(sa, gerr(400, "Unable to parse range: X"), 2)) {
		t.Error("a classified range error is not recognised as one")
	}
}
