package sheets

import (
	"context"

	"github.com/surveysync/surveysync/mapping"
)

// Probe tells whether a paused destination can take the sync's rows again:
// the spreadsheet can be read, the tab is found (or would be created), its
// header row matches the mapping, no empty row sits above the rows written
// (see checkGaps), and the workbook has room for a row. It changes nothing
// and costs a few reads.
func (d *Destination) Probe(ctx context.Context, sync string, m *mapping.Mapping) error {
	d.mu.Lock()
	defer d.mu.Unlock()
	spec := m.Sheet()
	if spec == nil {
		return nil
	}
	st := d.stateFor(spec.Tab)
	if st.known {
		// Read every tab's size afresh: the pause may be the cell limit.
		if err := d.loadBook(ctx); err != nil {
			return err
		}
	}
	st, lay, err := d.prepare(ctx, spec, d.options(spec), false)
	if err != nil {
		return err
	}
	if !st.known {
		return nil
	}
	if !st.gapsChecked {
		if _, err := d.checkGaps(ctx, st, lay.key); err != nil {
			return err
		}
	}
	return d.budget(st, 1)
}
