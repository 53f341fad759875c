package config

import (
	"errors"
	"fmt"
	"sort"
	"strings"
)

// Pos is a place in a configuration or mapping file.
type Pos struct {
	File string
	Line int
	Col  int
}

// String formats the position as file:line:col, leaving out what is unknown.
func (p Pos) String() string {
	switch {
	case p.Line == 0:
		return p.File
	case p.Col == 0:
		return fmt.Sprintf("%s:%d", p.File, p.Line)
	default:
		return fmt.Sprintf("%s:%d:%d", p.File, p.Line, p.Col)
	}
}

// Error is a mistake in a file, reported at the place it was made.
type Error struct {
	Pos Pos
	Msg string
	// Warning marks problems that do not stop validate from passing, such as
	// a secret whose environment variable is not set on this machine.
	Warning bool
}

// Error formats the error as "file:line:col: message".
func (e *Error) Error() string {
	if e.Pos.File == "" && e.Pos.Line == 0 {
		return e.Msg
	}
	return e.Pos.String() + ": " + e.Msg
}

// Errorf returns an Error at pos.
func Errorf(pos Pos, format string, args ...any) *Error {
	return &Error{Pos: pos, Msg: fmt.Sprintf(format, args...)}
}

// ErrorList is every mistake found in one pass, so that an ops person can fix
// them all at once.
type ErrorList []*Error

// Error lists the errors, one per line, in file order.
func (l ErrorList) Error() string {
	l.Sort()
	lines := make([]string, len(l))
	for i, e := range l {
		lines[i] = e.Error()
	}
	return strings.Join(lines, "\n")
}

// Sort orders the list by file, line and column.
func (l ErrorList) Sort() {
	sort.SliceStable(l, func(i, j int) bool {
		a, b := l[i].Pos, l[j].Pos
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		return a.Col < b.Col
	})
}

// Errs returns only the errors that are not warnings.
func (l ErrorList) Errs() ErrorList {
	var out ErrorList
	for _, e := range l {
		if !e.Warning {
			out = append(out, e)
		}
	}
	return out
}

// Warnings returns only the warnings.
func (l ErrorList) Warnings() ErrorList {
	var out ErrorList
	for _, e := range l {
		if e.Warning {
			out = append(out, e)
		}
	}
	return out
}

// Err returns the list as an error when it holds at least one error that is
// not a warning, and nil otherwise.
func (l ErrorList) Err() error {
	if errs := l.Errs(); len(errs) > 0 {
		return errs
	}
	return nil
}

// Add appends err to the list, flattening lists and giving errors without a
// position the fallback position pos.
func (l *ErrorList) Add(pos Pos, err error) {
	if err == nil {
		return
	}
	var list ErrorList
	if errors.As(err, &list) {
		*l = append(*l, list...)
		return
	}
	var e *Error
	if errors.As(err, &e) {
		*l = append(*l, e)
		return
	}
	*l = append(*l, &Error{Pos: pos, Msg: err.Error()})
}

// AsList returns err as an ErrorList: the list itself, or a list of one.
func AsList(err error) ErrorList {
	if err == nil {
		return nil
	}
	var l ErrorList
	l.Add(Pos{}, err)
	return l
}
