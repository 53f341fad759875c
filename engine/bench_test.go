package engine_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/connectors"
	_ "github.com/surveysync/surveysync/connectors/all"
	"github.com/surveysync/surveysync/engine"
	"github.com/surveysync/surveysync/mapping"
	"github.com/surveysync/surveysync/survey"
)

// nullDestination accepts every item; it stands in for the network so the
// benchmarks measure surveysync's own work.
type nullDestination struct{ delivered *atomic.Int64 }

type nullConfig struct{}

func (nullConfig) Validate() error { return nil }

// nullDelivered counts the items the null destinations accepted; once it
// reaches nullTarget, the channel in nullDone is closed.
var (
	nullDelivered atomic.Int64
	nullTarget    atomic.Int64
	nullDone      atomic.Pointer[chan struct{}]
)

func init() {
	connectors.RegisterDestination(connectors.DestinationSpec{
		Type:    "test_null",
		Config:  func() connectors.Config { return &nullConfig{} },
		Accepts: []mapping.Kind{mapping.SheetRows, mapping.Requests},
		New: func(string, connectors.Config, connectors.Deps) (connectors.Destination, error) {
			return &nullDestination{delivered: &nullDelivered}, nil
		},
	})
}

func (d *nullDestination) Deliver(_ context.Context, b *connectors.Batch) []connectors.Result {
	if d.delivered.Add(int64(len(b.Items))) >= nullTarget.Load() {
		if done := nullDone.Swap(nil); done != nil {
			close(*done)
		}
	}
	return make([]connectors.Result, len(b.Items))
}

func (d *nullDestination) MaxBatch(*mapping.Mapping) int { return 500 }

func (d *nullDestination) Close() error { return nil }

func benchPlan(b *testing.B, kind string) *engine.Plan {
	b.Helper()
	dir := b.TempDir()
	files := map[string]string{
		"sheet.yaml": `sheet: Responses
key: Response ID
columns:
  Response ID: "{{ key }}"
  Submitted: {value: "{{ submitted_at }}", type: datetime, timezone: Europe/Berlin}
  Email: "{{ contact.email | lower }}"
  Rating: {value: "{{ rating }}", type: integer, map: {"😞": 1, "😐": 3, "😀": 5, "1": 1, "2": 2, "3": 3, "4": 4, "5": 5}}
  Agent: "{{ agent | default unassigned }}"
  Comment: {value: "{{ comment }}", default: ""}
`,
		"request.yaml": `request:
  method: POST
  path: /contacts
  idempotency_key: "{{ delivery_key }}"
  body:
    email: "{{ contact.email | lower }}"
    properties: {last_csat: "{{ rating }}", comment: "{{ comment }}"}
`,
		"surveysync.yaml": fmt.Sprintf(`store: sqlite:./ledger.db
sources:
  in: {type: file, paths: [./none/*.jsonl], key: id, submitted_at: at}
destinations:
  nowhere: {type: test_null}
syncs:
  - {name: s, source: in, mapping: %s.yaml, to: nowhere}
`, kind),
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o600); err != nil {
			b.Fatal(err)
		}
	}
	cfg, errs := config.Load(filepath.Join(dir, "surveysync.yaml"))
	if errs.Err() != nil {
		b.Fatal(errs)
	}
	plan, errs := engine.Compile(cfg)
	if errs.Err() != nil {
		b.Fatal(errs)
	}
	return plan
}

func response(i int) survey.Response {
	return survey.Response{
		Source:      "in",
		Key:         fmt.Sprintf("resp-%09d", i),
		SubmittedAt: time.Date(2026, 11, 1, 0, 0, i%86400, 0, time.UTC),
		Payload: []byte(fmt.Sprintf(`{"id":"resp-%09d","at":"2026-11-01T10:00:00Z","contact":{"email":"Customer%d@Example.com","name":"Ana"},"rating":"%d","agent":"Maria","channel":"WhatsApp","comment":"Quick and friendly, thanks! \"%d\""}`,
			i, i%500, 1+i%5, i)),
	}
}

// cpuTime returns the CPU time the process has used in user space and in
// the kernel (on its behalf: WAL writes and fsyncs, mostly).
func cpuTime() (user, sys time.Duration) {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano()), time.Duration(ru.Stime.Nano())
}

// BenchmarkIngestToSettle measures the CPU spent per response from ingest
// (group-committed batches of 100, as concurrent webhooks produce) through
// planning, claiming, rendering and settling, with a destination that
// accepts everything at once (the network excluded). The goal is ≤ 20 µs.
func BenchmarkIngestToSettle(b *testing.B) {
	for _, kind := range []string{"sheet", "request"} {
		b.Run(kind, func(b *testing.B) {
			plan := benchPlan(b, kind)
			ctx, cancel := context.WithCancel(context.Background())
			e, err := engine.New(ctx, plan, engine.Options{Parts: engine.Parts{NoHTTP: true, NoSources: true, NoScores: true}})
			if err != nil {
				b.Fatal(err)
			}
			done := make(chan struct{})
			go func() { _ = e.Run(ctx); close(done) }()
			sink, _ := e.Sink("in")
			// The responses are made before the clock starts: making them
			// is the benchmark's work, not surveysync's.
			const batch = 100
			var batches [][]survey.Response
			for i := 0; i < b.N; i += batch {
				rs := make([]survey.Response, min(batch, b.N-i))
				for j := range rs {
					rs[j] = response(i + j)
				}
				batches = append(batches, rs)
			}
			allDelivered := make(chan struct{})
			nullTarget.Store(nullDelivered.Load() + int64(b.N))
			nullDone.Store(&allDelivered)
			b.ResetTimer()
			user0, sys0 := cpuTime()
			wall0 := time.Now()
			for i, rs := range batches {
				if _, err := sink.Ingest(ctx, rs, nil); err != nil {
					b.Fatal(err)
				}
				batches[i] = nil // ingested: garbage from now on, as in the daemon
			}
			<-allDelivered
			user, sys := cpuTime()
			user, sys = user-user0, sys-sys0
			wall := time.Since(wall0)
			b.StopTimer()
			perResponse := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e3 / float64(b.N) }
			b.ReportMetric(perResponse(user+sys), "cpu-µs/response")
			b.ReportMetric(perResponse(user), "user-µs/response")
			b.ReportMetric(perResponse(sys), "sys-µs/response")
			b.ReportMetric(float64(b.N)/wall.Seconds(), "responses/s")
			cancel()
			<-done
		})
	}
}
