// Package console serves surveysync's ops console: a few server-rendered
// pages mounted at /console/ on the daemon's listener that answer "is
// everything flowing, what is stuck and why, and how are our scores
// moving?".
//
// Routes (all under /console/):
//
//	GET  /console/                      overview: sources, syncs, destination pauses, quota buckets
//	GET  /console/dead-letters          dead letters grouped by error class (?sync= narrows)
//	POST /console/dead-letters/replay   re-open dead letters of a sync, or of one response key
//	GET  /console/scores                score trends per job (?job=&segment= picks a segment)
//	GET  /console/status.json           the status the pages show, as `surveysync status --json` prints it
//	POST /console/login                 exchange the token for a session cookie
//
// The pages read the same data as `surveysync status` (engine.ReadStatus),
// the ledger's dead letters (engine.DeadLetters) and the newest stored run of
// each score job (engine.LoadScoreRuns). Every value is rendered through
// html/template, so survey text is always text, and every string taken from
// the ledger is passed through config.Redact first.
//
// Access. The console is read-only unless console.write is true and a
// console.token is set. A listener that is not bound to loopback needs a
// token (Check refuses such a configuration, and the handler answers 503
// should it ever run with one). Without a token the console trusts loopback
// alone, so it also answers 503 to a connection that did not arrive over
// loopback and 403 to a Host header that is not a loopback name (a page on
// another site that rebinds its name to 127.0.0.1 reads nothing). Once a
// token is configured every page needs it, presented in one of three ways:
//
//   - an "Authorization: Bearer <token>" header, for scripts;
//   - a "token" query parameter on any GET, which sets a session cookie and
//     redirects to the same address without the token, so the token leaves
//     the address bar and the history at once;
//   - the login form (POST /console/login with a "token" field).
//
// The session cookie is HttpOnly, SameSite=Strict, scoped to /console/ and
// holds an HMAC of a fixed label keyed by the token, never the token itself;
// changing the token ends every session.
//
// Replay is a write and is guarded separately: it is a POST only; it is
// refused with 403 unless console.write is on and a token is set; the
// request must pass net/http's cross-origin protection (Sec-Fetch-Site, else
// Origin against Host); and it must carry the token itself in an
// Authorization header or in the form's "token" field (the page asks for
// it). The session cookie alone never authorises a replay. Tokens are
// compared in constant time.
package console
