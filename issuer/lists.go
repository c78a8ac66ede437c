package issuer

// Status lists: where a credential's status entry is.
//
// A department's credentials share its numbered status lists on the ledger (list n of
// member m: ledger.KeyStatusChunk(m, n, chunk)), each of ledger.StatusListSize (131,072)
// 2-bit entries. Indices are never reused, so a department that issues millions of
// credentials needs many lists. The allocator fills list n completely — every index drawn
// uniformly at random among the indices of list n not yet used (statuslist.Allocator,
// crypto/rand) — before it opens list n+1.
//
// Privacy. A status list is fetched whole, so a verifier (or the gateway's access log)
// learns which list a credential is on, never which entry: the herd is the list's 131,072
// entries (the W3C Bitstring Status List's recommended minimum), and within a list the
// index says nothing about issuance order (uniform over what was free). The list number
// itself does say roughly when a credential was issued: list n holds the department's
// credentials number 131,072·n to 131,072·(n+1) in issuance order. We accept that: it is
// coarse (for a department issuing 10 million credentials, one list is 1.3 % of them), and
// the alternative — drawing among many open lists — would only hide it while all of them
// are open, and leave lists sparsely used (smaller effective herds, more lists fetched).
// Filling one list at a time also keeps every list's herd full.
//
// Opening a list. Before the first credential on list n ≥ 1 is signed, the department writes
// it on the ledger: a status.set of entry 0 of list n to valid (0, what it already is — it
// changes no status). The list then exists on the ledger: the gateway publishes the lists
// with an entry written (so an outside verifier can fetch the list a new credential names)
// and windows put its names in their compact-response dictionary (verifier/trust.go). A
// crash between opening and using the list only means it is opened again (the same no-op).
//
// Persistence. The records are the allocator's state: every issued credential's record
// (status_list, status_index; UNIQUE in the schema, so the database itself refuses an index
// used twice) is committed in the transaction that issues it, and on Open every recorded
// index of the current list is marked used again. Only the current list's number is kept
// besides (meta 'allocator_list', written with every commit; on Open the larger of it and
// the highest list any record is on). An index drawn for a credential whose transaction
// then failed is simply free again, as it was never handed out. (Databases before this kept
// the whole 16 KiB bitmap in meta 'allocator' and rewrote it with every commit — a sixth of
// a single issuance's CPU; such a bitmap is still read once, then deleted.)

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"sync"

	"lianzheng/credential/statuslist"
	"lianzheng/ledger"
)

// lists is the department's status-list allocator: the current list and its free indices.
type lists struct {
	mu     sync.Mutex // never held while waiting for the database
	size   int        // entries per list (ledger.StatusListSize; smaller in tests)
	cur    int
	a      *statuslist.Allocator
	legacy bool // a bitmap in meta 'allocator' (older databases) still to delete
	// open writes list n on the ledger (Department.openList); called with mu held.
	open func(ctx context.Context, n int) error
}

// slot is a status entry: list number and index.
type slot struct{ list, index int }

func (d *Department) loadLists(ctx context.Context, size int) error {
	if size <= 0 {
		size = ledger.StatusListSize
	}
	l := &lists{size: size, open: d.openList}
	var b []byte
	switch err := d.db.QueryRowContext(ctx, `SELECT v FROM meta WHERE k = 'allocator_list'`).Scan(&b); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return err
	default:
		n, err := strconv.Atoi(string(b))
		if err != nil || n < 0 || n >= ledger.MaxStatusLists {
			return fmt.Errorf("issuer: allocator list %q", b)
		}
		l.cur = n
	}
	var top sql.NullInt64
	if err := d.db.QueryRowContext(ctx, `SELECT MAX(status_list) FROM records`).Scan(&top); err != nil {
		return err
	}
	if top.Valid && int(top.Int64) > l.cur {
		l.cur = int(top.Int64)
	}
	a, err := statuslist.NewAllocator(size)
	if err != nil {
		return err
	}
	switch err := d.db.QueryRowContext(ctx, `SELECT v FROM meta WHERE k = 'allocator'`).Scan(&b); {
	case errors.Is(err, sql.ErrNoRows):
	case err != nil:
		return err
	default:
		if err := a.UnmarshalBinary(b); err != nil {
			return fmt.Errorf("issuer: allocator state: %w", err)
		}
		if a.Size() != size {
			return fmt.Errorf("issuer: allocator state has size %d", a.Size())
		}
		l.legacy = true
	}
	// Every recorded index of the current list is used.
	rows, err := d.db.QueryContext(ctx, `SELECT status_index FROM records WHERE status_list = ?`, l.cur)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var i int
		if err := rows.Scan(&i); err != nil {
			return err
		}
		if i < size && !a.Used(i) {
			if err := a.MarkUsed(i); err != nil {
				return err
			}
		}
	}
	if err := rows.Err(); err != nil {
		return err
	}
	l.a = a
	d.lists = l
	return nil
}

// allocate draws a random unused index of the current list, opening the next list on the
// ledger when the current one is full.
func (l *lists) allocate(ctx context.Context) (slot, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for {
		i, err := l.a.Allocate()
		if err == nil {
			return slot{l.cur, i}, nil
		}
		if !errors.Is(err, statuslist.ErrFull) {
			return slot{}, err
		}
		next := l.cur + 1
		if next >= ledger.MaxStatusLists {
			return slot{}, fmt.Errorf("%w: all %d lists used", ErrStatusListFull, ledger.MaxStatusLists)
		}
		a, err := statuslist.NewAllocator(l.size)
		if err != nil {
			return slot{}, err
		}
		if err := l.open(ctx, next); err != nil {
			return slot{}, fmt.Errorf("issuer: open status list %d on the ledger: %w", next, err)
		}
		l.cur, l.a = next, a
	}
}

// state is what saveLists persists: the current list's number, and whether an old bitmap
// is still to delete.
func (l *lists) state() (n int, legacy bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.cur, l.legacy
}

// saved notes that the old bitmap is gone (after the transaction that deleted it committed).
func (l *lists) saved() {
	l.mu.Lock()
	l.legacy = false
	l.mu.Unlock()
}

// saveLists writes the current list's number inside tx (see Persistence above); after tx
// commits, call d.lists.saved.
func (d *Department) saveLists(ctx context.Context, tx *sql.Tx) error {
	n, legacy := d.lists.state()
	if _, err := tx.ExecContext(ctx, `INSERT INTO meta (k, v) VALUES ('allocator_list', ?) ON CONFLICT(k) DO UPDATE SET v = excluded.v`,
		[]byte(strconv.Itoa(n))); err != nil {
		return fmt.Errorf("%w: allocator state: %w", ErrRecords, err)
	}
	if legacy {
		if _, err := tx.ExecContext(ctx, `DELETE FROM meta WHERE k = 'allocator'`); err != nil {
			return fmt.Errorf("%w: allocator state: %w", ErrRecords, err)
		}
	}
	return nil
}

// openList writes list n on the ledger (see Opening a list above).
func (d *Department) openList(ctx context.Context, n int) error {
	signer, kid := d.key()
	_, err := d.submit(ctx, signer, kid, ledger.TxStatusSet, ledger.StatusSet{List: n,
		Updates: []ledger.StatusUpdate{{Index: 0, Value: ledger.StatusValid}}})
	return err
}

// StatusLists is the number of the department's current status list: its credentials are
// on lists 0 to StatusLists().
func (d *Department) CurrentStatusList() int {
	d.lists.mu.Lock()
	defer d.lists.mu.Unlock()
	return d.lists.cur
}
