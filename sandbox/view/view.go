// Package view is the small contract between the sandbox emulators and the
// sandbox web page: each emulator describes what it holds as tables, and the
// page renders them without knowing any emulator.
package view

// Table is one table on the sandbox page, for example a spreadsheet tab,
// the HubSpot contacts or the Zendesk tickets.
type Table struct {
	// Group names what the table belongs to, such as "Google Sheets · Survey responses".
	Group string
	// Name is the table's own title, such as a tab name.
	Name string
	// Header is the column titles; it may be empty.
	Header []string
	// Rows holds the cells as display text, already formatted.
	Rows [][]string
	// Note is an optional line shown under the title, such as "formula" markers or counts.
	Note string
}

// Source is anything that can describe its state as tables.
type Source interface {
	// Tables returns a snapshot of the emulator's data; it must be safe to
	// call while the emulator serves requests.
	Tables() []Table
}
