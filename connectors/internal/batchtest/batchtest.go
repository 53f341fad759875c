// Package batchtest builds the batches the engine hands a destination, for
// the destinations' tests.
package batchtest

import (
	"fmt"
	"testing"
	"time"

	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/mapping"
	"github.com/surveysync/surveysync/survey"
)

// Requests renders payloads through the request mapping src into a batch
// of sync "s", as the engine does: responses r000, r001… of source "src",
// submitted a minute apart, first attempts.
func Requests(t *testing.T, src string, payloads ...string) *connectors.Batch {
	t.Helper()
	m, err := mapping.Parse("m.yaml", []byte(src))
	if err != nil {
		t.Fatalf("mapping: %v", err)
	}
	b := &connectors.Batch{Sync: "s", Mapping: m}
	at := time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC)
	for i, p := range payloads {
		r := &survey.Response{Source: "src", Key: fmt.Sprintf("r%03d", i), SubmittedAt: at.Add(time.Duration(i) * time.Minute), Payload: []byte(p)}
		key := survey.DeliveryKey("s", r.Source, r.Key, 1)
		req, err := m.RenderRequest(&mapping.Input{Response: r, Sync: "s", DeliveryKey: key, Version: 1})
		if err != nil {
			t.Fatalf("render %s: %v", p, err)
		}
		b.Items = append(b.Items, &connectors.Item{DeliveryID: int64(i + 1), ResponseKey: r.Key, DeliveryKey: key, Version: 1, Attempt: 1, Response: r, Request: req})
	}
	return b
}
