package scores_test

import (
	"fmt"
	"time"

	"github.com/surveysync/surveysync/scores"
)

// ExampleCompute_nps scores a week of NPS answers: 5 promoters, 3 passives
// and 2 detractors of 10.
func ExampleCompute_nps() {
	at := time.Date(2026, 11, 18, 10, 0, 0, 0, time.UTC)
	var obs []scores.Observation
	for _, v := range []float64{10, 9, 9, 10, 9, 8, 7, 7, 3, 6} {
		obs = append(obs, scores.Observation{At: at, Value: v})
	}
	results, err := scores.Compute(scores.Definition{Metric: scores.NPS}, obs, scores.Options{Period: scores.Week})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range results {
		fmt.Printf("%s: NPS %.0f ± %.1f (%s)\n", r.Period.Label, r.Score, r.MarginOfError, r.Basis())
		fmt.Println(r.Definition)
	}
	// Output:
	// 2026-W47: NPS 30 ± 48.4 (5 promoters, 3 passives, 2 detractors of 10)
	// NPS: % promoters (9–10) − % detractors (0–6) of all valid responses on 0–10; passives (7–8) count in the total
}

// ExampleCompute_csat scores CSAT per agent per day in Berlin, keeping one
// answer per contact and excluding a value that is not on the scale.
func ExampleCompute_csat() {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		fmt.Println(err)
		return
	}
	day := func(hour int) time.Time { return time.Date(2026, 3, 29, hour, 0, 0, 0, berlin) }
	obs := []scores.Observation{
		{At: day(9), Value: 5, Contact: "ana@example.com", Segment: []string{"lena"}},
		{At: day(11), Value: 2, Contact: "ana@example.com", Segment: []string{"lena"}}, // later: wins
		{At: day(12), Value: 4, Contact: "bo@example.com", Segment: []string{"lena"}},
		{At: day(13), Value: 7, Contact: "cy@example.com", Segment: []string{"lena"}}, // not on 1–5
		{At: day(10), Value: 4, Contact: "di@example.com", Segment: []string{"omar"}},
	}
	results, err := scores.Compute(scores.Definition{Metric: scores.CSAT}, obs, scores.Options{
		Period:          scores.Day,
		Location:        berlin,
		GroupBy:         []string{"agent"},
		DedupeByContact: true,
	})
	if err != nil {
		fmt.Println(err)
		return
	}
	for _, r := range results {
		fmt.Printf("%s %s: CSAT %.0f%% (%s), %v long\n", r.Period.Label, r.Segment[0], r.Score, r.Basis(), r.Period.End.Sub(r.Period.Start))
	}
	fmt.Println(results[0].Definition)
	// Output:
	// 2026-03-29 lena: CSAT 50% (1 satisfied of 2; 1 invalid excluded; 1 earlier answer from the same contact dropped), 23h0m0s long
	// 2026-03-29 omar: CSAT 100% (1 satisfied of 1), 23h0m0s long
	// CSAT % satisfied: responses rated 4–5 on 1–5 ÷ all valid responses × 100; one response per contact in each result, the latest
}

// ExampleDefinition_Describe shows the formula text of a CES definition.
func ExampleDefinition_Describe() {
	no := false
	def := scores.Definition{Metric: scores.CES, Variant: scores.Index, Scale: scores.Scale1to5, HighIsGood: &no}
	fmt.Println(def.Describe())
	// Output:
	// CES index: % positive (1–2) − % negative (4–5) of all valid responses on 1–5; neutral (3) counts in the total; low is good
}
