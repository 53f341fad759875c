package zendeskapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"
)

// maxBody bounds request bodies.
const maxBody = 10 << 20

// Server is an in-memory Zendesk Support emulator. It is safe for
// concurrent use.
type Server struct {
	opts              Options
	now               func() time.Time
	accountLimit      int
	updateTicketLimit int
	ticketUpdateLimit int
	idempotencyTTL    time.Duration
	fields            map[int64]Field
	fieldIDs          []int64 // configuration order
	handler           http.Handler

	mu            sync.Mutex
	tickets       map[int64]*ticket
	ticketIDs     []int64 // creation order
	created       int     // tickets created through the API
	users         map[int64]*user
	userIDs       []int64
	agents        map[string]int64 // identity user → agent user id
	nextID        map[string]int64 // next id per record kind
	idempotency   map[string]*idempotent
	jobs          map[string]*job
	jobOrder      []string // creation order
	account       minuteCounter
	updateTicket  minuteCounter
	ticketUpdates map[ticketUser][]time.Time
	seq           int64
	log           []*Entry
}

// New returns an emulator configured by opts, with opts.Tickets seeded.
func New(opts Options) *Server {
	s := &Server{
		opts:              opts,
		now:               opts.Now,
		accountLimit:      limitOrDefault(opts.RateLimit, DefaultRateLimit),
		updateTicketLimit: limitOrDefault(opts.UpdateTicketLimit, DefaultUpdateTicketLimit),
		ticketUpdateLimit: limitOrDefault(opts.TicketUpdateLimit, DefaultTicketUpdateLimit),
		idempotencyTTL:    opts.IdempotencyTTL,
		fields:            map[int64]Field{},
		tickets:           map[int64]*ticket{},
		users:             map[int64]*user{},
		agents:            map[string]int64{},
		nextID:            map[string]int64{"ticket": 1, "user": 90001, "comment": 500001, "audit": 700001},
		idempotency:       map[string]*idempotent{},
		jobs:              map[string]*job{},
		ticketUpdates:     map[ticketUser][]time.Time{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	if s.idempotencyTTL <= 0 {
		s.idempotencyTTL = DefaultIdempotencyTTL
	}
	for _, f := range opts.Fields {
		if _, dup := s.fields[f.ID]; !dup {
			s.fieldIDs = append(s.fieldIDs, f.ID)
		}
		s.fields[f.ID] = f
	}
	for _, t := range opts.Tickets {
		s.AddTicket(t)
	}
	s.handler = s.buildHandler()
	return s
}

// Handler returns the HTTP handler serving the emulated API under /api/v2/.
func (s *Server) Handler() http.Handler { return s.handler }

// newID hands out the next id of a record kind; the caller holds s.mu.
func (s *Server) newID(kind string) int64 {
	id := s.nextID[kind]
	s.nextID[kind]++
	return id
}

// route is one emulated endpoint.
type route struct {
	method, path string
	handler      http.HandlerFunc
}

// routes lists the emulated endpoints; paths are given without ".json".
func (s *Server) routes() []route {
	return []route{
		{http.MethodGet, "/api/v2/tickets", s.listTickets},
		{http.MethodPost, "/api/v2/tickets", s.createTicket},
		{http.MethodGet, "/api/v2/tickets/{id}", s.showTicket},
		{http.MethodPut, "/api/v2/tickets/{id}", s.updateTicketHandler},
		{http.MethodGet, "/api/v2/tickets/{id}/comments", s.listComments},
		{http.MethodPut, "/api/v2/tickets/update_many", s.updateMany},
		{http.MethodGet, "/api/v2/job_statuses/{id}", s.showJob},
		{http.MethodPost, "/api/v2/users/create_or_update", s.createOrUpdateUser},
		{http.MethodPost, "/api/v2/tickets/{id}/satisfaction_rating", s.rateTicket},
		{http.MethodGet, "/api/v2/ticket_fields", s.listTicketFields},
	}
}

// buildHandler layers logging, authentication, the account rate limit and
// fault injection around the routes, outermost first.
func (s *Server) buildHandler() http.Handler {
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		mux.HandleFunc(rt.method+" "+rt.path, rt.handler)
	}
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		errorReply(http.StatusNotFound, "InvalidEndpoint", "Not found").write(w)
	})

	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, direct := w.(*recorder); !direct {
			// The fault injector runs the request against a writer that
			// discards the answer: it is applied and then dropped.
			s.note(r, func(e *Entry) { e.Fault = FaultAppliedThenDropped })
		}
		s.mu.Lock()
		s.runDueJobs()
		s.mu.Unlock()
		mux.ServeHTTP(w, withoutJSONSuffix(r))
	})
	if s.opts.Faults != nil {
		only := s.opts.FaultOnly
		if only == nil {
			only = func(r *http.Request) bool { return r.Method != http.MethodGet && r.Method != http.MethodHead }
		}
		h = s.opts.Faults.Wrap(h, only, s.faultWriters())
	}
	h = s.rateLimit(h)
	h = s.authenticate(h)
	return s.logRequests(h)
}

// withoutJSONSuffix routes /api/v2/tickets.json like /api/v2/tickets.
func withoutJSONSuffix(r *http.Request) *http.Request {
	path, found := strings.CutSuffix(r.URL.Path, ".json")
	if !found {
		return r
	}
	r2 := new(http.Request)
	*r2 = *r
	u := *r.URL
	u.Path, u.RawPath = path, ""
	r2.URL = &u
	return r2
}

// readBody reads a request body, or returns the answer to give instead.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, reply, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			return nil, errorReply(http.StatusRequestEntityTooLarge, "RequestTooLarge", "request body is too large"), false
		}
		return nil, errorReply(http.StatusBadRequest, "InvalidRequest", "cannot read request body: "+err.Error()), false
	}
	return body, reply{}, true
}

// decodeBody reads and decodes a JSON request body into v.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) ([]byte, reply, bool) {
	body, rp, ok := readBody(w, r)
	if !ok {
		return nil, rp, false
	}
	if err := json.Unmarshal(body, v); err != nil {
		return nil, badJSON(err), false
	}
	return body, reply{}, true
}

// pathID parses the {id} path segment.
func pathID(r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	return id, err == nil && id > 0
}

// baseURL is the emulator's own address as the client reached it.
func baseURL(r *http.Request) string {
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

// zdTime formats t as Zendesk does.
func zdTime(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// seqOf returns the log sequence number of r.
func seqOf(r *http.Request) int64 {
	if e := entryFrom(r); e != nil {
		return e.Seq
	}
	return 0
}

// agentFor returns the agent user behind a request, creating it on first
// use; the caller holds s.mu.
func (s *Server) agentFor(r *http.Request) *user {
	id, _ := identify(r)
	if uid, ok := s.agents[id.user]; ok {
		return s.users[uid]
	}
	name, email := "OAuth agent", ""
	if !id.bearer {
		name, email = id.user, id.user
	}
	u := s.addUser(name, email, "", "agent")
	s.agents[id.user] = u.id
	return u
}

// ticketURL is the API address of a ticket.
func ticketURL(base string, id int64) string {
	return fmt.Sprintf("%s/api/v2/tickets/%d.json", base, id)
}
