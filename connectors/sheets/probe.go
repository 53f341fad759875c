package sheets

import (
	"context"
	"fmt"

	"github.com/surveysync/surveysync/connectors"
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

// Check is validate --connect's look at the sync's tab, with Probe's reads:
// the spreadsheet can be read with the credentials, the tab is found by
// sheet_id or name (or, renamed, by its headers), its header row holds the
// mapping's headers, no empty row sits above the rows written, and the
// workbook has room for a row. A tab that is not there is reported as a
// note: the first delivery creates it. Check creates nothing, and it
// cannot tell whether the credential may edit the spreadsheet or only read
// it (a read shows no difference).
func (d *Destination) Check(ctx context.Context, sync string, m *mapping.Mapping, _ *mapping.Request) ([]connectors.Finding, error) {
	spec := m.Sheet()
	if spec == nil {
		return nil, nil
	}
	if err := d.Probe(ctx, sync, m); err != nil {
		return nil, err
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	st := d.tabs[spec.Tab]
	switch {
	case st == nil || !st.known:
		return []connectors.Finding{{Note: true, Msg: fmt.Sprintf("tab %q is not in spreadsheet %s; the first delivery creates it with the header row %s (validate --connect created nothing)",
			spec.Tab, d.id, quoteList(spec.Headers))}}, nil
	case d.cfg.SheetID == nil && st.title != spec.Tab:
		return []connectors.Finding{{Note: true, Msg: fmt.Sprintf("spreadsheet %s has no tab named %q; deliveries go to tab %q (id %d), found by its header row or by a name that differs only in case",
			d.id, spec.Tab, st.title, st.id)}}, nil
	}
	return nil, nil
}
