// Package sheetsapi is a local emulator of the Google Sheets API v4 for
// tests, benchmarks and the sandbox: the real google.golang.org/api/sheets/v4
// client, pointed at it with option.WithEndpoint(url+"/"), gets the answers
// Google would give, including the errors, quotas and grid limits that
// decide whether rows are duplicated, misaligned or lost in production.
//
// It serves /v4/spreadsheets/... (and a test-only /token endpoint), keeps
// state in memory with an optional JSON snapshot, records every request in
// a log tests can inspect, and injects faults through sandbox/fault.
// See README.md for what it emulates and where it deviates.
package sheetsapi

import (
	"io"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/surveysync/surveysync/sandbox/fault"
)

// Options configures a Server. The zero value is a usable in-memory
// emulator with Google's default quotas and no faults.
type Options struct {
	// Quotas sets the per-minute limits; nil means DefaultQuotas(). Zero
	// fields of a non-nil value disable that limit.
	Quotas *Quotas
	// ProjectNumber appears in quota errors; default "123456789".
	ProjectNumber string
	// Now is the clock for quota windows and the request log; default time.Now.
	Now func() time.Time
	// Faults injects failures into requests; nil means an injector with no
	// faults, reachable through Server.Faults for tests to configure.
	Faults *fault.Injector
	// FaultReads applies faults to read requests too; by default only
	// write requests (every method but GET) get them.
	FaultReads bool
	// RequireAuth answers 401 to requests without a bearer token or
	// access_token parameter.
	RequireAuth bool
	// MaxCells is the workbook cell limit; default DefaultMaxCells.
	MaxCells int64
	// SavePath, when set, is a JSON snapshot loaded at start and saved
	// (atomically, mode 0600) after changes, at most every SaveInterval,
	// and on Close.
	SavePath string
	// SaveInterval bounds how often the snapshot is written; default 1s.
	SaveInterval time.Duration
	// ViewRowLimit caps the rows per tab that Tables returns, keeping the
	// last ones; default 1000, negative for no cap.
	ViewRowLimit int
	// Logger receives one debug line per request and any save errors;
	// default discards.
	Logger *slog.Logger
	// Seed makes generated spreadsheet and sheet ids repeatable; 0 is random.
	Seed uint64
}

// Server is the emulator. It is safe for concurrent use.
type Server struct {
	opts    Options
	now     func() time.Time
	logger  *slog.Logger
	faults  *fault.Injector
	quota   *quotas
	handler http.Handler

	mu      sync.RWMutex
	books   map[string]*spreadsheet
	order   []string // spreadsheet ids in creation order
	rnd     *rand.Rand
	revoked map[string]bool

	logMu sync.Mutex
	log   []*LogEntry
	seq   int64

	savePath string
	dirty    atomic.Bool
	wake     chan struct{}
	stop     chan struct{}
	saverWG  sync.WaitGroup
	closed   atomic.Bool
}

// New returns a Server. If Options.SavePath names a snapshot that cannot be
// read, the error is logged and the server starts empty with saving turned
// off, so the unreadable file is never overwritten; use Open to get the error.
func New(opts Options) *Server {
	s, err := Open(opts)
	if err != nil {
		path := opts.SavePath
		opts.SavePath = ""
		s, _ = Open(opts)
		s.logger.Error("sheets emulator: snapshot not loaded, saving disabled", "path", path, "err", err)
	}
	return s
}

// Open is New but returns an error when the snapshot at Options.SavePath
// exists and cannot be loaded.
func Open(opts Options) (*Server, error) {
	s := &Server{
		opts:    opts,
		now:     opts.Now,
		logger:  opts.Logger,
		faults:  opts.Faults,
		books:   map[string]*spreadsheet{},
		revoked: map[string]bool{},
		wake:    make(chan struct{}, 1),
		stop:    make(chan struct{}),
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.logger == nil {
		s.logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if s.faults == nil {
		s.faults = fault.New(fault.Config{})
	}
	if s.opts.ProjectNumber == "" {
		s.opts.ProjectNumber = "123456789"
	}
	if s.opts.MaxCells <= 0 {
		s.opts.MaxCells = DefaultMaxCells
	}
	if s.opts.SaveInterval <= 0 {
		s.opts.SaveInterval = time.Second
	}
	if s.opts.ViewRowLimit == 0 {
		s.opts.ViewRowLimit = 1000
	}
	limits := DefaultQuotas()
	if opts.Quotas != nil {
		limits = *opts.Quotas
	}
	s.quota = newQuotas(limits, s.now)
	seed := opts.Seed
	if seed == 0 {
		seed = rand.Uint64()
	}
	s.rnd = rand.New(rand.NewPCG(seed, seed^0x5eed))
	if opts.SavePath != "" {
		if err := s.load(opts.SavePath); err != nil {
			return nil, err
		}
		s.savePath = opts.SavePath
		s.saverWG.Add(1)
		go s.saver()
	}
	s.handler = s.buildHandler()
	return s, nil
}

// Handler serves /v4/ and /token. Mount it at the root of a listener, or
// use Register to add its paths to a shared mux.
func (s *Server) Handler() http.Handler { return s.handler }

// Register adds the emulator's paths, /v4/ and /token, to mux.
func (s *Server) Register(mux *http.ServeMux) {
	mux.Handle("/v4/", s.handler)
	mux.Handle("/token", s.handler)
}

// Faults returns the fault injector, to reconfigure faults while serving.
func (s *Server) Faults() *fault.Injector { return s.faults }

// SetQuotas replaces the quota limits and resets the counts.
func (s *Server) SetQuotas(q Quotas) { s.quota.set(q) }

// RevokeToken makes requests with this bearer token fail with 401, as after
// a user revokes access; RestoreToken undoes it.
func (s *Server) RevokeToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.revoked[token] = true
}

// RestoreToken undoes RevokeToken.
func (s *Server) RestoreToken(token string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.revoked, token)
}

// Close stops the background saver and writes a last snapshot if anything
// changed. It does not close listeners; the caller owns those.
func (s *Server) Close() error {
	if s.closed.Swap(true) {
		return nil
	}
	close(s.stop)
	s.saverWG.Wait()
	if s.savePath != "" && s.dirty.Load() {
		return s.Save()
	}
	return nil
}

// changed marks state as modified so the saver writes a snapshot.
func (s *Server) changed() {
	if s.savePath == "" {
		return
	}
	s.dirty.Store(true)
	select {
	case s.wake <- struct{}{}:
	default:
	}
}

// saver writes snapshots after changes, at most once per SaveInterval.
func (s *Server) saver() {
	defer s.saverWG.Done()
	for {
		select {
		case <-s.stop:
			return
		case <-s.wake:
		}
		select {
		case <-s.stop:
			return
		case <-time.After(s.opts.SaveInterval):
		}
		if s.dirty.Load() {
			if err := s.Save(); err != nil {
				s.logger.Error("sheets emulator: save snapshot", "path", s.savePath, "err", err)
			}
		}
	}
}
