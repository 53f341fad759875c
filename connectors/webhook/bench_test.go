package webhook_test

import (
	"bytes"
	"fmt"
	"net/http"
	"sort"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkSignedWebhooks measures signed webhooks acknowledged with a
// durable commit (synchronous=FULL), 64 senders at once over loopback, as
// survey tools deliver them. It reports requests per second and the 99th
// percentile latency; the goal is ≥ 2,000/s on 2 cores with p99 ≤ 50 ms,
// which needs the engine's group commit.
func BenchmarkSignedWebhooks(b *testing.B) {
	b.StopTimer()
	bundle := setup(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}}
	const senders = 64
	var next atomic.Int64
	lat := make([][]time.Duration, senders)
	var wg sync.WaitGroup
	b.StartTimer()
	start := time.Now()
	for s := range senders {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := next.Add(1)
				if i > int64(b.N) {
					return
				}
				body := typeformBody(fmt.Sprintf("bench-%d-%d", b.N, i))
				req, _ := http.NewRequest(http.MethodPost, bundle.srv.URL+"/hooks/typeform", bytes.NewReader(body))
				req.Header.Set("Typeform-Signature", sign(body))
				t0 := time.Now()
				resp, err := client.Do(req)
				if err != nil {
					b.Error(err)
					return
				}
				resp.Body.Close()
				if resp.StatusCode != http.StatusOK {
					b.Errorf("status %d", resp.StatusCode)
					return
				}
				lat[s] = append(lat[s], time.Since(t0))
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	b.StopTimer()
	var all []time.Duration
	for _, l := range lat {
		all = append(all, l...)
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	if len(all) > 0 {
		b.ReportMetric(float64(len(all))/elapsed.Seconds(), "webhooks/s")
		b.ReportMetric(float64(all[len(all)*99/100].Microseconds())/1000, "p99-ms")
	}
}
