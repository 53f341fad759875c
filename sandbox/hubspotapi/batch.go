package hubspotapi

import (
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
)

// batchRequest is the body of the batch endpoints.
type batchRequest struct {
	Inputs                []objectInput `json:"inputs"`
	IDProperty            string        `json:"idProperty"`
	Properties            []string      `json:"properties"`
	PropertiesWithHistory []string      `json:"propertiesWithHistory"`
}

// batchResponse is BatchResponseSimplePublicObject and its WithErrors and
// upsert variants.
type batchResponse struct {
	Status      string          `json:"status"`
	Results     []publicObject  `json:"results"`
	NumErrors   int             `json:"numErrors,omitempty"`
	Errors      []standardError `json:"errors,omitempty"`
	StartedAt   string          `json:"startedAt"`
	CompletedAt string          `json:"completedAt"`
}

// standardError is one failed input of a batch.
type standardError struct {
	Status   string              `json:"status"`
	Category string              `json:"category"`
	Message  string              `json:"message"`
	Context  map[string][]string `json:"context"`
	Errors   []errorDetail       `json:"errors"`
	Links    map[string]string   `json:"links"`
}

// itemError builds the error of one batch input; its context names the
// input by id and objectWriteTraceId.
func itemError(in objectInput, category, message string, details []errorDetail) standardError {
	ctx := map[string][]string{}
	if in.ID != "" {
		ctx["ids"] = []string{in.ID}
	}
	if in.ObjectWriteTraceID != "" {
		ctx["objectWriteTraceId"] = []string{in.ObjectWriteTraceID}
	}
	if details == nil {
		details = []errorDetail{}
	}
	return standardError{
		Status:   "error",
		Category: category,
		Message:  message,
		Context:  ctx,
		Errors:   details,
		Links:    map[string]string{},
	}
}

// notFoundMessage is HubSpot's text for batch inputs naming no object.
func notFoundMessage(st *store) string {
	return fmt.Sprintf("Could not get some %s objects, they may be deleted or not exist. Check that ids are valid.", st.objectType)
}

// tooMany answers a batch with more than MaxBatchInputs inputs.
func tooMany(n, limit int) reply {
	return fail(http.StatusBadRequest, categoryValidation,
		fmt.Sprintf("Too many inputs: %d. A batch accepts at most %d inputs.", n, limit))
}

// duplicates answers a batch that names the same object twice (by the same
// id, by ids differing in case where matching ignores case, or by two
// properties of one stored object), or reports false when every input
// names a different one.
func duplicates(st *store, inputs []objectInput, defaultProp string) (reply, bool) {
	seen := map[string]bool{}
	var dups []string
	for _, in := range inputs {
		prop := cmpOr(in.IDProperty, defaultProp)
		key := prop + "\x00" + normalize(prop, in.ID)
		if st.isIDProperty(prop) {
			if o := st.lookup(prop, in.ID); o != nil {
				key = "object\x00" + strconv.FormatInt(o.id, 10)
			}
		}
		if seen[key] && !slices.Contains(dups, in.ID) {
			dups = append(dups, in.ID)
		}
		seen[key] = true
	}
	if len(dups) == 0 {
		return reply{}, false
	}
	return fail(http.StatusBadRequest, categoryValidation,
		fmt.Sprintf("Duplicate IDs found in batch input: [%s]. IDs must be unique", strings.Join(dups, ", "))), true
}

func cmpOr(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// finish answers a batch: 200 when every input succeeded, 207 when some
// failed, and okAllFailed or 400 when all of them failed.
func (s *Server) finish(started string, results []publicObject, errs []standardError, success, allFailed int) reply {
	resp := batchResponse{
		Status:      "COMPLETE",
		Results:     results,
		StartedAt:   started,
		CompletedAt: hsTime(s.now()),
	}
	switch {
	case len(errs) == 0:
		return ok(success, resp)
	case len(results) > 0 || allFailed == http.StatusMultiStatus:
		resp.Errors, resp.NumErrors = errs, len(errs)
		return ok(http.StatusMultiStatus, resp)
	}
	details := make([]errorDetail, len(errs))
	var ids []string
	for i, e := range errs {
		details[i] = errorDetail{Message: e.Message, Code: e.Category, Context: e.Context}
		ids = append(ids, e.Context["ids"]...)
	}
	body := apiError{
		Status:        "error",
		Message:       fmt.Sprintf("All %d inputs were invalid; first: %s", len(errs), errs[0].Message),
		CorrelationID: newID(),
		Category:      categoryValidation,
		Errors:        details,
	}
	if len(ids) > 0 {
		body.Context = map[string][]string{"ids": ids}
	}
	return ok(http.StatusBadRequest, body)
}

// batchUpsert serves POST /crm/v3/objects/contacts/batch/upsert: each input
// names a contact by a unique idProperty and is created or updated.
// Invalid inputs fail alone (207); the valid ones are applied.
func (s *Server) batchUpsert(w http.ResponseWriter, r *http.Request) {
	var req batchRequest
	if !decodeBody(w, r, &req) {
		return
	}
	s.batchUpsertLocked(r, req).write(w)
}

func (s *Server) batchUpsertLocked(r *http.Request, req batchRequest) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	noteLocked(r, func(e *Entry) { e.Inputs = len(req.Inputs) })
	st := s.contacts
	if len(req.Inputs) > MaxBatchInputs {
		return tooMany(len(req.Inputs), MaxBatchInputs)
	}
	if rp, dup := duplicates(st, req.Inputs, "hs_object_id"); dup {
		return rp
	}
	now, seq := s.now(), s.seqOf(r)
	started := hsTime(now)
	results := []publicObject{}
	var errs []standardError
	for _, in := range req.Inputs {
		idProp := cmpOr(in.IDProperty, "hs_object_id")
		vals, perrs := st.schema.check(in.Properties)
		switch {
		case !st.isIDProperty(idProp):
			errs = append(errs, itemError(in, categoryValidation,
				fmt.Sprintf("Property %q is not a unique identifier property for contacts", idProp), nil))
			continue
		case in.ID == "":
			errs = append(errs, itemError(in, categoryValidation, "Input has no id", nil))
			continue
		case len(perrs) > 0:
			errs = append(errs, itemError(in, categoryValidation, propMessage(perrs), propDetails(perrs)))
			continue
		case idProp == "email" && !validEmail(normalize("email", in.ID)):
			perrs = []propError{{"email", codeInvalidEmail, fmt.Sprintf("Email address %s is invalid", in.ID)}}
			errs = append(errs, itemError(in, categoryValidation, propMessage(perrs), propDetails(perrs)))
			continue
		}
		if v, set := vals[idProp]; set && normalize(idProp, v) != normalize(idProp, in.ID) {
			errs = append(errs, itemError(in, categoryValidation,
				fmt.Sprintf("Property %q in properties (%q) differs from the input id %q", idProp, v, in.ID), nil))
			continue
		}
		o := st.lookup(idProp, in.ID)
		if o == nil {
			if idProp == "hs_object_id" {
				errs = append(errs, itemError(in, categoryNotFound, notFoundMessage(st), nil))
				continue
			}
			vals[idProp] = normalize(idProp, in.ID)
		}
		if prop, id := st.conflict(o, vals); prop != "" {
			errs = append(errs, itemError(in, categoryConflict, conflictMessage(prop, vals[prop], id), nil))
			continue
		}
		created := o == nil
		if created {
			o = st.create(vals, now, seq, s.opts.SearchDelay > 0)
		} else {
			st.set(o, vals, now, seq, s.opts.SearchDelay > 0)
		}
		p := st.public(o, st.writeNames(vals), nil)
		p.New = &created
		p.ObjectWriteTraceID = in.ObjectWriteTraceID
		results = append(results, p)
	}
	if len(results) > 0 {
		noteLocked(r, func(e *Entry) { e.Applied = true })
	}
	return s.finish(started, results, errs, http.StatusOK, http.StatusBadRequest)
}

// batchUpdate serves POST /crm/v3/objects/contacts/batch/update: each input
// names an existing contact by id or idProperty.
func (s *Server) batchUpdate(w http.ResponseWriter, r *http.Request) {
	var req batchRequest
	if !decodeBody(w, r, &req) {
		return
	}
	s.batchUpdateLocked(r, req).write(w)
}

func (s *Server) batchUpdateLocked(r *http.Request, req batchRequest) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	noteLocked(r, func(e *Entry) { e.Inputs = len(req.Inputs) })
	st := s.contacts
	if len(req.Inputs) > MaxBatchInputs {
		return tooMany(len(req.Inputs), MaxBatchInputs)
	}
	if rp, dup := duplicates(st, req.Inputs, "hs_object_id"); dup {
		return rp
	}
	now, seq := s.now(), s.seqOf(r)
	started := hsTime(now)
	results := []publicObject{}
	var errs []standardError
	for _, in := range req.Inputs {
		idProp := cmpOr(in.IDProperty, "hs_object_id")
		if !st.isIDProperty(idProp) {
			errs = append(errs, itemError(in, categoryValidation,
				fmt.Sprintf("Property %q is not a unique identifier property for contacts", idProp), nil))
			continue
		}
		vals, perrs := st.schema.check(in.Properties)
		if len(perrs) > 0 {
			errs = append(errs, itemError(in, categoryValidation, propMessage(perrs), propDetails(perrs)))
			continue
		}
		o := st.lookup(idProp, in.ID)
		if o == nil {
			errs = append(errs, itemError(in, categoryNotFound, notFoundMessage(st), nil))
			continue
		}
		if prop, id := st.conflict(o, vals); prop != "" {
			errs = append(errs, itemError(in, categoryConflict, conflictMessage(prop, vals[prop], id), nil))
			continue
		}
		st.set(o, vals, now, seq, s.opts.SearchDelay > 0)
		p := st.public(o, st.writeNames(vals), nil)
		p.ObjectWriteTraceID = in.ObjectWriteTraceID
		results = append(results, p)
	}
	if len(results) > 0 {
		noteLocked(r, func(e *Entry) { e.Applied = true })
	}
	return s.finish(started, results, errs, http.StatusOK, http.StatusBadRequest)
}

// batchCreate serves POST /crm/v3/objects/contacts/batch/create. It is all
// or nothing: an invalid input fails the batch with 400, a contact that
// already exists (or two inputs with one email) with 409.
func (s *Server) batchCreate(w http.ResponseWriter, r *http.Request) {
	var req batchRequest
	if !decodeBody(w, r, &req) {
		return
	}
	s.batchCreateLocked(r, req).write(w)
}

func (s *Server) batchCreateLocked(r *http.Request, req batchRequest) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	noteLocked(r, func(e *Entry) { e.Inputs = len(req.Inputs) })
	st := s.contacts
	if len(req.Inputs) > MaxBatchInputs {
		return tooMany(len(req.Inputs), MaxBatchInputs)
	}
	all := make([]map[string]string, len(req.Inputs))
	var details []errorDetail
	var first []propError
	for i, in := range req.Inputs {
		vals, perrs := st.schema.check(in.Properties)
		all[i] = vals
		if first == nil {
			first = perrs
		}
		for _, d := range propDetails(perrs) {
			d.Context["inputIndex"] = []string{strconv.Itoa(i)}
			if in.ObjectWriteTraceID != "" {
				d.Context["objectWriteTraceId"] = []string{in.ObjectWriteTraceID}
			}
			details = append(details, d)
		}
	}
	if len(details) > 0 {
		return fail(http.StatusBadRequest, categoryValidation, propMessage(first), details...)
	}
	inBatch := map[string]bool{}
	for _, vals := range all {
		if prop, id := st.conflict(nil, vals); prop != "" {
			return fail(http.StatusConflict, categoryConflict, conflictMessage(prop, vals[prop], id))
		}
		for prop := range st.unique {
			if v := vals[prop]; v != "" {
				key := prop + "\x00" + normalize(prop, v)
				if inBatch[key] {
					return fail(http.StatusConflict, categoryConflict,
						fmt.Sprintf("Two inputs of the batch share the value %q of the unique property %q", v, prop))
				}
				inBatch[key] = true
			}
		}
	}
	now, seq := s.now(), s.seqOf(r)
	started := hsTime(now)
	results := make([]publicObject, 0, len(all))
	for i, vals := range all {
		o := st.create(vals, now, seq, s.opts.SearchDelay > 0)
		p := st.public(o, st.writeNames(vals), nil)
		p.ObjectWriteTraceID = req.Inputs[i].ObjectWriteTraceID
		results = append(results, p)
	}
	if len(results) > 0 {
		noteLocked(r, func(e *Entry) { e.Applied = true })
	}
	return s.finish(started, results, nil, http.StatusCreated, http.StatusBadRequest)
}

// batchRead serves POST /crm/v3/objects/contacts/batch/read. Ids that name
// no contact are listed in one OBJECT_NOT_FOUND error (207).
func (s *Server) batchRead(w http.ResponseWriter, r *http.Request) {
	var req batchRequest
	if !decodeBody(w, r, &req) {
		return
	}
	s.batchReadLocked(r, req).write(w)
}

func (s *Server) batchReadLocked(r *http.Request, req batchRequest) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	noteLocked(r, func(e *Entry) { e.Inputs = len(req.Inputs) })
	st := s.contacts
	limit := MaxBatchInputs
	if len(req.PropertiesWithHistory) > 0 {
		limit = 50
	}
	if len(req.Inputs) > limit {
		return tooMany(len(req.Inputs), limit)
	}
	idProp := cmpOr(req.IDProperty, "hs_object_id")
	if !st.isIDProperty(idProp) {
		return fail(http.StatusBadRequest, categoryValidation,
			fmt.Sprintf("Property %q is not a unique identifier property for contacts", idProp))
	}
	started := hsTime(s.now())
	results := []publicObject{}
	var missing []string
	for _, in := range req.Inputs {
		o := st.lookup(idProp, in.ID)
		if o == nil {
			missing = append(missing, in.ID)
			continue
		}
		results = append(results, st.public(o, req.Properties, req.PropertiesWithHistory))
	}
	var errs []standardError
	if len(missing) > 0 {
		e := itemError(objectInput{}, categoryNotFound, notFoundMessage(st), nil)
		e.Context["ids"] = missing
		errs = append(errs, e)
	}
	return s.finish(started, results, errs, http.StatusOK, http.StatusMultiStatus)
}
