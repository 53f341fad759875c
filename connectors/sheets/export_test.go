package sheets

import (
	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/mapping"
	"github.com/surveysync/surveysync/survey"
)

// Test-only access to the pure parts of the connector, for the unit tests
// in package sheets_test.

// Layout is where a mapping's columns are in a tab, as tests see it.
type Layout struct {
	Cols  []int
	Key   int
	First int
	Last  int
}

// MatchHeaders runs the header matching.
func MatchHeaders(tab string, row []string, spec *mapping.SheetSpec, appendMissing bool) (Layout, []string, error) {
	lay, added, err := matchHeaders(tab, row, spec, appendMissing)
	return Layout{Cols: lay.cols, Key: lay.key, First: lay.first, Last: lay.last}, added, err
}

// RowValues aligns and encodes a row as one append or update would.
func RowValues(row []string, spec *mapping.SheetSpec, r *mapping.Row, dates mapping.DateMode, longText mapping.LongTextMode, clear bool) ([]any, error) {
	lay, _, err := matchHeaders("T", row, spec, false)
	if err != nil {
		return nil, err
	}
	e := newEncoder(spec, sheetOptions{dates: dates, longText: longText})
	return lay.rowValues(r, spec, e, clear)
}

// EncodeValue encodes one cell; userEntered sets the request's mode.
func EncodeValue(v survey.Value, userEnteredRequest, userEnteredCol bool, dates mapping.DateMode, longText mapping.LongTextMode) (any, error) {
	e := encoder{dates: dates, longText: longText, userEntered: userEnteredRequest}
	return e.value(v, userEnteredCol, false)
}

// InputOption returns the valueInputOption a mapping's requests use.
func InputOption(spec *mapping.SheetSpec) string {
	return newEncoder(spec, sheetOptions{}).inputOption()
}

// Re-exported helpers.
var (
	SplitBySize         = splitBySize
	RowSize             = rowSize
	JSONSize            = jsonSize
	UTF16Len            = utf16Len
	NumberFormatPattern = numberFormatPattern
	ColumnName          = columnName
	QuoteTitle          = quoteTitle
)

// ClassifyError classifies a failed request as a destination acting as the
// service account email ("" for a user credential) would; kind is 0 for a
// read, 1 for an idempotent write, 2 for an append.
func ClassifyError(email string, err error, kind int) error {
	d := &Destination{id: "SHEET", who: identity{email: email}, writes: connectors.NewBucket("w", 0, 0, 1), reads: connectors.NewBucket("r", 0, 0, 1)}
	return d.classify(err, []call{callRead, callIdempotent, callAppend}[kind], "appending 3 rows")
}

// IsParseRange reports a range error the destination follows by id.
var IsParseRange = isParseRange
