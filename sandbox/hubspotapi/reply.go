package hubspotapi

import "net/http"

// reply is an answer computed under the server lock and written after it
// is released (writing notes the status, which takes the lock).
type reply struct {
	status int
	body   any
}

func (rp reply) write(w http.ResponseWriter) { writeJSON(w, rp.status, rp.body) }

// ok answers status with body.
func ok(status int, body any) reply { return reply{status: status, body: body} }

// fail answers status with HubSpot's error body.
func fail(status int, category, message string, details ...errorDetail) reply {
	return reply{status: status, body: apiError{
		Status:        "error",
		Message:       message,
		CorrelationID: newID(),
		Category:      category,
		Errors:        details,
	}}
}

// notFound answers a request for an object that does not exist.
func notFound() reply {
	return fail(http.StatusNotFound, categoryNotFound, "resource not found")
}
