package mapping

import (
	"errors"

	"github.com/surveysync/surveysync/config"
)

// RenderError is a problem found while rendering one response through a
// mapping: a field the response does not have, a value that does not convert
// to its column's type, a value a value map does not know. The engine
// dead-letters the delivery with Error() as the reason.
type RenderError struct {
	// Pos is where in the mapping file the failing template was written.
	Pos config.Pos
	// Path is the response field the error is about, such as contact.email,
	// when there is one.
	Path string
	// Msg says what went wrong, starting with the place in the mapping, such
	// as `column "Email": field contact.email is missing from the response`.
	Msg string
}

// Error formats the error as "file:line:col: message".
func (e *RenderError) Error() string {
	if e.Pos.File == "" && e.Pos.Line == 0 {
		return e.Msg
	}
	return e.Pos.String() + ": " + e.Msg
}

// ErrUnmapped is wrapped by the error a ValueMap returns for a value it does
// not know.
var ErrUnmapped = errors.New("value is not in the map")

// renderErr builds a RenderError whose message is prefixed by where, the
// place in the mapping such as `column "Email"`.
func renderErr(pos config.Pos, where, path, msg string) *RenderError {
	if where != "" {
		msg = where + ": " + msg
	}
	return &RenderError{Pos: pos, Path: path, Msg: msg}
}

// loadErrors collects positioned mistakes found while compiling a mapping.
type loadErrors struct {
	list config.ErrorList
}

func (l *loadErrors) add(pos config.Pos, format string, args ...any) {
	l.list = append(l.list, config.Errorf(pos, format, args...))
}

func (l *loadErrors) addErr(pos config.Pos, err error) {
	l.list.Add(pos, err)
}

func (l *loadErrors) err() error {
	if len(l.list) == 0 {
		return nil
	}
	l.list.Sort()
	return l.list
}
