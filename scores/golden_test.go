package scores

import (
	"encoding/csv"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

var update = flag.Bool("update", false, "rewrite the want.txt files of testdata cases")

// goldenJob is a case's job.json: a definition as a configuration file
// would write it, and the options.
type goldenJob struct {
	Definition      Definition `json:"definition"`
	Period          PeriodKind `json:"period"`
	RollingDays     int        `json:"rolling_days"`
	Location        string     `json:"location"`
	AsOf            string     `json:"as_of"`
	GroupBy         []string   `json:"group_by"`
	DedupeByContact bool       `json:"dedupe_by_contact"`
}

// TestGolden scores each testdata/<case>/observations.csv with the job in
// job.json and compares a plain-text rendering of the results with
// want.txt. Run with -update to rewrite want.txt after checking the change
// by hand.
func TestGolden(t *testing.T) {
	t.Parallel()
	dirs, err := filepath.Glob(filepath.Join("testdata", "*", "job.json"))
	if err != nil || len(dirs) == 0 {
		t.Fatalf("no golden cases found: %v", err)
	}
	for _, jobPath := range dirs {
		dir := filepath.Dir(jobPath)
		t.Run(filepath.Base(dir), func(t *testing.T) {
			t.Parallel()
			def, opts := readGoldenJob(t, jobPath)
			obs := readGoldenObservations(t, filepath.Join(dir, "observations.csv"), len(opts.GroupBy))
			a, err := NewAccumulator(def, opts)
			if err != nil {
				t.Fatal(err)
			}
			for _, o := range obs {
				if err := a.Add(o); err != nil {
					t.Fatal(err)
				}
			}
			got := renderGolden(a.Results(), a.Stats())
			wantPath := filepath.Join(dir, "want.txt")
			if *update {
				if err := os.WriteFile(wantPath, []byte(got), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			want, err := os.ReadFile(wantPath)
			if err != nil {
				t.Fatalf("reading %s (run with -update to create it): %v", wantPath, err)
			}
			if got != string(want) {
				t.Errorf("results differ from %s:\ngot:\n%s\nwant:\n%s", wantPath, got, want)
			}
		})
	}
}

func readGoldenJob(t *testing.T, path string) (Definition, Options) {
	t.Helper()
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.DisallowUnknownFields()
	var job goldenJob
	if err := dec.Decode(&job); err != nil {
		t.Fatalf("decoding %s: %v", path, err)
	}
	opts := Options{Period: job.Period, RollingDays: job.RollingDays, GroupBy: job.GroupBy, DedupeByContact: job.DedupeByContact}
	if job.Location != "" {
		opts.Location = mustLoad(t, job.Location)
	}
	if job.AsOf != "" {
		opts.AsOf = utc(t, job.AsOf)
	}
	return job.Definition, opts
}

// readGoldenObservations reads at,value,contact,key followed by one column
// per group-by key. An empty value is a missing rating (NaN).
func readGoldenObservations(t *testing.T, path string, segments int) []Observation {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatalf("reading %s: %v", path, err)
	}
	var obs []Observation
	for i, row := range rows[1:] {
		if len(row) != 4+segments {
			t.Fatalf("%s:%d: %d columns, want %d", path, i+2, len(row), 4+segments)
		}
		value := math.NaN()
		if row[1] != "" {
			if value, err = strconv.ParseFloat(row[1], 64); err != nil {
				t.Fatalf("%s:%d: %v", path, i+2, err)
			}
		}
		o := Observation{At: utc(t, row[0]), Value: value, Contact: row[2], Key: row[3]}
		if segments > 0 {
			o.Segment = row[4:]
		}
		obs = append(obs, o)
	}
	return obs
}

// renderGolden writes results as text, one block per result.
func renderGolden(results []Result, stats Stats) string {
	var b strings.Builder
	number := func(v float64) string {
		if math.IsNaN(v) {
			return "none"
		}
		return strconv.FormatFloat(v, 'f', 4, 64)
	}
	for _, r := range results {
		fmt.Fprintf(&b, "%s [%s, %s) %q\n", r.Period.Label, r.Period.Start.Format(time.RFC3339), r.Period.End.Format(time.RFC3339), r.Segment)
		fmt.Fprintf(&b, "  score %s ± %s, n %d\n", number(r.Score), number(r.MarginOfError), r.N)
		fmt.Fprintf(&b, "  %s\n", r.Basis())
	}
	if len(results) > 0 {
		fmt.Fprintf(&b, "definition: %s\n", results[0].Definition)
	}
	fmt.Fprintf(&b, "stats: seen %d, undated %d, out of window %d\n", stats.Seen, stats.Undated, stats.OutOfWindow)
	return b.String()
}
