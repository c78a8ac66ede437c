package issuer

// Batches: many credentials (rows with a holder key) or offers (rows without) from a CSV.
//
// RunBatch streams a CSV file through two passes and never holds the file, its rows or its
// results in memory (memory stays flat whatever the row count):
//
//  1. Check: every row is read and validated (authorisation once, schema, validity, holder
//     key) while the file is hashed. Any invalid row: ErrBatchInvalid with the first
//     MaxRowErrors row errors (all are counted) and nothing is issued — as before.
//  2. Issue: a reader goroutine streams the rows again to a pool of workers (GOMAXPROCS by
//     default) that validate, allocate a status entry and sign both forms (or make an
//     offer), seal the holder index row and render the result line; the calling goroutine
//     puts the results back in row order and commits them ChunkRows (500) at a time, each
//     chunk in one SQLite transaction with the batch's progress and the current list number;
//     after each commit it appends the chunk's lines to the result CSV and fsyncs it. At most
//     2 × ChunkRows rows are between the reader and the result file at any time.
//
// A batch is identified by a hash of its type and its file's bytes (BatchResult.ID). Every
// committed record (or offer) carries (batch id, row number) under a UNIQUE constraint,
// written in the same transaction as the record and the current list number. Running the same
// file again after a crash (SIGKILL at any point) resumes it: rows 1..k are in the result
// file (its last complete line says k; a partial line is cut off), rows k+1..c were committed
// but their lines not written — their credentials are signed again for the same record (same
// id, status entry, issue and expiry time: the earlier signature never left the process) and
// their offers get a new code and PIN (only the result file ever had the old ones) — and
// rows c+1.. are issued. So no row is issued twice and none is lost, and the result file
// ends with rows 1..N once each, in order. Rows signed but not committed were never handed
// out: nothing remains of them (their status indices, recorded nowhere, are free again after
// a restart: lists.go, Persistence). A finished batch run again is ErrBatchDone; one running
// in this process ErrBatchRunning.
//
// Batch (rows in memory, results returned) is the same pipeline for small programmatic
// batches; each call is a new batch (a random id, no resumption).

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"database/sql"
	"encoding/csv"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"

	"lianzheng/did"
	"lianzheng/internal/bilingual"
	"lianzheng/ledger"
)

// HolderColumn is the optional CSV column holding each row's holder key as a did:key. With
// it, a batch issues credentials directly; without it, it creates one offer per row.
const HolderColumn = "holder"

// MaxBatchRows bounds an in-memory batch (ReadCSV, Batch); RunBatch streams any size.
const MaxBatchRows = 100_000

// MaxRowErrors bounds the row errors a result lists; BatchResult.ErrorRows counts them all.
const MaxRowErrors = 1000

// DefaultChunkRows is how many rows a batch commits per database transaction.
const DefaultChunkRows = 500

// Batch kinds.
const (
	BatchCredentials = "credentials" // rows with holder keys: credentials issued
	BatchOffers      = "offers"      // rows without: offers made
)

// Batch errors (match with errors.Is).
var (
	// ErrBatchInvalid: at least one row failed validation; nothing was issued.
	ErrBatchInvalid = errors.New("issuer: batch has invalid rows; nothing was issued")
	// ErrBatchDone: this file was issued as a batch before (to the end); nothing was issued
	// again. The result names the batch and its result file.
	ErrBatchDone = errors.New("issuer: this batch was already issued")
	// ErrBatchRunning: the same batch is running in this process.
	ErrBatchRunning = errors.New("issuer: this batch is already running")
	// ErrBatchOutput: the result file cannot be made or does not continue the batch.
	ErrBatchOutput = errors.New("issuer: batch result file")
)

// RowError is a problem with one CSV data row (Row 1 = the first line after the header).
type RowError struct {
	Row    int          `json:"row"`
	Fields []FieldError `json:"fields"`
}

// BatchRow is one parsed CSV row.
type BatchRow struct {
	Claims map[string]any
	Holder string // did:key, empty without a holder column
}

// csvRows reads a batch CSV: a header of claim names (and optionally "holder"), then one
// row per credential. Empty cells are absent claims. A UTF-8 BOM is tolerated.
type csvRows struct {
	cr     *csv.Reader
	head   []string
	holder bool // the header has the holder column
}

func newCSVRows(r io.Reader) (*csvRows, error) {
	cr := csv.NewReader(r)
	head, err := cr.Read()
	if err != nil {
		return nil, fmt.Errorf("issuer: CSV header: %w", err)
	}
	head = slicesClone(head)
	if len(head) > 0 {
		head[0] = strings.TrimPrefix(head[0], "\ufeff")
	}
	c := &csvRows{cr: cr, head: head}
	seen := map[string]bool{}
	for i, h := range head {
		head[i] = strings.TrimSpace(h)
		if head[i] == "" || seen[head[i]] {
			return nil, fmt.Errorf("issuer: CSV header: empty or repeated column %q", head[i])
		}
		seen[head[i]] = true
		c.holder = c.holder || head[i] == HolderColumn
	}
	return c, nil
}

func slicesClone(s []string) []string { return append([]string(nil), s...) }

// next reads the next row (io.EOF after the last).
func (c *csvRows) next() (BatchRow, error) {
	rec, err := c.cr.Read()
	if err == io.EOF {
		return BatchRow{}, io.EOF
	}
	if err != nil {
		return BatchRow{}, fmt.Errorf("issuer: CSV: %w", err)
	}
	row := BatchRow{Claims: make(map[string]any, len(c.head))}
	for i, v := range rec {
		if c.head[i] == HolderColumn {
			row.Holder = strings.TrimSpace(v)
		} else if strings.TrimSpace(v) != "" {
			row.Claims[c.head[i]] = v
		}
	}
	return row, nil
}

// ReadCSV reads a whole batch CSV into memory (at most MaxBatchRows rows), for Batch.
func ReadCSV(r io.Reader) ([]BatchRow, error) {
	c, err := newCSVRows(r)
	if err != nil {
		return nil, err
	}
	var rows []BatchRow
	for {
		row, err := c.next()
		if err == io.EOF {
			return rows, nil
		}
		if err != nil {
			return nil, err
		}
		if len(rows) >= MaxBatchRows {
			return nil, fmt.Errorf("issuer: CSV has more than %d rows", MaxBatchRows)
		}
		rows = append(rows, row)
	}
}

// BatchResult is the outcome of a batch.
type BatchResult struct {
	ID   string `json:"id"`   // the batch id (records' BatchID)
	Type string `json:"type"` // credential type
	Kind string `json:"kind"` // BatchCredentials or BatchOffers
	Rows int    `json:"rows"` // data rows in the input
	// Count is the rows this run issued; Resumed the rows earlier runs had committed (a
	// resumed batch; Resumed + Count = Rows once it is done).
	Count   int    `json:"count"`
	Resumed int    `json:"resumed,omitempty"`
	Out     string `json:"out,omitempty"` // the result CSV (RunBatch)
	// Errors are the first MaxRowErrors invalid rows (ErrBatchInvalid); ErrorRows counts them
	// all.
	Errors    []RowError `json:"errors,omitempty"`
	ErrorRows int        `json:"error_rows,omitempty"`
	// Offers or Issued: one per row in row order (Batch only; RunBatch writes them to Out).
	Offers []*Offer  `json:"offers,omitempty"`
	Issued []*Issued `json:"issued,omitempty"`
}

// BatchOptions tune a batch.
type BatchOptions struct {
	// OfferTTL is the lifetime of the offers a batch without holder keys creates (0: the
	// default).
	OfferTTL time.Duration
	// Progress, if set, is called on the calling goroutine: while checking (about every
	// 200 ms) and after each committed chunk (BatchProgress).
	Progress func(BatchProgress)
	// OfferURI renders an offer in the result CSV's offer_uri column (RunBatch; the
	// department's OpenID4VCI offer URI). Without it the column is empty.
	OfferURI func(*Offer) string
	// Workers sign in parallel (default GOMAXPROCS); ChunkRows are committed per database
	// transaction (default DefaultChunkRows).
	Workers   int
	ChunkRows int
}

// Batch issues rows held in memory (at most MaxBatchRows) as one new batch: every row is
// validated first and nothing is issued unless all are valid; then credentials (rows with
// holders) or offers (no holders) are issued and returned in row order. Mixed rows (some
// with a holder, some without) are an error.
func (d *Department) Batch(ctx context.Context, typeID string, rows []BatchRow, offerTTL time.Duration) (*BatchResult, error) {
	return d.BatchWith(ctx, typeID, rows, BatchOptions{OfferTTL: offerTTL})
}

// BatchWith is Batch with options.
func (d *Department) BatchWith(ctx context.Context, typeID string, rows []BatchRow, opt BatchOptions) (*BatchResult, error) {
	if len(rows) == 0 {
		return &BatchResult{}, errors.New("issuer: empty batch")
	}
	if len(rows) > MaxBatchRows {
		return nil, fmt.Errorf("issuer: more than %d rows in memory (use RunBatch)", MaxBatchRows)
	}
	src := func(yield func(int, BatchRow) error) error {
		for i, r := range rows {
			if err := yield(i+1, r); err != nil {
				return err
			}
		}
		return nil
	}
	run, res, err := d.newRun(ctx, typeID, rows[0].Holder != "", opt)
	if err != nil {
		return res, err
	}
	if err := run.check(ctx, src); err != nil {
		return run.res, err
	}
	run.id = randomID()
	if err := run.start(ctx, ""); err != nil {
		return nil, err
	}
	if err := run.issue(ctx, src, collect{run.res}); err != nil {
		return nil, err
	}
	return run.res, nil
}

// RunBatch issues the CSV file in as a batch of typeID, streaming (see the top of this file),
// writing the result CSV to out — created (new, mode 0600) for a new batch; a batch resumed
// after an interruption continues the result file it started with, whatever out is now
// (BatchResult.Out names it). The result CSV is row,record_id,sd_jwt,w3c_vc for credentials
// (the W3C VC as compact JSON) and row,offer_id,tx_code,offer_uri for offers: it holds the
// credentials or the offers' PINs and is to be kept like them.
func (d *Department) RunBatch(ctx context.Context, typeID, in, out string, opt BatchOptions) (*BatchResult, error) {
	f, err := os.Open(in)
	if err != nil {
		return nil, err
	}
	c, err := newCSVRows(f)
	f.Close()
	if err != nil {
		return nil, err
	}
	run, res, err := d.newRun(ctx, typeID, c.holder, opt)
	if err != nil {
		return res, err
	}
	src := fileRows(in, nil)
	h := sha256.New()
	if err := run.check(ctx, fileRows(in, h)); err != nil {
		return run.res, err
	}
	if err := ctx.Err(); err != nil {
		return run.res, err // stopped while checking: nothing recorded
	}
	run.id = batchID(typeID, h.Sum(nil))
	if !d.claimBatch(run.id) {
		return run.res, fmt.Errorf("%w: %s", ErrBatchRunning, run.id)
	}
	defer d.releaseBatch(run.id)
	o, err := run.resume(ctx, out)
	if err != nil {
		return run.res, err
	}
	defer o.close()
	err = run.issue(ctx, src, o)
	if cerr := o.close(); err == nil && cerr != nil {
		err = fmt.Errorf("%w: %w", ErrBatchOutput, cerr)
	}
	return run.res, err
}

// batchID is the id of a batch of typ whose file hashes to sum.
func batchID(typ string, sum []byte) string {
	h := sha256.Sum256([]byte("lz-batch-v1\n" + typ + "\n" + hex.EncodeToString(sum)))
	return hex.EncodeToString(h[:16])
}

func (d *Department) claimBatch(id string) bool {
	d.batchMu.Lock()
	defer d.batchMu.Unlock()
	if d.running[id] {
		return false
	}
	d.running[id] = true
	return true
}

func (d *Department) releaseBatch(id string) {
	d.batchMu.Lock()
	defer d.batchMu.Unlock()
	delete(d.running, id)
}

// rowSource calls yield with each data row and its number (1, 2, …) in order, and stops
// at the first error yield returns.
type rowSource func(yield func(n int, r BatchRow) error) error

// fileRows reads the CSV file at path (hashing its bytes into h, if set).
func fileRows(path string, h hash.Hash) rowSource {
	return func(yield func(int, BatchRow) error) error {
		f, err := os.Open(path)
		if err != nil {
			return err
		}
		defer f.Close()
		var r io.Reader = bufio.NewReaderSize(f, 1<<16)
		if h != nil {
			r = io.TeeReader(r, h)
		}
		c, err := newCSVRows(r)
		if err != nil {
			return err
		}
		for n := 1; ; n++ {
			row, err := c.next()
			if err == io.EOF {
				if h != nil {
					_, err = io.Copy(io.Discard, r) // the hash covers the whole file
				}
				return nil
			}
			if err != nil {
				return fmt.Errorf("row %d: %w", n, err)
			}
			if err := yield(n, row); err != nil {
				return err
			}
		}
	}
}

// batchRun is one run of a batch.
type batchRun struct {
	d    *Department
	t    *ledger.CredentialType
	id   string
	kind string
	opt  BatchOptions
	res  *BatchResult
	now  time.Time // the run's start: expiry defaults count from it
	base string    // the consortium's public base URL at the start
	ttl  time.Duration
	// committed rows 1..committed before this run, of which 1..written are in the result file
	committed, written int
	prog               progressMeter
}

func (d *Department) newRun(ctx context.Context, typeID string, withHolder bool, opt BatchOptions) (*batchRun, *BatchResult, error) {
	t, err := d.Type(ctx, typeID)
	if err != nil {
		return nil, nil, err
	}
	base, err := d.statusBase(ctx)
	if err != nil {
		return nil, nil, err
	}
	if opt.Workers <= 0 {
		opt.Workers = runtime.GOMAXPROCS(0)
	}
	if opt.ChunkRows <= 0 {
		opt.ChunkRows = DefaultChunkRows
	}
	if opt.OfferTTL <= 0 {
		opt.OfferTTL = DefaultOfferTTL
	}
	kind := BatchOffers
	if withHolder {
		kind = BatchCredentials
	}
	r := &batchRun{d: d, t: t, kind: kind, opt: opt, base: base, now: d.now(), ttl: opt.OfferTTL,
		res: &BatchResult{Type: t.ID, Kind: kind}}
	return r, r.res, nil
}

func (r *batchRun) progress(p BatchProgress) {
	if r.opt.Progress != nil {
		r.opt.Progress(p)
	}
}

// prepareRow validates one row: its claims and, for credentials, its holder key.
func (d *Department) prepareRow(t *ledger.CredentialType, row BatchRow, withHolder bool, now time.Time) (*prepared, []FieldError, error) {
	var fe []FieldError
	req := Request{Type: t.ID, Claims: row.Claims}
	if (row.Holder != "") != withHolder {
		fe = append(fe, FieldError{Field: HolderColumn, Code: "required", Text: bilingual.Text{Zh: "持有人密钥（holder）须每行都填或都不填", En: "holder must be given on every row or on none"}})
	} else if withHolder {
		k, err := did.ParseKey(row.Holder)
		if err != nil {
			fe = append(fe, FieldError{Field: HolderColumn, Code: "type_did_key", Text: bilingual.Text{Zh: "持有人密钥应为 did:key", En: "holder must be a did:key"}})
		}
		req.Holder = k
	}
	p, err := d.prepareType(t, req, now, withHolder && len(fe) == 0)
	var ve *ValidationError
	switch {
	case errors.As(err, &ve):
		fe = append(fe, ve.Fields...)
	case err != nil:
		return nil, nil, err
	}
	return p, fe, nil
}

// check is the first pass: every row validated; any invalid row is ErrBatchInvalid.
func (r *batchRun) check(ctx context.Context, src rowSource) error {
	last := time.Now()
	r.progress(BatchProgress{Phase: PhaseChecking})
	err := src(func(n int, row BatchRow) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		_, fe, err := r.d.prepareRow(r.t, row, r.kind == BatchCredentials, r.now)
		if err != nil {
			return err
		}
		r.res.Rows = n
		if len(fe) > 0 {
			if r.res.ErrorRows++; len(r.res.Errors) < MaxRowErrors {
				r.res.Errors = append(r.res.Errors, RowError{Row: n, Fields: fe})
			}
		}
		if time.Since(last) >= 200*time.Millisecond {
			last = time.Now()
			r.progress(BatchProgress{Phase: PhaseChecking, Done: n})
		}
		return nil
	})
	if err != nil {
		return err
	}
	r.progress(BatchProgress{Phase: PhaseChecking, Done: r.res.Rows, Total: r.res.Rows})
	if r.res.ErrorRows > 0 {
		return ErrBatchInvalid
	}
	if r.res.Rows == 0 {
		return errors.New("issuer: empty batch")
	}
	return nil
}

// start records a new batch (in the same database as its rows).
func (r *batchRun) start(ctx context.Context, out string) error {
	r.res.ID = r.id
	now := r.d.now().Unix()
	_, err := r.d.db.ExecContext(ctx, `INSERT INTO batches (id, type, kind, rows, out_path, offer_ttl, started_at, updated_at) VALUES (?,?,?,?,?,?,?,?)`,
		r.id, r.t.ID, r.kind, r.res.Rows, out, int64(r.ttl/time.Second), now, now)
	if err != nil {
		return recErr("batch", err)
	}
	return nil
}

// resume finds the batch's state (a new batch is recorded) and opens its result file,
// cut back to its last complete line.
func (r *batchRun) resume(ctx context.Context, out string) (*outFile, error) {
	r.res.ID = r.id
	var kind, path string
	var rows, committed int
	var ttl, finished int64
	err := r.d.db.QueryRowContext(ctx, `SELECT kind, rows, committed, out_path, offer_ttl, finished_at FROM batches WHERE id = ?`, r.id).
		Scan(&kind, &rows, &committed, &path, &ttl, &finished)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		if out == "" {
			return nil, fmt.Errorf("%w: no result file given", ErrBatchOutput)
		}
		abs, err := filepath.Abs(out)
		if err != nil {
			return nil, err
		}
		if _, err := os.Lstat(abs); err == nil {
			return nil, fmt.Errorf("%w: %s exists", ErrBatchOutput, abs)
		}
		if err := r.start(ctx, abs); err != nil {
			return nil, err
		}
		path = abs
	case err != nil:
		return nil, recErr("batch", err)
	default:
		if kind != r.kind || rows != r.res.Rows {
			return nil, fmt.Errorf("%w: batch %s was recorded with %d %s rows", ErrBatchOutput, r.id, rows, kind)
		}
		r.committed, r.ttl = committed, time.Duration(ttl)*time.Second
		r.res.Resumed = committed
		if finished != 0 {
			r.res.Out = path
			return nil, fmt.Errorf("%w: batch %s, %d rows, result %s", ErrBatchDone, r.id, rows, path)
		}
	}
	r.res.Out = path
	o, written, err := openOut(path, r.kind)
	if err != nil {
		return nil, err
	}
	if written > r.committed {
		o.close()
		return nil, fmt.Errorf("%w: %s has %d rows, only %d committed", ErrBatchOutput, path, written, r.committed)
	}
	r.written = written
	return o, nil
}

// rowResult is one row issued (or, for a row committed earlier, signed again / re-keyed).
type rowResult struct {
	n      int
	redo   bool // committed by an earlier run, its line not written
	rec    *Record
	holder *holderRow
	offer  *Offer
	orow   *offerRow
	issued *Issued // Batch only (RunBatch keeps only the line)
	line   []string
}

type job struct {
	n   int
	row BatchRow
}

// batchSink takes each committed row's result in row order, after its chunk committed;
// sync is called after each chunk.
type batchSink interface {
	put(*rowResult) error
	sync() error
}

// collect is Batch's sink: the results in memory.
type collect struct{ res *BatchResult }

func (c collect) put(r *rowResult) error {
	if r.issued != nil {
		c.res.Issued = append(c.res.Issued, r.issued)
	} else {
		c.res.Offers = append(c.res.Offers, r.offer)
	}
	return nil
}

func (collect) sync() error { return nil }

// issue is the second pass (see the top of this file).
func (r *batchRun) issue(ctx context.Context, src rowSource, sink batchSink) error {
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	chunk := r.opt.ChunkRows
	jobs := make(chan job, r.opt.Workers)
	results := make(chan *rowResult, r.opt.Workers)
	window := make(chan struct{}, 2*chunk) // rows between the reader and the sink
	var wg sync.WaitGroup
	wg.Add(1)
	go func() { // reader
		defer wg.Done()
		defer close(jobs)
		err := src(func(n int, row BatchRow) error {
			if n <= r.written {
				return nil
			}
			select {
			case window <- struct{}{}:
			case <-ctx.Done():
				return context.Cause(ctx)
			}
			select {
			case jobs <- job{n, row}:
				return nil
			case <-ctx.Done():
				return context.Cause(ctx)
			}
		})
		if err != nil {
			cancel(err)
		}
	}()
	var workers sync.WaitGroup
	for range r.opt.Workers {
		workers.Add(1)
		go func() {
			defer workers.Done()
			for j := range jobs {
				if ctx.Err() != nil {
					continue // drain
				}
				res, err := r.work(ctx, j)
				if err != nil {
					cancel(fmt.Errorf("row %d: %w", j.n, err))
					continue
				}
				results <- res
			}
		}()
	}
	go func() { workers.Wait(); close(results) }()

	r.prog.start(time.Now(), r.committed)
	pending := map[int]*rowResult{}
	next := r.written + 1
	var buf []*rowResult
	flush := func() error {
		if err := r.commit(ctx, buf); err != nil {
			return err
		}
		for _, res := range buf {
			if err := sink.put(res); err != nil {
				return fmt.Errorf("%w: %w", ErrBatchOutput, err)
			}
		}
		if err := sink.sync(); err != nil {
			return fmt.Errorf("%w: %w", ErrBatchOutput, err)
		}
		for range buf {
			<-window
		}
		done := buf[len(buf)-1].n
		buf = buf[:0]
		r.report(done)
		return nil
	}
	var failed error
	for res := range results {
		if failed != nil || ctx.Err() != nil {
			continue // drain
		}
		pending[res.n] = res
		for p, ok := pending[next]; ok; p, ok = pending[next] {
			delete(pending, next)
			buf = append(buf, p)
			next++
			if len(buf) == chunk {
				if failed = flush(); failed != nil {
					cancel(failed)
					break
				}
			}
		}
	}
	wg.Wait()
	if failed != nil {
		return failed
	}
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if len(buf) > 0 {
		if err := flush(); err != nil {
			return err
		}
	}
	if next != r.res.Rows+1 {
		return fmt.Errorf("issuer: batch %s stopped at row %d of %d", r.id, next-1, r.res.Rows)
	}
	return nil
}

// work prepares, signs and renders one row (on a worker goroutine).
func (r *batchRun) work(ctx context.Context, j job) (*rowResult, error) {
	d := r.d
	p, fe, err := d.prepareRow(r.t, j.row, r.kind == BatchCredentials, r.now)
	if err != nil {
		return nil, err
	}
	if len(fe) > 0 {
		return nil, &ValidationError{Type: r.t.ID, Fields: fe} // the file changed since the check
	}
	res := &rowResult{n: j.n, redo: j.n <= r.committed}
	switch {
	case r.kind == BatchCredentials && res.redo:
		rec, err := d.batchRecord(ctx, r.id, j.n)
		if err != nil {
			return nil, err
		}
		p.validUntil = rec.ExpiresAt
		s, kid := d.key()
		is, err := d.sign(signingKey{kid, s}, p, d.refs(r.base, rec.StatusList), slot{rec.StatusList, rec.StatusIndex}, rec.IssuedAt, rec.ID, "")
		if err != nil {
			return nil, err
		}
		is.Record = *rec
		return res, r.credentialLine(res, is)
	case r.kind == BatchCredentials:
		is, err := d.signNew(ctx, r.base, p, "")
		if err != nil {
			return nil, err
		}
		is.Record.BatchID, is.Record.BatchRow = r.id, j.n
		if res.holder, err = d.holderRow(is.Record.ID, p.claims); err != nil {
			return nil, err
		}
		res.rec = &is.Record
		return res, r.credentialLine(res, is)
	case res.redo:
		o, err := d.batchOffer(ctx, r.id, j.n)
		if err != nil {
			return nil, err
		}
		if err := rekey(o); err != nil {
			return nil, err
		}
		o.Expires = r.now.Add(r.ttl).UTC().Truncate(time.Second)
		claims, err := d.sealClaims(o.ID, p.claims)
		if err != nil {
			return nil, err
		}
		res.offer = o
		res.orow = &offerRow{id: o.ID, codeHash: hashHex(o.Code), pinHash: hashHex(o.ID, o.PIN), claims: claims, expires: o.Expires.Unix()}
	default:
		o, row, err := d.newOffer(p, r.now, r.ttl)
		if err != nil {
			return nil, err
		}
		row.batchID, row.batchRow = r.id, j.n
		res.offer, res.orow = o, row
	}
	uri := ""
	if r.opt.OfferURI != nil {
		uri = r.opt.OfferURI(res.offer)
	}
	res.line = []string{strconv.Itoa(j.n), res.offer.ID, res.offer.PIN, uri}
	return res, nil
}

func (r *batchRun) credentialLine(res *rowResult, is *Issued) error {
	w3c, err := json.Marshal(is.W3C)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrSignW3C, err)
	}
	res.line = []string{strconv.Itoa(res.n), is.Record.ID, is.SDJWT, string(w3c)}
	if r.res.Out == "" { // Batch: the caller gets the credentials
		res.issued = is
	}
	return nil
}

// commit writes a chunk of rows in one transaction: records and their holder index rows
// (or offers), the batch's progress and the current list number.
func (r *batchRun) commit(ctx context.Context, buf []*rowResult) error {
	d := r.d
	tx, err := d.db.BeginTx(ctx, nil)
	if err != nil {
		return recErr("begin", err)
	}
	defer tx.Rollback()
	var insRec, insHold, insOffer, rekeyOffer *sql.Stmt
	prep := func(s **sql.Stmt, q string) error {
		if *s == nil {
			var err error
			if *s, err = tx.PrepareContext(ctx, q); err != nil {
				return recErr("prepare", err)
			}
		}
		return nil
	}
	for _, res := range buf {
		switch {
		case res.rec != nil:
			if err := prep(&insRec, insertRecordSQL); err != nil {
				return err
			}
			if err := prep(&insHold, insertHolderSQL); err != nil {
				return err
			}
			if _, err := insRec.ExecContext(ctx, recordArgs(res.rec)...); err != nil {
				return recErr(fmt.Sprintf("row %d record", res.n), err)
			}
			h := res.holder
			if _, err := insHold.ExecContext(ctx, h.recordID, h.display, h.nameMAC, h.numberMAC); err != nil {
				return recErr(fmt.Sprintf("row %d holder index", res.n), err)
			}
		case res.orow != nil && res.redo:
			if err := prep(&rekeyOffer, `UPDATE offers SET code_hash = ?, pin_hash = ?, claims = ?, expires_at = ?, state = ? WHERE id = ? AND state IN (?, ?)`); err != nil {
				return err
			}
			o := res.orow
			x, err := rekeyOffer.ExecContext(ctx, o.codeHash, o.pinHash, o.claims, o.expires, OfferPending, o.id, OfferPending, OfferExpired)
			if err != nil {
				return recErr(fmt.Sprintf("row %d offer", res.n), err)
			}
			if n, _ := x.RowsAffected(); n != 1 {
				return fmt.Errorf("%w: row %d: offer %s was redeemed or withdrawn", ErrRecords, res.n, o.id)
			}
		case res.orow != nil:
			if err := prep(&insOffer, insertOfferSQL); err != nil {
				return err
			}
			if _, err := insOffer.ExecContext(ctx, res.orow.args()...); err != nil {
				return recErr(fmt.Sprintf("row %d offer", res.n), err)
			}
		}
	}
	last := buf[len(buf)-1].n
	now := d.now().Unix()
	finished := int64(0)
	if last == r.res.Rows {
		finished = now
	}
	if _, err := tx.ExecContext(ctx, `UPDATE batches SET committed = MAX(committed, ?), updated_at = ?, finished_at = ? WHERE id = ?`,
		last, now, finished, r.id); err != nil {
		return recErr("batch", err)
	}
	if r.kind == BatchCredentials {
		if err := d.saveLists(ctx, tx); err != nil {
			return err
		}
	}
	if err := tx.Commit(); err != nil {
		return recErr("commit", err)
	}
	if r.kind == BatchCredentials {
		d.lists.saved()
	}
	for _, res := range buf {
		if !res.redo {
			r.res.Count++
		}
	}
	return nil
}

func (r *batchRun) report(done int) {
	now := time.Now()
	r.prog.add(now, done)
	rate, left := r.prog.estimate(r.res.Rows)
	r.progress(BatchProgress{Phase: PhaseIssuing, Done: done, Total: r.res.Rows, Resumed: r.committed, RowsPerSec: rate, Left: left})
}

// batchRecord is the record a batch committed for row n.
func (d *Department) batchRecord(ctx context.Context, batch string, n int) (*Record, error) {
	rec, err := scanRecord(d.db.QueryRowContext(ctx, `SELECT `+recordCols+` FROM records WHERE batch_id = ? AND batch_row = ?`, batch, n))
	if err != nil {
		return nil, recErr(fmt.Sprintf("batch row %d", n), err)
	}
	return rec, nil
}

// batchOffer is the offer a batch committed for row n.
func (d *Department) batchOffer(ctx context.Context, batch string, n int) (*Offer, error) {
	o := &Offer{}
	err := d.db.QueryRowContext(ctx, `SELECT id, type FROM offers WHERE batch_id = ? AND batch_row = ?`, batch, n).Scan(&o.ID, &o.Type)
	if err != nil {
		return nil, recErr(fmt.Sprintf("batch row %d", n), err)
	}
	return o, nil
}

// Result CSV headers.
var (
	credentialHeader = []string{"row", "record_id", "sd_jwt", "w3c_vc"}
	offerHeader      = []string{"row", "offer_id", "tx_code", "offer_uri"}
)

// outFile is a batch's result CSV, appended to in row order and fsynced after each chunk.
type outFile struct {
	f  *os.File
	w  *bufio.Writer
	cw *csv.Writer
}

// openOut opens (creating) the result file at path and returns the number of rows it holds:
// 1..k in order, k read from its last complete line; anything after that line (a line cut
// short by a crash) is cut off. A file whose header is not the kind's is refused.
func openOut(path, kind string) (*outFile, int, error) {
	head := credentialHeader
	if kind == BatchOffers {
		head = offerHeader
	}
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, 0, fmt.Errorf("%w: %w", ErrBatchOutput, err)
	}
	fail := func(err error) (*outFile, int, error) {
		f.Close()
		return nil, 0, fmt.Errorf("%w: %s: %w", ErrBatchOutput, path, err)
	}
	headLine := strings.Join(head, ",") + "\n"
	k, end, err := lastRow(f, headLine)
	if err != nil {
		return fail(err)
	}
	if err := f.Truncate(end); err != nil {
		return fail(err)
	}
	if _, err := f.Seek(end, io.SeekStart); err != nil {
		return fail(err)
	}
	o := &outFile{f: f, w: bufio.NewWriterSize(f, 1<<16)}
	o.cw = csv.NewWriter(o.w)
	if end == 0 {
		if err := o.cw.Write(head); err != nil {
			return fail(err)
		}
	}
	return o, k, nil
}

// lastRow reads a result file from its end: the row number of its last complete line (0 if
// only the header is complete, or nothing) and the offset just after that line.
func lastRow(f *os.File, headLine string) (int, int64, error) {
	st, err := f.Stat()
	if err != nil {
		return 0, 0, err
	}
	size := st.Size()
	if size < int64(len(headLine)) {
		return 0, 0, nil // not even the header: start again
	}
	hb := make([]byte, len(headLine))
	if _, err := f.ReadAt(hb, 0); err != nil {
		return 0, 0, err
	}
	if string(hb) != headLine {
		return 0, 0, errors.New("not a result file of this kind of batch")
	}
	// Scan back for the last two newlines: [start, end) is the last complete line.
	var nl []int64
	const step = 1 << 16
	buf := make([]byte, step)
	for pos := size; pos > 0 && len(nl) < 2; {
		from := max(pos-step, 0)
		b := buf[:pos-from]
		if _, err := f.ReadAt(b, from); err != nil {
			return 0, 0, err
		}
		for i := len(b) - 1; i >= 0 && len(nl) < 2; i-- {
			if b[i] == '\n' {
				nl = append(nl, from+int64(i))
			}
		}
		pos = from
	}
	end := nl[0] + 1 // the header ends with one: there is at least one
	if end == int64(len(headLine)) {
		return 0, end, nil
	}
	start := nl[1] + 1
	line := make([]byte, min(end-start, 24))
	if _, err := f.ReadAt(line, start); err != nil {
		return 0, 0, err
	}
	num, _, ok := bytes.Cut(line, []byte(","))
	k, err := strconv.Atoi(string(num))
	if !ok || err != nil || k <= 0 {
		return 0, 0, fmt.Errorf("last complete line does not start with a row number")
	}
	return k, end, nil
}

// put appends one row's line (the sink of RunBatch).
func (o *outFile) put(r *rowResult) error {
	if err := o.cw.Write(r.line); err != nil {
		return err
	}
	return nil
}

// sync makes the lines written so far durable.
func (o *outFile) sync() error {
	o.cw.Flush()
	if err := o.cw.Error(); err != nil {
		return err
	}
	if err := o.w.Flush(); err != nil {
		return err
	}
	return o.f.Sync()
}

func (o *outFile) close() error {
	if o == nil || o.f == nil {
		return nil
	}
	err := o.sync()
	if cerr := o.f.Close(); err == nil {
		err = cerr
	}
	o.f = nil
	return err
}
