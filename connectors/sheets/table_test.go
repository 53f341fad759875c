package sheets_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/surveysync/surveysync/connectors"
	emu "github.com/surveysync/surveysync/sandbox/sheetsapi"
	"github.com/surveysync/surveysync/survey"
)

func scoreTable(rows int) connectors.Table {
	t := connectors.Table{Tab: "Scores", Header: []string{"Week", "Agent", "CSAT", "Responses"}}
	agents := []string{"ann", "bob", "cy", "dee", "ed"}
	for i := range rows {
		t.Rows = append(t.Rows, []survey.Value{
			survey.Date(time.Date(2026, 4, 27, 0, 0, 0, 0, time.UTC)),
			survey.Text(agents[i%len(agents)]),
			survey.Number(0.5 + float64(i)/10),
			survey.Number(float64(10 * (i + 1))),
		})
	}
	return t
}

func TestWriteTableIsIdempotent(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emu.Options{})
	d := e.dest(t, e.config())
	ctx := context.Background()

	must(t, d.WriteTable(ctx, scoreTable(5)))
	once := e.values("Scores")
	want := [][]any{
		{"Week", "Agent", "CSAT", "Responses"},
		{46139.0, "ann", 0.5, 10.0},
		{46139.0, "bob", 0.6, 20.0},
		{46139.0, "cy", 0.7, 30.0},
		{46139.0, "dee", 0.8, 40.0},
		{46139.0, "ed", 0.9, 50.0},
	}
	if diff := cmp.Diff(want, once); diff != "" {
		t.Fatalf("table (-want +got):\n%s", diff)
	}

	must(t, d.WriteTable(ctx, scoreTable(5)))
	if diff := cmp.Diff(once, e.values("Scores")); diff != "" {
		t.Errorf("written twice differs from written once (-once +twice):\n%s", diff)
	}

	// A shorter, narrower table clears what the longer one left.
	short := scoreTable(2)
	short.Header = short.Header[:3]
	for i := range short.Rows {
		short.Rows[i] = short.Rows[i][:3]
	}
	must(t, d.WriteTable(ctx, short))
	want = [][]any{
		{"Week", "Agent", "CSAT"},
		{46139.0, "ann", 0.5},
		{46139.0, "bob", 0.6},
	}
	if diff := cmp.Diff(want, e.values("Scores")); diff != "" {
		t.Errorf("shorter table (-want +got):\n%s", diff)
	}
}

func TestWriteTableGrowsTheTab(t *testing.T) {
	t.Parallel()
	e := newEnv(t, emu.Options{}, "Sheet1", "Scores")
	must(t, e.srv.SetGridSize(e.id, "Scores", 3, 2))
	d := e.dest(t, e.config())
	must(t, d.WriteTable(context.Background(), scoreTable(6)))
	if got := len(e.values("Scores")); got != 7 {
		t.Errorf("%d rows, want 7", got)
	}
}
