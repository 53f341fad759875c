package sqlite

import (
	"errors"
	"fmt"
	"time"
	"unsafe"

	"modernc.org/libc"
	lib "modernc.org/sqlite/lib"

	"github.com/surveysync/surveysync/store"
)

// rawConn is a connection used through SQLite's C API
// (modernc.org/sqlite/lib) directly rather than through database/sql.
// Through database/sql every statement costs an argument conversion, a C
// copy of every text argument and several locks, and every column of every
// row an interface conversion, a copy and a mutex round trip (the driver
// opens connections SQLITE_OPEN_FULLMUTEX): several microseconds a
// statement, about twice SQLite's own work on the ledger's hot paths. A
// rawConn is opened SQLITE_OPEN_NOMUTEX, binds arguments from one buffer
// per statement and reads columns in place.
//
// A rawConn is not safe for concurrent use: scans open their own (see
// openScanConn) and the writer guards its one with a mutex (see
// rawWriter).
type rawConn struct {
	tls *libc.TLS
	db  uintptr
}

// rawMmapSize is the mmap_size of scan connections. Reading pages through
// a memory map saves a pread per page, about a third of a scan's cost; the
// map is released when the scan's connection closes.
const rawMmapSize = 1 << 30

// openScanConn opens the ledger file for a scan.
func openScanConn(path string, busyTimeout time.Duration) (*rawConn, error) {
	return openRaw(path, busyTimeout, []string{
		"PRAGMA query_only = 1",
		"PRAGMA cache_size = -4096",
		fmt.Sprintf("PRAGMA mmap_size = %d", rawMmapSize),
	})
}

// openRaw opens the ledger file, which must exist (the store's own
// connections created it), and runs pragmas on the new connection.
func openRaw(path string, busyTimeout time.Duration, pragmas []string) (*rawConn, error) {
	c := &rawConn{tls: libc.NewTLS()}
	name, err := libc.CString(path)
	if err != nil {
		c.tls.Close()
		return nil, err
	}
	defer libc.Xfree(c.tls, name)
	out := libc.Xmalloc(c.tls, libc.Tsize_t(unsafe.Sizeof(uintptr(0))))
	if out == 0 {
		c.tls.Close()
		return nil, errors.New("opening raw connection: out of memory")
	}
	defer libc.Xfree(c.tls, out)
	// sqlite3_open_v2 always sets *out, to a handle or to NULL.
	rc := lib.Xsqlite3_open_v2(c.tls, name, out, lib.SQLITE_OPEN_READWRITE|lib.SQLITE_OPEN_NOMUTEX, 0)
	c.db = libc.AtomicLoadPUintptr(out)
	if rc != lib.SQLITE_OK {
		err := c.error(rc)
		c.close()
		return nil, fmt.Errorf("opening raw connection: %w", err)
	}
	lib.Xsqlite3_extended_result_codes(c.tls, c.db, 1)
	lib.Xsqlite3_busy_timeout(c.tls, c.db, int32(busyTimeout.Milliseconds()))
	for _, pragma := range pragmas {
		if err := c.exec(pragma); err != nil {
			c.close()
			return nil, fmt.Errorf("opening raw connection: %s: %w", pragma, err)
		}
	}
	return c, nil
}

// exec runs a statement that returns no rows.
func (c *rawConn) exec(query string) error {
	s, err := c.prepare(query)
	if err != nil {
		return err
	}
	defer s.close()
	for {
		more, err := s.step()
		if err != nil || !more {
			return err
		}
	}
}

// close closes the connection and frees its thread state.
func (c *rawConn) close() {
	if c.db != 0 {
		lib.Xsqlite3_close_v2(c.tls, c.db)
		c.db = 0
	}
	c.tls.Close()
}

// error describes a failed call's result code with the connection's message.
func (c *rawConn) error(rc int32) error {
	msg := libc.GoString(lib.Xsqlite3_errstr(c.tls, rc))
	if c.db != 0 {
		if m := libc.GoString(lib.Xsqlite3_errmsg(c.tls, c.db)); m != "" && m != msg {
			msg += ": " + m
		}
	}
	return &rawError{code: rc, msg: msg}
}

// rawError is an error SQLite returned, with its result code.
type rawError struct {
	code int32
	msg  string
}

// Error describes the error as the driver does.
func (e *rawError) Error() string { return fmt.Sprintf("sqlite: %s (%d)", e.msg, e.code) }

// isBusy reports whether err is SQLITE_BUSY: another connection holds the
// lock (extended codes keep the primary code in the low byte).
func isBusy(err error) bool {
	var re *rawError
	return errors.As(err, &re) && re.code&0xff == lib.SQLITE_BUSY
}

// rawStmt is a prepared statement of a rawConn.
type rawStmt struct {
	c *rawConn
	p uintptr
	// texts are the C strings bound to the statement, freed on close.
	texts []uintptr
	// buf holds the text and blob arguments of the current run (see
	// bindArgs), bufCap bytes, freed on close.
	buf    uintptr
	bufCap int
}

// prepare compiles one statement.
func (c *rawConn) prepare(query string) (*rawStmt, error) {
	q, err := libc.CString(query)
	if err != nil {
		return nil, err
	}
	defer libc.Xfree(c.tls, q)
	out := libc.Xmalloc(c.tls, libc.Tsize_t(unsafe.Sizeof(uintptr(0))))
	if out == 0 {
		return nil, errors.New("preparing: out of memory")
	}
	defer libc.Xfree(c.tls, out)
	// sqlite3_prepare_v2 always sets *out, to a statement or to NULL.
	if rc := lib.Xsqlite3_prepare_v2(c.tls, c.db, q, -1, out, 0); rc != lib.SQLITE_OK {
		return nil, fmt.Errorf("preparing %q: %w", firstLine(query), c.error(rc))
	}
	return &rawStmt{c: c, p: libc.AtomicLoadPUintptr(out)}, nil
}

// bindInt64 binds parameter i (from 1).
func (s *rawStmt) bindInt64(i int, v int64) error {
	if rc := lib.Xsqlite3_bind_int64(s.c.tls, s.p, int32(i), v); rc != lib.SQLITE_OK {
		return s.c.error(rc)
	}
	return nil
}

// bindText binds parameter i (from 1). The text stays allocated until the
// statement is closed, so SQLite may read it in place.
func (s *rawStmt) bindText(i int, v string) error {
	p, err := libc.CString(v)
	if err != nil {
		return err
	}
	s.texts = append(s.texts, p)
	if rc := lib.Xsqlite3_bind_text(s.c.tls, s.p, int32(i), p, int32(len(v)), 0); rc != lib.SQLITE_OK {
		return s.c.error(rc)
	}
	return nil
}

// step advances to the next row and reports whether there is one.
func (s *rawStmt) step() (bool, error) {
	switch rc := lib.Xsqlite3_step(s.c.tls, s.p); rc {
	case lib.SQLITE_ROW:
		return true, nil
	case lib.SQLITE_DONE:
		return false, nil
	default:
		return false, s.c.error(rc)
	}
}

// reset ends the statement's current run (and its read transaction), so
// it can run again with new bindings.
func (s *rawStmt) reset() {
	lib.Xsqlite3_reset(s.c.tls, s.p)
}

// int64 reads column i (from 0) of the current row.
func (s *rawStmt) int64(i int) int64 {
	return lib.Xsqlite3_column_int64(s.c.tls, s.p, int32(i))
}

// isNull reports whether column i (from 0) of the current row is NULL.
func (s *rawStmt) isNull(i int) bool {
	return lib.Xsqlite3_column_type(s.c.tls, s.p, int32(i)) == lib.SQLITE_NULL
}

// appendBytes appends column i (from 0) of the current row, as bytes, to
// dst, copying them straight out of SQLite's memory.
func (s *rawStmt) appendBytes(dst []byte, i int) []byte {
	p := lib.Xsqlite3_column_blob(s.c.tls, s.p, int32(i))
	n := int(lib.Xsqlite3_column_bytes(s.c.tls, s.p, int32(i)))
	if p == 0 || n <= 0 {
		return dst
	}
	return append(dst, libc.GoBytes(p, n)...)
}

// close finalizes the statement and frees its bound texts.
func (s *rawStmt) close() {
	lib.Xsqlite3_finalize(s.c.tls, s.p)
	for _, p := range s.texts {
		libc.Xfree(s.c.tls, p)
	}
	s.texts = nil
	if s.buf != 0 {
		libc.Xfree(s.c.tls, s.buf)
		s.buf, s.bufCap = 0, 0
	}
}

// bindArgs binds args to parameters 1, 2, … for one run of the statement.
// Texts and blobs are copied into the statement's buffer, which SQLite
// reads in place until the statement is reset (SQLITE_STATIC): one copy
// and no allocation per argument. The statement must have been reset.
func (s *rawStmt) bindArgs(args []any) error {
	need := 1 // a NUL after the texts keeps the buffer non-empty
	for _, a := range args {
		switch v := a.(type) {
		case string:
			need += len(v)
		case []byte:
			need += len(v)
		}
	}
	if need > s.bufCap {
		size := max(need, 2*s.bufCap, 256)
		p := libc.Xrealloc(s.c.tls, s.buf, libc.Tsize_t(size))
		if p == 0 {
			return errors.New("binding arguments: out of memory")
		}
		s.buf, s.bufCap = p, size
	}
	at := 0
	// put copies b into the buffer and returns where it starts.
	put := func(b []byte) uintptr {
		p := s.buf + uintptr(at)
		if len(b) > 0 {
			copy(libc.GoBytes(p, len(b)), b)
			at += len(b)
		}
		return p
	}
	tls := s.c.tls
	for i, a := range args {
		n := int32(i + 1)
		var rc int32
		switch v := a.(type) {
		case nil:
			rc = lib.Xsqlite3_bind_null(tls, s.p, n)
		case int64:
			rc = lib.Xsqlite3_bind_int64(tls, s.p, n, v)
		case int:
			rc = lib.Xsqlite3_bind_int64(tls, s.p, n, int64(v))
		case int32:
			rc = lib.Xsqlite3_bind_int64(tls, s.p, n, int64(v))
		case bool:
			rc = lib.Xsqlite3_bind_int64(tls, s.p, n, boolInt(v))
		case float64:
			rc = lib.Xsqlite3_bind_double(tls, s.p, n, v)
		case string:
			p := put(unsafe.Slice(unsafe.StringData(v), len(v)))
			rc = lib.Xsqlite3_bind_text(tls, s.p, n, p, int32(len(v)), 0)
		case []byte:
			// A nil or empty slice is an empty blob, never NULL.
			p := put(v)
			rc = lib.Xsqlite3_bind_blob(tls, s.p, n, p, int32(len(v)), 0)
		default:
			return fmt.Errorf("binding argument %d: unsupported type %T", n, a)
		}
		if rc != lib.SQLITE_OK {
			return fmt.Errorf("binding argument %d: %w", n, s.c.error(rc))
		}
	}
	return nil
}

// resetAndClear ends the statement's run and unbinds its arguments, so the
// statement holds no pointer into its buffer.
func (s *rawStmt) resetAndClear() {
	lib.Xsqlite3_reset(s.c.tls, s.p)
	lib.Xsqlite3_clear_bindings(s.c.tls, s.p)
}

// columnType returns the storage class of column i of the current row.
func (s *rawStmt) columnType(i int) int32 {
	return lib.Xsqlite3_column_type(s.c.tls, s.p, int32(i))
}

// text returns column i (from 0) of the current row as a new string.
func (s *rawStmt) text(i int) string {
	p := lib.Xsqlite3_column_text(s.c.tls, s.p, int32(i))
	n := int(lib.Xsqlite3_column_bytes(s.c.tls, s.p, int32(i)))
	if p == 0 || n <= 0 {
		return ""
	}
	return string(libc.GoBytes(p, n))
}

// bytesLen returns the length in bytes of column i (from 0) of the
// current row, read as a blob.
func (s *rawStmt) bytesLen(i int) int {
	lib.Xsqlite3_column_blob(s.c.tls, s.p, int32(i))
	return int(lib.Xsqlite3_column_bytes(s.c.tls, s.p, int32(i)))
}

// textIs reports whether column i (from 0) of the current row is the text
// v, without copying it.
func (s *rawStmt) textIs(i int, v string) bool {
	p := lib.Xsqlite3_column_text(s.c.tls, s.p, int32(i))
	n := int(lib.Xsqlite3_column_bytes(s.c.tls, s.p, int32(i)))
	if p == 0 || n <= 0 {
		return v == ""
	}
	return string(libc.GoBytes(p, n)) == v
}

// state reads column i (from 0) of the current row as a delivery state,
// without allocating for the states there are.
func (s *rawStmt) state(i int) store.State {
	for _, st := range [...]store.State{store.Pending, store.Delivered, store.Sending, store.Dead} {
		if s.textIs(i, string(st)) {
			return st
		}
	}
	return store.State(s.text(i))
}

// float64 reads column i (from 0) of the current row.
func (s *rawStmt) float64(i int) float64 {
	return lib.Xsqlite3_column_double(s.c.tls, s.p, int32(i))
}
