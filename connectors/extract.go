package connectors

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/mapping"
	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

// ResponseConfig is the part of every source's settings that says how a
// payload becomes a response. Sources embed it inline.
type ResponseConfig struct {
	// Root selects the object inside each payload that is the response, such
	// as event_data for Delighted; empty means the whole payload.
	Root string `yaml:"root"`
	// Key is the expression that yields the response's key, such as
	// form_response.token; empty means a hash of the payload's content.
	Key string `yaml:"key"`
	// SubmittedAt is the expression that yields when the response was
	// submitted (RFC 3339 text, "YYYY-MM-DD hh:mm:ss", or Unix seconds or
	// milliseconds); empty means the time it was received.
	SubmittedAt string `yaml:"submitted_at"`
	// UpdatedAt is the expression that yields when the source last changed
	// the response (same formats as SubmittedAt), for sources that send
	// updated versions which may arrive out of order: a version older than
	// the stored one is then kept out (see OnUpdate). A payload without the
	// field counts as giving no time; empty means none is read.
	UpdatedAt string `yaml:"updated_at"`
	// Timezone is the zone of SubmittedAt and UpdatedAt values written
	// without one; default UTC.
	Timezone string `yaml:"timezone"`
	// Accept keeps only payloads matching this filter (mapping filter
	// syntax); others are acknowledged and dropped, such as Delighted's
	// unsubscribe events.
	Accept *config.Node `yaml:"accept"`
	// OnUpdate is what happens when a stored response arrives again with
	// other content: latest (default), redeliver or ignore. With UpdatedAt,
	// latest and redeliver apply only to content at least as new as the
	// stored one.
	OnUpdate string `yaml:"on_update"`
}

// Validate checks the expressions and the policy.
func (c *ResponseConfig) Validate() error {
	_, err := c.Extractor()
	return err
}

// UpdatePolicy returns the configured update policy.
func (c *ResponseConfig) UpdatePolicy() store.UpdatePolicy {
	if c.OnUpdate == "" {
		return store.UpdateLatest
	}
	return store.UpdatePolicy(c.OnUpdate)
}

// Extractor turns payloads into responses.
type Extractor struct {
	root, key, submitted, updated *mapping.Expr
	accept                        *mapping.Filter
	loc                           *time.Location
}

// ExprText turns a configured field reference into a template: a template
// ("{{ ... }}") is kept, a path ("conversation.id") is wrapped, and a field
// name with spaces or other characters ("Response ID", a CSV header) is
// quoted as one key. A bare name always means a payload field, even one
// named like a mapping built-in (submitted_at, key, source): it is read
// through payload.
func ExprText(s string) string {
	if strings.Contains(s, "{{") {
		return s
	}
	if bareName.MatchString(s) {
		first, _, _ := strings.Cut(s, ".")
		first, _, _ = strings.Cut(first, "[")
		if builtins[first] {
			return "{{ payload." + s + " }}"
		}
		return "{{ " + s + " }}"
	}
	q, _ := json.Marshal(s)
	return "{{ payload[" + string(q) + "] }}"
}

// IsBuiltin reports whether name is one of the mapping's built-in names,
// which shadow payload fields of the same name.
func IsBuiltin(name string) bool { return builtins[name] }

// builtins are the mapping's built-in names.
var builtins = map[string]bool{"key": true, "source": true, "submitted_at": true, "received_at": true, "delivery_key": true, "version": true, "sync": true, "now": true, "payload": true}

// bareName matches paths that need no quoting: a.b, answers[0].text,
// answers[field.ref=nps].number.
var bareName = regexp.MustCompile(`^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z_][A-Za-z0-9_]*|\[[^\]]*\])*$`)

// Extractor compiles the configuration.
func (c *ResponseConfig) Extractor() (*Extractor, error) {
	var errs []error
	x := &Extractor{loc: time.UTC}
	compile := func(key, text string) *mapping.Expr {
		if text == "" {
			return nil
		}
		e, err := mapping.CompileExpr(ExprText(text), config.Pos{})
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", key, err))
		}
		return e
	}
	x.root = compile("root", c.Root)
	x.key = compile("key", c.Key)
	x.submitted = compile("submitted_at", c.SubmittedAt)
	x.updated = compile("updated_at", c.UpdatedAt)
	if c.Accept != nil {
		f, err := mapping.CompileFilter(c.Accept)
		if err != nil {
			errs = append(errs, fmt.Errorf("accept: %w", err))
		}
		x.accept = f
	}
	if c.Timezone != "" {
		loc, err := time.LoadLocation(c.Timezone)
		if err != nil {
			errs = append(errs, fmt.Errorf("timezone: %q is not a known IANA zone such as Europe/Berlin", c.Timezone))
		} else {
			x.loc = loc
		}
	}
	switch c.OnUpdate {
	case "", string(store.UpdateLatest), string(store.UpdateRedeliver), string(store.UpdateIgnore):
	default:
		errs = append(errs, fmt.Errorf("on_update: %q: want latest, redeliver or ignore", c.OnUpdate))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	return x, nil
}

// ErrNotAccepted is returned by Extract for payloads the accept filter drops.
var ErrNotAccepted = errors.New("payload not accepted by the source's filter")

// Extract turns one decoded payload into a response. raw is the payload's
// original bytes when the whole payload is the response (nil otherwise).
// It returns ErrNotAccepted for payloads the accept filter drops, and a
// descriptive error for payloads that cannot become a response.
func (x *Extractor) Extract(source string, fields map[string]any, raw []byte, received time.Time) (survey.Response, error) {
	in := &mapping.Input{Fields: fields, ReceivedAt: received, Now: received}
	if x.accept != nil {
		ok, err := x.accept.Match(in)
		if err != nil {
			return survey.Response{}, fmt.Errorf("accept filter: %w", err)
		}
		if !ok {
			return survey.Response{}, ErrNotAccepted
		}
	}
	if x.root != nil {
		v, err := x.root.Eval(in)
		if err != nil {
			return survey.Response{}, fmt.Errorf("root: %w", err)
		}
		m, ok := v.(map[string]any)
		if !ok {
			return survey.Response{}, fmt.Errorf("root: expected an object, got %s", JSONKind(v))
		}
		fields, raw = m, nil
		in = &mapping.Input{Fields: fields, ReceivedAt: received, Now: received}
	}
	if raw == nil {
		b, err := json.Marshal(fields)
		if err != nil {
			return survey.Response{}, fmt.Errorf("encoding payload: %w", err)
		}
		raw = b
	}
	r := survey.Response{Source: source, Payload: compactJSON(raw)}
	if x.key != nil {
		v, err := x.key.Eval(in)
		if err != nil {
			return survey.Response{}, fmt.Errorf("key: %w", err)
		}
		k := scalarText(v)
		if k == "" {
			return survey.Response{}, fmt.Errorf("key: the key expression yielded an empty value")
		}
		r.Key = k
	} else {
		canon, err := json.Marshal(fields)
		if err != nil {
			return survey.Response{}, fmt.Errorf("encoding payload: %w", err)
		}
		sum := sha256.Sum256(canon)
		r.Key = "sha256:" + hex.EncodeToString(sum[:16])
	}
	r.SubmittedAt = received
	if x.submitted != nil {
		v, err := x.submitted.Eval(in)
		if err != nil {
			return survey.Response{}, fmt.Errorf("submitted_at: %w", err)
		}
		t, err := ParseTime(v, x.loc)
		if err != nil {
			return survey.Response{}, fmt.Errorf("submitted_at: %w", err)
		}
		r.SubmittedAt = t
	}
	if x.updated != nil {
		v, err := x.updated.Eval(in)
		var re *mapping.RenderError
		switch {
		case errors.As(err, &re) && re.Path != "":
			// The field is missing: this version gives no time.
		case err != nil:
			return survey.Response{}, fmt.Errorf("updated_at: %w", err)
		case v != nil:
			t, err := ParseTime(v, x.loc)
			if err != nil {
				return survey.Response{}, fmt.Errorf("updated_at: %w", err)
			}
			r.UpdatedAt = t
		}
	}
	return r, nil
}

func compactJSON(b []byte) []byte {
	var buf bytes.Buffer
	if err := json.Compact(&buf, b); err != nil {
		return b
	}
	return buf.Bytes()
}

func scalarText(v any) string {
	switch t := v.(type) {
	case nil:
		return ""
	case string:
		return strings.TrimSpace(t)
	case json.Number:
		return t.String()
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case bool:
		return strconv.FormatBool(t)
	default:
		b, _ := json.Marshal(t)
		return string(b)
	}
}

// JSONKind names the kind of a decoded JSON value for error messages: null,
// text, a number, true/false, a list or an object.
func JSONKind(v any) string {
	switch v.(type) {
	case nil:
		return "null"
	case string:
		return "text"
	case json.Number, float64, int, int64:
		return "a number"
	case bool:
		return "true/false"
	case []any:
		return "a list"
	case map[string]any:
		return "an object"
	}
	return fmt.Sprintf("%T", v)
}

// timeLayouts are the text forms ParseTime understands, besides numbers.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02 15:04:05",
	"2006-01-02 15:04",
	time.DateOnly,
}

// ParseTime reads a timestamp as sources send them: RFC 3339, a date and
// time without zone (read in loc), a date, or a Unix time in seconds or
// milliseconds, as a number or as digits.
func ParseTime(v any, loc *time.Location) (time.Time, error) {
	if loc == nil {
		loc = time.UTC
	}
	var num float64
	switch t := v.(type) {
	case time.Time:
		return t, nil
	case json.Number:
		f, err := t.Float64()
		if err != nil {
			return time.Time{}, fmt.Errorf("%q is not a time", t)
		}
		num = f
	case float64:
		num = t
	case int64:
		num = float64(t)
	case string:
		s := strings.TrimSpace(t)
		if f, err := strconv.ParseFloat(s, 64); err == nil && !strings.ContainsAny(s, "-:") {
			num = f
			break
		}
		for _, l := range timeLayouts {
			if tm, err := time.ParseInLocation(l, s, loc); err == nil {
				return tm, nil
			}
		}
		return time.Time{}, fmt.Errorf("%q is not a time (want RFC 3339 such as 2026-05-01T10:00:00Z, YYYY-MM-DD hh:mm:ss, or Unix seconds)", s)
	default:
		return time.Time{}, fmt.Errorf("expected a time, got %s", JSONKind(v))
	}
	if math.IsNaN(num) || math.IsInf(num, 0) || num < 0 {
		return time.Time{}, fmt.Errorf("%v is not a Unix time", num)
	}
	if num > 1e11 { // milliseconds: 1e11 seconds is the year 5138
		return time.UnixMilli(int64(num)).UTC(), nil
	}
	sec, frac := math.Modf(num)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}

// PolicySource is implemented by sources that say how updates of stored
// responses are treated.
type PolicySource interface {
	UpdatePolicy() store.UpdatePolicy
}
