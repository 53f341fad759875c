package sqlite

import (
	"errors"
	"fmt"
	"time"
	"unsafe"

	"modernc.org/libc"
	lib "modernc.org/sqlite/lib"
)

// rawConn is a read-only connection used through SQLite's C API
// (modernc.org/sqlite/lib) directly, for long scans. Through database/sql
// every column of every row costs an interface conversion, a copy and a
// mutex round trip (the driver opens connections SQLITE_OPEN_FULLMUTEX);
// for a scan of a million rows that is three times SQLite's own work. A
// rawConn is opened SQLITE_OPEN_NOMUTEX and reads columns in place.
//
// A rawConn is not safe for concurrent use: each scan opens its own and
// closes it when done, which also unmaps the file (see openRaw).
type rawConn struct {
	tls *libc.TLS
	db  uintptr
}

// rawMmapSize is the mmap_size of raw connections. Reading pages through a
// memory map saves a pread per page, about a third of a scan's cost; the
// map is released when the scan's connection closes.
const rawMmapSize = 1 << 30

// openRaw opens the ledger file for reading. The file must exist: the
// store's own connections created it.
func openRaw(path string, busyTimeout time.Duration) (*rawConn, error) {
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
	lib.Xsqlite3_busy_timeout(c.tls, c.db, int32(busyTimeout.Milliseconds()))
	for _, pragma := range []string{
		"PRAGMA query_only = 1",
		"PRAGMA cache_size = -4096",
		fmt.Sprintf("PRAGMA mmap_size = %d", rawMmapSize),
	} {
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
	return fmt.Errorf("sqlite: %s (%d)", msg, rc)
}

// rawStmt is a prepared statement of a rawConn.
type rawStmt struct {
	c *rawConn
	p uintptr
	// texts are the C strings bound to the statement, freed on close.
	texts []uintptr
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
}
