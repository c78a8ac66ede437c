package issuer

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	_ "modernc.org/sqlite" // pure-Go SQLite driver "sqlite"
)

// Record states.
const (
	StateValid     = "valid"
	StateSuspended = "suspended"
	StateRevoked   = "revoked"
)

// Record is what the department keeps about one issued credential: no claim values, only
// what it needs to manage the credential's status (DESIGN §5).
type Record struct {
	ID               string    `json:"id"`
	Type             string    `json:"type"`
	HolderThumbprint string    `json:"holder_thumbprint"` // RFC 7638 thumbprint of the holder key
	StatusList       int       `json:"status_list"`       // the department's list number (0 before lists ran out)
	StatusIndex      int       `json:"status_index"`
	IssuedAt         time.Time `json:"issued_at"`
	ExpiresAt        time.Time `json:"expires_at"` // zero: no expiry
	State            string    `json:"state"`
	UpdatedAt        time.Time `json:"updated_at"`
	StatusHeight     int64     `json:"status_height,omitempty"` // ledger block of the last status change
	OfferID          string    `json:"offer_id,omitempty"`
	// BatchID and BatchRow: the batch that issued the record and its row in the batch's CSV
	// (1 = the first data row); empty and 0 for a credential issued singly.
	BatchID  string `json:"batch_id,omitempty"`
	BatchRow int    `json:"batch_row,omitempty"`
}

const schemaSQL = `
CREATE TABLE IF NOT EXISTS records (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  holder_thumbprint TEXT NOT NULL,
  status_list INTEGER NOT NULL DEFAULT 0,
  status_index INTEGER NOT NULL,
  issued_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  state TEXT NOT NULL,
  updated_at INTEGER NOT NULL,
  status_height INTEGER NOT NULL DEFAULT 0,
  offer_id TEXT NOT NULL DEFAULT '',
  batch_id TEXT,
  batch_row INTEGER,
  UNIQUE (status_list, status_index),
  UNIQUE (batch_id, batch_row)
);
CREATE TABLE IF NOT EXISTS meta (k TEXT PRIMARY KEY, v BLOB NOT NULL);
CREATE TABLE IF NOT EXISTS offers (
  id TEXT PRIMARY KEY,
  code_hash TEXT NOT NULL UNIQUE,
  pin_hash TEXT NOT NULL,
  type TEXT NOT NULL,
  claims TEXT NOT NULL,
  valid_until INTEGER NOT NULL,
  created_at INTEGER NOT NULL,
  expires_at INTEGER NOT NULL,
  attempts INTEGER NOT NULL DEFAULT 0,
  state TEXT NOT NULL,
  record_id TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS batches (
  id TEXT PRIMARY KEY,
  type TEXT NOT NULL,
  kind TEXT NOT NULL,
  rows INTEGER NOT NULL,
  committed INTEGER NOT NULL DEFAULT 0,
  out_path TEXT NOT NULL,
  offer_ttl INTEGER NOT NULL DEFAULT 0,
  started_at INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS bulk_ops (
  id INTEGER PRIMARY KEY,
  action TEXT NOT NULL,
  selection TEXT NOT NULL,
  selected INTEGER NOT NULL,
  items INTEGER NOT NULL,
  txs INTEGER NOT NULL DEFAULT 0,
  height INTEGER NOT NULL DEFAULT 0,
  created_at INTEGER NOT NULL,
  finished_at INTEGER NOT NULL DEFAULT 0
);
CREATE TABLE IF NOT EXISTS bulk_items (
  op INTEGER NOT NULL,
  record_id TEXT NOT NULL,
  status_list INTEGER NOT NULL,
  status_index INTEGER NOT NULL,
  done INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (op, record_id)
);
CREATE INDEX IF NOT EXISTS bulk_items_list ON bulk_items(op, status_list);
`

// openDB opens (creating) the department's SQLite database.
func openDB(path string) (*sql.DB, error) {
	dsn := "file:" + (&url.URL{Path: path}).EscapedPath() + "?_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=synchronous(FULL)&_pragma=secure_delete(on)&_pragma=temp_store(memory)"
	db, err := sql.Open("sqlite", dsn)
	if err != nil {
		return nil, fmt.Errorf("issuer: open %s: %w", path, err)
	}
	db.SetMaxOpenConns(1)
	if _, err := db.Exec(schemaSQL); err != nil {
		db.Close()
		return nil, fmt.Errorf("issuer: database schema: %w", err)
	}
	if err := migrateRecords(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("issuer: database schema: %w", err)
	}
	if err := migrateOffers(db); err != nil {
		db.Close()
		return nil, fmt.Errorf("issuer: database schema: %w", err)
	}
	return db, nil
}

// columns lists a table's column names.
func columns(db *sql.DB, table string) (map[string]bool, error) {
	rows, err := db.Query(`SELECT name FROM pragma_table_info(?)`, table)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	have := map[string]bool{}
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			return nil, err
		}
		have[n] = true
	}
	return have, rows.Err()
}

// migrateRecords moves a records table made before status lists were numbered (one list:
// status_index UNIQUE) and before batches were recorded to today's: every existing record
// is on list 0 with no batch. SQLite cannot change a column's constraint in place, so the
// table is rebuilt in one transaction (its indexes are re-created by the holder index's
// schema on Open).
func migrateRecords(db *sql.DB) error {
	have, err := columns(db, "records")
	if err != nil || have["status_list"] {
		return err
	}
	tx, err := db.Begin()
	if err != nil {
		return err
	}
	defer tx.Rollback()
	old := `id, type, holder_thumbprint, status_index, issued_at, expires_at, state, updated_at, status_height, offer_id`
	for _, q := range []string{
		`ALTER TABLE records RENAME TO records_v1`,
		schemaSQL[:strings.Index(schemaSQL, ";")+1],
		`INSERT INTO records (` + old + `, status_list) SELECT ` + old + `, 0 FROM records_v1`,
		`DROP TABLE records_v1`,
	} {
		if _, err := tx.Exec(q); err != nil {
			return fmt.Errorf("records: %w", err)
		}
	}
	return tx.Commit()
}

const recordCols = `id, type, holder_thumbprint, status_list, status_index, issued_at, expires_at, state, updated_at, status_height, offer_id, batch_id, batch_row`

func scanRecord(s interface{ Scan(...any) error }) (*Record, error) {
	var r Record
	var iat, exp, upd int64
	var batch sql.NullString
	var row sql.NullInt64
	if err := s.Scan(&r.ID, &r.Type, &r.HolderThumbprint, &r.StatusList, &r.StatusIndex, &iat, &exp, &r.State, &upd, &r.StatusHeight, &r.OfferID, &batch, &row); err != nil {
		return nil, err
	}
	r.BatchID, r.BatchRow = batch.String, int(row.Int64)
	r.IssuedAt = time.Unix(iat, 0).UTC()
	if exp != 0 {
		r.ExpiresAt = time.Unix(exp, 0).UTC()
	}
	r.UpdatedAt = time.Unix(upd, 0).UTC()
	return &r, nil
}

func unixOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.Unix()
}

// insertRecordSQL inserts a record (recordArgs).
const insertRecordSQL = `INSERT INTO records (` + recordCols + `) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`

func recordArgs(r *Record) []any {
	var batch, row any // NULL for a credential issued singly
	if r.BatchID != "" {
		batch, row = r.BatchID, r.BatchRow
	}
	return []any{r.ID, r.Type, r.HolderThumbprint, r.StatusList, r.StatusIndex, r.IssuedAt.Unix(), unixOrZero(r.ExpiresAt), r.State,
		r.UpdatedAt.Unix(), r.StatusHeight, r.OfferID, batch, row}
}

func insertRecord(ctx context.Context, tx *sql.Tx, r *Record) error {
	_, err := tx.ExecContext(ctx, insertRecordSQL, recordArgs(r)...)
	return err
}

// ErrRecordNotFound: no issuance record with that id.
var ErrRecordNotFound = errors.New("issuer: no such issuance record")

// Record returns one issuance record.
func (d *Department) Record(ctx context.Context, id string) (*Record, error) {
	r, err := scanRecord(d.db.QueryRowContext(ctx, `SELECT `+recordCols+` FROM records WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("%w: %s", ErrRecordNotFound, id)
	}
	return r, err
}

// ListFilter selects records for List. Zero values select everything.
type ListFilter struct {
	Type  string
	State string
	Limit int // default 1000
}

// Records lists issuance records, newest first.
func (d *Department) Records(ctx context.Context, f ListFilter) ([]Record, error) {
	if f.Limit <= 0 {
		f.Limit = 1000
	}
	rows, err := d.db.QueryContext(ctx, `SELECT `+recordCols+` FROM records WHERE (?1 = '' OR type = ?1) AND (?2 = '' OR state = ?2) ORDER BY issued_at DESC, id LIMIT ?3`,
		f.Type, f.State, f.Limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		r, err := scanRecord(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, *r)
	}
	return out, rows.Err()
}

// CountRecords is the number of issuance records.
func (d *Department) CountRecords(ctx context.Context) (int, error) {
	var n int
	err := d.db.QueryRowContext(ctx, `SELECT COUNT(*) FROM records`).Scan(&n)
	return n, err
}
