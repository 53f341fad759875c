// Package zendeskapi emulates the parts of the Zendesk Support API that
// surveysync writes to: ticket creation with Idempotency-Key, ticket updates
// with custom fields and comments, bulk updates through job statuses,
// comment listing, users create_or_update, and the satisfaction-rating
// endpoint that agents may not use.
//
// The emulator keeps its data in memory and behaves like the real API where
// delivery bugs would show: replays with the same Idempotency-Key create no
// second ticket, invalid custom field values are refused with 422
// RecordInvalid, bulk updates complete asynchronously, and the account,
// Update Ticket and per-ticket limits answer 429 with Retry-After. Faults
// can be injected through package fault, and every request is logged.
//
// See README.md for what is emulated, what is not, and known deviations.
package zendeskapi
