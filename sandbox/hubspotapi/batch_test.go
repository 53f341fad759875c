package hubspotapi

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// batchBody is the part of a batch answer tests look at.
type batchBody struct {
	Status    string          `json:"status"`
	Results   []publicObject  `json:"results"`
	NumErrors int             `json:"numErrors"`
	Errors    []standardError `json:"errors"`
}

const upsertPath = "/crm/v3/objects/contacts/batch/upsert"

func TestBatchUpsertPartial(t *testing.T) {
	t.Parallel()
	s, ts := start(t, Options{ContactProperties: []Property{{Name: "last_csat"}}})

	// Three contacts exist before the batch.
	for i := range 3 {
		wantStatus(t, call(t, ts, http.MethodPost, "/crm/v3/objects/contacts", testToken,
			map[string]any{"properties": map[string]string{"email": fmt.Sprintf("user%d@example.com", i)}}), http.StatusCreated)
	}

	// 100 inputs; 7 of them are invalid in different ways.
	invalid := map[int]map[string]any{
		10: upsertInput("user10@example.com", map[string]any{"shoe_size": "42"}),
		20: upsertInput("user20@example.com", map[string]any{"last_csat": 5}),
		30: upsertInput("not-an-email", map[string]any{"last_csat": "4"}),
		40: {"id": "user40@example.com", "idProperty": "firstname", "properties": map[string]any{"last_csat": "4"}},
		50: upsertInput("user50@example.com", map[string]any{"hs_object_id": "1"}),
		60: upsertInput("user60@example.com", map[string]any{"last_csat": true}),
		70: {"id": "424242", "properties": map[string]any{"last_csat": "1"}}, // hs_object_id that does not exist
	}
	var inputs []map[string]any
	var wantFailed []string
	for i := range 100 {
		if in, bad := invalid[i]; bad {
			inputs = append(inputs, in)
			wantFailed = append(wantFailed, in["id"].(string))
			continue
		}
		inputs = append(inputs, upsertInput(fmt.Sprintf("User%d@Example.com", i), map[string]any{"last_csat": "5"}))
	}

	r := call(t, ts, http.MethodPost, upsertPath, testToken, map[string]any{"inputs": inputs})
	wantStatus(t, r, http.StatusMultiStatus)
	body := decode[batchBody](t, r)
	if len(body.Results) != 93 || body.NumErrors != 7 || len(body.Errors) != 7 {
		t.Fatalf("results %d, numErrors %d, errors %d; want 93, 7, 7", len(body.Results), body.NumErrors, len(body.Errors))
	}
	var failed []string
	for _, e := range body.Errors {
		if len(e.Context["ids"]) != 1 || e.Status != "error" || e.Message == "" {
			t.Fatalf("error does not name its input: %+v", e)
		}
		failed = append(failed, e.Context["ids"][0])
	}
	slices.Sort(failed)
	slices.Sort(wantFailed)
	if diff := cmp.Diff(wantFailed, failed); diff != "" {
		t.Fatalf("failed inputs (-want +got):\n%s", diff)
	}
	newCount := 0
	for _, res := range body.Results {
		if res.New == nil {
			t.Fatalf("result without new: %+v", res)
		}
		if *res.New {
			newCount++
		}
	}
	if newCount != 90 { // 93 applied, 3 of which existed
		t.Fatalf("%d results are new, want 90", newCount)
	}
	contacts := s.Contacts()
	if len(contacts) != 93 {
		t.Fatalf("%d contacts stored, want 93", len(contacts))
	}
	for _, c := range contacts {
		if c.Properties["last_csat"] != "5" || c.Properties["email"] != strings.ToLower(c.Properties["email"]) {
			t.Fatalf("contact %+v", c)
		}
	}
	log := s.Log()
	if last := log[len(log)-1]; last.Inputs != 100 || !last.Applied || last.Status != http.StatusMultiStatus {
		t.Fatalf("log entry %+v", last)
	}
}

func TestBatchUpsert(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		inputs     []map[string]any
		wantStatus int
		wantNew    []bool
		wantStored int
	}{
		{
			name:       "creates then updates",
			inputs:     []map[string]any{upsertInput("ann@example.com", map[string]any{"last_csat": "4"}), upsertInput("old@example.com", map[string]any{"last_csat": "2"})},
			wantStatus: http.StatusOK,
			wantNew:    []bool{true, false},
			wantStored: 2,
		},
		{
			name: "same email twice in one batch, different case",
			inputs: []map[string]any{
				upsertInput("ann@example.com", map[string]any{"last_csat": "4"}),
				upsertInput("ANN@example.com", map[string]any{"last_csat": "5"}),
			},
			wantStatus: http.StatusBadRequest,
			wantStored: 1,
		},
		{
			name:       "all invalid",
			inputs:     []map[string]any{upsertInput("x@example.com", map[string]any{"nope": "1"}), upsertInput("bad", nil)},
			wantStatus: http.StatusBadRequest,
			wantStored: 1,
		},
		{
			name: "unique custom property",
			inputs: []map[string]any{
				{"id": "resp-1", "idProperty": "survey_response_id", "properties": map[string]any{"last_csat": "3"}},
			},
			wantStatus: http.StatusOK,
			wantNew:    []bool{true},
			wantStored: 2,
		},
		{
			name:       "empty batch",
			inputs:     []map[string]any{},
			wantStatus: http.StatusOK,
			wantStored: 1,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := start(t, Options{ContactProperties: []Property{{Name: "last_csat"}, {Name: "survey_response_id", Unique: true}}})
			wantStatus(t, call(t, ts, http.MethodPost, "/crm/v3/objects/contacts", testToken,
				`{"properties":{"email":"old@example.com"}}`), http.StatusCreated)
			r := call(t, ts, http.MethodPost, upsertPath, testToken, map[string]any{"inputs": tt.inputs})
			wantStatus(t, r, tt.wantStatus)
			if tt.wantStatus == http.StatusOK {
				var gotNew []bool
				for _, res := range decode[batchBody](t, r).Results {
					gotNew = append(gotNew, *res.New)
				}
				if diff := cmp.Diff(tt.wantNew, gotNew); diff != "" {
					t.Fatalf("new flags (-want +got):\n%s", diff)
				}
			} else if b := decode[errBody](t, r); b.Category != "VALIDATION_ERROR" || b.Message == "" {
				t.Fatalf("error body %s", r.body)
			}
			if n := len(s.Contacts()); n != tt.wantStored {
				t.Fatalf("%d contacts stored, want %d", n, tt.wantStored)
			}
		})
	}
}

func TestBatchUpsertTooMany(t *testing.T) {
	t.Parallel()
	s, ts := start(t, Options{})
	var inputs []map[string]any
	for i := range MaxBatchInputs + 1 {
		inputs = append(inputs, upsertInput(fmt.Sprintf("u%d@example.com", i), map[string]any{"firstname": "x"}))
	}
	r := call(t, ts, http.MethodPost, upsertPath, testToken, map[string]any{"inputs": inputs})
	wantStatus(t, r, http.StatusBadRequest)
	if decode[errBody](t, r).Category != "VALIDATION_ERROR" {
		t.Fatalf("body %s", r.body)
	}
	if n := len(s.Contacts()); n != 0 {
		t.Fatalf("%d contacts stored after a refused batch", n)
	}
}

func TestBatchUpsertRetryIsIdempotent(t *testing.T) {
	t.Parallel()
	s, ts := start(t, Options{ContactProperties: []Property{{Name: "last_nps"}}})
	body := map[string]any{"inputs": []map[string]any{upsertInput("ann@example.com", map[string]any{"last_nps": "9"})}}
	for range 3 {
		wantStatus(t, call(t, ts, http.MethodPost, upsertPath, testToken, body), http.StatusOK)
	}
	contacts := s.Contacts()
	if len(contacts) != 1 || contacts[0].Updates != 2 || len(contacts[0].History["last_nps"]) != 3 {
		t.Fatalf("contacts = %+v", contacts)
	}
}

func TestBatchUpdate(t *testing.T) {
	t.Parallel()
	s, ts := start(t, Options{ContactProperties: []Property{{Name: "last_nps"}}})
	id := decode[publicObject](t, call(t, ts, http.MethodPost, "/crm/v3/objects/contacts", testToken,
		`{"properties":{"email":"ann@example.com"}}`)).ID

	r := call(t, ts, http.MethodPost, "/crm/v3/objects/contacts/batch/update", testToken, map[string]any{"inputs": []map[string]any{
		{"id": id, "properties": map[string]string{"last_nps": "7"}},
		{"id": "999999", "properties": map[string]string{"last_nps": "7"}},
		{"id": "ann@example.com", "idProperty": "email", "properties": map[string]string{"firstname": "Ann"}},
	}})
	wantStatus(t, r, http.StatusBadRequest) // the same contact twice
	if decode[errBody](t, r).Message == "" {
		t.Fatalf("body %s", r.body)
	}

	r = call(t, ts, http.MethodPost, "/crm/v3/objects/contacts/batch/update", testToken, map[string]any{"inputs": []map[string]any{
		{"id": id, "properties": map[string]string{"last_nps": "7"}},
		{"id": "999999", "properties": map[string]string{"last_nps": "7"}},
	}})
	wantStatus(t, r, http.StatusMultiStatus)
	body := decode[batchBody](t, r)
	if len(body.Results) != 1 || len(body.Errors) != 1 || body.Errors[0].Category != "OBJECT_NOT_FOUND" ||
		!slices.Equal(body.Errors[0].Context["ids"], []string{"999999"}) {
		t.Fatalf("body %s", r.body)
	}
	if got := s.Contacts()[0].Properties["last_nps"]; got != "7" {
		t.Fatalf("last_nps = %q", got)
	}
}

func TestBatchCreate(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name       string
		emails     []string
		props      map[string]any
		wantStatus int
		wantStored int
	}{
		{"all new", []string{"a@example.com", "b@example.com"}, nil, http.StatusCreated, 3},
		{"one exists", []string{"a@example.com", "OLD@example.com"}, nil, http.StatusConflict, 1},
		{"same email twice", []string{"a@example.com", "A@example.com"}, nil, http.StatusConflict, 1},
		{"invalid property", []string{"a@example.com"}, map[string]any{"nope": "x"}, http.StatusBadRequest, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			s, ts := start(t, Options{})
			call(t, ts, http.MethodPost, "/crm/v3/objects/contacts", testToken, `{"properties":{"email":"old@example.com"}}`)
			var inputs []map[string]any
			for i, e := range tt.emails {
				props := map[string]any{"email": e}
				for k, v := range tt.props {
					props[k] = v
				}
				inputs = append(inputs, map[string]any{"properties": props, "objectWriteTraceId": fmt.Sprint("trace-", i)})
			}
			r := call(t, ts, http.MethodPost, "/crm/v3/objects/contacts/batch/create", testToken, map[string]any{"inputs": inputs})
			wantStatus(t, r, tt.wantStatus)
			if tt.wantStatus == http.StatusCreated {
				body := decode[batchBody](t, r)
				if len(body.Results) != len(tt.emails) || body.Results[1].ObjectWriteTraceID != "trace-1" {
					t.Fatalf("body %s", r.body)
				}
			}
			if n := len(s.Contacts()); n != tt.wantStored {
				t.Fatalf("%d contacts stored, want %d", n, tt.wantStored)
			}
		})
	}
}

func TestBatchRead(t *testing.T) {
	t.Parallel()
	_, ts := start(t, Options{ContactProperties: []Property{{Name: "last_nps"}}})
	wantStatus(t, call(t, ts, http.MethodPost, upsertPath, testToken, map[string]any{"inputs": []map[string]any{
		upsertInput("ann@example.com", map[string]any{"last_nps": "9"}),
	}}), http.StatusOK)

	r := call(t, ts, http.MethodPost, "/crm/v3/objects/contacts/batch/read", testToken, map[string]any{
		"idProperty": "email", "properties": []string{"last_nps"}, "propertiesWithHistory": []string{},
		"inputs": []map[string]string{{"id": "ANN@example.com"}, {"id": "bob@example.com"}},
	})
	wantStatus(t, r, http.StatusMultiStatus)
	body := decode[batchBody](t, r)
	if len(body.Results) != 1 || body.Results[0].Properties["last_nps"] != "9" ||
		len(body.Errors) != 1 || !slices.Equal(body.Errors[0].Context["ids"], []string{"bob@example.com"}) {
		t.Fatalf("body %s", r.body)
	}
}
