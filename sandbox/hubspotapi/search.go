package hubspotapi

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"
)

// searchRequest is PublicObjectSearchRequest.
type searchRequest struct {
	FilterGroups []struct {
		Filters []filter `json:"filters"`
	} `json:"filterGroups"`
	Properties []string          `json:"properties"`
	Sorts      []json.RawMessage `json:"sorts"`
	Limit      int               `json:"limit"`
	After      flexID            `json:"after"`
	Query      string            `json:"query"`
}

// filter is one search condition.
type filter struct {
	PropertyName string   `json:"propertyName"`
	Operator     string   `json:"operator"`
	Value        flexID   `json:"value"`
	HighValue    flexID   `json:"highValue"`
	Values       []flexID `json:"values"`
}

// associatedContact is the pseudo-property that filters notes by the
// contacts they are associated with.
const associatedContact = "associations.contact"

var operators = []string{"EQ", "NEQ", "LT", "LTE", "GT", "GTE", "BETWEEN", "IN", "NOT_IN",
	"HAS_PROPERTY", "NOT_HAS_PROPERTY", "CONTAINS_TOKEN", "NOT_CONTAINS_TOKEN"}

// search serves POST /crm/v3/objects/{type}/search: filter groups are ORed,
// the filters of a group ANDed. Writes become visible after SearchDelay.
func (s *Server) search(st *store) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var req searchRequest
		if !decodeBody(w, r, &req) {
			return
		}
		s.searchLocked(st, req).write(w)
	}
}

func (s *Server) searchLocked(st *store, req searchRequest) reply {
	s.mu.Lock()
	defer s.mu.Unlock()
	if msg := s.checkSearch(st, req); msg != "" {
		return fail(http.StatusBadRequest, categoryValidation, msg)
	}
	limit := cmp.Or(req.Limit, 10)
	start := 0
	if req.After != "" {
		n, err := strconv.Atoi(string(req.After))
		if err != nil || n < 0 {
			return fail(http.StatusBadRequest, categoryValidation, "after must be a paging cursor from a previous page")
		}
		start = n
	}

	type hit struct {
		o     *object
		props map[string]string
	}
	now := s.now()
	var hits []hit
	for _, id := range st.ids {
		o := st.objects[id]
		props, contacts, indexed := st.searchable(o, now, s.opts.SearchDelay)
		if indexed && matches(req, st, props, contacts) {
			hits = append(hits, hit{o, props})
		}
	}
	sorts := parseSorts(req.Sorts)
	slices.SortStableFunc(hits, func(a, b hit) int {
		for _, so := range sorts {
			if c := compareValues(a.props[so.prop], b.props[so.prop]); c != 0 {
				if so.desc {
					return -c
				}
				return c
			}
		}
		return cmp.Compare(a.o.id, b.o.id)
	})

	total := len(hits)
	page := listPage{Total: &total, Results: []publicObject{}}
	for i := start; i < len(hits) && len(page.Results) < limit; i++ {
		page.Results = append(page.Results, st.render(hits[i].o, hits[i].props, req.Properties, nil))
	}
	if end := start + limit; end < len(hits) {
		page.Paging = &paging{Next: nextPage{After: strconv.Itoa(end)}}
	}
	return ok(http.StatusOK, page)
}

// checkSearch returns what is wrong with a search request, or "".
func (s *Server) checkSearch(st *store, req searchRequest) string {
	if req.Limit < 0 || req.Limit > 200 {
		return fmt.Sprintf("limit %d is out of range: at most 200 results per page", req.Limit)
	}
	if len(req.FilterGroups) > 6 {
		return "a search accepts at most 6 filter groups"
	}
	for _, g := range req.FilterGroups {
		if len(g.Filters) > 6 {
			return "a filter group accepts at most 6 filters"
		}
		for _, f := range g.Filters {
			if !slices.Contains(operators, f.Operator) {
				return fmt.Sprintf("unknown filter operator %q", f.Operator)
			}
			if !st.searchableProperty(f.PropertyName) {
				return fmt.Sprintf("Property %q does not exist on %s", f.PropertyName, st.kind)
			}
		}
	}
	return ""
}

// searchableProperty reports whether name can be filtered or sorted on.
func (st *store) searchableProperty(name string) bool {
	if _, ok := st.schema.props[name]; ok || st.schema.readOnly[name] {
		return true
	}
	return name == associatedContact && st.kind == "notes"
}

// matches reports whether an object's indexed state satisfies the request.
func matches(req searchRequest, st *store, props map[string]string, contacts []int64) bool {
	if req.Query != "" && !matchesQuery(st, props, req.Query) {
		return false
	}
	if len(req.FilterGroups) == 0 {
		return true
	}
	for _, g := range req.FilterGroups {
		all := true
		for _, f := range g.Filters {
			if !matchFilter(f, props, contacts) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// matchesQuery is the free-text query: a case-insensitive substring of a
// text property.
func matchesQuery(st *store, props map[string]string, q string) bool {
	q = strings.ToLower(q)
	for name := range st.schema.props {
		if strings.Contains(strings.ToLower(props[name]), q) {
			return true
		}
	}
	return false
}

// matchFilter applies one filter to an object's properties.
func matchFilter(f filter, props map[string]string, contacts []int64) bool {
	var values []string
	if f.PropertyName == associatedContact {
		for _, id := range contacts {
			values = append(values, strconv.FormatInt(id, 10))
		}
	} else if v := props[f.PropertyName]; v != "" {
		values = []string{v}
	}
	anyValue := func(pred func(string) bool) bool { return slices.ContainsFunc(values, pred) }
	eq := func(v string) bool { return strings.EqualFold(v, string(f.Value)) }
	in := func(v string) bool {
		return slices.ContainsFunc(f.Values, func(x flexID) bool { return strings.EqualFold(v, string(x)) })
	}
	switch f.Operator {
	case "EQ":
		return anyValue(eq)
	case "NEQ":
		return !anyValue(eq)
	case "IN":
		return anyValue(in)
	case "NOT_IN":
		return !anyValue(in)
	case "HAS_PROPERTY":
		return len(values) > 0
	case "NOT_HAS_PROPERTY":
		return len(values) == 0
	case "CONTAINS_TOKEN":
		return anyValue(func(v string) bool { return containsToken(v, string(f.Value)) })
	case "NOT_CONTAINS_TOKEN":
		return !anyValue(func(v string) bool { return containsToken(v, string(f.Value)) })
	case "LT":
		return anyValue(func(v string) bool { return compareValues(v, string(f.Value)) < 0 })
	case "LTE":
		return anyValue(func(v string) bool { return compareValues(v, string(f.Value)) <= 0 })
	case "GT":
		return anyValue(func(v string) bool { return compareValues(v, string(f.Value)) > 0 })
	case "GTE":
		return anyValue(func(v string) bool { return compareValues(v, string(f.Value)) >= 0 })
	case "BETWEEN":
		return anyValue(func(v string) bool {
			return compareValues(v, string(f.Value)) >= 0 && compareValues(v, string(f.HighValue)) <= 0
		})
	}
	return false
}

// tokens splits text into lowercase words at every rune that is neither a
// letter nor a digit (except '*', kept for wildcards).
func tokens(text string) []string {
	return strings.FieldsFunc(strings.ToLower(text), func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r) && r != '*'
	})
}

// containsToken reports whether the words of value appear in text in a row.
// A word may use '*' as a wildcard, as in "resp*".
func containsToken(text, value string) bool {
	have, want := tokens(text), tokens(value)
	if len(want) == 0 {
		return false
	}
	for i := 0; i+len(want) <= len(have); i++ {
		all := true
		for j, w := range want {
			if !tokenMatch(have[i+j], w) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// tokenMatch matches one word against a pattern that may hold '*'.
func tokenMatch(word, pattern string) bool {
	parts := strings.Split(pattern, "*")
	if len(parts) == 1 {
		return word == pattern
	}
	if !strings.HasPrefix(word, parts[0]) {
		return false
	}
	word = word[len(parts[0]):]
	for _, p := range parts[1 : len(parts)-1] {
		i := strings.Index(word, p)
		if i < 0 {
			return false
		}
		word = word[i+len(p):]
	}
	return strings.HasSuffix(word, parts[len(parts)-1])
}

// compareValues orders two property values: as numbers when both are
// numbers or date-times (ISO or epoch milliseconds), otherwise as text
// ignoring case.
func compareValues(a, b string) int {
	fa, okA := numeric(a)
	fb, okB := numeric(b)
	if okA && okB {
		return cmp.Compare(fa, fb)
	}
	return cmp.Compare(strings.ToLower(a), strings.ToLower(b))
}

func numeric(v string) (float64, bool) {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		return f, true
	}
	if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
		return float64(t.UnixMilli()), true
	}
	return 0, false
}

// sortKey is one parsed sort.
type sortKey struct {
	prop string
	desc bool
}

// parseSorts accepts "prop", "-prop" and {propertyName, direction}.
func parseSorts(raw []json.RawMessage) []sortKey {
	var out []sortKey
	for _, r := range raw {
		var name string
		if json.Unmarshal(r, &name) == nil {
			desc := strings.HasPrefix(name, "-")
			out = append(out, sortKey{strings.TrimPrefix(name, "-"), desc})
			continue
		}
		var obj struct {
			PropertyName string `json:"propertyName"`
			Direction    string `json:"direction"`
		}
		if json.Unmarshal(r, &obj) == nil && obj.PropertyName != "" {
			out = append(out, sortKey{obj.PropertyName, strings.EqualFold(obj.Direction, "DESCENDING")})
		}
	}
	return out
}
