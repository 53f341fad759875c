package sheetsapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"google.golang.org/api/sheets/v4"
)

// discoveryPath is the Sheets discovery doc, kept outside the repository in
// ../shared next to the repo root (CI has it at the same place).
const discoveryPath = "../../../shared/specs/google-sheets/sheets-v4-discovery.json"

type discoveryDoc struct {
	Resources map[string]discoveryResource `json:"resources"`
	Schemas   map[string]*schema           `json:"schemas"`
}

type discoveryResource struct {
	Methods   map[string]discoveryMethod   `json:"methods"`
	Resources map[string]discoveryResource `json:"resources"`
}

type discoveryMethod struct {
	ID         string `json:"id"`
	HTTPMethod string `json:"httpMethod"`
	FlatPath   string `json:"flatPath"`
	Response   *struct {
		Ref string `json:"$ref"`
	} `json:"response"`
}

// schema is the subset of a discovery JSON schema the check needs.
type schema struct {
	Type                 string             `json:"type"`
	Ref                  string             `json:"$ref"`
	Format               string             `json:"format"`
	Enum                 []string           `json:"enum"`
	Properties           map[string]*schema `json:"properties"`
	Items                *schema            `json:"items"`
	AdditionalProperties *schema            `json:"additionalProperties"`
}

var (
	discoveryOnce sync.Once
	discovery     *discoveryDoc
	discoveryErr  error
)

// loadDiscovery reads the discovery doc once; missing is reported as
// fs.ErrNotExist so callers can skip.
func loadDiscovery() (*discoveryDoc, error) {
	discoveryOnce.Do(func() {
		data, err := os.ReadFile(discoveryPath)
		if err != nil {
			discoveryErr = err
			return
		}
		var d discoveryDoc
		if err := json.Unmarshal(data, &d); err != nil {
			discoveryErr = fmt.Errorf("parse %s: %w", discoveryPath, err)
			return
		}
		discovery = &d
	})
	return discovery, discoveryErr
}

func discoveryOrSkip(t *testing.T) *discoveryDoc {
	t.Helper()
	d, err := loadDiscovery()
	if errors.Is(err, fs.ErrNotExist) {
		t.Skipf("Sheets discovery doc not found at %s (the shared specs folder sits next to the repository; CI has it): %v", discoveryPath, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	return d
}

// methods flattens the discovery doc's methods, keyed by "VERB flatPath".
func (d *discoveryDoc) methods() map[string]discoveryMethod {
	out := map[string]discoveryMethod{}
	var walk func(map[string]discoveryResource)
	walk = func(rs map[string]discoveryResource) {
		for _, r := range rs {
			for _, m := range r.Methods {
				out[m.HTTPMethod+" "+m.FlatPath] = m
			}
			walk(r.Resources)
		}
	}
	walk(d.Resources)
	return out
}

func TestConformanceRoutes(t *testing.T) {
	t.Parallel()
	d := discoveryOrSkip(t)
	methods := d.methods()
	served := map[string]bool{}
	for _, table := range [][]route{routes, unimplemented} {
		for _, rt := range table {
			key := rt.method + " " + rt.flatPath
			m, ok := methods[key]
			if !ok {
				t.Errorf("route %s (%s) is not a method of the discovery doc", key, rt.op)
				continue
			}
			want := "sheets.spreadsheets." + rt.op
			if strings.HasPrefix(rt.op, "spreadsheets.") {
				want = "sheets." + rt.op
			}
			if m.ID != want {
				t.Errorf("route %s is named %s, the discovery doc says %s", key, want, m.ID)
			}
			if rt.write && rt.method == http.MethodGet {
				t.Errorf("route %s: a GET counted as a write", key)
			}
			served[key] = true
		}
	}
	for key := range methods {
		if !served[key] {
			t.Errorf("discovery method %s is neither served nor listed as unimplemented", key)
		}
	}
}

// errorSchema is google.rpc.Status in its JSON envelope; the discovery doc
// does not describe error bodies.
var errorSchema = &schema{Type: "object", Properties: map[string]*schema{
	"error": {Type: "object", Properties: map[string]*schema{
		"code":    {Type: "integer", Format: "int32"},
		"message": {Type: "string"},
		"status": {Type: "string", Enum: []string{"OK", "CANCELLED", "UNKNOWN", "INVALID_ARGUMENT", "DEADLINE_EXCEEDED", "NOT_FOUND",
			"ALREADY_EXISTS", "PERMISSION_DENIED", "UNAUTHENTICATED", "RESOURCE_EXHAUSTED", "FAILED_PRECONDITION", "ABORTED",
			"OUT_OF_RANGE", "UNIMPLEMENTED", "INTERNAL", "UNAVAILABLE", "DATA_LOSS"}},
		"details": {Type: "array", Items: &schema{Type: "any"}},
		"errors": {Type: "array", Items: &schema{Type: "object", Properties: map[string]*schema{
			"message": {Type: "string"}, "domain": {Type: "string"}, "reason": {Type: "string"},
		}}},
	}},
}}

// checkCapture validates one captured response; it returns the problems
// and the schema name used.
func (d *discoveryDoc) checkCapture(c captured, methods map[string]discoveryMethod) (string, []string) {
	var problems []string
	if c.ctype != "application/json; charset=UTF-8" {
		problems = append(problems, fmt.Sprintf("Content-Type %q", c.ctype))
	}
	dec := json.NewDecoder(bytes.NewReader(c.body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", append(problems, fmt.Sprintf("body is not JSON: %v", err))
	}
	if c.status >= 400 {
		d.validate(v, errorSchema, "", &problems)
		return "google.rpc.Status", problems
	}
	rt, _, _ := match(c.method, c.path)
	if rt == nil {
		return "", append(problems, "2xx answer for a path that matches no route")
	}
	m := methods[rt.method+" "+rt.flatPath]
	if m.Response == nil {
		return "", append(problems, "discovery method has no response schema")
	}
	d.validate(v, &schema{Ref: m.Response.Ref}, "", &problems)
	return m.Response.Ref, problems
}

// validate walks v against s, following $ref, and reports every field the
// schema does not have and every value of the wrong JSON type or enum.
func (d *discoveryDoc) validate(v any, s *schema, path string, problems *[]string) {
	for s.Ref != "" {
		next, ok := d.Schemas[s.Ref]
		if !ok {
			*problems = append(*problems, fmt.Sprintf("%s: unknown schema %s", path, s.Ref))
			return
		}
		s = next
	}
	bad := func(format string, args ...any) {
		*problems = append(*problems, fmt.Sprintf("%s: ", orRoot(path))+fmt.Sprintf(format, args...))
	}
	typ := s.Type
	if typ == "" && s.Properties != nil {
		typ = "object"
	}
	switch typ {
	case "any":
	case "object":
		obj, ok := v.(map[string]any)
		if !ok {
			bad("want an object, got %T", v)
			return
		}
		for k, val := range obj {
			if p, ok := s.Properties[k]; ok {
				d.validate(val, p, path+"."+k, problems)
			} else if s.AdditionalProperties != nil {
				d.validate(val, s.AdditionalProperties, path+"."+k, problems)
			} else {
				bad("field %q is not in the schema", k)
			}
		}
	case "array":
		arr, ok := v.([]any)
		if !ok {
			bad("want an array, got %T", v)
			return
		}
		for i, el := range arr {
			d.validate(el, s.Items, fmt.Sprintf("%s[%d]", path, i), problems)
		}
	case "string":
		str, ok := v.(string)
		if !ok {
			bad("want a string, got %T", v)
			return
		}
		if len(s.Enum) > 0 && !contains(s.Enum, str) {
			bad("%q is not one of %v", str, s.Enum)
		}
	case "integer":
		if s.Format == "int64" || s.Format == "uint64" {
			if _, ok := v.(string); !ok {
				bad("want an int64 encoded as a string, got %T", v)
			}
			return
		}
		n, ok := v.(json.Number)
		if _, err := n.Int64(); !ok || err != nil {
			bad("want an integer, got %v", v)
		}
	case "number":
		if _, ok := v.(json.Number); !ok {
			bad("want a number, got %T", v)
		}
	case "boolean":
		if _, ok := v.(bool); !ok {
			bad("want a boolean, got %T", v)
		}
	default:
		bad("schema type %q not handled by the check", s.Type)
	}
}

func orRoot(path string) string {
	if path == "" {
		return "(root)"
	}
	return path
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// checkAllCaptures validates every response captured so far whose test
// name has prefix, and counts them per schema.
func checkAllCaptures(d *discoveryDoc, prefix string) (checked map[string]int, problems []string) {
	methods := d.methods()
	checked = map[string]int{}
	captureMu.Lock()
	defer captureMu.Unlock()
	for _, c := range captures {
		if !strings.HasPrefix(c.test, prefix) || c.path == "/token" {
			continue
		}
		name, ps := d.checkCapture(c, methods)
		checked[name]++
		for _, p := range ps {
			problems = append(problems, fmt.Sprintf("%s: %s %s → %d (%s): %s", c.test, c.method, c.path, c.status, name, p))
		}
	}
	sort.Strings(problems)
	return checked, problems
}

// TestConformanceResponses drives every served method with the real client
// and checks every answer against the discovery doc's response schemas.
// TestMain repeats the check over the responses of all other tests.
func TestConformanceResponses(t *testing.T) {
	d := discoveryOrSkip(t)
	e := newEnv(t, Options{})
	svc := e.svc
	ss, err := svc.Spreadsheets.Create(&sheets.Spreadsheet{Properties: &sheets.SpreadsheetProperties{Title: "Conformance"},
		Sheets: []*sheets.Sheet{{Properties: &sheets.SheetProperties{Title: "Responses", GridProperties: &sheets.GridProperties{FrozenRowCount: 1, RowCount: 100, ColumnCount: 10}}}}}).Do()
	if err != nil {
		t.Fatal(err)
	}
	id := ss.SpreadsheetId
	sid := ss.Sheets[0].Properties.SheetId
	steps := []struct {
		name string
		do   func() error
	}{
		{"append", func() error {
			_, err := svc.Spreadsheets.Values.Append(id, "Responses!A1", &sheets.ValueRange{Values: [][]any{{"key", "n", "ok", "f"}, {"r1", 1.5, true, "=1+2"}}}).
				ValueInputOption("USER_ENTERED").InsertDataOption("INSERT_ROWS").IncludeValuesInResponse(true).ResponseValueRenderOption("UNFORMATTED_VALUE").Do()
			return err
		}},
		{"append again (tableRange)", func() error {
			_, err := svc.Spreadsheets.Values.Append(id, "Responses!A:A", &sheets.ValueRange{Values: [][]any{{"r2"}}}).ValueInputOption("RAW").Do()
			return err
		}},
		{"get", func() error { _, err := svc.Spreadsheets.Get(id).Do(); return err }},
		{"get with grid data", func() error {
			_, err := svc.Spreadsheets.Get(id).Ranges("Responses!A1:D3").IncludeGridData(true).Do()
			return err
		}},
		{"get with fields", func() error {
			_, err := svc.Spreadsheets.Get(id).Fields("sheets(properties(sheetId,title,gridProperties))").Do()
			return err
		}},
		{"batchUpdate", func() error {
			_, err := svc.Spreadsheets.BatchUpdate(id, &sheets.BatchUpdateSpreadsheetRequest{Requests: []*sheets.Request{
				{AddSheet: &sheets.AddSheetRequest{Properties: &sheets.SheetProperties{Title: "Scores"}}},
				{AppendDimension: &sheets.AppendDimensionRequest{SheetId: sid, Dimension: "ROWS", Length: 10}},
				{UpdateSheetProperties: &sheets.UpdateSheetPropertiesRequest{Properties: &sheets.SheetProperties{SheetId: sid, Title: "Responses"}, Fields: "title"}},
			}, IncludeSpreadsheetInResponse: true, ResponseIncludeGridData: true, ResponseRanges: []string{"Responses!A1:B2"}}).Do()
			return err
		}},
		{"values.get", func() error {
			_, err := svc.Spreadsheets.Values.Get(id, "Responses!A:D").ValueRenderOption("FORMULA").Do()
			return err
		}},
		{"values.get empty", func() error { _, err := svc.Spreadsheets.Values.Get(id, "Scores!A1:B2").Do(); return err }},
		{"values.batchGet", func() error {
			_, err := svc.Spreadsheets.Values.BatchGet(id).Ranges("Responses!A:A", "Scores").MajorDimension("COLUMNS").Do()
			return err
		}},
		{"values.update", func() error {
			_, err := svc.Spreadsheets.Values.Update(id, "Scores!A1:B2", &sheets.ValueRange{Values: [][]any{{"week", 0.9}}}).
				ValueInputOption("RAW").IncludeValuesInResponse(true).Do()
			return err
		}},
		{"values.batchUpdate", func() error {
			_, err := svc.Spreadsheets.Values.BatchUpdate(id, &sheets.BatchUpdateValuesRequest{ValueInputOption: "RAW", IncludeValuesInResponse: true,
				Data: []*sheets.ValueRange{{Range: "Scores!A3", Values: [][]any{{"w2", 0.8}}}, {Range: "Responses!E1", Values: [][]any{{"x"}}}}}).Do()
			return err
		}},
		{"values.clear", func() error {
			_, err := svc.Spreadsheets.Values.Clear(id, "Scores!A3:Z", &sheets.ClearValuesRequest{}).Do()
			return err
		}},
		{"values.batchClear", func() error {
			_, err := svc.Spreadsheets.Values.BatchClear(id, &sheets.BatchClearValuesRequest{Ranges: []string{"Scores!B:B", "Responses!E1"}}).Do()
			return err
		}},
		{"error", func() error {
			if _, err := svc.Spreadsheets.Values.Get(id, "Missing!A1").Do(); err == nil {
				return errors.New("want a 400")
			}
			return nil
		}},
		{"unimplemented", func() error {
			if _, err := svc.Spreadsheets.Values.BatchGetByDataFilter(id, &sheets.BatchGetValuesByDataFilterRequest{}).Do(); err == nil {
				return errors.New("want a 501")
			}
			return nil
		}},
	}
	for _, st := range steps {
		if err := st.do(); err != nil {
			t.Fatalf("%s: %v", st.name, err)
		}
	}
	checked, problems := checkAllCaptures(d, t.Name())
	for _, p := range problems {
		t.Error(p)
	}
	for _, rt := range routes {
		m := d.methods()[rt.method+" "+rt.flatPath]
		if checked[m.Response.Ref] == 0 {
			t.Errorf("no %s response (%s) was checked", m.Response.Ref, rt.op)
		}
	}
	if checked["google.rpc.Status"] < 2 {
		t.Errorf("error bodies checked: %d, want at least 2", checked["google.rpc.Status"])
	}
}

// TestConformanceCheckFails makes sure the check is not vacuous: a field
// Google does not have, a wrong type and a bad enum are all reported.
func TestConformanceCheckFails(t *testing.T) {
	t.Parallel()
	d := discoveryOrSkip(t)
	bad := captured{method: "GET", path: "/v4/spreadsheets/x/values/A1", status: 200, ctype: "application/json; charset=UTF-8",
		body: []byte(`{"range":"A1","majorDimension":"DIAGONAL","values":[[1]],"rowCount":3,"extra":{"a":1}}`)}
	_, problems := d.checkCapture(bad, d.methods())
	want := []string{`"DIAGONAL" is not one of`, `field "rowCount" is not in the schema`, `field "extra" is not in the schema`}
	for _, w := range want {
		found := false
		for _, p := range problems {
			found = found || strings.Contains(p, w)
		}
		if !found {
			t.Errorf("check missed %q; got %v", w, problems)
		}
	}
	nested := captured{method: "GET", path: "/v4/spreadsheets/x", status: 200, ctype: "text/plain",
		body: []byte(`{"spreadsheetId":"x","sheets":[{"properties":{"sheetId":"7","gridProperties":{"rows":1}}}]}`)}
	_, problems = d.checkCapture(nested, d.methods())
	for _, w := range []string{"Content-Type", ".sheets[0].properties.sheetId: want an integer", `field "rows" is not in the schema`} {
		found := false
		for _, p := range problems {
			found = found || strings.Contains(p, w)
		}
		if !found {
			t.Errorf("check missed %q; got %v", w, problems)
		}
	}
}

// TestMain runs the tests, then checks every response any test captured
// against the discovery doc, failing the run on any mismatch.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		d, err := loadDiscovery()
		switch {
		case errors.Is(err, fs.ErrNotExist):
			fmt.Printf("conformance: skipped checking captured responses: %s not found\n", discoveryPath)
		case err != nil:
			fmt.Println("conformance:", err)
			code = 1
		default:
			checked, problems := checkAllCaptures(d, "")
			for _, p := range problems {
				fmt.Println("conformance:", p)
			}
			if len(problems) > 0 {
				fmt.Printf("conformance: %d responses do not match the discovery doc\n", len(problems))
				code = 1
			} else if testing.Verbose() {
				fmt.Printf("conformance: all captured responses match the discovery doc: %v\n", checked)
			}
		}
	}
	os.Exit(code)
}
