package scores

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// benchObservations returns n observations spread over 2026 with values on
// the scale of def, one of five agents each, and 200,000 contacts, sorted by
// time like rows read from the store, or shuffled.
func benchObservations(n int, scaleMax int, shuffled bool) []Observation {
	rng := rand.New(rand.NewPCG(1, 2))
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	year := int64(365 * 24 * time.Hour)
	agents := [][]string{{"ann"}, {"bo"}, {"cy"}, {"dee"}, {"eli"}}
	contacts := make([]string, 200_000)
	for i := range contacts {
		contacts[i] = fmt.Sprintf("contact-%06d@example.com", i)
	}
	obs := make([]Observation, n)
	for i := range obs {
		obs[i] = Observation{
			At:      start.Add(time.Duration(rng.Int64N(year))),
			Value:   float64(rng.IntN(scaleMax + 1)),
			Contact: contacts[rng.IntN(len(contacts))],
			Key:     fmt.Sprintf("r%d", i),
			Segment: agents[rng.IntN(len(agents))],
		}
	}
	if !shuffled {
		slices.SortFunc(obs, func(a, b Observation) int { return a.At.Compare(b.At) })
	}
	return obs
}

// BenchmarkCompute1M scores 1,000,000 stored responses the two ways a score
// job typically does: NPS by ISO week for five agents, and CSAT by day with
// one response per contact. The goal is well under one second per job.
func BenchmarkCompute1M(b *testing.B) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		b.Fatal(err)
	}
	jobs := []struct {
		name     string
		def      Definition
		opts     Options
		scaleMax int
	}{
		{"nps-week-5-agents", Definition{Metric: NPS}, Options{Period: Week, Location: berlin, GroupBy: []string{"agent"}}, 10},
		{"csat-day-dedupe", Definition{Metric: CSAT}, Options{Period: Day, Location: berlin, DedupeByContact: true}, 5},
	}
	for _, order := range []string{"stored", "shuffled"} {
		for _, job := range jobs {
			obs := benchObservations(1_000_000, job.scaleMax, order == "shuffled")
			if job.def.Metric == CSAT {
				for i := range obs {
					obs[i].Segment = nil
				}
			}
			b.Run(order+"/"+job.name, func(b *testing.B) {
				b.ReportAllocs()
				var results []Result
				for b.Loop() {
					results, err = Compute(job.def, obs, job.opts)
					if err != nil {
						b.Fatal(err)
					}
				}
				b.ReportMetric(float64(len(results)), "results")
				b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(len(obs)), "ns/observation")
			})
		}
	}
}
