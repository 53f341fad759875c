package console

import (
	"encoding/json"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"time"

	"github.com/surveysync/surveysync/engine"
)

// overviewView is the overview page.
type overviewView struct {
	page
	Generated    timeView
	Banners      []banner
	Sources      []sourceRow
	Syncs        []syncRow
	Destinations []destinationRow
	Quotas       []quotaRow
	Dispatchers  []dispatcherRow
	RateWindow   string
}

// banner is a notice at the top of a page; Kind is "paused", "warn" or "ok".
type banner struct {
	Kind string
	Text string
	Link string
	More string
}

type sourceRow struct {
	Name, Type string
	Responses  int64
	Rejected   int64
	LastIngest timeView
	Cursor     string
	Rate       string
	RateNote   string
}

type syncRow struct {
	Name, Source, Destination string
	Pending, Uncertain        int64
	Delivered, Today, Dead    int64
	DeadLink                  string
	State, StateKind          string
	LastSuccess               timeView
	LastError                 string
	LastErrorAt               timeView
	OldestPending             timeView
}

type destinationRow struct {
	Name, Type string
	Paused     bool
	Reason     string
	Since      timeView
}

type quotaRow struct {
	Name   string
	Paused bool
	Until  timeView
}

type dispatcherRow struct {
	Lease, Holder string
	Expires       timeView
}

// readStatus reads the status exactly as `surveysync status` does.
func (c *Console) readStatus(r *http.Request, rq *request) (*engine.Status, error) {
	ctx, cancel := readContext(r)
	defer cancel()
	return engine.ReadStatus(ctx, rq.plan, c.e.Store(), c.now())
}

func (c *Console) overview(w http.ResponseWriter, r *http.Request) {
	rq := c.req(r)
	s, err := c.readStatus(r, rq)
	if err != nil {
		c.fail(w, r, rq, http.StatusServiceUnavailable, "The ledger could not be read", err.Error())
		return
	}
	v := overviewView{page: c.withRefresh(c.page(rq, "Overview", "overview"), r), Generated: showTime(s.GeneratedAt, s.GeneratedAt)}
	v.RateWindow = formatDuration(c.opts.RateWindow)
	now := s.GeneratedAt

	counts := map[string]int64{}
	for _, x := range s.Sources {
		counts[x.Name] = x.Responses
	}
	rates := c.rates.observe(now, counts)
	for _, x := range s.Sources {
		row := sourceRow{Name: red(x.Name), Type: red(x.Type), Responses: x.Responses, Rejected: x.Rejected,
			LastIngest: showTime(x.LastIngest, now), Cursor: truncate(red(x.Cursor), 120)}
		if rt := rates[x.Name]; rt.Known {
			row.Rate = formatNumber(rt.PerMinute, 1) + "/min"
			row.RateNote = "over the last " + formatDuration(rt.Over)
		} else {
			row.Rate = "measuring…"
			row.RateNote = "shown once the page has been open for " + formatDuration(minRateSpan)
		}
		v.Sources = append(v.Sources, row)
	}

	for _, d := range s.Destinations {
		row := destinationRow{Name: red(d.Name), Type: red(d.Type), Paused: d.Paused, Reason: red(d.Reason), Since: showTime(d.PausedSince, now)}
		v.Destinations = append(v.Destinations, row)
		if d.Paused {
			v.Banners = append(v.Banners, banner{Kind: "paused",
				Text: "Destination " + row.Name + " is paused because " + row.Reason,
				More: "since " + row.Since.Text + " (" + row.Since.Rel + "); deliveries wait and resume by themselves once a probe succeeds."})
		}
	}
	var dead int64
	for _, x := range s.Syncs {
		row := syncRow{Name: red(x.Name), Source: red(x.Source), Destination: red(x.Destination),
			Pending: x.Pending, Uncertain: x.Uncertain, Delivered: x.Delivered, Today: x.DeliveredToday, Dead: x.Dead,
			LastSuccess: showTime(x.LastSuccess, now), LastError: truncate(red(x.LastError), 300), LastErrorAt: showTime(x.LastErrorAt, now),
			OldestPending: showTime(x.OldestPending, now), State: "flowing", StateKind: "ok"}
		if x.Dead > 0 {
			row.DeadLink = pageURL(Prefix+"dead-letters", url.Values{"sync": {x.Name}})
		}
		switch {
		case x.ConfigPaused:
			row.State, row.StateKind = "paused in the configuration", "paused"
			v.Banners = append(v.Banners, banner{Kind: "paused", Text: "Sync " + row.Name + " is paused because the configuration says paused: true", More: "responses are still recorded and planned; remove the setting and reload to deliver them."})
		case x.Paused != "":
			row.State, row.StateKind = "paused because "+red(x.Paused), "paused"
		case x.Dead > 0:
			row.State, row.StateKind = "has dead letters", "warn"
		case x.Pending > 0:
			row.State, row.StateKind = "delivering", "ok"
		}
		dead += x.Dead
		v.Syncs = append(v.Syncs, row)
	}
	if dead > 0 {
		v.Banners = append(v.Banners, banner{Kind: "warn", Text: strconv.FormatInt(dead, 10) + " dead " + plural(dead, "letter", "letters") + " wait for a fix and a replay", Link: Prefix + "dead-letters"})
	}

	buckets := c.e.Clients().Buckets()
	sort.Slice(buckets, func(i, j int) bool { return buckets[i].Name() < buckets[j].Name() })
	for _, b := range buckets {
		until := b.PausedUntil()
		row := quotaRow{Name: red(b.Name()), Paused: !until.IsZero(), Until: showTime(until, now)}
		v.Quotas = append(v.Quotas, row)
		if row.Paused {
			v.Banners = append(v.Banners, banner{Kind: "paused", Text: "Quota " + row.Name + " is paused because the API asked to slow down",
				More: "requests sharing it wait until " + row.Until.Text + " (" + row.Until.Rel + ")."})
		}
	}
	for _, d := range s.Dispatchers {
		v.Dispatchers = append(v.Dispatchers, dispatcherRow{Lease: red(d.Lease), Holder: red(d.Holder), Expires: showTime(d.ExpiresAt, now)})
	}
	c.render(w, http.StatusOK, "overview", v)
}

// statusJSON serves the status as `surveysync status --json` prints it.
func (c *Console) statusJSON(w http.ResponseWriter, r *http.Request) {
	rq := c.req(r)
	s, err := c.readStatus(r, rq)
	if err != nil {
		writeJSONError(w, http.StatusServiceUnavailable, red(err.Error()))
		return
	}
	b, err := json.MarshalIndent(s, "", "  ")
	if err != nil {
		writeJSONError(w, http.StatusInternalServerError, "encoding the status failed")
		return
	}
	w.Header().Set("Content-Type", "application/json")
	_, _ = w.Write([]byte(red(string(b)) + "\n"))
}

func plural(n int64, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// formatDuration prints d coarsely: "45s", "10m", "1h30m".
func formatDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return strconv.Itoa(int(d.Round(time.Second).Seconds())) + "s"
	case d < time.Hour:
		m := d.Round(time.Second)
		if m%time.Minute == 0 {
			return strconv.Itoa(int(m.Minutes())) + "m"
		}
		return strconv.Itoa(int(m/time.Minute)) + "m" + strconv.Itoa(int((m % time.Minute).Seconds())) + "s"
	default:
		return d.Round(time.Minute).String()
	}
}
