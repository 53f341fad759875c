// Package mapping reads the mapping files ops people write and turns survey
// responses into what destinations take: sheet rows for spreadsheet
// destinations and HTTP requests with JSON bodies for CRMs and other APIs.
//
// A mapping file is parsed with positions, checked strictly (every mistake is
// reported at once as file:line:col) and compiled once. Rendering then walks
// the compiled form and does no I/O. Templates such as "{{ contact.email |
// lower }}" are evaluated against a response; a leaf that is exactly one
// expression keeps its JSON type, and request bodies are built as trees and
// marshalled, so survey text can never break the JSON.
//
// README.md next to this file is the reference for people who write mapping
// files: every key, type, pipe, preset and filter operator.
package mapping
