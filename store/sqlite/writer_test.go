package sqlite

import (
	"database/sql"
	"encoding/json"
	"errors"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/surveysync/surveysync/store"
)

// TestWriterBindsAndScans round-trips every argument and destination type
// the raw writer supports, including the difference between an empty blob
// and NULL.
func TestWriterBindsAndScans(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "ledger.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	type row struct {
		I       int64
		N       int
		B       bool
		F       float64
		S       string
		State   store.State
		Blob    []byte
		Raw     json.RawMessage
		Null    sql.NullString
		Present sql.NullString
	}
	var got row
	err = s.inWrite(t.Context(), func(w *writeTx) error {
		return w.queryRow(`SELECT ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10`,
			[]any{int64(-1 << 40), 7, true, 2.5, "héllo", string(store.Sending), []byte{0, 1, 2}, []byte(`{"a":1}`), nil, "x"},
			&got.I, &got.N, &got.B, &got.F, &got.S, &got.State, &got.Blob, &got.Raw, &got.Null, &got.Present)
	})
	if err != nil {
		t.Fatal(err)
	}
	want := row{I: -1 << 40, N: 7, B: true, F: 2.5, S: "héllo", State: store.Sending, Blob: []byte{0, 1, 2},
		Raw: json.RawMessage(`{"a":1}`), Present: sql.NullString{String: "x", Valid: true}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("round trip (-want +got):\n%s", diff)
	}

	// An empty payload is stored as an empty blob, never NULL (the column
	// is NOT NULL), and scans back as nil.
	var isNull bool
	var empty []byte
	err = s.inWrite(t.Context(), func(w *writeTx) error {
		return w.queryRow(`SELECT ?1 IS NULL, ?1`, []any{[]byte{}}, &isNull, &empty)
	})
	if err != nil || isNull || empty != nil {
		t.Errorf("empty blob: NULL %v, scanned %v, err %v; want not NULL, nil, no error", isNull, empty, err)
	}

	err = s.inWrite(t.Context(), func(w *writeTx) error {
		_, err := w.exec(`SELECT ?1`, struct{}{})
		return err
	})
	if err == nil {
		t.Error("exec with an unsupported argument type succeeded")
	}
}

// TestWriterStatementLeftOpen checks that a query whose rows a failed
// transaction left open can run again in the next one.
func TestWriterStatementLeftOpen(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "ledger.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.SetPause(t.Context(), "sheets", "quota"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AcquireLease(t.Context(), "x", "w1", time.Hour); err != nil {
		t.Fatal(err)
	}
	const query = sqlLeaseHolder // prepared at open, so shared by transactions
	boom := errors.New("boom")
	err = s.inWrite(t.Context(), func(w *writeTx) error {
		rows, err := w.query(query, "x")
		if err != nil {
			return err
		}
		if !rows.Next() {
			return errors.New("no lease row")
		}
		return boom // rows left open on a row
	})
	if !errors.Is(err, boom) {
		t.Fatalf("first transaction: %v", err)
	}
	var holder string
	err = s.inWrite(t.Context(), func(w *writeTx) error {
		var expires int64
		return w.queryRow(query, []any{"x"}, &holder, &expires)
	})
	if err != nil || holder != "w1" {
		t.Errorf("the same query in the next transaction = %q, %v; want w1", holder, err)
	}
	if p, err := s.Pauses(t.Context()); err != nil || len(p) != 1 {
		t.Errorf("pauses after a failed transaction = %v, %v; want the one set before", p, err)
	}
}
