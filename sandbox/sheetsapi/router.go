package sheetsapi

import (
	"net/http"
	"net/url"
	"strings"
)

// Operation ids, as the request log names them (the discovery doc's method
// ids without the "sheets.spreadsheets." prefix).
const (
	OpCreate           = "spreadsheets.create"
	OpGet              = "spreadsheets.get"
	OpBatchUpdate      = "spreadsheets.batchUpdate"
	OpValuesGet        = "values.get"
	OpValuesBatchGet   = "values.batchGet"
	OpValuesUpdate     = "values.update"
	OpValuesBatchUpd   = "values.batchUpdate"
	OpValuesAppend     = "values.append"
	OpValuesClear      = "values.clear"
	OpValuesBatchClear = "values.batchClear"
)

// route is one method of the discovery doc the emulator answers. flatPath
// is copied verbatim from the discovery doc; the router matches requests
// against it, and the conformance test checks it against the doc.
type route struct {
	op       string
	method   string
	flatPath string
	write    bool
	handle   func(*Server, *call) (any, *apiError)
}

// routes lists every method served. Routes with a ":verb" come before the
// plain ones they would otherwise shadow.
var routes = []route{
	{OpCreate, http.MethodPost, "v4/spreadsheets", true, (*Server).create},
	{OpBatchUpdate, http.MethodPost, "v4/spreadsheets/{spreadsheetId}:batchUpdate", true, (*Server).batchUpdate},
	{OpGet, http.MethodGet, "v4/spreadsheets/{spreadsheetId}", false, (*Server).get},
	{OpValuesBatchGet, http.MethodGet, "v4/spreadsheets/{spreadsheetId}/values:batchGet", false, (*Server).valuesBatchGet},
	{OpValuesBatchUpd, http.MethodPost, "v4/spreadsheets/{spreadsheetId}/values:batchUpdate", true, (*Server).valuesBatchUpdate},
	{OpValuesBatchClear, http.MethodPost, "v4/spreadsheets/{spreadsheetId}/values:batchClear", true, (*Server).valuesBatchClear},
	{OpValuesAppend, http.MethodPost, "v4/spreadsheets/{spreadsheetId}/values/{range}:append", true, (*Server).valuesAppend},
	{OpValuesClear, http.MethodPost, "v4/spreadsheets/{spreadsheetId}/values/{range}:clear", true, (*Server).valuesClear},
	{OpValuesGet, http.MethodGet, "v4/spreadsheets/{spreadsheetId}/values/{range}", false, (*Server).valuesGet},
	{OpValuesUpdate, http.MethodPut, "v4/spreadsheets/{spreadsheetId}/values/{range}", true, (*Server).valuesUpdate},
}

// unimplemented lists discovery methods answered with 501, so that a client
// calling them learns the emulator's limits instead of getting a 404.
var unimplemented = []route{
	{"spreadsheets.getByDataFilter", http.MethodPost, "v4/spreadsheets/{spreadsheetId}:getByDataFilter", false, nil},
	{"developerMetadata.get", http.MethodGet, "v4/spreadsheets/{spreadsheetId}/developerMetadata/{metadataId}", false, nil},
	{"developerMetadata.search", http.MethodPost, "v4/spreadsheets/{spreadsheetId}/developerMetadata:search", false, nil},
	{"sheets.copyTo", http.MethodPost, "v4/spreadsheets/{spreadsheetId}/sheets/{sheetId}:copyTo", true, nil},
	{"values.batchClearByDataFilter", http.MethodPost, "v4/spreadsheets/{spreadsheetId}/values:batchClearByDataFilter", true, nil},
	{"values.batchGetByDataFilter", http.MethodPost, "v4/spreadsheets/{spreadsheetId}/values:batchGetByDataFilter", false, nil},
	{"values.batchUpdateByDataFilter", http.MethodPost, "v4/spreadsheets/{spreadsheetId}/values:batchUpdateByDataFilter", true, nil},
}

// match finds the route for a request. It works on the escaped path so that
// a "/" or ":" inside the range (sent as %2F, %3A) never splits it, accepts
// the verb colon both literal (as the Go client sends it) and encoded, and
// returns the decoded path variables.
func match(method, escapedPath string) (rt *route, vars map[string]string, pathFound bool) {
	p := strings.TrimPrefix(escapedPath, "/")
	for _, table := range [][]route{routes, unimplemented} {
		for i := range table {
			v, ok := matchPath(table[i].flatPath, p)
			if !ok {
				continue
			}
			pathFound = true
			if table[i].method == method {
				return &table[i], v, true
			}
		}
	}
	return nil, nil, pathFound
}

// matchPath matches an escaped request path against a flat path template.
// A final {range} takes the rest of the path, in case a client left a "/"
// in a sheet title unescaped.
func matchPath(tmpl, p string) (map[string]string, bool) {
	ts := strings.Split(tmpl, "/")
	ps := strings.Split(p, "/")
	last := len(ts) - 1
	if len(ps) < len(ts) || (len(ps) > len(ts) && !strings.HasPrefix(ts[last], "{range}")) {
		return nil, false
	}
	vars := map[string]string{}
	for i, t := range ts {
		seg := ps[i]
		if i == last {
			seg = strings.Join(ps[i:], "/")
		}
		if !strings.HasPrefix(t, "{") {
			lit, ok := literal(seg)
			if !ok || lit != t {
				return nil, false
			}
			continue
		}
		end := strings.IndexByte(t, '}')
		name, verb := t[1:end], t[end+1:]
		if verb != "" {
			var ok bool
			if seg, ok = cutVerb(seg, verb[1:]); !ok {
				return nil, false
			}
		} else if hasVerbSuffix(seg) {
			return nil, false
		}
		val, err := url.PathUnescape(seg)
		if err != nil || val == "" {
			return nil, false
		}
		vars[name] = val
	}
	return vars, true
}

// literal decodes a literal segment such as "values:batchGet" or
// "values%3AbatchGet".
func literal(seg string) (string, bool) {
	s, err := url.PathUnescape(seg)
	return s, err == nil
}

// cutVerb removes ":verb" or "%3Averb" from the end of an escaped segment.
func cutVerb(seg, verb string) (string, bool) {
	if s, ok := strings.CutSuffix(seg, ":"+verb); ok {
		return s, true
	}
	n := len(verb) + 3
	if len(seg) > n && strings.EqualFold(seg[len(seg)-n:len(seg)-len(verb)], "%3A") && seg[len(seg)-len(verb):] == verb {
		return seg[:len(seg)-n], true
	}
	return seg, false
}

// hasVerbSuffix reports whether an escaped segment ends with a known verb,
// so that "{range}" does not swallow "A1:append" sent with the wrong method.
func hasVerbSuffix(seg string) bool {
	for _, v := range []string{"append", "clear", "batchUpdate", "batchGet", "batchClear", "getByDataFilter",
		"batchClearByDataFilter", "batchGetByDataFilter", "batchUpdateByDataFilter", "search", "copyTo"} {
		if _, ok := cutVerb(seg, v); ok {
			return true
		}
	}
	return false
}
