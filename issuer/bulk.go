package issuer

// Bulk status changes: suspending, resuming or revoking many credentials — every record of a
// batch issued in error, or a list of record ids — as one operation.
//
// The operation is planned in one database transaction: the records it will change (those
// whose state allows the action; the others are skipped and counted) are copied with their
// status entries into bulk_items under a new bulk_ops row. Then, status list by status list,
// the ledger is written first — one status.set per list: the JSON form for up to
// BulkJSONMax entries, otherwise the bulk form (one value, a bitmap of the whole list,
// ~22 KB: any number of entries) — and, once the ledger confirmed it committed, the list's
// records are updated in one transaction that also marks its items done. So 100,000
// credentials of one batch (one or two lists) take one or two ledger transactions, and a
// window sees the new status at the next block.
//
// Interrupted (a crash, a ledger failure), the operation stays recorded unfinished; the next
// status change of the department (single or bulk) first finishes it: the lists not marked
// done are written again — setting entries to the value they may already have is
// idempotent — and their records updated. Records and the ledger agree again before
// anything else changes a status. Status changes are serialised in the process (one home is
// opened by one process at a time).

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"time"

	"lianzheng/ledger"
)

// BulkJSONMax is the most entries of one list a bulk change writes as JSON updates; more
// take the bulk (bitmap) form, whose size does not depend on the count.
const BulkJSONMax = 800

var bulkJSONMax = BulkJSONMax // tests lower it to reach the bulk form with small lists

// BulkSelection names the records of a bulk status change: every record of a batch, or
// the records with the given ids (unknown ids are counted as skipped).
type BulkSelection struct {
	BatchID string
	IDs     iter.Seq[string]
}

// BulkResult is the outcome of a bulk status change.
type BulkResult struct {
	Op       int64  `json:"op"`
	Action   string `json:"action"`
	Selected int    `json:"selected"` // records (or ids) the selection named
	Changed  int    `json:"changed"`  // records whose status the operation changed
	Skipped  int    `json:"skipped"`  // named but not changed: the state does not allow the action, or no such record
	Lists    int    `json:"lists"`    // status lists written
	Txs      int    `json:"txs"`      // ledger transactions
	Height   int64  `json:"height"`   // block of the last one
	// Finished is an earlier interrupted operation this call completed first (nil if none).
	Finished []*BulkResult `json:"finished,omitempty"`
}

// BulkProgress is where a bulk status change is: Done of Total records written (list by list).
type BulkProgress struct {
	Done, Total int
	Txs         int
}

// ErrBulkSelection: a bulk selection names neither a batch nor ids, or both, or a batch
// with no records.
var ErrBulkSelection = errors.New("issuer: bulk selection must name a batch with records, or record ids")

// BulkSetStatus suspends, resumes or revokes every selected record whose state allows it, in
// as few ledger transactions as the lists they are on allow (see the top of this file).
// progress, if set, is called after each list.
func (d *Department) BulkSetStatus(ctx context.Context, sel BulkSelection, action string, progress func(BulkProgress)) (*BulkResult, error) {
	tr, ok := transitions[action]
	if !ok {
		return nil, fmt.Errorf("%w: unknown action %q", ErrBadTransition, action)
	}
	if (sel.BatchID == "") == (sel.IDs == nil) {
		return nil, ErrBulkSelection
	}
	d.statusMu.Lock()
	defer d.statusMu.Unlock()
	var earlier []*BulkResult
	if err := d.finishBulkInto(ctx, &earlier); err != nil {
		return nil, err
	}
	res, err := d.planBulk(ctx, sel, action, tr)
	if err != nil {
		return nil, err
	}
	res.Finished = earlier
	return res, d.runBulk(ctx, res, tr, progress)
}

// planBulk records the operation and its items.
func (d *Department) planBulk(ctx context.Context, sel BulkSelection, action string, tr transition) (*BulkResult, error) {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return nil, recErr("begin", err)
	}
	defer tx.Rollback()
	now := d.now().Unix()
	selection := "ids"
	if sel.BatchID != "" {
		selection = "batch:" + sel.BatchID
	}
	x, err := tx.ExecContext(ctx, `INSERT INTO bulk_ops (action, selection, selected, items, created_at) VALUES (?,?,0,0,?)`, action, selection, now)
	if err != nil {
		return nil, recErr("bulk", err)
	}
	res := &BulkResult{Action: action}
	if res.Op, err = x.LastInsertId(); err != nil {
		return nil, recErr("bulk", err)
	}
	from := tr.from
	args := func(first ...any) []any {
		for _, s := range from {
			first = append(first, s)
		}
		return append(first, make([]any, 2-len(from))...) // two state slots; NULL never matches
	}
	const pick = ` SELECT ?, id, status_list, status_index FROM records WHERE `
	if sel.BatchID != "" {
		if err := tx.QueryRowContext(ctx, `SELECT COUNT(*) FROM records WHERE batch_id = ?`, sel.BatchID).Scan(&res.Selected); err != nil {
			return nil, recErr("bulk", err)
		}
		if res.Selected == 0 {
			return nil, fmt.Errorf("%w: no records of batch %q", ErrBulkSelection, sel.BatchID)
		}
		x, err := tx.ExecContext(ctx, `INSERT INTO bulk_items (op, record_id, status_list, status_index)`+pick+`batch_id = ? AND state IN (?, ?)`,
			args(res.Op, sel.BatchID)...)
		if err != nil {
			return nil, recErr("bulk items", err)
		}
		n, _ := x.RowsAffected()
		res.Changed = int(n)
	} else {
		st, err := tx.PrepareContext(ctx, `INSERT OR IGNORE INTO bulk_items (op, record_id, status_list, status_index)`+pick+`id = ? AND state IN (?, ?)`)
		if err != nil {
			return nil, recErr("bulk items", err)
		}
		for id := range sel.IDs {
			res.Selected++
			x, err := st.ExecContext(ctx, args(res.Op, id)...)
			if err != nil {
				return nil, recErr("bulk items", err)
			}
			n, _ := x.RowsAffected()
			res.Changed += int(n)
		}
		if res.Selected == 0 {
			return nil, ErrBulkSelection
		}
	}
	res.Skipped = res.Selected - res.Changed
	fin := int64(0)
	if res.Changed == 0 {
		fin = now
	}
	if _, err := tx.ExecContext(ctx, `UPDATE bulk_ops SET selected = ?, items = ?, finished_at = ? WHERE id = ?`, res.Selected, res.Changed, fin, res.Op); err != nil {
		return nil, recErr("bulk", err)
	}
	if err := tx.Commit(); err != nil {
		return nil, recErr("commit", err)
	}
	return res, nil
}

// finishBulkInto completes every bulk operation left unfinished (with statusMu held),
// appending them to done (if set).
func (d *Department) finishBulkInto(ctx context.Context, done *[]*BulkResult) error {
	rows, err := d.db.QueryContext(ctx, `SELECT id, action, selected, items, txs FROM bulk_ops WHERE finished_at = 0 ORDER BY id`)
	if err != nil {
		return recErr("bulk", err)
	}
	var ops []*BulkResult
	for rows.Next() {
		r := &BulkResult{}
		if err := rows.Scan(&r.Op, &r.Action, &r.Selected, &r.Changed, &r.Txs); err != nil {
			rows.Close()
			return recErr("bulk", err)
		}
		r.Skipped = r.Selected - r.Changed
		ops = append(ops, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return recErr("bulk", err)
	}
	for _, r := range ops {
		tr, ok := transitions[r.Action]
		if !ok {
			return fmt.Errorf("%w: bulk operation %d has action %q", ErrRecords, r.Op, r.Action)
		}
		if err := d.runBulk(ctx, r, tr, nil); err != nil {
			return fmt.Errorf("issuer: finishing the interrupted bulk %s (operation %d): %w", r.Action, r.Op, err)
		}
		if done != nil {
			*done = append(*done, r)
		}
	}
	return nil
}

// runBulk writes the operation's lists not done yet: ledger first, then the records.
func (d *Department) runBulk(ctx context.Context, res *BulkResult, tr transition, progress func(BulkProgress)) error {
	if res.Changed == 0 {
		return nil
	}
	lists, err := d.bulkLists(ctx, res.Op)
	if err != nil {
		return err
	}
	var doneItems int
	if err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM bulk_items WHERE op = ? AND done = 1`, res.Op).Scan(&doneItems); err != nil {
		return recErr("bulk", err)
	}
	for _, list := range lists {
		idx, err := d.bulkIndices(ctx, res.Op, list)
		if err != nil {
			return err
		}
		body := ledger.StatusSet{List: list}
		if len(idx) <= bulkJSONMax {
			for _, i := range idx {
				body.Updates = append(body.Updates, ledger.StatusUpdate{Index: i, Value: tr.value})
			}
		} else {
			bm := make([]byte, ledger.StatusBitmapBytes)
			for _, i := range idx {
				if err := ledger.SetBitmap(bm, i); err != nil {
					return fmt.Errorf("%w: list %d: %w", ErrRecords, list, err)
				}
			}
			body.Bulk = &ledger.StatusBulk{Value: tr.value, Bitmap: ledger.EncodeStatusBitmap(bm)}
		}
		signer, kid := d.key()
		txr, err := d.submit(ctx, signer, kid, ledger.TxStatusSet, body)
		if err != nil {
			return fmt.Errorf("issuer: status.set of list %d on the ledger: %w", list, err)
		}
		if err := d.bulkListDone(ctx, res.Op, list, tr.next, txr.Height); err != nil {
			return fmt.Errorf("issuer: ledger updated (block %d) but the records of list %d were not: %w", txr.Height, list, err)
		}
		res.Lists++
		res.Txs++
		res.Height = txr.Height
		doneItems += len(idx)
		if progress != nil {
			progress(BulkProgress{Done: doneItems, Total: res.Changed, Txs: res.Txs})
		}
	}
	if _, err := d.db.ExecContext(ctx, `UPDATE bulk_ops SET finished_at = ? WHERE id = ?`, d.now().Unix(), res.Op); err != nil {
		return recErr("bulk", err)
	}
	return nil
}

// bulkLists are the lists of an operation not done yet.
func (d *Department) bulkLists(ctx context.Context, op int64) ([]int, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT DISTINCT status_list FROM bulk_items WHERE op = ? AND done = 0 ORDER BY status_list`, op)
	if err != nil {
		return nil, recErr("bulk", err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var l int
		if err := rows.Scan(&l); err != nil {
			return nil, recErr("bulk", err)
		}
		out = append(out, l)
	}
	return out, rows.Err()
}

// bulkIndices are the status indices of an operation's items on one list (at most a list).
func (d *Department) bulkIndices(ctx context.Context, op int64, list int) ([]int, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT status_index FROM bulk_items WHERE op = ? AND status_list = ?`, op, list)
	if err != nil {
		return nil, recErr("bulk", err)
	}
	defer rows.Close()
	var out []int
	for rows.Next() {
		var i int
		if err := rows.Scan(&i); err != nil {
			return nil, recErr("bulk", err)
		}
		out = append(out, i)
	}
	return out, rows.Err()
}

// bulkListDone updates one list's records to their new state and marks its items done.
func (d *Department) bulkListDone(ctx context.Context, op int64, list int, next string, height int64) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return recErr("begin", err)
	}
	defer tx.Rollback()
	now := d.now().UTC().Unix()
	for _, q := range []struct {
		sql  string
		args []any
	}{
		{`UPDATE records SET state = ?, updated_at = ?, status_height = ? WHERE id IN (SELECT record_id FROM bulk_items WHERE op = ? AND status_list = ?)`,
			[]any{next, now, height, op, list}},
		{`UPDATE bulk_items SET done = 1 WHERE op = ? AND status_list = ?`, []any{op, list}},
		{`UPDATE bulk_ops SET txs = txs + 1, height = ? WHERE id = ?`, []any{height, op}},
	} {
		if _, err := tx.ExecContext(ctx, q.sql, q.args...); err != nil {
			return recErr("bulk", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return recErr("commit", err)
	}
	return nil
}

// BatchInfo is a batch the department ran (or is running).
type BatchInfo struct {
	ID        string    `json:"id"`
	Type      string    `json:"type"`
	Kind      string    `json:"kind"`
	Rows      int       `json:"rows"`
	Committed int       `json:"committed"`
	Out       string    `json:"out"`
	Started   time.Time `json:"started"`
	Finished  time.Time `json:"finished,omitzero"` // zero: not finished (interrupted, or running)
}

// Batches lists the department's batches, newest first (at most limit, default 50).
func (d *Department) Batches(ctx context.Context, limit int) ([]BatchInfo, error) {
	if limit <= 0 {
		limit = 50
	}
	rows, err := d.db.QueryContext(ctx, `SELECT id, type, kind, rows, committed, out_path, started_at, finished_at FROM batches ORDER BY started_at DESC, id LIMIT ?`, limit)
	if err != nil {
		return nil, recErr("batches", err)
	}
	defer rows.Close()
	var out []BatchInfo
	for rows.Next() {
		var b BatchInfo
		var started, fin int64
		if err := rows.Scan(&b.ID, &b.Type, &b.Kind, &b.Rows, &b.Committed, &b.Out, &started, &fin); err != nil {
			return nil, recErr("batches", err)
		}
		b.Started = time.Unix(started, 0).UTC()
		if fin != 0 {
			b.Finished = time.Unix(fin, 0).UTC()
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

// BatchStates counts a batch's records by state (valid, suspended, revoked).
func (d *Department) BatchStates(ctx context.Context, batchID string) (map[string]int, error) {
	rows, err := d.db.QueryContext(ctx, `SELECT state, COUNT(*) FROM records WHERE batch_id = ? GROUP BY state`, batchID)
	if err != nil {
		return nil, recErr("batch", err)
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var s string
		var n int
		if err := rows.Scan(&s, &n); err != nil {
			return nil, recErr("batch", err)
		}
		out[s] = n
	}
	return out, rows.Err()
}
