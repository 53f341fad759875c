package console

import (
	"bytes"
	"encoding/json"
	"errors"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"

	"github.com/surveysync/surveysync/engine"
)

// maxPayloadChars bounds the payload shown for one dead letter.
const maxPayloadChars = 20000

// deadView is the dead letters page.
type deadView struct {
	page
	Filter     string
	AllLink    string
	Total      int64
	Shown      int
	Limit      int
	Syncs      []deadSync
	Classes    []deadClass
	Replayed   string
	CanReplay  bool
	ReplayOff  string
	Generated  timeView
	ReplayPath string
}

type deadSync struct {
	Name   string
	Dead   int64
	Link   string
	Active bool
}

type deadClass struct {
	Class   string
	Meaning string
	Count   int
	Letters []deadLetter
}

type deadLetter struct {
	ID       int64
	Sync     string
	Source   string
	Key      string
	Attempts int
	Reason   string
	At       timeView
	Payload  string
	Target   string
}

// classMeanings explain the error classes the dispatcher records.
var classMeanings = map[string]string{
	"permanent":   "The destination refused these responses. Fix the data, the mapping or the destination, then replay.",
	"render":      "The mapping could not build a request or row from these responses. Fix the mapping, then replay.",
	"transient":   "These kept failing with errors that usually pass, until the attempt limit (dispatch.max_attempts) gave up.",
	"retry_after": "The destination kept throttling these until the attempt limit gave up.",
	"ambiguous":   "The outcome of the last attempt is unknown; check the destination before replaying.",
	"paused":      "The destination was paused when these were given up.",
}

func (c *Console) deadLetters(w http.ResponseWriter, r *http.Request) {
	rq := c.req(r)
	s, err := c.readStatus(r, rq)
	if err != nil {
		c.fail(w, r, rq, http.StatusServiceUnavailable, "The ledger could not be read", err.Error())
		return
	}
	filter := r.URL.Query().Get("sync")
	if filter != "" && rq.plan.Sync(filter) == nil {
		c.fail(w, r, rq, http.StatusNotFound, "No such sync", "No sync is named "+strconv.Quote(filter)+".")
		return
	}
	ctx, cancel := readContext(r)
	defer cancel()
	letters, err := engine.DeadLetters(ctx, c.e.Store(), filter, c.opts.DeadLetterLimit)
	if err != nil {
		c.fail(w, r, rq, http.StatusServiceUnavailable, "The dead letters could not be read", err.Error())
		return
	}
	now := s.GeneratedAt
	v := deadView{
		page: c.page(rq, "Dead letters", "dead"), Filter: red(filter), AllLink: Prefix + "dead-letters",
		Shown: len(letters), Limit: c.opts.DeadLetterLimit, CanReplay: rq.writeEnabled(), Generated: showTime(now, now),
		ReplayPath: Prefix + "dead-letters/replay",
	}
	switch {
	case !rq.cfg.Console.Write:
		v.ReplayOff = "Replay is off: the console is read-only. Start the daemon with console.write: true and a console.token to replay from here, or run surveysync replay --sync NAME."
	case rq.token == "":
		v.ReplayOff = "Replay is off: console.write needs console.token. Set a token, or run surveysync replay --sync NAME."
	}
	if n, err := strconv.Atoi(r.URL.Query().Get("replayed")); err == nil && n >= 0 {
		v.Replayed = "Re-opened " + strconv.Itoa(n) + " dead " + plural(int64(n), "letter", "letters") + "; the dispatcher sends them again with the current mapping."
	}
	for _, x := range s.Syncs {
		if filter == "" || x.Name == filter {
			v.Total += x.Dead
		}
		if x.Dead > 0 {
			v.Syncs = append(v.Syncs, deadSync{Name: red(x.Name), Dead: x.Dead,
				Link: pageURL(Prefix+"dead-letters", url.Values{"sync": {x.Name}}), Active: x.Name == filter})
		}
	}
	byClass := map[string]*deadClass{}
	for _, d := range letters {
		cl := d.Class
		if cl == "" {
			cl = "unclassified"
		}
		g, ok := byClass[cl]
		if !ok {
			g = &deadClass{Class: red(cl), Meaning: classMeanings[cl]}
			byClass[cl] = g
		}
		g.Count++
		g.Letters = append(g.Letters, deadLetter{
			ID: d.ID, Sync: red(d.Sync), Source: red(d.Source), Key: red(d.Key), Attempts: d.Attempts,
			Reason: truncate(red(d.Reason), 2000), At: showTime(d.At, now), Payload: renderPayload(d.Payload),
			Target: replayTargetOf(d.Sync, d.Key),
		})
	}
	for _, g := range byClass {
		v.Classes = append(v.Classes, *g)
	}
	sort.Slice(v.Classes, func(i, j int) bool {
		if v.Classes[i].Count != v.Classes[j].Count {
			return v.Classes[i].Count > v.Classes[j].Count
		}
		return v.Classes[i].Class < v.Classes[j].Class
	})
	c.render(w, http.StatusOK, "deadletters", v)
}

// renderPayload shows a stored payload: indented when it is JSON, with the
// \u003c, \u003e and \u0026 escapes some encoders write turned back into the
// characters they stand for, so survey text reads as it was written;
// redacted and bounded always. The template escapes it.
func renderPayload(p []byte) string {
	var buf bytes.Buffer
	s := string(p)
	if json.Valid(p) && json.Indent(&buf, p, "", "  ") == nil {
		s = unescapeHTMLSafe(buf.String())
	}
	return truncate(red(s), maxPayloadChars)
}

// unescapeHTMLSafe replaces the \u003c, \u003e and \u0026 escapes of JSON
// text with <, > and &, leaving every other escape (and an escaped
// backslash followed by "u003c") alone.
func unescapeHTMLSafe(s string) string {
	if !strings.Contains(s, `\u00`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		if s[i+1] == 'u' && i+6 <= len(s) {
			switch strings.ToLower(s[i+2 : i+6]) {
			case "003c":
				b.WriteByte('<')
				i += 5
				continue
			case "003e":
				b.WriteByte('>')
				i += 5
				continue
			case "0026":
				b.WriteByte('&')
				i += 5
				continue
			}
		}
		b.WriteString(s[i : i+2])
		i++
	}
	return b.String()
}

// replay re-opens dead letters: of a whole sync (form field "sync") or of
// one response (form field "one" = "<sync>:<key>").
func (c *Console) replay(w http.ResponseWriter, r *http.Request) {
	rq := c.req(r)
	if !rq.writeEnabled() {
		why := "The console is read-only: start the daemon with console.write: true and a console.token to replay from here."
		if rq.cfg.Console.Write {
			why = "console.write needs console.token before the console replays anything."
		}
		c.fail(w, r, rq, http.StatusForbidden, "Replay is off", why)
		return
	}
	if err := c.csrf.Check(r); err != nil {
		c.fail(w, r, rq, http.StatusForbidden, "Cross-site request refused", "A replay must be sent from the console's own pages.")
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	if err := r.ParseForm(); err != nil {
		c.fail(w, r, rq, http.StatusBadRequest, "Bad form", "The form could not be read.")
		return
	}
	if !equalToken(bearer(r), rq.token) && !equalToken(r.PostForm.Get("token"), rq.token) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="surveysync console"`)
		c.fail(w, r, rq, http.StatusUnauthorized, "Token required", "A replay needs the console token: type it into the field next to the replay buttons.")
		return
	}
	opts, err := replayTarget(r.PostForm)
	if err != nil {
		c.fail(w, r, rq, http.StatusBadRequest, "Nothing to replay", err.Error())
		return
	}
	ctx, cancel := readContext(r)
	defer cancel()
	n, err := engine.Replay(ctx, rq.plan, c.e.Store(), opts)
	if err != nil {
		c.fail(w, r, rq, http.StatusBadRequest, "Replay failed", err.Error())
		return
	}
	http.Redirect(w, r, pageURL(Prefix+"dead-letters", url.Values{"replayed": {strconv.Itoa(n)}}), http.StatusSeeOther)
}

// replayTargetOf is the form value that replays one response; empty when
// the key would have to be redacted to be shown.
func replayTargetOf(sync, key string) string {
	t := sync + ":" + key
	if red(t) != t {
		return ""
	}
	return t
}

// replayTarget reads what a replay form asks for.
func replayTarget(form url.Values) (engine.ReplayOptions, error) {
	if one := form.Get("one"); one != "" {
		sync, key, ok := strings.Cut(one, ":")
		if !ok || sync == "" || key == "" {
			return engine.ReplayOptions{}, errors.New("the replay names no sync and key")
		}
		return engine.ReplayOptions{Sync: sync, Keys: []string{key}, Dead: true}, nil
	}
	if sync := form.Get("sync"); sync != "" {
		return engine.ReplayOptions{Sync: sync, Dead: true}, nil
	}
	return engine.ReplayOptions{}, errors.New("the replay names no sync")
}
