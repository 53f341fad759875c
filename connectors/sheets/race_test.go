//go:build race

package sheets_test

// raceEnabled is set under the race detector, which slows the pure-Go
// SQLite ledger about tenfold; volume tests shrink under it.
const raceEnabled = true
