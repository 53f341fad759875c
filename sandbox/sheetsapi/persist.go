package sheetsapi

import (
	"bufio"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// snapshotVersion is bumped when the snapshot format changes incompatibly.
const snapshotVersion = 1

type snapshotFile struct {
	Version      int                   `json:"version"`
	Spreadsheets []snapshotSpreadsheet `json:"spreadsheets"`
}

type snapshotSpreadsheet struct {
	ID       string          `json:"id"`
	Title    string          `json:"title"`
	Locale   string          `json:"locale"`
	TimeZone string          `json:"timeZone"`
	Sheets   []snapshotSheet `json:"sheets"`
}

type snapshotSheet struct {
	ID         int64            `json:"id"`
	Title      string           `json:"title"`
	Hidden     bool             `json:"hidden,omitempty"`
	Rows       int              `json:"rowCount"`
	Cols       int              `json:"columnCount"`
	FrozenRows int              `json:"frozenRowCount,omitempty"`
	FrozenCols int              `json:"frozenColumnCount,omitempty"`
	Cells      [][]snapshotCell `json:"cells,omitempty"`
	Formats    []snapshotFormat `json:"formats,omitempty"`
}

// snapshotFormat is a number format rule; -1 marks an open end.
type snapshotFormat struct {
	R0      int    `json:"r0"`
	C0      int    `json:"c0"`
	R1      int    `json:"r1"`
	C1      int    `json:"c1"`
	Type    string `json:"type,omitempty"`
	Pattern string `json:"pattern,omitempty"`
}

// snapshotCell is a cell in the snapshot: exactly one of S, N, B, F set
// (or none for an empty cell), plus how it was written.
type snapshotCell struct {
	S      *string  `json:"s,omitempty"`
	N      *float64 `json:"n,omitempty"`
	B      *bool    `json:"b,omitempty"`
	F      *string  `json:"f,omitempty"`
	Format uint8    `json:"fmt,omitempty"`
	Input  uint8    `json:"in,omitempty"`
}

func toSnapshotCell(c cell) snapshotCell {
	sc := snapshotCell{Format: uint8(c.format), Input: uint8(c.input)}
	switch c.kind {
	case kindString:
		s := c.s
		sc.S = &s
	case kindFormula:
		s := c.s
		sc.F = &s
	case kindNumber:
		n := c.n
		sc.N = &n
	case kindBool:
		b := c.n != 0
		sc.B = &b
	}
	return sc
}

func fromSnapshotCell(sc snapshotCell) cell {
	c := cell{format: numberFormat(sc.Format), input: inputMode(sc.Input)}
	switch {
	case sc.S != nil:
		c.kind, c.s = kindString, *sc.S
	case sc.F != nil:
		c.kind, c.s = kindFormula, *sc.F
	case sc.N != nil:
		c.kind, c.n = kindNumber, *sc.N
	case sc.B != nil:
		c = boolCell(*sc.B, c.input)
	default:
		return cell{}
	}
	return c
}

// Save writes the snapshot to Options.SavePath now. It writes a temporary
// file and renames it, so a crash never leaves a half-written snapshot.
func (s *Server) Save() error {
	if s.savePath == "" {
		return errors.New("sheets emulator: no save path configured")
	}
	s.dirty.Store(false)
	s.mu.RLock()
	snap := s.snapshot()
	s.mu.RUnlock()
	return writeSnapshot(s.savePath, snap)
}

func (s *Server) snapshot() snapshotFile {
	snap := snapshotFile{Version: snapshotVersion}
	for _, id := range s.order {
		ss := s.books[id]
		sj := snapshotSpreadsheet{ID: ss.id, Title: ss.title, Locale: ss.locale, TimeZone: ss.timeZone}
		for _, sh := range ss.sheets {
			shj := snapshotSheet{ID: sh.id, Title: sh.title, Hidden: sh.hidden, Rows: sh.rowCount, Cols: sh.colCount,
				FrozenRows: sh.frozenRows, FrozenCols: sh.frozenCols}
			shj.Cells = make([][]snapshotCell, len(sh.rows))
			for i, r := range sh.rows {
				shj.Cells[i] = make([]snapshotCell, len(r))
				for j, c := range r {
					shj.Cells[i][j] = toSnapshotCell(c)
				}
			}
			for _, f := range sh.formats {
				shj.Formats = append(shj.Formats, snapshotFormat{R0: f.r0, C0: f.c0, R1: f.r1, C1: f.c1, Type: f.f.typ, Pattern: f.f.pattern})
			}
			sj.Sheets = append(sj.Sheets, shj)
		}
		snap.Spreadsheets = append(snap.Spreadsheets, sj)
	}
	return snap
}

func writeSnapshot(path string, snap snapshotFile) error {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, filepath.Base(path)+".tmp*")
	if err != nil {
		return fmt.Errorf("save snapshot: %w", err)
	}
	tmp := f.Name()
	defer os.Remove(tmp)
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return fmt.Errorf("save snapshot: %w", err)
	}
	w := bufio.NewWriter(f)
	if err := json.NewEncoder(w).Encode(snap); err != nil {
		f.Close()
		return fmt.Errorf("save snapshot: %w", err)
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return fmt.Errorf("save snapshot: %w", err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("save snapshot: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("save snapshot: %w", err)
	}
	if err := os.Rename(tmp, path); err != nil {
		return fmt.Errorf("save snapshot: %w", err)
	}
	return nil
}

// load reads a snapshot; a missing file is an empty start.
func (s *Server) load(path string) error {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("load snapshot: %w", err)
	}
	defer f.Close()
	var snap snapshotFile
	if err := json.NewDecoder(bufio.NewReader(f)).Decode(&snap); err != nil {
		return fmt.Errorf("load snapshot %s: %w", path, err)
	}
	if snap.Version != snapshotVersion {
		return fmt.Errorf("load snapshot %s: version %d, want %d", path, snap.Version, snapshotVersion)
	}
	for _, sj := range snap.Spreadsheets {
		ss := newSpreadsheet(sj.ID, sj.Title)
		ss.locale, ss.timeZone = sj.Locale, sj.TimeZone
		for _, shj := range sj.Sheets {
			sh := newSheet(shj.ID, shj.Title, shj.Rows, shj.Cols)
			sh.hidden, sh.frozenRows, sh.frozenCols = shj.Hidden, shj.FrozenRows, shj.FrozenCols
			sh.rows = make([][]cell, len(shj.Cells))
			for i, r := range shj.Cells {
				sh.rows[i] = make([]cell, len(r))
				for j, sc := range r {
					sh.rows[i][j] = fromSnapshotCell(sc)
				}
			}
			for _, f := range shj.Formats {
				sh.formats = append(sh.formats, formatRule{r0: f.R0, c0: f.C0, r1: f.R1, c1: f.C1, f: numFmt{typ: f.Type, pattern: f.Pattern}})
			}
			sh.trim()
			ss.sheets = append(ss.sheets, sh)
		}
		if len(ss.sheets) == 0 {
			return fmt.Errorf("load snapshot %s: spreadsheet %s has no sheets", path, sj.ID)
		}
		if s.books[ss.id] != nil {
			return fmt.Errorf("load snapshot %s: spreadsheet %s appears twice", path, sj.ID)
		}
		s.books[ss.id] = ss
		s.order = append(s.order, ss.id)
	}
	return nil
}
