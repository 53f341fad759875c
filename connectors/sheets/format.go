package sheets

import (
	"context"
	"fmt"
	"net/http"
	"strings"

	sheetsapi "google.golang.org/api/sheets/v4"

	"github.com/surveysync/surveysync/connectors"
	"github.com/surveysync/surveysync/mapping"
	"github.com/surveysync/surveysync/survey"
)

// Number formats given to date columns written as serial numbers, unless
// the mapping names a format.
const (
	datePattern     = "yyyy-mm-dd"
	dateTimePattern = "yyyy-mm-dd hh:mm:ss"
)

// dateFormatRequest gives a column, from row 2 down, a date number format.
func dateFormatRequest(sheetID int64, col int, c mapping.ColumnSpec) *sheetsapi.Request {
	typ, pattern := "DATE", datePattern
	if c.Kind == survey.KindDateTime {
		typ, pattern = "DATE_TIME", dateTimePattern
	}
	if p, ok := numberFormatPattern(c.Format); ok {
		pattern = p
	}
	return &sheetsapi.Request{RepeatCell: &sheetsapi.RepeatCellRequest{
		Range: &sheetsapi.GridRange{
			SheetId: sheetID, StartRowIndex: 1, StartColumnIndex: int64(col), EndColumnIndex: int64(col + 1),
			ForceSendFields: []string{"SheetId", "StartColumnIndex"},
		},
		Cell:   &sheetsapi.CellData{UserEnteredFormat: &sheetsapi.CellFormat{NumberFormat: &sheetsapi.NumberFormat{Type: typ, Pattern: pattern}}},
		Fields: "userEnteredFormat.numberFormat",
	}}
}

// formatTokens translate mapping format tokens (runs of one letter) to
// Sheets number format tokens.
var formatTokens = map[string]string{
	"YYYY": "yyyy", "YY": "yy",
	"MMMM": "mmmm", "MMM": "mmm", "MM": "mm", "M": "m",
	"DD": "dd", "D": "d", "dddd": "dddd", "ddd": "ddd",
	"HH": "hh", "hh": "hh", "h": "h",
	"mm": "mm", "m": "m", "ss": "ss", "s": "s",
	"SSS": "000", "A": "AM/PM", "a": "am/pm",
}

// numberFormatPattern translates a mapping's date format (such as
// "DD.MM.YYYY HH:mm") to a Sheets number format pattern. Formats with a
// zone offset have none: a serial number carries no zone.
func numberFormatPattern(format string) (string, bool) {
	if format == "" {
		return "", false
	}
	var b strings.Builder
	for i := 0; i < len(format); {
		c := format[i]
		switch {
		case c == '[':
			end := strings.IndexByte(format[i:], ']')
			if end < 0 {
				return "", false
			}
			b.WriteString(`"` + strings.ReplaceAll(format[i+1:i+end], `"`, ``) + `"`)
			i += end + 1
		case strings.IndexByte("YMDdHhmsSAaZ", c) >= 0:
			j := i
			for j < len(format) && format[j] == c {
				j++
			}
			tok, ok := formatTokens[format[i:j]]
			if !ok {
				return "", false
			}
			b.WriteString(tok)
			i = j
		case c == '"' || c == '\\':
			i++
		default:
			b.WriteByte(c)
			i++
		}
	}
	return b.String(), true
}

// applyFormats sends number formats for columns of st, marking them done.
// A throttle or an outage leaves them for the next batch; a refusal (such
// as an API that does not support number formats) is logged once and not
// tried again.
func (d *Destination) applyFormats(ctx context.Context, st *tabState, reqs []*sheetsapi.Request, cols []int) {
	_, err := d.svc.Spreadsheets.BatchUpdate(d.id, &sheetsapi.BatchUpdateSpreadsheetRequest{Requests: reqs}).
		Context(connectors.Idempotent(ctx)).Do()
	if err != nil {
		g, isAPI := apiError(err)
		retry := !isAPI || g.Code == http.StatusTooManyRequests || (g.Code >= 500 && g.Code != http.StatusNotImplemented)
		if retry {
			d.log.Debug("setting date formats failed; trying again with the next batch", "tab", st.title, "err", err)
			return
		}
		d.warnOnce("formats:"+st.name, "date columns keep their number format: Google refused the date format", "tab", st.title, "err", fmt.Sprint(err))
	}
	for _, c := range cols {
		st.formatted[c] = true
	}
}
