package console

import (
	"bytes"
	"embed"
	"encoding/json"
	"fmt"
	"html/template"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/surveysync/surveysync/config"
)

//go:embed templates/*.html
var templateFiles embed.FS

// pages are the console's templates, one per page, each with the layout.
var pages = parsePages("overview", "deadletters", "scores", "login", "message")

func parsePages(names ...string) map[string]*template.Template {
	base := template.Must(template.New("layout.html").ParseFS(templateFiles, "templates/layout.html"))
	out := map[string]*template.Template{}
	for _, n := range names {
		out[n] = template.Must(template.Must(base.Clone()).ParseFS(templateFiles, "templates/"+n+".html"))
	}
	return out
}

// page is what the layout needs.
type page struct {
	Title  string
	Active string
	Nonce  string
	// Refresh is the reload interval in seconds; 0 turns it off.
	Refresh int
	// RefreshToggle links to the same page with reloading switched.
	RefreshToggle string
	Listen        string
	ReadOnly      bool
	WriteNote     string
}

func (c *Console) page(rq *request, title, active string) page {
	p := page{Title: title, Active: active}
	if rq != nil {
		p.Nonce = rq.nonce
		p.Listen = red(rq.cfg.Listen)
		p.ReadOnly = !rq.writeEnabled()
		switch {
		case !rq.cfg.Console.Write:
			p.WriteNote = "read-only (console.write is off)"
		case rq.token == "":
			p.WriteNote = "read-only (console.write needs console.token)"
		default:
			p.WriteNote = "replay allowed with the token"
		}
	}
	return p
}

// withRefresh turns on reloading for a page at r unless ?refresh=0.
func (c *Console) withRefresh(p page, r *http.Request) page {
	if c.opts.Refresh < 0 {
		return p
	}
	q := r.URL.Query()
	if q.Get("refresh") == "0" {
		q.Del("refresh")
		p.RefreshToggle = pageURL(r.URL.Path, q)
		return p
	}
	p.Refresh = int(math.Ceil(c.opts.Refresh.Seconds()))
	q.Set("refresh", "0")
	p.RefreshToggle = pageURL(r.URL.Path, q)
	return p
}

// render executes a page into a buffer first, so a failure never sends half
// a page.
func (c *Console) render(w http.ResponseWriter, status int, name string, data any) {
	var buf bytes.Buffer
	if err := pages[name].ExecuteTemplate(&buf, "layout", data); err != nil {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
		w.WriteHeader(http.StatusInternalServerError)
		fmt.Fprintln(w, "rendering the page failed")
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// messageView is a page that only says something.
type messageView struct {
	page
	Heading string
	Text    string
	Back    string
}

// loginView is the sign-in page.
type loginView struct {
	page
	Problem string
	Next    string
}

// fail answers with a message page.
func (c *Console) fail(w http.ResponseWriter, r *http.Request, rq *request, status int, heading, text string) {
	if strings.HasSuffix(r.URL.Path, ".json") {
		writeJSONError(w, status, text)
		return
	}
	p := c.page(rq, heading, "")
	if rq == nil || rq.cfg == nil {
		p = page{Title: heading}
	}
	c.render(w, status, "message", messageView{page: p, Heading: heading, Text: red(text), Back: Prefix})
}

func (c *Console) notFound(w http.ResponseWriter, r *http.Request) {
	c.fail(w, r, c.req(r), http.StatusNotFound, "No such page", "The console has no page at "+r.URL.Path+".")
}

func writeJSONError(w http.ResponseWriter, status int, reason string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(map[string]string{"status": "error", "reason": reason})
}

// red redacts every known secret from s; every string the console shows
// from the ledger or the configuration goes through it.
func red(s string) string { return config.Redact(s) }

// truncate shortens s to at most n runes, marking the cut.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "… (" + strconv.Itoa(len(r)-n) + " more characters)"
}

// timeView is a time as the pages show it.
type timeView struct {
	// ISO is RFC 3339, for the datetime attribute; empty for the zero time.
	ISO string
	// Text is the time in the console's zone.
	Text string
	// Rel is "3m ago" or "in 20s".
	Rel string
}

func showTime(t, now time.Time) timeView {
	if t.IsZero() {
		return timeView{Text: "never"}
	}
	t = t.In(now.Location())
	return timeView{ISO: t.Format(time.RFC3339), Text: t.Format("2006-01-02 15:04:05 MST"), Rel: relative(t, now)}
}

// relative says how far t is from now, coarsely.
func relative(t, now time.Time) string {
	d := now.Sub(t)
	suffix := " ago"
	if d < 0 {
		d, suffix = -d, ""
	}
	var s string
	switch {
	case d < time.Second:
		return "just now"
	case d < time.Minute:
		s = strconv.Itoa(int(d.Seconds())) + "s"
	case d < time.Hour:
		s = strconv.Itoa(int(d.Minutes())) + "m"
	case d < 48*time.Hour:
		s = strconv.Itoa(int(d.Hours())) + "h"
	default:
		s = strconv.Itoa(int(d.Hours()/24)) + "d"
	}
	if suffix == "" {
		return "in " + s
	}
	return s + suffix
}

// formatNumber prints v with at most digits decimals, without trailing
// zeros.
func formatNumber(v float64, digits int) string {
	s := strconv.FormatFloat(v, 'f', digits, 64)
	if strings.Contains(s, ".") {
		s = strings.TrimRight(strings.TrimRight(s, "0"), ".")
	}
	if s == "-0" {
		s = "0"
	}
	return s
}
