package sheetsapi

import (
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
)

// DefaultMaxCells is Google's limit on grid cells per spreadsheet, all tabs
// together, empty cells included.
const DefaultMaxCells = 10_000_000

// spreadsheet is one workbook.
type spreadsheet struct {
	id       string
	title    string
	locale   string
	timeZone string
	sheets   []*sheet // in tab order; a sheet's index is its position
}

func newSpreadsheet(id, title string) *spreadsheet {
	if title == "" {
		title = "Untitled spreadsheet"
	}
	return &spreadsheet{id: id, title: title, locale: "en_US", timeZone: "Etc/GMT"}
}

// cellCount is the number of grid cells of all tabs.
func (ss *spreadsheet) cellCount() int64 {
	var n int64
	for _, sh := range ss.sheets {
		n += sh.cellCount()
	}
	return n
}

// sheetByTitle finds a tab by exact title, then case-insensitively, as
// Sheets titles are unique regardless of case.
func (ss *spreadsheet) sheetByTitle(title string) *sheet {
	for _, sh := range ss.sheets {
		if sh.title == title {
			return sh
		}
	}
	for _, sh := range ss.sheets {
		if strings.EqualFold(sh.title, title) {
			return sh
		}
	}
	return nil
}

func (ss *spreadsheet) sheetByID(id int64) *sheet {
	for _, sh := range ss.sheets {
		if sh.id == id {
			return sh
		}
	}
	return nil
}

func (ss *spreadsheet) indexOf(sh *sheet) int { return slices.Index(ss.sheets, sh) }

// firstVisible is the sheet a range without a sheet name refers to.
func (ss *spreadsheet) firstVisible() *sheet {
	for _, sh := range ss.sheets {
		if !sh.hidden {
			return sh
		}
	}
	if len(ss.sheets) > 0 {
		return ss.sheets[0]
	}
	return nil
}

// resolve parses a range and finds its sheet; any failure is Google's
// "Unable to parse range" 400.
func (ss *spreadsheet) resolve(rng string) (*sheet, A1Range, *apiError) {
	r, err := ParseA1(rng)
	if err != nil {
		return nil, A1Range{}, errUnableToParse(rng)
	}
	var sh *sheet
	if r.Sheet == "" {
		sh = ss.firstVisible()
	} else {
		sh = ss.sheetByTitle(r.Sheet)
	}
	if sh == nil {
		return nil, A1Range{}, errUnableToParse(rng)
	}
	return sh, r, nil
}

// resolveInGrid is resolve plus Google's check that an explicit range lies
// inside the grid; open ends are closed at the grid edges.
func (ss *spreadsheet) resolveInGrid(rng string) (*sheet, gridRect, *apiError) {
	sh, r, e := ss.resolve(rng)
	if e != nil {
		return nil, gridRect{}, e
	}
	g := sh.bound(r)
	if !sh.inGrid(g) {
		r.Sheet = sh.title
		return nil, gridRect{}, errGridLimits(FormatA1(r), sh.rowCount, sh.colCount)
	}
	return sh, g, nil
}

// newSheetID picks an unused random positive sheet id, as Sheets does for
// added tabs.
func (ss *spreadsheet) newSheetID(rnd *rand.Rand) int64 {
	for {
		id := int64(rnd.Int32N(2_000_000_000) + 1)
		if ss.sheetByID(id) == nil {
			return id
		}
	}
}

// freeTitle returns "SheetN" for the smallest N not in use.
func (ss *spreadsheet) freeTitle() string {
	for n := len(ss.sheets) + 1; ; n++ {
		t := "Sheet" + strconv.Itoa(n)
		if ss.sheetByTitle(t) == nil {
			return t
		}
	}
}

// newSpreadsheetID returns a 44-character id shaped like Google's.
func newSpreadsheetID(rnd *rand.Rand) string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, 44)
	b[0] = '1'
	for i := 1; i < len(b); i++ {
		b[i] = alphabet[rnd.IntN(len(alphabet))]
	}
	return string(b)
}
