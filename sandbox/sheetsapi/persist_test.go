package sheetsapi

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/google/go-cmp/cmp"
	"google.golang.org/api/sheets/v4"
)

func TestPersistenceRoundTrip(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sheets.json")
	e := newEnv(t, Options{SavePath: path})
	id := e.srv.CreateSpreadsheet("Survey responses", "Responses", "Jon's Data")
	if err := e.srv.CreateSpreadsheetWithID("fixed-id", "Fixed"); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Spreadsheets.Values.Append(id, "Responses!A1", &sheets.ValueRange{Values: [][]any{
		{"key", "rating", "ok", "comment", "when"},
		{"r1", 5, true, "=1+2", "2024-05-01"},
	}}).ValueInputOption("USER_ENTERED").InsertDataOption("INSERT_ROWS").Context(e.ctx).Do(); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Spreadsheets.Values.Append(id, "Responses!A1", &sheets.ValueRange{Values: [][]any{{"r2", "", nil, "=RAW"}}}).
		ValueInputOption("RAW").InsertDataOption("INSERT_ROWS").Context(e.ctx).Do(); err != nil {
		t.Fatal(err)
	}
	wantValues := e.srv.Values(id, "Responses")
	wantInfo := e.srv.Spreadsheets()
	if err := e.srv.Close(); err != nil {
		t.Fatalf("close: %v", err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatalf("snapshot not written: %v", err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("snapshot mode = %v, want 0600", perm)
	}

	again, err := Open(Options{SavePath: path})
	if err != nil {
		t.Fatalf("reopen: %v", err)
	}
	t.Cleanup(func() { again.Close() })
	if diff := cmp.Diff(wantValues, again.Values(id, "Responses")); diff != "" {
		t.Errorf("values after reload (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(wantInfo, again.Spreadsheets()); diff != "" {
		t.Errorf("spreadsheets after reload (-want +got):\n%s", diff)
	}
	if !again.IsFormula(id, "Responses", 1, 3) || again.IsFormula(id, "Responses", 2, 3) {
		t.Error("formula flags lost in the snapshot")
	}
	if got := again.InputOption(id, "Responses", 2, 0); got != "RAW" {
		t.Errorf("input option after reload = %q", got)
	}
}

func TestPersistenceUnreadableSnapshot(t *testing.T) {
	t.Parallel()
	path := filepath.Join(t.TempDir(), "sheets.json")
	if err := os.WriteFile(path, []byte("{not json"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(Options{SavePath: path}); err == nil {
		t.Fatal("Open accepted a corrupt snapshot")
	}
	s := New(Options{SavePath: path})
	s.CreateSpreadsheet("S")
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(path)
	if err != nil || string(data) != "{not json" {
		t.Errorf("New overwrote the unreadable snapshot: %q, %v", data, err)
	}
}
