package issuer

import (
	"context"
	"fmt"
)

// HashHex is the offers' code and PIN hash (tests forge legacy offers with it).
var HashHex = hashHex

// BulkInsertForTest stores n synthetic records, each indexed by its holder claims exactly as
// issuance indexes them, in one transaction and without signing anything: the 100,000-record
// list and search tests. gen returns the i-th record and its claims.
func (d *Department) BulkInsertForTest(ctx context.Context, n int, gen func(i int) (Record, map[string]any)) error {
	// a page cache that holds the random-keyed indexes: the transaction never spills
	if _, err := d.db.ExecContext(ctx, `PRAGMA cache_size = -65536`); err != nil {
		return err
	}
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	defer tx.Rollback()
	rec, err := tx.PrepareContext(ctx, insertRecordSQL)
	if err != nil {
		return err
	}
	hold, err := tx.PrepareContext(ctx, `INSERT INTO record_holders (record_id, display, name_mac, number_mac) VALUES (?,?,?,?)`)
	if err != nil {
		return err
	}
	for i := range n {
		r, claims := gen(i)
		if _, err := rec.ExecContext(ctx, recordArgs(&r)...); err != nil {
			return fmt.Errorf("record %d: %w", i, err)
		}
		h, err := d.holderRow(r.ID, claims)
		if err != nil {
			return err
		}
		if _, err := hold.ExecContext(ctx, h.recordID, h.display, h.nameMAC, h.numberMAC); err != nil {
			return fmt.Errorf("holder %d: %w", i, err)
		}
	}
	return tx.Commit()
}

// WithListSize makes a department's status lists n entries long (the real ones are
// ledger.StatusListSize): tests fill several lists with a few credentials.
func WithListSize(c Config, n int) Config {
	c.listSize = n
	return c
}

// SetBulkJSONMax makes bulk status changes use the bitmap form above n entries of a list;
// the returned func restores BulkJSONMax.
func SetBulkJSONMax(n int) func() {
	bulkJSONMax = n
	return func() { bulkJSONMax = BulkJSONMax }
}

// CommitGroups is the number of transactions the group committer has written.
func (d *Department) CommitGroups() int {
	d.group.mu.Lock()
	defer d.group.mu.Unlock()
	return d.group.groups
}
