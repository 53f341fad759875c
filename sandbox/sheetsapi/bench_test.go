package sheetsapi

import (
	"fmt"
	"runtime"
	"strconv"
	"testing"

	"google.golang.org/api/sheets/v4"
)

// fill writes rows×cols RAW strings straight into a tab, growing its grid.
func fill(b testing.TB, s *Server, id, tab string, rows, cols int) {
	b.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	_, sh, err := s.lookup(id, tab)
	if err != nil {
		b.Fatal(err)
	}
	sh.rowCount, sh.colCount = max(sh.rowCount, rows+1000), max(sh.colCount, cols)
	for r := range rows {
		row := make([]cell, cols)
		for c := range row {
			row[c] = cell{kind: kindString, s: "r" + strconv.Itoa(r) + "c" + strconv.Itoa(c), input: inputRaw}
		}
		sh.rows = append(sh.rows, row)
	}
	sh.version++
}

func batchOf(start, n, cols int) [][]any {
	rows := make([][]any, n)
	for i := range rows {
		row := make([]any, cols)
		row[0] = "resp-" + strconv.Itoa(start+i)
		for c := 1; c < cols; c++ {
			row[c] = "some survey comment text"
		}
		rows[i] = row
	}
	return rows
}

// BenchmarkAppendInsertRows appends batches of 2,000 rows × 8 columns with
// the real client over loopback, to an empty tab and to one already holding
// 500,000 rows: the cost per batch should not depend on the rows already there.
func BenchmarkAppendInsertRows(b *testing.B) {
	for _, existing := range []int{0, 500_000} {
		b.Run(fmt.Sprintf("existing=%d", existing), func(b *testing.B) {
			e := newEnv(b, Options{MaxCells: 1 << 40})
			id := e.srv.CreateSpreadsheet("bench", "Responses")
			fill(b, e.srv, id, "Responses", existing, 8)
			const batch = 2000
			b.ReportAllocs()
			b.ResetTimer()
			for i := 0; b.Loop(); i++ {
				_, err := e.svc.Spreadsheets.Values.Append(id, "Responses!A:A", &sheets.ValueRange{Values: batchOf(i*batch, batch, 8)}).
					ValueInputOption("RAW").InsertDataOption("INSERT_ROWS").Context(e.ctx).Do()
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(batch*b.N)/b.Elapsed().Seconds()*60, "rows/min")
		})
	}
}

// BenchmarkReadKeyColumn reads column A of a 100,000-row × 10-column tab,
// as the connector does to reconcile an ambiguous append.
func BenchmarkReadKeyColumn(b *testing.B) {
	e := newEnv(b, Options{})
	id := e.srv.CreateSpreadsheet("bench", "Responses")
	fill(b, e.srv, id, "Responses", 100_000, 10)
	b.ReportAllocs()
	for b.Loop() {
		vr, err := e.svc.Spreadsheets.Values.Get(id, "Responses!A:A").Context(e.ctx).Do()
		if err != nil {
			b.Fatal(err)
		}
		if len(vr.Values) != 100_000 {
			b.Fatalf("read %d rows", len(vr.Values))
		}
	}
}

// BenchmarkMemoryPerCell reports the heap a million stored cells take.
func BenchmarkMemoryPerCell(b *testing.B) {
	const rows, cols = 100_000, 10
	for b.Loop() {
		runtime.GC()
		var before, after runtime.MemStats
		runtime.ReadMemStats(&before)
		s := New(Options{})
		id := s.CreateSpreadsheet("mem", "T")
		fill(b, s, id, "T", rows, cols)
		runtime.GC()
		runtime.ReadMemStats(&after)
		b.ReportMetric(float64(after.HeapAlloc-before.HeapAlloc)/(rows*cols), "heap-bytes/cell")
		runtime.KeepAlive(s)
	}
}
