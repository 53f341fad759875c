package engine

import (
	"fmt"
	"time"

	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/mapping"
	"github.com/surveysync/surveysync/survey"
)

// PreviewItem is one response rendered through a sync, without sending.
type PreviewItem struct {
	Key string `json:"key"`
	// Routed is false when the sync's filters do not accept the response.
	Routed bool `json:"routed"`
	// Row is the rendered sheet row, for sheet mappings.
	Row *mapping.Row `json:"-"`
	// Request is the rendered request, for request mappings.
	Request *mapping.Request `json:"-"`
	// Error is why the response cannot be rendered or sent: it would be a
	// dead letter.
	Error string `json:"error,omitempty"`
	// item is what the dispatcher would hand the destination.
	item *connectors.Item
}

// Extractor returns the payload extractor of a source, so that preview and
// backfill turn records into responses exactly as the source does.
func (sp *SourcePlan) Extractor() (*connectors.Extractor, error) {
	xc, ok := sp.Config.(interface {
		Extractor() (*connectors.Extractor, error)
	})
	if !ok {
		return nil, fmt.Errorf("source %s (type %s) has no payload settings", sp.Name, sp.Type)
	}
	return xc.Extractor()
}

// Preview renders one response through sync sp as the dispatcher would.
func Preview(sp *SyncPlan, r *survey.Response, now time.Time) PreviewItem {
	item := PreviewItem{Key: r.Key}
	in := &mapping.Input{Response: r}
	ok, err := accepts(sp, in)
	if err != nil {
		item.Error = "filter: " + err.Error()
		return item
	}
	item.Routed = ok
	if !ok {
		return item
	}
	it := &connectors.Item{Response: r, ResponseKey: r.Key, DeliveryKey: survey.DeliveryKey(sp.Name, r.Source, r.Key, 1), Version: 1}
	if err := render(sp, it, now); err != nil {
		item.Error = err.Error()
		return item
	}
	item.Row, item.Request, item.item = it.Row, it.Request, it
	return item
}

// PreviewWire returns the requests the sync's destination would send for
// the rendered items, when the destination turns rendered requests into
// requests of its own (see connectors.WirePreviewer): ok is false when what
// the mapping renders is what is sent. Items the destination would refuse
// get its reason as their Error.
func PreviewWire(sp *SyncPlan, items []PreviewItem) (reqs []connectors.WireRequest, ok bool) {
	wp, ok := sp.Destination.Config.(connectors.WirePreviewer)
	if !ok {
		return nil, false
	}
	var its []*connectors.Item
	var at []int
	for i := range items {
		if items[i].item != nil && items[i].Error == "" {
			its = append(its, items[i].item)
			at = append(at, i)
		}
	}
	reqs, errs := wp.PreviewWire(its)
	for k, err := range errs {
		if err != nil {
			it := &items[at[k]]
			it.Error = err.Error()
			it.Row, it.Request = nil, nil
		}
	}
	return reqs, true
}

// PreviewBody combines rendered requests of a batch mapping into the one
// request the destination would send.
func PreviewBody(sp *SyncPlan, items []PreviewItem) (*mapping.Request, error) {
	var reqs []*mapping.Request
	for _, it := range items {
		if it.Request != nil {
			reqs = append(reqs, it.Request)
		}
	}
	if len(reqs) == 0 || sp.Mapping.BatchMax() <= 1 {
		return nil, nil
	}
	return sp.Mapping.RenderBatch(reqs)
}
