package sheetsapi

import (
	"fmt"
	"net/http"
	"time"
)

// apiError is an error answered as a google.rpc.Status body:
//
//	{"error":{"code":400,"message":"…","status":"INVALID_ARGUMENT","details":[…]}}
type apiError struct {
	Code    int           `json:"code"`
	Message string        `json:"message"`
	Errors  []legacyError `json:"errors,omitempty"`
	Status  string        `json:"status"`
	Details []any         `json:"details,omitempty"`
}

// legacyError is the older "errors" list Google still sends for some
// errors; the Go client shows its reason after the message
// ("googleapi: Error 400: Unable to parse range: X, badRequest").
type legacyError struct {
	Message string `json:"message"`
	Domain  string `json:"domain"`
	Reason  string `json:"reason"`
}

// withReason adds the legacy errors list with one entry.
func (e *apiError) withReason(reason string) *apiError {
	e.Errors = []legacyError{{Message: e.Message, Domain: "global", Reason: reason}}
	return e
}

func (e *apiError) Error() string { return fmt.Sprintf("%d %s: %s", e.Code, e.Status, e.Message) }

// errorBody is the JSON envelope of an apiError.
type errorBody struct {
	Error *apiError `json:"error"`
}

func badRequest(format string, args ...any) *apiError {
	e := &apiError{Code: http.StatusBadRequest, Status: "INVALID_ARGUMENT", Message: fmt.Sprintf(format, args...)}
	return e.withReason("badRequest")
}

// prefixed returns e with its message (and legacy message) prefixed, as
// Google names the failing part of a batch ("Invalid data[1]: …").
func (e *apiError) prefixed(prefix string) *apiError {
	cp := *e
	cp.Message = prefix + e.Message
	if len(e.Errors) > 0 {
		cp.Errors = []legacyError{{Message: cp.Message, Domain: e.Errors[0].Domain, Reason: e.Errors[0].Reason}}
	}
	return &cp
}

func errUnableToParse(rng string) *apiError {
	return badRequest("Unable to parse range: %s", rng)
}

func errGridLimits(rangeA1 string, rows, cols int) *apiError {
	return badRequest("Range (%s) exceeds grid limits. Max rows: %d, max columns: %d", rangeA1, rows, cols)
}

func errCellLimit(limit int64) *apiError {
	return badRequest("This action would increase the number of cells in the workbook above the limit of %d cells.", limit)
}

var (
	errNotFound = (&apiError{Code: http.StatusNotFound, Status: "NOT_FOUND", Message: "Requested entity was not found."}).withReason("notFound")
	errNoMethod = &apiError{Code: http.StatusNotFound, Status: "NOT_FOUND", Message: "Method not found."}
	errNoAuth   = &apiError{Code: http.StatusUnauthorized, Status: "UNAUTHENTICATED",
		Message: "Request had invalid authentication credentials. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."}
	errMissingAuth = &apiError{Code: http.StatusUnauthorized, Status: "UNAUTHENTICATED",
		Message: "Request is missing required authentication credential. Expected OAuth 2 access token, login cookie or other valid authentication credential. See https://developers.google.com/identity/sign-in/web/devconsole-project."}
	errInternal    = (&apiError{Code: http.StatusInternalServerError, Status: "INTERNAL", Message: "Internal error encountered."}).withReason("backendError")
	errUnavailable = (&apiError{Code: http.StatusServiceUnavailable, Status: "UNAVAILABLE", Message: "The service is currently unavailable."}).withReason("backendError")
)

func errUnimplemented(op string) *apiError {
	return &apiError{Code: http.StatusNotImplemented, Status: "UNIMPLEMENTED",
		Message: fmt.Sprintf("Method %s is not implemented by the Sheets sandbox emulator.", op)}
}

// quotaKind names a quota bucket the way Google's 429 bodies do.
type quotaKind struct {
	metric   string // "Write requests"
	metricID string // "sheets.googleapis.com/write_requests"
	limit    string // "Write requests per minute per user"
	limitID  string // "WriteRequestsPerMinutePerUser"
	unit     string // "1/min/{project}/{user}"
}

func quotaKindFor(write, perUser bool) quotaKind {
	q := quotaKind{metric: "Read requests", metricID: "sheets.googleapis.com/read_requests", limitID: "ReadRequestsPerMinutePer"}
	if write {
		q.metric, q.metricID, q.limitID = "Write requests", "sheets.googleapis.com/write_requests", "WriteRequestsPerMinutePer"
	}
	if perUser {
		q.limit, q.limitID, q.unit = q.metric+" per minute per user", q.limitID+"User", "1/min/{project}/{user}"
	} else {
		q.limit, q.limitID, q.unit = q.metric+" per minute", q.limitID+"Project", "1/min/{project}"
	}
	return q
}

// errQuota is Google's 429 RESOURCE_EXHAUSTED answer for a quota bucket.
func errQuota(q quotaKind, limitValue int, projectNumber string) *apiError {
	return &apiError{
		Code:   http.StatusTooManyRequests,
		Status: "RESOURCE_EXHAUSTED",
		Message: fmt.Sprintf("Quota exceeded for quota metric '%s' and limit '%s' of service 'sheets.googleapis.com' for consumer 'project_number:%s'.",
			q.metric, q.limit, projectNumber),
		Details: []any{
			map[string]any{
				"@type":  "type.googleapis.com/google.rpc.ErrorInfo",
				"reason": "RATE_LIMIT_EXCEEDED",
				"domain": "googleapis.com",
				"metadata": map[string]string{
					"quota_metric":      q.metricID,
					"quota_limit":       q.limitID,
					"quota_limit_value": fmt.Sprint(limitValue),
					"quota_unit":        q.unit,
					"quota_location":    "global",
					"consumer":          "projects/" + projectNumber,
					"service":           "sheets.googleapis.com",
				},
			},
			map[string]any{
				"@type": "type.googleapis.com/google.rpc.Help",
				"links": []map[string]string{{
					"description": "Request a higher quota limit.",
					"url":         "https://cloud.google.com/docs/quotas/help/request_increase",
				}},
			},
		},
	}
}

// writeRetryAfter sets Retry-After when d is positive.
func writeRetryAfter(w http.ResponseWriter, d time.Duration) {
	if d > 0 {
		secs := int((d + time.Second - 1) / time.Second)
		w.Header().Set("Retry-After", fmt.Sprint(secs))
	}
}
