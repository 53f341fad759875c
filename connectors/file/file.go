// Package file is the source that reads responses from files: JSON Lines,
// JSON arrays and CSV with a header row, from paths or globs. Each file is
// ingested once, remembered by its content hash in the same transaction as
// its last records; a drop-folder mode keeps watching for new files.
package file

import (
	"context"
	"crypto/sha256"
	_ "embed"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"sync"
	"time"

	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/store"
	"github.com/surveysync/surveysync/survey"
)

//go:embed sample.yaml
var sample string

func init() {
	connectors.RegisterSource(connectors.SourceSpec{
		Type:    "file",
		Summary: "JSON Lines, JSON arrays or CSV files, each ingested once; optionally a watched drop folder.",
		Sample:  sample,
		Config:  func() connectors.Config { return DefaultConfig() },
		New: func(name string, cfg connectors.Config, deps connectors.Deps) (connectors.Source, error) {
			return New(name, cfg.(*Config), deps)
		},
	})
}

// Config configures a file source.
type Config struct {
	// Paths lists files or glob patterns, relative to the configuration file.
	Paths []string `yaml:"paths"`
	// Format is auto (by extension), jsonl, json or csv. Default auto.
	Format string `yaml:"format"`
	// CSV configures CSV files.
	CSV CSV `yaml:"csv"`
	// Watch, when positive, keeps scanning the paths for new files at this
	// interval (a drop folder). Default 0: read the files once at start.
	Watch time.Duration `yaml:"watch"`
	// Chunk is how many records go into one ingest transaction. Default 1000.
	Chunk int `yaml:"chunk"`

	connectors.ResponseConfig `yaml:",inline"`
}

// DefaultConfig returns the defaults.
func DefaultConfig() *Config { return &Config{Format: "auto", Chunk: 1000} }

// Validate checks the configuration without I/O.
func (c *Config) Validate() error {
	var errs []error
	if len(c.Paths) == 0 {
		errs = append(errs, errors.New("paths: list at least one file or glob, such as ./inbox/*.jsonl"))
	}
	for _, p := range c.Paths {
		if _, err := filepath.Match(p, ""); err != nil {
			errs = append(errs, fmt.Errorf("paths: %q is not a valid glob: %v", p, err))
		}
	}
	switch c.Format {
	case "auto", "jsonl", "json", "csv":
	default:
		errs = append(errs, fmt.Errorf("format: %q: want auto, jsonl, json or csv", c.Format))
	}
	if c.Chunk < 1 || c.Chunk > 50000 {
		errs = append(errs, errors.New("chunk: must be between 1 and 50000"))
	}
	if len([]rune(c.CSV.Delimiter)) > 1 {
		errs = append(errs, errors.New("csv.delimiter: must be one character"))
	}
	if err := c.ResponseConfig.Validate(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Source is a file source.
type Source struct {
	name string
	cfg  *Config
	dir  string
	x    *connectors.Extractor
	log  *slog.Logger
	now  func() time.Time

	// hashes remembers each file's hash by its size and modification time,
	// so a watched folder is not re-read in full on every scan.
	hashMu sync.Mutex
	hashes map[string]fileHash
}

type fileHash struct {
	size int64
	mod  time.Time
	sum  string
}

// hash returns a file's content hash, reusing the last one while the file's
// size and modification time are unchanged.
func (s *Source) hash(path string) (string, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return "", err
	}
	s.hashMu.Lock()
	h, ok := s.hashes[path]
	s.hashMu.Unlock()
	if ok && h.size == fi.Size() && h.mod.Equal(fi.ModTime()) {
		return h.sum, nil
	}
	sum, err := HashFile(path)
	if err != nil {
		return "", err
	}
	s.hashMu.Lock()
	if s.hashes == nil {
		s.hashes = map[string]fileHash{}
	}
	s.hashes[path] = fileHash{size: fi.Size(), mod: fi.ModTime(), sum: sum}
	s.hashMu.Unlock()
	return sum, nil
}

var (
	_ connectors.Source       = (*Source)(nil)
	_ connectors.PolicySource = (*Source)(nil)
	_ connectors.Backfiller   = (*Source)(nil)
)

// New builds a file source.
func New(name string, cfg *Config, deps connectors.Deps) (*Source, error) {
	x, err := cfg.Extractor()
	if err != nil {
		return nil, err
	}
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Source{name: name, cfg: cfg, dir: deps.Dir, x: x, log: log, now: deps.Clock()}, nil
}

// UpdatePolicy returns how updates of stored responses are treated.
func (s *Source) UpdatePolicy() store.UpdatePolicy { return s.cfg.UpdatePolicy() }

// Close does nothing.
func (s *Source) Close() error { return nil }

// Files lists the files the paths match now, sorted.
func (s *Source) Files() ([]string, error) {
	seen := map[string]bool{}
	var out []string
	for _, p := range s.cfg.Paths {
		if !filepath.IsAbs(p) && s.dir != "" {
			p = filepath.Join(s.dir, p)
		}
		matches, err := filepath.Glob(p)
		if err != nil {
			return nil, err
		}
		for _, m := range matches {
			if fi, err := os.Stat(m); err != nil || fi.IsDir() || seen[m] {
				continue
			}
			seen[m] = true
			out = append(out, m)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Run ingests every matching file not ingested before, then, in watch mode,
// keeps scanning for new ones until ctx ends.
func (s *Source) Run(ctx context.Context, sink connectors.Sink) error {
	for {
		files, err := s.Files()
		if err != nil {
			return err
		}
		for _, f := range files {
			if _, err := s.IngestFile(ctx, sink, f, false, nil); err != nil {
				if ctx.Err() != nil {
					return nil
				}
				s.log.Error("reading file failed; it will be retried", "file", f, "err", err)
			}
		}
		if s.cfg.Watch <= 0 {
			<-ctx.Done()
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(s.cfg.Watch):
		}
	}
}

// Progress receives counts while a file is ingested.
type Progress func(read int, rep connectors.IngestReport)

// FileReport is what IngestFile did with one file.
type FileReport struct {
	connectors.IngestReport
	Read     int
	Rejected int
	// Skipped reports that the file's content was ingested before.
	Skipped bool
	// OutOfWindow counts responses a backfill skipped for their time.
	OutOfWindow int
}

// HashFile returns the SHA-256 of a file's content, hex encoded.
func HashFile(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// Backfill reads the given files (or the configured ones) again, keeping
// only responses submitted within the window; files ingested before are read
// anyway, and what is already stored counts as duplicates.
func (s *Source) Backfill(ctx context.Context, sink connectors.Sink, req connectors.BackfillRequest, progress func(read int)) error {
	files := req.Files
	if len(files) == 0 {
		var err error
		if files, err = s.Files(); err != nil {
			return err
		}
	}
	if len(files) == 0 {
		return errors.New("no files to read: name them on the command line or check the source's paths")
	}
	read := 0
	for _, f := range files {
		base := read
		rep, err := s.ingestFile(ctx, sink, f, true, req.InWindow, func(n int, _ connectors.IngestReport) {
			if progress != nil {
				progress(base + n)
			}
		})
		if err != nil {
			return err
		}
		read = base + rep.Read
	}
	if progress != nil {
		progress(read)
	}
	return nil
}

// IngestFile ingests one file in chunks. The file's hash is saved with its
// last chunk, so a file is skipped once fully ingested and read again from
// the start after an interruption (responses already stored are
// duplicates, not new rows). With force, a file ingested before is read
// again (backfill).
func (s *Source) IngestFile(ctx context.Context, sink connectors.Sink, path string, force bool, progress Progress) (FileReport, error) {
	return s.ingestFile(ctx, sink, path, force, nil, progress)
}

func (s *Source) ingestFile(ctx context.Context, sink connectors.Sink, path string, force bool, keep func(time.Time) bool, progress Progress) (FileReport, error) {
	var rep FileReport
	sum, err := s.hash(path)
	if err != nil {
		return rep, err
	}
	stateName := "file:" + sum
	if !force {
		if _, seen, err := sink.State(ctx, stateName); err != nil {
			return rep, err
		} else if seen {
			rep.Skipped = true
			return rep, nil
		}
	}
	var (
		chunk   []survey.Response
		rejects []store.Rejected
	)
	flush := func(final bool) error {
		if len(rejects) > 0 {
			if err := sink.Reject(ctx, rejects); err != nil {
				return err
			}
			rejects = rejects[:0]
		}
		var state []store.SourceState
		// A file is remembered as ingested only when all of it was: a
		// backfill's window keeps part of it.
		if final && keep == nil {
			state = []store.SourceState{{Name: stateName, Value: filepath.Base(path) + " " + s.now().UTC().Format(time.RFC3339)}}
		}
		if len(chunk) == 0 && len(state) == 0 {
			return nil
		}
		r, err := sink.Ingest(ctx, chunk, state)
		if err != nil {
			return err
		}
		rep.Add(r)
		chunk = chunk[:0]
		if progress != nil {
			progress(rep.Read, rep.IngestReport)
		}
		return nil
	}
	now := s.now()
	err = ReadFile(ctx, path, s.cfg.Format, s.cfg.CSV, func(rec Record) error {
		rep.Read++
		if rec.Err == nil {
			r, err := s.x.Extract(s.name, rec.Fields, rec.Raw, now)
			switch {
			case errors.Is(err, connectors.ErrNotAccepted):
				return nil
			case err != nil:
				rec.Err = err
			case keep != nil && !keep(r.SubmittedAt):
				rep.OutOfWindow++
			default:
				chunk = append(chunk, r)
			}
		}
		if rec.Err != nil {
			rep.Rejected++
			payload := rec.Raw
			if payload == nil && rec.Fields != nil {
				// A CSV row has no JSON of its own: keep the object it
				// became, so that replay can ingest it once the cause is
				// fixed.
				payload, _ = json.Marshal(rec.Fields)
			}
			rejects = append(rejects, store.Rejected{Source: s.name, Ref: rec.Ref, Reason: rec.Err.Error(), Payload: payload, At: now})
		}
		if len(chunk) >= s.cfg.Chunk || len(rejects) >= s.cfg.Chunk {
			return flush(false)
		}
		return nil
	})
	if err != nil {
		return rep, fmt.Errorf("%s: %w", path, err)
	}
	if err := flush(true); err != nil {
		return rep, err
	}
	s.log.Info("file ingested", "file", path, "read", rep.Read, "inserted", rep.Inserted, "duplicates", rep.Duplicates, "rejected", rep.Rejected)
	return rep, nil
}

// Extractor returns the source's payload extractor, for preview.
func (s *Source) Extractor() *connectors.Extractor { return s.x }
