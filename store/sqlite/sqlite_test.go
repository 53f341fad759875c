package sqlite

import (
	"path/filepath"
	"testing"
	"time"

	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/store/storetest"
)

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, now func() time.Time) store.Store {
		s, err := Open(t.Context(), filepath.Join(t.TempDir(), "ledger.db"), Options{Now: now})
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}
