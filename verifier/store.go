package verifier

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"time"

	"lianzheng/credential/wire"

	_ "modernc.org/sqlite" // pure-Go SQLite driver "sqlite" (DESIGN §4: issuer and verifier records)
)

// store keeps the window's protocol state: requests (open, expired, answered), the hashes
// of presentations seen, one-way nonces seen, receipts and anchors. None of it holds
// personal data (requests, hashes, receipts only).
//
// With a directory the state lives in an SQLite database, <dir>/verifier.db (WAL, busy
// timeout, synchronous FULL, as the issuer's), so that `lz verify request`, `lz verify
// check` and a running window may share one directory, also at the same time:
//
//   - every change is a small transaction (an accepted verdict: one transaction claiming its
//     request nonce and presentation hash and storing its receipt, so one fsync) instead of
//     rewriting the whole state;
//   - single use is decided by the database: a request is claimed with `UPDATE … SET used = 1
//     WHERE used = 0` inside BEGIN IMMEDIATE, a one-way nonce by its PRIMARY KEY, so two
//     processes cannot both accept the same answer;
//   - the in-memory index of requests (the unanswered ones, each with its parsed binding for
//     a trust view) is a cache of the requests table: before it is used, `PRAGMA
//     data_version` (a cheap read that changes only when another connection committed) says
//     whether to reload it; parsed bindings of requests already known are kept across a
//     reload. The store uses one connection for its whole life, which makes data_version
//     meaningful;
//   - replay hashes, one-way nonces, receipts and anchors are read from the database when
//     needed (point queries by key), not held in memory.
//
// A legacy JSON state (state.json, and receipts.json if present) found in the directory is
// imported once into the database and renamed to *.imported.
//
// Without a directory (Config.Dir "") the state is memory only, held in st as before.
type store struct {
	mu sync.Mutex
	st state

	db     *sql.DB // nil: memory only
	conn   *sql.Conn
	q      stmts
	dv     int64 // PRAGMA data_version when the request index was last read from the database
	closed bool  // close was called: every database operation fails from then on
}

type storedRequest struct {
	Nonce   string `json:"nonce"` // base64url
	Text    string `json:"text"`  // LZ1Q text
	Item    string `json:"item"`
	Expires int64  `json:"expires"`
	Used    bool   `json:"used,omitempty"`

	cache *bindingCache // parsed form for one trust view (not persisted)
}

type bindingCache struct {
	view *View
	b    *binding
	reqs []wire.FieldRequest
}

type storedReceipt struct {
	ID     string `json:"id"`
	JWS    string `json:"jws"`
	Time   int64  `json:"time"`
	Anchor int    `json:"anchor"` // index+1 into Anchors; 0: not anchored yet
}

// Anchor is a batch of receipts whose Merkle root was posted to the ledger (the record a
// receipt bundle carries, wire.Anchor).
type Anchor = wire.Anchor

// state is the memory-only state, and the format of the legacy JSON files. With a database
// only Requests, byNonce, unused and indexed are used: the request index, a cache.
type state struct {
	Requests []*storedRequest `json:"requests"`
	Seen     map[string]int64 `json:"seen"`    // presentation hash → time
	OneWay   map[string]int64 `json:"one_way"` // one-way nonce → time
	Receipts []*storedReceipt `json:"receipts"`
	Anchors  []*Anchor        `json:"anchors"`
	byNonce  map[string]*storedRequest

	// unused are the requests not yet answered (Used false), in the order of Requests:
	// the only ones that can be open, so that finding the open requests does not walk a
	// day's worth of answered ones. indexed is len(Requests) when unused was last made
	// consistent; any other length (Requests changed behind the store's back) rebuilds it.
	unused  []*storedRequest
	indexed int
}

// dbFile is the name of the window's database in its state directory.
const dbFile = "verifier.db"

const storeSchema = `
CREATE TABLE IF NOT EXISTS requests (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  nonce TEXT NOT NULL UNIQUE,
  text TEXT NOT NULL,
  item TEXT NOT NULL,
  expires INTEGER NOT NULL,
  used INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS requests_expires ON requests (expires);
CREATE TABLE IF NOT EXISTS seen (hash TEXT PRIMARY KEY, time INTEGER NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS one_way (nonce TEXT PRIMARY KEY, time INTEGER NOT NULL) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS one_way_time ON one_way (time);
CREATE TABLE IF NOT EXISTS receipts (
  seq INTEGER PRIMARY KEY AUTOINCREMENT,
  id TEXT NOT NULL UNIQUE,
  jws TEXT NOT NULL,
  time INTEGER NOT NULL,
  anchor INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS receipts_anchor ON receipts (anchor);
CREATE TABLE IF NOT EXISTS anchors (
  n INTEGER PRIMARY KEY,
  root TEXT NOT NULL,
  count INTEGER NOT NULL,
  height INTEGER NOT NULL,
  tx_hash TEXT NOT NULL,
  seq INTEGER NOT NULL,
  time TEXT NOT NULL,
  receipts TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB NOT NULL);
INSERT OR IGNORE INTO meta (k, v) VALUES ('schema', '1');
`

// stmts are the statements of the verify path, prepared once on the store's connection.
type stmts struct {
	dataVersion, seen, claimReq, addSeen, addOneWay, addReceipt *sql.Stmt
}

var storeCtx = context.Background()

func openStore(dir string) (*store, error) {
	s := &store{st: state{Seen: map[string]int64{}, OneWay: map[string]int64{}}}
	s.st.byNonce = map[string]*storedRequest{}
	if dir == "" {
		return s, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("verifier: %w", err)
	}
	if err := s.openDB(filepath.Join(dir, dbFile)); err != nil {
		return nil, err
	}
	for _, name := range []string{"state.json", "receipts.json"} {
		if err := s.importJSON(filepath.Join(dir, name)); err != nil {
			s.close()
			return nil, err
		}
	}
	s.mu.Lock()
	err := s.sync()
	s.mu.Unlock()
	if err != nil {
		s.close()
		return nil, fmt.Errorf("verifier: state: %w", err)
	}
	return s, nil
}

func (s *store) openDB(path string) error {
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return fmt.Errorf("verifier: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	conn, err := db.Conn(storeCtx)
	if err != nil {
		db.Close()
		return fmt.Errorf("verifier: open %s: %w", path, err)
	}
	s.db, s.conn, s.dv = db, conn, -1
	if _, err := conn.ExecContext(storeCtx, storeSchema); err != nil {
		s.close()
		return fmt.Errorf("verifier: database schema: %w", err)
	}
	for _, p := range []struct {
		st  **sql.Stmt
		sql string
	}{
		{&s.q.dataVersion, `PRAGMA data_version`},
		{&s.q.seen, `SELECT 1 FROM seen WHERE hash = ?`},
		{&s.q.claimReq, `UPDATE requests SET used = 1 WHERE nonce = ? AND used = 0`},
		{&s.q.addSeen, `INSERT OR IGNORE INTO seen (hash, time) VALUES (?, ?)`},
		{&s.q.addOneWay, `INSERT OR IGNORE INTO one_way (nonce, time) VALUES (?, ?)`},
		{&s.q.addReceipt, `INSERT INTO receipts (id, jws, time, anchor) VALUES (?, ?, ?, 0)`},
	} {
		if *p.st, err = conn.PrepareContext(storeCtx, p.sql); err != nil {
			s.close()
			return fmt.Errorf("verifier: database: %w", err)
		}
	}
	return nil
}

// close releases the database (no-op in memory). The handles are closed, not dropped, so
// that a later use fails ("sql: database is closed") instead of falling back to memory.
func (s *store) close() error {
	if s == nil || s.db == nil {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil
	}
	s.closed = true
	for _, st := range []*sql.Stmt{s.q.dataVersion, s.q.seen, s.q.claimReq, s.q.addSeen, s.q.addOneWay, s.q.addReceipt} {
		if st != nil {
			st.Close()
		}
	}
	var err error
	if s.conn != nil {
		err = s.conn.Close()
	}
	return errors.Join(err, s.db.Close())
}

// closeOnCollect closes the database of a store whose owner is garbage collected (a
// Verifier nobody closed).
func closeOnCollect[T any](owner *T, s *store) {
	if s.db == nil {
		return
	}
	runtime.AddCleanup(owner, func(s *store) { s.close() }, s)
}

// tx runs f in a write transaction (BEGIN IMMEDIATE: the write lock is taken first, so a
// check-and-mark inside f is atomic across processes). Caller holds mu.
func (s *store) tx(f func(ctx context.Context, c *sql.Conn) error) (err error) {
	if _, err := s.conn.ExecContext(storeCtx, "BEGIN IMMEDIATE"); err != nil {
		return err
	}
	if err := f(storeCtx, s.conn); err != nil {
		_, _ = s.conn.ExecContext(storeCtx, "ROLLBACK")
		return err
	}
	if _, err := s.conn.ExecContext(storeCtx, "COMMIT"); err != nil {
		_, _ = s.conn.ExecContext(storeCtx, "ROLLBACK")
		return err
	}
	return nil
}

// sync reloads the request index from the database if another connection (another
// process) committed since it was last read. Requests already known keep their object,
// and with it their parsed binding. Caller holds mu.
func (s *store) sync() error {
	if s.db == nil {
		return nil
	}
	var dv int64
	if err := s.q.dataVersion.QueryRowContext(storeCtx).Scan(&dv); err != nil {
		return err
	}
	if dv == s.dv {
		return nil
	}
	rows, err := s.conn.QueryContext(storeCtx, `SELECT nonce, text, item, expires, used FROM requests ORDER BY seq`)
	if err != nil {
		return err
	}
	defer rows.Close()
	reqs := make([]*storedRequest, 0, len(s.st.Requests)+8)
	by := make(map[string]*storedRequest, len(s.st.Requests)+8)
	for rows.Next() {
		var r storedRequest
		if err := rows.Scan(&r.Nonce, &r.Text, &r.Item, &r.Expires, &r.Used); err != nil {
			return err
		}
		if old := s.st.byNonce[r.Nonce]; old != nil && old.Text == r.Text {
			old.Used = r.Used // the only field that changes
			reqs, by[r.Nonce] = append(reqs, old), old
			continue
		}
		p := &r
		reqs, by[r.Nonce] = append(reqs, p), p
	}
	if err := rows.Err(); err != nil {
		return err
	}
	s.st.Requests, s.st.byNonce, s.dv = reqs, by, dv
	s.reindex()
	return nil
}

// importJSON imports a legacy JSON state file once and renames it to *.imported. The
// import is idempotent (INSERT OR IGNORE on every key), so a crash between the commit and
// the rename only repeats it.
func (s *store) importJSON(path string) error {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("verifier: %w", err)
	}
	var old state
	if err := json.Unmarshal(b, &old); err != nil {
		return fmt.Errorf("verifier: %s: %w", filepath.Base(path), err)
	}
	s.mu.Lock()
	err = s.tx(func(ctx context.Context, c *sql.Conn) error {
		for _, r := range old.Requests {
			if _, err := c.ExecContext(ctx, `INSERT OR IGNORE INTO requests (nonce, text, item, expires, used) VALUES (?, ?, ?, ?, ?)`,
				r.Nonce, r.Text, r.Item, r.Expires, r.Used); err != nil {
				return err
			}
		}
		for h, t := range old.Seen {
			if _, err := c.ExecContext(ctx, `INSERT OR IGNORE INTO seen (hash, time) VALUES (?, ?)`, h, t); err != nil {
				return err
			}
		}
		for n, t := range old.OneWay {
			if _, err := c.ExecContext(ctx, `INSERT OR IGNORE INTO one_way (nonce, time) VALUES (?, ?)`, n, t); err != nil {
				return err
			}
		}
		for _, r := range old.Receipts {
			if _, err := c.ExecContext(ctx, `INSERT OR IGNORE INTO receipts (id, jws, time, anchor) VALUES (?, ?, ?, ?)`,
				r.ID, r.JWS, r.Time, r.Anchor); err != nil {
				return err
			}
		}
		for i, a := range old.Anchors {
			if err := insertAnchor(ctx, c, i+1, a); err != nil {
				return err
			}
		}
		return nil
	})
	s.mu.Unlock()
	if err != nil {
		return fmt.Errorf("verifier: importing %s: %w", filepath.Base(path), err)
	}
	if err := os.Rename(path, path+".imported"); err != nil {
		return fmt.Errorf("verifier: %w", err)
	}
	return nil
}

func insertAnchor(ctx context.Context, c *sql.Conn, n int, a *Anchor) error {
	ids, err := json.Marshal(a.Receipts)
	if err != nil {
		return err
	}
	_, err = c.ExecContext(ctx, `INSERT OR IGNORE INTO anchors (n, root, count, height, tx_hash, seq, time, receipts) VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
		n, a.Root, a.Count, a.Height, a.TxHash, int64(a.Seq), a.Time.Format(time.RFC3339Nano), string(ids))
	return err
}

func scanAnchor(row *sql.Row) (*Anchor, error) {
	var a Anchor
	var seq int64
	var t, ids string
	if err := row.Scan(&a.Root, &a.Count, &a.Height, &a.TxHash, &seq, &t, &ids); err != nil {
		return nil, err
	}
	a.Seq = uint64(seq)
	var err error
	if a.Time, err = time.Parse(time.RFC3339Nano, t); err != nil {
		return nil, err
	}
	if err := json.Unmarshal([]byte(ids), &a.Receipts); err != nil {
		return nil, err
	}
	return &a, nil
}

// reindex rebuilds the list of unused requests (caller holds mu).
func (s *store) reindex() {
	s.st.unused = s.st.unused[:0]
	for _, r := range s.st.Requests {
		if !r.Used {
			s.st.unused = append(s.st.unused, r)
		}
	}
	s.st.indexed = len(s.st.Requests)
}

// addRequest appends a new (unused) request to the index (caller holds mu).
func (s *store) addRequest(r *storedRequest) {
	if s.st.indexed != len(s.st.Requests) {
		s.reindex()
	}
	s.st.Requests = append(s.st.Requests, r)
	s.st.byNonce[r.Nonce] = r
	if !r.Used {
		s.st.unused = append(s.st.unused, r)
	}
	s.st.indexed = len(s.st.Requests)
}

// markUsed marks r answered in the index and reports whether it already was (caller holds
// mu).
func (s *store) markUsed(r *storedRequest) (was bool) {
	was, r.Used = r.Used, true
	if !was {
		if i := slices.Index(s.st.unused, r); i >= 0 {
			s.st.unused = slices.Delete(s.st.unused, i, i+1)
		}
	}
	return was
}

// candidates returns the requests an answer is tried against, at most max: the open ones
// (not answered, not expired at now with skew), most recent first, then the closed ones
// (answered or expired), most recent first. Caller holds mu.
func (s *store) candidates(now time.Time, skew time.Duration, max int) []*storedRequest {
	if s.st.indexed != len(s.st.Requests) {
		s.reindex()
	}
	var out []*storedRequest
	for i := len(s.st.unused) - 1; i >= 0 && len(out) < max; i-- {
		if r := s.st.unused[i]; !closed(r, now, skew) {
			out = append(out, r)
		}
	}
	for i := len(s.st.Requests) - 1; i >= 0 && len(out) < max; i-- {
		if r := s.st.Requests[i]; closed(r, now, skew) {
			out = append(out, r)
		}
	}
	return out
}

// prune forgets requests and one-way nonces long past expiry in the index (keep: how long
// an answered or expired request is still recognised, to say "replayed"/"request_expired").
// Caller holds mu.
func (s *store) prune(now time.Time, keep time.Duration) {
	cut := now.Add(-keep).Unix()
	before, stale := len(s.st.Requests), s.st.indexed != len(s.st.Requests)
	out := s.st.Requests[:0]
	for _, r := range s.st.Requests {
		if r.Expires >= cut {
			out = append(out, r)
		} else {
			delete(s.st.byNonce, r.Nonce)
		}
	}
	clear(s.st.Requests[len(out):])
	s.st.Requests = out
	if stale || len(out) != before {
		s.reindex()
	}
	for n, t := range s.st.OneWay {
		if t < cut {
			delete(s.st.OneWay, n)
		}
	}
}

// newRequest prunes what is long past expiry and stores a new request.
func (s *store) newRequest(r *storedRequest, now time.Time, keep time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db != nil {
		cut := now.Add(-keep).Unix()
		err := s.tx(func(ctx context.Context, c *sql.Conn) error {
			if _, err := c.ExecContext(ctx, `DELETE FROM requests WHERE expires < ?`, cut); err != nil {
				return err
			}
			if _, err := c.ExecContext(ctx, `DELETE FROM one_way WHERE time < ?`, cut); err != nil {
				return err
			}
			_, err := c.ExecContext(ctx, `INSERT INTO requests (nonce, text, item, expires, used) VALUES (?, ?, ?, ?, 0)`,
				r.Nonce, r.Text, r.Item, r.Expires)
			return err
		})
		if err != nil {
			return fmt.Errorf("verifier: state: %w", err)
		}
	}
	s.prune(now, keep)
	s.addRequest(r)
	return nil
}

// lookup returns the candidate requests of an answer (see candidates), the index first
// brought up to date with the database.
func (s *store) lookup(now time.Time, skew time.Duration, max int) ([]*storedRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.sync()
	return s.candidates(now, skew, max), err
}

// find returns the request with this nonce (nil: none kept), the index first brought up to
// date with the database.
func (s *store) find(nonce string) (*storedRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.sync()
	return s.st.byNonce[nonce], err
}

// near returns every request whose expiry (Unix seconds) lies in [from, to], most recent
// first, the index first brought up to date with the database. It walks the index (integer
// comparisons); what it returns is bounded by how many requests the window made in that span.
func (s *store) near(from, to int64) ([]*storedRequest, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	err := s.sync()
	var out []*storedRequest
	for i := len(s.st.Requests) - 1; i >= 0; i-- {
		if r := s.st.Requests[i]; r.Expires >= from && r.Expires <= to {
			out = append(out, r)
		}
	}
	return out, err
}

// seen reports whether a presentation hash was already verified.
func (s *store) seen(hash string) (bool, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		_, ok := s.st.Seen[hash]
		return ok, nil
	}
	var one int
	switch err := s.q.seen.QueryRowContext(storeCtx, hash).Scan(&one); {
	case errors.Is(err, sql.ErrNoRows):
		return false, nil
	case err != nil:
		return false, err
	}
	return true, nil
}

// claim marks request r answered and the presentation hash seen, atomically, and reports
// whether r was already answered (by this process or another). The verifier claims a
// request only for an answer that verified (see Verifier.Verify). rc, when not nil, is the
// receipt of the accepted verdict: it is stored in the same transaction if, and only if, the
// claim succeeds (was false) — one commit, so one fsync, per accepted verdict, and no
// accepted verdict whose receipt was not stored.
func (s *store) claim(r *storedRequest, hash string, now time.Time, rc *storedReceipt) (was bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db != nil {
		elsewhere := false
		err = s.tx(func(ctx context.Context, c *sql.Conn) error {
			res, err := s.q.claimReq.ExecContext(ctx, r.Nonce)
			if err != nil {
				return err
			}
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if n == 0 { // already answered, or not in the database (pruned there; or a test's)
				var k int
				if err := c.QueryRowContext(ctx, `SELECT COUNT(*) FROM requests WHERE nonce = ?`, r.Nonce).Scan(&k); err != nil {
					return err
				}
				elsewhere = k > 0
			}
			if _, err = s.q.addSeen.ExecContext(ctx, hash, now.Unix()); err != nil {
				return err
			}
			if rc != nil && !r.Used && !elsewhere {
				_, err = s.q.addReceipt.ExecContext(ctx, rc.ID, rc.JWS, rc.Time)
			}
			return err
		})
		if err != nil {
			return false, err
		}
		was = s.markUsed(r)
		return was || elsewhere, nil
	}
	was = s.markUsed(r)
	s.st.Seen[hash] = now.Unix()
	if rc != nil && !was {
		s.st.Receipts = append(s.st.Receipts, rc)
	}
	return was, nil
}

// claimOneWay records a one-way nonce and the presentation hash, atomically, and reports
// whether the nonce was already used (then nothing is recorded).
func (s *store) claimOneWay(nonce, hash string, now time.Time) (replay bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		if _, replay = s.st.OneWay[nonce]; !replay {
			s.st.OneWay[nonce] = now.Unix()
			s.st.Seen[hash] = now.Unix()
		}
		return replay, nil
	}
	err = s.tx(func(ctx context.Context, c *sql.Conn) error {
		res, err := s.q.addOneWay.ExecContext(ctx, nonce, now.Unix())
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if replay = n == 0; replay {
			return nil
		}
		_, err = s.q.addSeen.ExecContext(ctx, hash, now.Unix())
		return err
	})
	return replay, err
}

// addReceipt stores a signed receipt (not anchored yet).
func (s *store) addReceipt(r *storedReceipt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		s.st.Receipts = append(s.st.Receipts, r)
		return nil
	}
	_, err := s.q.addReceipt.ExecContext(storeCtx, r.ID, r.JWS, r.Time)
	return err
}

// pending is the number of receipts not yet anchored.
func (s *store) pending() (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	if s.db == nil {
		for _, r := range s.st.Receipts {
			if r.Anchor == 0 {
				n++
			}
		}
		return n, nil
	}
	err := s.conn.QueryRowContext(storeCtx, `SELECT COUNT(*) FROM receipts WHERE anchor = 0`).Scan(&n)
	return n, err
}

// unanchored returns the receipts not yet anchored, in the order they were stored.
func (s *store) unanchored() ([]*storedReceipt, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []*storedReceipt
	if s.db == nil {
		for _, r := range s.st.Receipts {
			if r.Anchor == 0 {
				out = append(out, r)
			}
		}
		return out, nil
	}
	rows, err := s.conn.QueryContext(storeCtx, `SELECT id, jws, time FROM receipts WHERE anchor = 0 ORDER BY seq`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		r := &storedReceipt{}
		if err := rows.Scan(&r.ID, &r.JWS, &r.Time); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// addAnchor records an anchored batch: the anchor and, for each receipt of the batch, its
// anchor number.
func (s *store) addAnchor(a *Anchor, batch []*storedReceipt) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		s.st.Anchors = append(s.st.Anchors, a)
		for _, r := range batch {
			r.Anchor = len(s.st.Anchors)
		}
		return nil
	}
	return s.tx(func(ctx context.Context, c *sql.Conn) error {
		var n int
		if err := c.QueryRowContext(ctx, `SELECT COALESCE(MAX(n), 0) + 1 FROM anchors`).Scan(&n); err != nil {
			return err
		}
		if err := insertAnchor(ctx, c, n, a); err != nil {
			return err
		}
		up, err := c.PrepareContext(ctx, `UPDATE receipts SET anchor = ? WHERE id = ?`)
		if err != nil {
			return err
		}
		defer up.Close()
		for _, r := range batch {
			if _, err := up.ExecContext(ctx, n, r.ID); err != nil {
				return err
			}
			r.Anchor = n
		}
		return nil
	})
}

// receipt returns the JWS of receipt id and, once anchored, its anchor and the JWS of every
// receipt of that anchor by id (ok false: no such receipt).
func (s *store) receipt(id string) (jws string, a *Anchor, batch map[string]string, ok bool, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.db == nil {
		for _, r := range s.st.Receipts {
			if r.ID != id {
				continue
			}
			if r.Anchor == 0 {
				return r.JWS, nil, nil, true, nil
			}
			a = s.st.Anchors[r.Anchor-1]
			in := make(map[string]bool, len(a.Receipts))
			for _, rid := range a.Receipts {
				in[rid] = true
			}
			batch = make(map[string]string, len(a.Receipts))
			for _, x := range s.st.Receipts {
				if _, dup := batch[x.ID]; in[x.ID] && !dup {
					batch[x.ID] = x.JWS
				}
			}
			return r.JWS, a, batch, true, nil
		}
		return "", nil, nil, false, nil
	}
	var n int
	switch err = s.conn.QueryRowContext(storeCtx, `SELECT jws, anchor FROM receipts WHERE id = ?`, id).Scan(&jws, &n); {
	case errors.Is(err, sql.ErrNoRows):
		return "", nil, nil, false, nil
	case err != nil:
		return "", nil, nil, false, err
	case n == 0:
		return jws, nil, nil, true, nil
	}
	if a, err = scanAnchor(s.conn.QueryRowContext(storeCtx, `SELECT root, count, height, tx_hash, seq, time, receipts FROM anchors WHERE n = ?`, n)); err != nil {
		return "", nil, nil, false, fmt.Errorf("verifier: anchor %d: %w", n, err)
	}
	get, err := s.conn.PrepareContext(storeCtx, `SELECT jws FROM receipts WHERE id = ?`)
	if err != nil {
		return "", nil, nil, false, err
	}
	defer get.Close()
	batch = make(map[string]string, len(a.Receipts))
	for _, rid := range a.Receipts {
		var j string
		switch err := get.QueryRowContext(storeCtx, rid).Scan(&j); {
		case errors.Is(err, sql.ErrNoRows):
		case err != nil:
			return "", nil, nil, false, err
		default:
			batch[rid] = j
		}
	}
	return jws, a, batch, true, nil
}
