package mapping

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf16"

	"github.com/surveysync/surveysync/config"
	"github.com/surveysync/surveysync/survey"
)

// MaxCellChars is the most characters a spreadsheet cell holds. Characters
// outside the Basic Multilingual Plane, such as most emoji, count as two.
const MaxCellChars = 50000

// DateMode tells a spreadsheet destination how to write dates and datetimes.
type DateMode string

const (
	// DatesSerial writes dates as spreadsheet serial numbers with a date
	// number format, so that they sort and compute as dates.
	DatesSerial DateMode = "serial"
	// DatesText writes dates as text in the column's format.
	DatesText DateMode = "text"
)

// LongTextMode tells what happens to text longer than a cell holds.
type LongTextMode string

const (
	// LongTextTruncate cuts the text to MaxCellChars.
	LongTextTruncate LongTextMode = "truncate"
	// LongTextDeadLetter refuses the response with a render error.
	LongTextDeadLetter LongTextMode = "dead_letter"
)

// SheetOptions are the options of a sheet mapping, mostly for the
// spreadsheet destination.
type SheetOptions struct {
	// AppendMissingHeaders lets the destination add mapped headers the tab
	// does not have at the end of its header row. Off by default: a missing
	// header pauses the destination instead.
	AppendMissingHeaders bool
	// Dates is how dates and datetimes are written; serial by default.
	Dates DateMode
	// LongText is what happens to text longer than MaxCellChars; truncate
	// by default. RenderRow applies it.
	LongText LongTextMode
}

// ColumnSpec describes one column of a sheet mapping.
type ColumnSpec struct {
	// Header is the column's header text.
	Header string
	// Kind is the kind of value the column holds (KindText unless typed).
	Kind survey.Kind
	// Format is the date format as written in the mapping (such as
	// "YYYY-MM-DD HH:mm"), or "".
	Format string
	// Layout is Format as a Go time layout, or "".
	Layout string
	// UserEntered marks a column written as if typed by a user (formulas run).
	UserEntered bool
	// Pos is where the column was written.
	Pos config.Pos
}

// SheetSpec is what a spreadsheet destination needs to know about a sheet
// mapping besides the rows themselves.
type SheetSpec struct {
	// Tab is the name of the tab rows go to.
	Tab string
	// KeyHeader is the header of the column that carries the response key.
	KeyHeader string
	// Headers are the mapped headers in file order.
	Headers []string
	// Columns describe the columns in file order.
	Columns []ColumnSpec
	// Options are the mapping's options.
	Options SheetOptions
}

// Row is one rendered sheet row.
type Row struct {
	// Key is the text of the key column.
	Key string
	// Cells are the row's values in the mapping's column order.
	Cells []Cell
}

// Cell is one rendered value and the header it goes under.
type Cell struct {
	Header string
	Value  survey.Value
	// UserEntered is set only for columns with input: user_entered; every
	// other value is written raw, so text such as "=HYPERLINK(...)" stays
	// text.
	UserEntered bool
}

type sheetMapping struct {
	spec    SheetSpec
	columns []*column
	keyIdx  int
}

// column is one compiled column.
type column struct {
	header      string
	where       string // `column "Email"` for messages
	pos         config.Pos
	value       *Expr
	constant    any
	isConst     bool
	ts          typeSpec
	vmap        *ValueMap
	def         any
	hasDefault  bool
	optional    bool
	userEntered bool
}

var columnKeys = []string{"value", "type", "map", "default", "optional", "timezone", "input_timezone", "format", "input_format", "input"}

func compileSheet(root *config.Node, env *compileEnv, errs *loadErrors) *sheetMapping {
	sm := &sheetMapping{keyIdx: -1}
	sm.spec.Options = SheetOptions{Dates: DatesSerial, LongText: LongTextTruncate}

	tab := root.Get("sheet")
	switch {
	case tab == nil:
		errs.add(root.Pos, "missing required key \"sheet\" (the name of the tab rows go to)")
	case tab.Kind != config.ScalarNode || strings.TrimSpace(tab.Value) == "":
		errs.add(tab.Pos, "sheet: expected the name of a tab, such as Responses")
	default:
		sm.spec.Tab = tab.Value
	}
	if opts := root.Get("options"); opts != nil {
		compileSheetOptions(opts, &sm.spec.Options, errs)
	}

	cols := root.Get("columns")
	if cols.Kind != config.MapNode || len(cols.Pairs) == 0 {
		errs.add(cols.Pos, "columns: expected headers and their values, such as Email: \"{{ contact.email }}\"")
		return sm
	}
	seen := map[string]*config.Node{}
	for _, p := range cols.Pairs {
		header := p.Key.Value
		switch {
		case strings.TrimSpace(header) == "":
			errs.add(p.Key.Pos, "columns: a header is empty; write the header text as it appears in the sheet")
			continue
		case strings.TrimSpace(header) != header:
			errs.add(p.Key.Pos, "columns: header %q has spaces at its start or end; write it as it appears in the sheet", header)
			continue
		}
		folded := strings.ToLower(header)
		if prev, dup := seen[folded]; dup {
			errs.add(p.Key.Pos, "columns: header %q is the same as %q at line %d; headers are matched without regard to case, so each must differ by more than case", header, prev.Value, prev.Pos.Line)
			continue
		}
		seen[folded] = p.Key
		c := compileColumn(p.Key, p.Value, env, errs)
		if c == nil {
			continue
		}
		sm.columns = append(sm.columns, c)
		sm.spec.Headers = append(sm.spec.Headers, header)
		cs := ColumnSpec{Header: header, Kind: c.ts.typ.kind(), UserEntered: c.userEntered, Pos: p.Key.Pos}
		if c.ts.format != nil {
			cs.Format, cs.Layout = c.ts.format.src, c.ts.format.layout
		}
		sm.spec.Columns = append(sm.spec.Columns, cs)
	}

	key := root.Get("key")
	switch {
	case key == nil:
		errs.add(root.Pos, "missing required key \"key\" (the header of the column that holds the response key, such as key: Response ID)")
	case key.Kind != config.ScalarNode || key.Value == "":
		errs.add(key.Pos, "key: expected the header of a column, such as Response ID")
	default:
		sm.spec.KeyHeader = key.Value
		for i, c := range sm.columns {
			if c.header == key.Value {
				sm.keyIdx = i
			}
		}
		if sm.keyIdx < 0 && seen[strings.ToLower(key.Value)] == nil {
			msg := fmt.Sprintf("key: %q is not one of the columns; the key column must be mapped, usually as %s: \"{{ key }}\"", key.Value, key.Value)
			if s := config.Suggest(key.Value, headersOf(cols)); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			errs.add(key.Pos, "%s", msg)
		} else if sm.keyIdx < 0 {
			if prev := seen[strings.ToLower(key.Value)]; prev != nil && prev.Value != key.Value {
				errs.add(key.Pos, "key: %q is not one of the columns; did you mean %q?", key.Value, prev.Value)
			}
		} else if c := sm.columns[sm.keyIdx]; c.optional {
			errs.add(c.pos, "column %q: the key column cannot be optional; every row needs a key", c.header)
		}
	}
	return sm
}

func headersOf(cols *config.Node) []string {
	var out []string
	for _, p := range cols.Pairs {
		out = append(out, p.Key.Value)
	}
	return out
}

func compileSheetOptions(n *config.Node, o *SheetOptions, errs *loadErrors) {
	if n.Kind != config.MapNode {
		errs.add(n.Pos, "options: expected a mapping, got %s", n.Kind)
		return
	}
	checkKeys(n, "options: ", []string{"append_missing_headers", "dates", "long_text"}, errs)
	if v := n.Get("append_missing_headers"); v != nil {
		if v.Kind != config.ScalarNode || v.Type != config.BoolScalar {
			errs.add(v.Pos, "options: append_missing_headers: expected true or false")
		} else {
			o.AppendMissingHeaders = v.Interface().(bool)
		}
	}
	if v := n.Get("dates"); v != nil {
		switch DateMode(v.Value) {
		case DatesSerial, DatesText:
			o.Dates = DateMode(v.Value)
		default:
			errs.add(v.Pos, "options: dates: %q is not serial or text", v.Value)
		}
	}
	if v := n.Get("long_text"); v != nil {
		switch LongTextMode(v.Value) {
		case LongTextTruncate, LongTextDeadLetter:
			o.LongText = LongTextMode(v.Value)
		default:
			errs.add(v.Pos, "options: long_text: %q is not truncate or dead_letter", v.Value)
		}
	}
}

func compileColumn(key, n *config.Node, env *compileEnv, errs *loadErrors) *column {
	c := &column{header: key.Value, where: fmt.Sprintf("column %q", key.Value), pos: n.Pos}
	c.ts.zone, c.ts.inputZone = time.UTC, time.UTC
	before := len(errs.list)
	fail := func(pos config.Pos, format string, args ...any) {
		errs.add(pos, "%s: %s", c.where, fmt.Sprintf(format, args...))
	}
	valueNode := n
	switch n.Kind {
	case config.NullNode:
		fail(n.Pos, "has no value; write a template such as \"{{ comment }}\", or \"\" for an always empty column")
		return nil
	case config.SeqNode:
		fail(n.Pos, "expected a value or {value: ..., type: ...}, got a list")
		return nil
	case config.MapNode:
		checkKeys(n, c.where+": ", columnKeys, errs)
		valueNode = n.Get("value")
		if valueNode == nil {
			fail(n.Pos, "missing required key \"value\" (such as value: \"{{ rating }}\")")
		}
	}
	if valueNode != nil {
		c.pos = valueNode.Pos
		c.compileValue(valueNode, env, fail)
	}
	if n.Kind != config.MapNode {
		if len(errs.list) > before {
			return nil
		}
		return c
	}
	timeKeys := map[string]*config.Node{}
	for _, k := range []string{"timezone", "input_timezone", "format", "input_format"} {
		if v := n.Get(k); v != nil {
			timeKeys[k] = v
		}
	}
	if t := n.Get("type"); t != nil {
		typ, ok := typeNames[t.Value]
		if !ok || t.Kind != config.ScalarNode {
			msg := fmt.Sprintf("type %q is not one of text, number, integer, bool, date, datetime", t.Value)
			if s := config.Suggest(t.Value, []string{"text", "number", "integer", "bool", "date", "datetime"}); s != "" {
				msg += fmt.Sprintf("; did you mean %q?", s)
			}
			fail(t.Pos, "%s", msg)
		}
		c.ts.typ = typ
	}
	isTime := c.ts.typ == typeDate || c.ts.typ == typeDateTime
	for _, k := range []string{"timezone", "input_timezone", "format", "input_format"} {
		v := timeKeys[k]
		if v == nil {
			continue
		}
		if !isTime {
			fail(v.Pos, "%s only applies to type: date or type: datetime", k)
			continue
		}
		if v.Kind != config.ScalarNode {
			fail(v.Pos, "%s: expected text, got %s", k, v.Kind)
			continue
		}
		var err error
		switch k {
		case "timezone":
			c.ts.zone, err = loadZone(v.Value)
		case "input_timezone":
			c.ts.inputZone, err = loadZone(v.Value)
		case "format":
			c.ts.format, err = compileTimeFormat(v.Value)
		case "input_format":
			c.ts.inputFormat, err = compileTimeFormat(v.Value)
		}
		if err != nil {
			fail(v.Pos, "%s: %v", k, err)
		}
	}
	if mv := n.Get("map"); mv != nil {
		c.vmap = compileValueMap(mv, env, c.where+": map", errs)
	}
	if d := n.Get("default"); d != nil {
		if d.Kind == config.MapNode || d.Kind == config.SeqNode {
			fail(d.Pos, "default: expected a single value, got %s", d.Kind)
		} else {
			v, err := literalFromYAML(d.Interface())
			if err != nil {
				fail(d.Pos, "default: %v", err)
			} else if _, err := c.ts.convert(v); err != nil {
				fail(d.Pos, "default: %v (the column's type is %s)", err, c.ts.typ)
			}
			c.def, c.hasDefault = v, true
		}
	}
	if o := n.Get("optional"); o != nil {
		if o.Kind != config.ScalarNode || o.Type != config.BoolScalar {
			fail(o.Pos, "optional: expected true or false")
		} else {
			c.optional = o.Interface().(bool)
		}
		if c.optional && c.hasDefault {
			fail(o.Pos, "set either default or optional: true, not both (default already fills missing values)")
		}
	}
	if in := n.Get("input"); in != nil {
		switch in.Value {
		case "raw":
		case "user_entered":
			c.userEntered = true
		default:
			fail(in.Pos, "input: %q is not raw or user_entered (user_entered runs formulas; use it only for values the mapping itself writes)", in.Value)
		}
	}
	if len(errs.list) > before {
		return nil
	}
	return c
}

// compileValue compiles a column's value: a template, or a number or
// true/false written as is.
func (c *column) compileValue(v *config.Node, env *compileEnv, fail func(config.Pos, string, ...any)) {
	switch {
	case v.Kind == config.MapNode || v.Kind == config.SeqNode:
		fail(v.Pos, "value: expected a template such as \"{{ rating }}\", got %s", v.Kind)
	case v.Kind == config.NullNode:
		fail(v.Pos, "value: is empty; write a template such as \"{{ comment }}\", or \"\" for an always empty column")
	case v.Type != config.StringScalar:
		lit, err := literalFromYAML(v.Interface())
		if err != nil {
			fail(v.Pos, "value: %v", err)
			return
		}
		c.constant, c.isConst = lit, true
	default:
		e, err := compileTemplate(v.Value, v.Pos, env)
		if err != nil {
			fail(v.Pos, "%v", err)
			return
		}
		c.value = e
	}
}

// render renders one cell.
func (c *column) render(in *Input, longText LongTextMode) (survey.Value, error) {
	var v any
	if c.isConst {
		v = c.constant
	} else {
		got, miss, err := c.value.eval(in)
		if err != nil {
			return survey.Null, renderErr(c.pos, c.where, "", err.Error())
		}
		switch {
		case miss != nil && c.hasDefault:
			return c.convert(c.def, longText)
		case miss != nil && c.optional:
			return survey.Null, nil
		case miss != nil:
			return survey.Null, renderErr(c.pos, c.where, miss.path, miss.message())
		case got == omitted:
			return survey.Null, nil
		}
		v = got
	}
	if c.hasDefault && (v == nil || v == "") {
		return c.convert(c.def, longText)
	}
	if c.vmap != nil {
		mapped, err := c.vmap.Apply(v)
		if err != nil {
			if c.hasDefault && errors.Is(err, ErrUnmapped) {
				return c.convert(c.def, longText)
			}
			return survey.Null, renderErr(c.pos, c.where, "", err.Error())
		}
		v = mapped
	}
	return c.convert(v, longText)
}

func (c *column) convert(v any, longText LongTextMode) (survey.Value, error) {
	out, err := c.ts.convert(v)
	if err != nil {
		return survey.Null, renderErr(c.pos, c.where, "", err.Error())
	}
	if out.Kind == survey.KindText && len(out.Str) > MaxCellChars {
		if n := utf16Len(out.Str); n > MaxCellChars {
			if longText == LongTextDeadLetter {
				return survey.Null, renderErr(c.pos, c.where, "", fmt.Sprintf("the text is %d characters, more than a cell holds (%d); set options: {long_text: truncate} to cut it instead", n, MaxCellChars))
			}
			out.Str = truncateUTF16(out.Str, MaxCellChars)
		}
	}
	return out, nil
}

func utf16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// truncateUTF16 cuts s to at most n UTF-16 code units without splitting a
// character.
func truncateUTF16(s string, n int) string {
	units := 0
	for i, r := range s {
		w := utf16.RuneLen(r)
		if w < 0 {
			w = 1
		}
		if units+w > n {
			return s[:i]
		}
		units += w
	}
	return s
}

// RenderRow renders a response as a sheet row. The first problem found is
// returned as a *RenderError.
func (m *Mapping) RenderRow(in *Input) (Row, error) {
	if m.sheet == nil {
		return Row{}, fmt.Errorf("mapping %s renders requests, not sheet rows", m.file)
	}
	defer in.project(m.proj)()
	return m.sheet.render(in, nil)
}

// render renders a row. With collect set, every error is passed to it and
// rendering goes on.
func (sm *sheetMapping) render(in *Input, collect func(*RenderError)) (Row, error) {
	row := Row{Cells: make([]Cell, len(sm.columns))}
	for i, c := range sm.columns {
		v, err := c.render(in, sm.spec.Options.LongText)
		if err != nil {
			re := asRenderError(err, c)
			if collect == nil {
				return Row{}, re
			}
			collect(re)
		}
		row.Cells[i] = Cell{Header: c.header, Value: v, UserEntered: c.userEntered}
	}
	if sm.keyIdx >= 0 {
		key := row.Cells[sm.keyIdx].Value
		row.Key = key.String()
		if strings.TrimSpace(row.Key) == "" {
			c := sm.columns[sm.keyIdx]
			re := renderErr(c.pos, c.where, "", "the key column rendered empty; every row needs a key")
			if collect == nil {
				return Row{}, re
			}
			collect(re)
		}
	}
	return row, nil
}

func asRenderError(err error, c *column) *RenderError {
	var re *RenderError
	if errors.As(err, &re) {
		return re
	}
	return renderErr(c.pos, c.where, "", err.Error())
}

// Sheet describes a sheet mapping for its destination; it is nil for a
// request mapping. The caller must not modify it.
func (m *Mapping) Sheet() *SheetSpec {
	if m.sheet == nil {
		return nil
	}
	return &m.sheet.spec
}
