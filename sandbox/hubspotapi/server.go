package hubspotapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"
)

// maxBody bounds request bodies; HubSpot's own limit is not documented.
const maxBody = 10 << 20

// Server is an in-memory HubSpot CRM emulator. It is safe for concurrent use.
type Server struct {
	opts        Options
	now         func() time.Time
	burstLimit  int
	dailyLimit  int
	searchLimit int
	handler     http.Handler

	mu         sync.Mutex
	contacts   *store
	notes      *store
	usage      map[string]*usage
	seq        int64
	log        []*Entry
	violations []Violation
}

// New returns an emulator configured by opts.
func New(opts Options) *Server {
	s := &Server{
		opts:        opts,
		now:         opts.Now,
		burstLimit:  limitOrDefault(opts.RateLimit, DefaultRateLimit),
		dailyLimit:  limitOrDefault(opts.DailyLimit, DefaultDailyLimit),
		searchLimit: limitOrDefault(opts.SearchLimit, DefaultSearchLimit),
		usage:       map[string]*usage{},
	}
	if s.now == nil {
		s.now = time.Now
	}
	s.contacts = newStore("contacts", "CONTACT",
		newSchema(contactDefaults, opts.ContactProperties, "hs_object_id", "createdate", "lastmodifieddate"),
		1001, "createdate", "lastmodifieddate",
		"createdate", "email", "firstname", "hs_object_id", "lastmodifieddate", "lastname")
	s.notes = newStore("notes", "NOTE",
		newSchema(noteDefaults, opts.NoteProperties, "hs_object_id", "hs_createdate", "hs_lastmodifieddate"),
		5001, "hs_createdate", "hs_lastmodifieddate",
		"hs_createdate", "hs_lastmodifieddate", "hs_object_id")
	s.handler = s.buildHandler()
	return s
}

// Handler returns the HTTP handler serving the emulated API under /crm/.
func (s *Server) Handler() http.Handler { return s.handler }

// AddProperty makes a contact property known, for example
// AddProperty("survey_response_id", true) for a unique key to upsert on.
func (s *Server) AddProperty(name string, unique bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.contacts.addProperty(Property{Name: name, Unique: unique})
}

// AddNoteProperty makes a note property known, such as one holding a
// response key that a connector searches for.
func (s *Server) AddNoteProperty(name string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.notes.addProperty(Property{Name: name})
}

// buildHandler layers logging, authentication, rate limiting, validation
// and fault injection around the routes, outermost first.
func (s *Server) buildHandler() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST /crm/v3/objects/contacts", s.createContact)
	mux.HandleFunc("GET /crm/v3/objects/contacts", s.listObjects(s.contacts))
	mux.HandleFunc("GET /crm/v3/objects/contacts/{id}", s.getContact)
	mux.HandleFunc("PATCH /crm/v3/objects/contacts/{id}", s.updateContact)
	mux.HandleFunc("POST /crm/v3/objects/contacts/batch/create", s.batchCreate)
	mux.HandleFunc("POST /crm/v3/objects/contacts/batch/read", s.batchRead)
	mux.HandleFunc("POST /crm/v3/objects/contacts/batch/update", s.batchUpdate)
	mux.HandleFunc("POST /crm/v3/objects/contacts/batch/upsert", s.batchUpsert)
	mux.HandleFunc("POST /crm/v3/objects/contacts/search", s.search(s.contacts))
	mux.HandleFunc("POST /crm/v3/objects/notes", s.createNote)
	mux.HandleFunc("GET /crm/v3/objects/notes", s.listObjects(s.notes))
	mux.HandleFunc("GET /crm/v3/objects/notes/{id}", s.getNote)
	mux.HandleFunc("POST /crm/v3/objects/notes/search", s.search(s.notes))
	mux.HandleFunc("GET /crm/v3/properties/{objectType}", s.listProperties)
	mux.HandleFunc("GET /crm/v3/properties/{objectType}/{propertyName}", s.getProperty)
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		writeError(w, http.StatusNotFound, categoryNotFound,
			fmt.Sprintf("Unable to find a route for %s %s in the emulator", r.Method, r.URL.Path))
	})

	var h http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if _, direct := w.(*recorder); !direct {
			// The fault injector runs the request against a writer that
			// discards the answer: it is applied and then dropped.
			s.note(r, func(e *Entry) { e.Fault = FaultAppliedThenDropped })
		}
		mux.ServeHTTP(w, r)
	})
	if s.opts.Faults != nil {
		only := s.opts.FaultOnly
		if only == nil {
			only = isWrite
		}
		h = s.opts.Faults.Wrap(h, only, s.faultWriters())
	}
	h = s.validate(h)
	h = s.rateLimit(h)
	h = s.authenticate(h)
	return s.logRequests(h)
}

// readBody reads the request body, answering 400 itself when it cannot.
func readBody(w http.ResponseWriter, r *http.Request) ([]byte, bool) {
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			writeError(w, http.StatusRequestEntityTooLarge, categoryValidation, "request body is too large")
			return nil, false
		}
		writeError(w, http.StatusBadRequest, categoryValidation, "cannot read request body: "+err.Error())
		return nil, false
	}
	return body, true
}

// decodeBody decodes a JSON request body into v, answering 400 itself when
// the body is not valid JSON for v.
func decodeBody(w http.ResponseWriter, r *http.Request, v any) bool {
	body, ok := readBody(w, r)
	if !ok {
		return false
	}
	if err := json.Unmarshal(body, v); err != nil {
		writeError(w, http.StatusBadRequest, categoryValidation, "Invalid input JSON: "+err.Error())
		return false
	}
	return true
}
