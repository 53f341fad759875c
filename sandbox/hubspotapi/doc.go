// Package hubspotapi emulates the parts of the HubSpot CRM v3 API that
// surveysync writes to: contacts (single and batch, including batch upsert
// keyed by a unique property), notes associated with contacts, and CRM search.
//
// The emulator keeps its data in memory and behaves like the real API where
// delivery bugs would show: it answers 409 to a duplicate create, 207 with
// per-input errors to a partly invalid batch, 429 with HubSpot's rate-limit
// body when a token exceeds its rolling ten-second or daily budget, and it can
// inject faults (429 bursts, 5xx, applied-then-dropped requests) through
// package fault. Every request is logged so that tests can count effects.
//
// See README.md for what is emulated, what is not, and known deviations.
package hubspotapi
