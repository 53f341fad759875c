package sqlite

import (
	"errors"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

// TestScanPages scans with pages far smaller than the responses, so that
// page boundaries fall inside runs of equal submission times, and checks
// the result against one scan in a single page.
func TestScanPages(t *testing.T) {
	t.Parallel()
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "ledger.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	start := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	var batch []store.Incoming
	for i := range 100 {
		r := survey.Response{
			Source: "typeform", Key: fmt.Sprintf("k%03d", i),
			// Ingested out of submission order, five per second.
			SubmittedAt: start.Add(time.Duration((i*37)%100/5) * time.Second),
			Payload:     []byte(fmt.Sprintf(`{"i":%d}`, i)),
		}
		if i%10 == 0 {
			r.Payload = nil // empty payloads stay empty
		}
		batch = append(batch, store.Incoming{Response: r})
	}
	// Before 1970 (stored negative) and undated (stored as 0).
	batch = append(batch,
		store.Incoming{Response: survey.Response{Source: "typeform", Key: "old", SubmittedAt: time.Date(1969, 7, 20, 20, 17, 0, 0, time.UTC), Payload: []byte(`{}`)}},
		store.Incoming{Response: survey.Response{Source: "typeform", Key: "undated", Payload: []byte(`{}`)}},
		store.Incoming{Response: survey.Response{Source: "other", Key: "o", SubmittedAt: start, Payload: []byte(`{}`)}})
	if _, err := s.Ingest(t.Context(), batch, nil); err != nil {
		t.Fatal(err)
	}
	scan := func(page int, from, to time.Time) []survey.Response {
		t.Helper()
		s.scanPage = page
		var got []survey.Response
		err := s.ScanResponses(t.Context(), "typeform", from, to, func(r *survey.Response) error {
			got = append(got, *r) // kept past the call, across pages
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	scanBatches := func(page int, from, to time.Time) []survey.Response {
		t.Helper()
		s.scanPage = page
		var got []survey.Response
		err := s.ScanBatches(t.Context(), "typeform", from, to, func(rs []survey.Response) error {
			if len(rs) > page {
				t.Errorf("batch of %d responses, pages of %d", len(rs), page)
			}
			for _, r := range rs {
				if len(r.Payload) > 0 {
					r.Payload = append([]byte(nil), r.Payload...) // reused after the call
				}
				got = append(got, r)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	cases := []struct {
		name     string
		from, to time.Time
		want     int
	}{
		{"all", time.Time{}, time.Time{}, 102},
		{"window", start.Add(3 * time.Second), start.Add(9 * time.Second), 30},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			whole := scan(1000, tc.from, tc.to)
			if len(whole) != tc.want {
				t.Fatalf("one page scanned %d responses, want %d", len(whole), tc.want)
			}
			for i := 1; i < len(whole); i++ {
				if toMicros(whole[i].SubmittedAt) < toMicros(whole[i-1].SubmittedAt) {
					t.Fatalf("%s before %s: out of submission order", whole[i-1].Key, whole[i].Key)
				}
			}
			for _, page := range []int{1, 3, 5, 7} {
				if diff := cmp.Diff(whole, scan(page, tc.from, tc.to)); diff != "" {
					t.Errorf("pages of %d (-one page +paged):\n%s", page, diff)
				}
				byKey := cmpopts.SortSlices(func(a, b survey.Response) bool { return a.Key < b.Key })
				if diff := cmp.Diff(whole, scanBatches(page, tc.from, tc.to), byKey); diff != "" {
					t.Errorf("batches of %d (-one page +batches):\n%s", page, diff)
				}
			}
		})
	}
	want := map[string]survey.Response{}
	for _, in := range batch[:102] {
		want[in.Response.Key] = in.Response
	}
	for _, r := range scan(7, time.Time{}, time.Time{}) {
		w := want[r.Key]
		w.SubmittedAt = w.SubmittedAt.UTC()
		if diff := cmp.Diff(w, r); diff != "" {
			t.Errorf("scanned %s (-ingested +scanned):\n%s", r.Key, diff)
		}
	}

	stop := errors.New("stop")
	n := 0
	s.scanPage = 3
	err = s.ScanResponses(t.Context(), "typeform", time.Time{}, time.Time{}, func(*survey.Response) error {
		n++
		if n == 4 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 4 {
		t.Errorf("scan stopped after %d with %v, want 4 and fn's error", n, err)
	}
	// Stopping a batch scan while its reader is ahead ends the reader too
	// (the race detector and the store's Close see to the rest).
	n = 0
	err = s.ScanBatches(t.Context(), "typeform", time.Time{}, time.Time{}, func([]survey.Response) error {
		n++
		if n == 2 {
			return stop
		}
		return nil
	})
	if !errors.Is(err, stop) || n != 2 {
		t.Errorf("batch scan stopped after %d with %v, want 2 and fn's error", n, err)
	}
}
