package issuer

// Group commit. A credential may leave only once its record, holder index row and the
// allocator's list number are durable: one SQLite transaction, whose commit costs an fsync
// (synchronous=FULL) — on most disks several times the CPU of signing both forms. When
// several credentials are issued at once (the OpenID4VCI service answering many wallets),
// their commits are grouped: the first caller to find no commit running becomes the leader,
// takes every credential signed meanwhile, and writes them in one transaction with one
// fsync; the others wait for it. Each credential's rows are written under its own SAVEPOINT,
// so one that fails (an offer already redeemed by a racing request, say) is rolled back
// alone and only its caller sees the error. A failed commit fails the whole group, and every
// caller sees that error: nothing of the group was written, and indices drawn for it are free
// again (lists.go, Persistence). A lone caller pays what it did before: one transaction.

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"sync"
	"time"
)

// maxGroup bounds a group (a transaction's size and the wait of its last member).
const maxGroup = 256

// pendingCommit is one caller's signed credentials waiting to be committed.
type pendingCommit struct {
	out     []*Issued
	holders []*holderRow
	now     time.Time
	err     error
	done    chan struct{}
}

// groupCommitter queues pending commits; at most one leader commits at a time.
type groupCommitter struct {
	mu      sync.Mutex
	queue   []*pendingCommit
	running bool
	groups  int // transactions committed (for tests)
}

// commit makes p durable, alone or with others (see above), and returns p's outcome.
func (d *Department) commit(ctx context.Context, p *pendingCommit) error {
	g := &d.group
	p.done = make(chan struct{})
	g.mu.Lock()
	g.queue = append(g.queue, p)
	if g.running {
		g.mu.Unlock()
		<-p.done // the leader commits p in bounded time, whatever p's context does
		return p.err
	}
	g.running = true
	for {
		n := min(len(g.queue), maxGroup)
		batch := g.queue[:n:n]
		g.queue = g.queue[n:]
		g.mu.Unlock()
		d.commitGroup(context.WithoutCancel(ctx), batch)
		g.mu.Lock()
		g.groups++
		if len(g.queue) == 0 {
			g.running = false
			g.mu.Unlock()
			break
		}
	}
	<-p.done
	return p.err
}

// commitGroup writes batch in one transaction and closes each member's done.
func (d *Department) commitGroup(ctx context.Context, batch []*pendingCommit) {
	err := d.writeGroup(ctx, batch)
	for _, p := range batch {
		if err != nil {
			p.err = err
		}
		close(p.done)
	}
}

func (d *Department) writeGroup(ctx context.Context, batch []*pendingCommit) error {
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("%w: begin: %w", ErrRecords, err)
	}
	defer tx.Rollback()
	single := len(batch) == 1
	for _, p := range batch {
		if single { // no savepoint needed: the transaction is p's alone
			if p.err = writePending(ctx, tx, p); p.err != nil {
				return p.err
			}
			continue
		}
		if _, err := tx.ExecContext(ctx, `SAVEPOINT issue`); err != nil {
			return fmt.Errorf("%w: savepoint: %w", ErrRecords, err)
		}
		if p.err = writePending(ctx, tx, p); p.err != nil {
			if _, err := tx.ExecContext(ctx, `ROLLBACK TO issue`); err != nil {
				return fmt.Errorf("%w: rollback to savepoint: %w", ErrRecords, err)
			}
		}
		if _, err := tx.ExecContext(ctx, `RELEASE issue`); err != nil {
			return fmt.Errorf("%w: release savepoint: %w", ErrRecords, err)
		}
	}
	if err := d.saveLists(ctx, tx); err != nil {
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("%w: commit: %w", ErrRecords, err)
	}
	d.lists.saved()
	return nil
}

// writePending inserts one caller's records, holder rows and offer updates.
func writePending(ctx context.Context, tx *sql.Tx, p *pendingCommit) error {
	for i, is := range p.out {
		if err := insertRecord(ctx, tx, &is.Record); err != nil {
			return fmt.Errorf("%w: record: %w", ErrRecords, err)
		}
		if err := insertHolder(ctx, tx, p.holders[i]); err != nil {
			return fmt.Errorf("%w: holder index: %w", ErrRecords, err)
		}
		if is.Record.OfferID != "" {
			if err := offerIssued(ctx, tx, is.Record.OfferID, is.Record.ID, p.now); err != nil {
				if !errors.Is(err, ErrOfferUsed) {
					err = fmt.Errorf("%w: offer: %w", ErrRecords, err)
				}
				return err
			}
		}
	}
	return nil
}
