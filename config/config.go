// Package config reads surveysync.yaml: a strict decode that reports every
// mistake as file:line:col, secret references, defaults, and the checks that
// need nothing but the file itself. Connector sections are kept as positioned
// nodes and decoded by their connector with the same machinery.
package config

import (
	"fmt"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"time"
)

// DefaultFile is the configuration file read when none is named.
const DefaultFile = "surveysync.yaml"

// EnvFile names the environment variable that overrides DefaultFile.
const EnvFile = "SURVEYSYNC_CONFIG"

// Config is a whole surveysync.yaml.
type Config struct {
	// Path is the file the configuration was read from.
	Path string `yaml:"-"`
	// Store is where the ledger lives: "sqlite:<path>" (relative paths are
	// relative to the configuration file) or a postgres:// URL.
	Store string `yaml:"store"`
	// Listen is the address of the daemon's HTTP listener (webhooks, health,
	// metrics and the console). The default, 127.0.0.1:8080, is loopback only.
	Listen string `yaml:"listen"`
	// Console configures the ops console served on the listener.
	Console Console `yaml:"console"`
	// Log configures logging.
	Log Log `yaml:"log"`
	// Dispatch tunes delivery: batch sizes, backoff and leases.
	Dispatch Dispatch `yaml:"dispatch"`
	// Sources name where responses come from, by name.
	Sources Plugins `yaml:"sources"`
	// Destinations name where responses go, by name.
	Destinations Plugins `yaml:"destinations"`
	// Syncs route a source through a mapping file to a destination.
	Syncs []Sync `yaml:"syncs"`
	// Scores are summary-score jobs run on a schedule.
	Scores []ScoreJob `yaml:"scores"`

	// root is the file as written, for positions in later checks.
	root *Node
}

// At returns the position of the value at the given key path, such as
// At("dispatch", "lease"), or the closest enclosing position known.
func (c *Config) At(keys ...string) Pos {
	pos := Pos{File: c.Path, Line: 1, Col: 1}
	n := c.root
	for _, k := range keys {
		n = n.Get(k)
		if n == nil {
			return pos
		}
		pos = n.Pos
	}
	return pos
}

// Console configures the ops console.
type Console struct {
	// Enabled turns the console on; it is on by default.
	Enabled *bool `yaml:"enabled"`
	// Token is required to open the console when Listen is not a loopback
	// address, and to use write actions such as replay.
	Token Secret `yaml:"token"`
	// Write allows write actions (replay) from the console; off by default.
	Write bool `yaml:"write"`
}

// Log configures logging.
type Log struct {
	// Level is debug, info, warn or error; info by default.
	Level string `yaml:"level"`
	// Format is json or text; the daemon defaults to json.
	Format string `yaml:"format"`
}

// Dispatch tunes delivery for every destination.
type Dispatch struct {
	// BatchSize is the most responses sent in one request where the API
	// takes batches; a connector may lower it to its API's limit. Default 500.
	BatchSize int `yaml:"batch_size"`
	// BackoffMin is the first retry delay after a transient failure. Default 1s.
	BackoffMin time.Duration `yaml:"backoff_min"`
	// BackoffMax caps the retry delay (truncated exponential backoff with
	// jitter). Default 64s.
	BackoffMax time.Duration `yaml:"backoff_max"`
	// MaxAttempts dead-letters a delivery after this many failed attempts;
	// 0 means retry forever. Default 0: a response is never given up on
	// because a destination was down.
	MaxAttempts int `yaml:"max_attempts"`
	// Lease is how long a dispatcher's claim on a destination lasts without
	// renewal. Default 30s.
	Lease time.Duration `yaml:"lease"`
	// PauseProbe is how often a paused destination is probed. Default 1m.
	PauseProbe time.Duration `yaml:"pause_probe"`
	// Idle is how long a dispatcher waits for new work when there is none. Default 250ms.
	Idle time.Duration `yaml:"idle"`
}

// Sync routes one source through a mapping file to one destination.
type Sync struct {
	// Name identifies the sync in status, replay and metrics; it defaults to
	// "<source>-to-<destination>".
	Name string `yaml:"name"`
	// Source is the name of a configured source.
	Source string `yaml:"source"`
	// Mapping is the mapping file, relative to the configuration file.
	Mapping string `yaml:"mapping"`
	// To is the name of a configured destination.
	To string `yaml:"to"`
	// Filter selects which responses this sync delivers, in the mapping
	// filter syntax; it adds to the mapping file's own filter.
	Filter *Node `yaml:"filter"`
	// Paused stops delivery for this sync; responses are still planned.
	Paused bool `yaml:"paused"`

	// Pos is where the sync was written.
	Pos Pos `yaml:"-"`
	// Node is the sync as written, for positioned errors in later checks.
	Node *Node `yaml:"-"`
}

// At returns the position of key in the sync, or of the sync itself.
func (s *Sync) At(key string) Pos {
	if n := s.Node.Get(key); n != nil {
		return n.Pos
	}
	return s.Pos
}

// ScoreJob is a summary-score job: which responses, which definition, which
// periods and segments, when, and where the table goes.
type ScoreJob struct {
	Name string `yaml:"name"`
	// Schedule is a five-field cron expression or a descriptor such as
	// @hourly; the time zone comes from Timezone, not from a TZ= prefix.
	Schedule string `yaml:"schedule"`
	// Timezone is an IANA zone name such as Europe/Berlin; default UTC.
	Timezone string `yaml:"timezone"`
	// Source is the source whose stored responses are scored.
	Source string `yaml:"source"`
	// Metric is csat, nps or ces.
	Metric string `yaml:"metric"`
	// Variant picks the formula: csat percent|helpdesk|composite|mean,
	// ces mean|agree|index; nps has one.
	Variant string `yaml:"variant"`
	// Field is the expression that yields the rating, such as "{{ rating }}".
	Field string `yaml:"field"`
	// Map turns labels, emoji or stars into numbers, as in mapping files.
	Map *Node `yaml:"map"`
	// Scale is the rating scale, such as 1-5 or 0-10.
	Scale string `yaml:"scale"`
	// Threshold is the rating at or above which a response counts as
	// satisfied, good, agreeing or positive.
	Threshold *float64 `yaml:"threshold"`
	// BadThreshold is the rating at or below which a response counts as bad
	// or negative.
	BadThreshold *float64 `yaml:"bad_threshold"`
	// Promoters and Detractors override the NPS buckets (default 9 and 6).
	Promoters  *float64 `yaml:"promoters"`
	Detractors *float64 `yaml:"detractors"`
	// HighIsGood declares the scale's polarity (CES); default true.
	HighIsGood *bool `yaml:"high_is_good"`
	// Period is day, week, month, quarter, all, or rolling_<N>d.
	Period string `yaml:"period"`
	// Periods is how many periods back to compute; default 12.
	Periods int `yaml:"periods"`
	// GroupBy names response fields to segment by, such as agent or channel.
	GroupBy []string `yaml:"group_by"`
	// Contact is the expression that identifies a respondent, used with
	// OnePerContact.
	Contact string `yaml:"contact"`
	// OnePerContact keeps one response per contact per period, the latest.
	OnePerContact bool `yaml:"one_per_contact"`
	// Filter selects responses, in the mapping filter syntax.
	Filter *Node `yaml:"filter"`
	// To is the destination the summary goes to; empty computes only.
	To string `yaml:"to"`
	// Sheet is the tab a Sheets destination writes the summary table to.
	Sheet string `yaml:"sheet"`
	// Request is a request mapping file sent once per segment, for CRM outputs.
	Request string `yaml:"request"`

	// Pos is where the job was written.
	Pos Pos `yaml:"-"`
	// Node is the job as written, for positioned errors in later checks.
	Node *Node `yaml:"-"`
}

// Plugin is one named source or destination. Its type selects the
// connector, which decodes Body into its own Config.
type Plugin struct {
	Name string
	Type string
	// Pos is where the entry was written.
	Pos Pos
	// Body is the entry as written, without its type key.
	Body *Node
}

// Plugins is an ordered set of named plugins.
type Plugins []*Plugin

// Get returns the plugin named name, or nil.
func (ps Plugins) Get(name string) *Plugin {
	for _, p := range ps {
		if p.Name == name {
			return p
		}
	}
	return nil
}

var namePattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$`)

// UnmarshalNode implements Unmarshaler.
func (ps *Plugins) UnmarshalNode(n *Node) error {
	if n.Kind != MapNode {
		return Errorf(n.Pos, "expected a mapping of names to settings, got %s", n.Kind)
	}
	var errs ErrorList
	for _, p := range n.Pairs {
		name := p.Key.Value
		if !namePattern.MatchString(name) {
			errs = append(errs, Errorf(p.Key.Pos, "name %q: use letters, digits, '-', '_' or '.', at most 64", name))
		}
		if p.Value.Kind != MapNode {
			errs = append(errs, Errorf(p.Value.Pos, "%s: expected a mapping with a type key, got %s", name, p.Value.Kind))
			continue
		}
		t := p.Value.Get("type")
		if t == nil || t.Kind != ScalarNode || t.Value == "" {
			errs = append(errs, Errorf(p.Value.Pos, "%s: missing required key \"type\"", name))
			continue
		}
		*ps = append(*ps, &Plugin{Name: name, Type: t.Value, Pos: p.Key.Pos, Body: p.Value.Without("type")})
	}
	if len(errs) > 0 {
		return errs
	}
	return nil
}

// UnmarshalNode implements Unmarshaler, recording the sync's position.
func (s *Sync) UnmarshalNode(n *Node) error {
	type plain Sync
	var p plain
	err := Decode(n, &p)
	*s = Sync(p)
	s.Pos = n.Pos
	s.Node = n
	return err
}

// UnmarshalNode implements Unmarshaler, recording the job's position.
func (j *ScoreJob) UnmarshalNode(n *Node) error {
	type plain ScoreJob
	var p plain
	err := Decode(n, &p)
	*j = ScoreJob(p)
	j.Pos = n.Pos
	j.Node = n
	return err
}

// Defaults returns a configuration holding every default.
func Defaults() *Config {
	return &Config{
		Store:  "sqlite:./data/surveysync.db",
		Listen: "127.0.0.1:8080",
		Log:    Log{Level: "info"},
		Dispatch: Dispatch{
			BatchSize:  500,
			BackoffMin: time.Second,
			BackoffMax: 64 * time.Second,
			Lease:      30 * time.Second,
			PauseProbe: time.Minute,
			Idle:       250 * time.Millisecond,
		},
	}
}

// File returns the configuration file to read: name when given, else
// $SURVEYSYNC_CONFIG, else ./surveysync.yaml.
func File(name string) string {
	if name != "" {
		return name
	}
	if env := os.Getenv(EnvFile); env != "" {
		return env
	}
	return DefaultFile
}

// Load reads, decodes and checks a configuration file. It returns the
// configuration together with every problem found; the configuration is
// usable only when the list holds no errors (warnings are allowed).
func Load(path string) (*Config, ErrorList) {
	src, err := os.ReadFile(path)
	if err != nil {
		return nil, ErrorList{&Error{Pos: Pos{File: path}, Msg: fmt.Sprintf("cannot read configuration: %v", unwrapPathError(err))}}
	}
	return LoadBytes(path, src)
}

// LoadBytes is Load for a file already in memory; path names it in errors and
// anchors relative paths.
func LoadBytes(path string, src []byte) (*Config, ErrorList) {
	root, err := Parse(path, src)
	if err != nil {
		return nil, AsList(err)
	}
	cfg := Defaults()
	cfg.Path = path
	var errs ErrorList
	if root.Kind == NullNode {
		errs = append(errs, Errorf(Pos{File: path, Line: 1, Col: 1}, "the configuration is empty"))
		return cfg, errs
	}
	cfg.root = root
	errs.Add(root.Pos, Decode(root, cfg))
	errs = append(errs, cfg.check()...)
	errs.Sort()
	return cfg, errs
}

// Dir is the directory relative paths in the configuration start from.
func (c *Config) Dir() string { return filepath.Dir(c.Path) }

// Resolve returns p relative to the configuration file's directory.
func (c *Config) Resolve(p string) string {
	if p == "" || filepath.IsAbs(p) {
		return p
	}
	return filepath.Join(c.Dir(), p)
}

// SyncByName returns the sync named name, or nil.
func (c *Config) SyncByName(name string) *Sync {
	for i := range c.Syncs {
		if c.Syncs[i].Name == name {
			return &c.Syncs[i]
		}
	}
	return nil
}

// LoopbackListen reports whether the listener is bound to loopback only.
func (c *Config) LoopbackListen() bool {
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// ConsoleEnabled reports whether the console is served.
func (c *Config) ConsoleEnabled() bool { return c.Console.Enabled == nil || *c.Console.Enabled }

// StoreDriver splits Store into its driver ("sqlite" or "postgres") and the
// location (a file path resolved against the configuration's directory, or
// the URL).
func (c *Config) StoreDriver() (driver, location string, err error) {
	switch {
	case strings.HasPrefix(c.Store, "sqlite:"):
		p := strings.TrimPrefix(c.Store, "sqlite:")
		p = strings.TrimPrefix(p, "//")
		if p == "" {
			return "", "", fmt.Errorf("store %q: the sqlite path is empty", c.Store)
		}
		return "sqlite", c.Resolve(p), nil
	case strings.HasPrefix(c.Store, "postgres://"), strings.HasPrefix(c.Store, "postgresql://"):
		return "postgres", c.Store, nil
	default:
		return "", "", fmt.Errorf("store %q: write sqlite:<path> or a postgres:// URL", c.Store)
	}
}
