package issuer_test

import (
	"context"
	"database/sql"
	"errors"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"lianzheng/credential/statuslist"
	"lianzheng/issuer"
	"lianzheng/issuer/issuertest"
	"lianzheng/ledger"
)

// listsDept is a department whose status lists hold n entries.
func listsDept(t *testing.T, n int) (*issuer.Department, *issuertest.Ledger, string) {
	t.Helper()
	clk := newClock(time.Now())
	l, err := issuertest.New(clk.now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	d, err := issuer.Open(context.Background(), issuer.WithListSize(issuer.Config{ID: "civil-affairs", Signer: l.Signer("civil-affairs"),
		Ledger: l, DBPath: filepath.Join(dir, "i.db"), Sealer: testSealer("civil-affairs"), Now: clk.now}, n))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	return d, l, dir
}

// ledgerState is the value the ledger holds for a record's status entry.
func ledgerState(t *testing.T, l *issuertest.Ledger, r issuer.Record) int {
	t.Helper()
	b, err := l.StatusList(context.Background(), "civil-affairs", r.StatusList)
	if err != nil {
		t.Fatal(err)
	}
	v, err := ledger.StatusAt(b, r.StatusIndex)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var stateValue = map[string]int{issuer.StateValid: ledger.StatusValid, issuer.StateRevoked: ledger.StatusRevoked, issuer.StateSuspended: ledger.StatusSuspended}

// agree: every record's state is what the ledger holds for its entry.
func agree(t *testing.T, d *issuer.Department, l *issuertest.Ledger) map[string]int {
	t.Helper()
	rs, err := d.Records(context.Background(), issuer.ListFilter{Limit: 100000})
	if err != nil {
		t.Fatal(err)
	}
	count := map[string]int{}
	for _, r := range rs {
		count[r.State]++
		if v := ledgerState(t, l, r); v != stateValue[r.State] {
			t.Fatalf("record %s is %s, the ledger holds %d", r.ID, r.State, v)
		}
	}
	return count
}

// TestBulkSetStatus: a batch over three lists revoked in one operation — one ledger
// transaction per list, the bitmap form above the JSON threshold — and the records and the
// ledger agree; ids from a list (an unknown one, a repeated one, one in a state that does not
// allow the action) suspend only the right records; a second revocation changes nothing.
func TestBulkSetStatus(t *testing.T) {
	defer issuer.SetBulkJSONMax(10)()
	ctx := context.Background()
	d, l, dir := listsDept(t, 64)
	res, err := d.RunBatch(ctx, "marriage-certificate", writeFile(t, dir, "in.csv", marriageCSV(150, true, nil)), filepath.Join(dir, "out.csv"), issuer.BatchOptions{ChunkRows: 50})
	if err != nil {
		t.Fatal(err)
	}
	other, err := d.Issue(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage(), Holder: holderKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	_, rows := readResult(t, res.Out)
	opened := l.Txs // lists 1 and 2
	// Suspend by ids: rows 1-3, row 1 again, an unknown id, and the single credential.
	ids := []string{rows[0][1], rows[1][1], rows[2][1], rows[0][1], "no-such-record", other.Record.ID}
	br, err := d.BulkSetStatus(ctx, issuer.BulkSelection{IDs: slices.Values(ids)}, issuer.ActionSuspend, nil)
	if err != nil || br.Selected != 6 || br.Changed != 4 || br.Skipped != 2 || br.Txs != br.Lists || br.Lists < 1 {
		t.Fatalf("%+v %v", br, err)
	}
	if c := agree(t, d, l); c[issuer.StateSuspended] != 4 || c[issuer.StateValid] != 147 {
		t.Fatalf("states %v", c)
	}
	// Revoke the whole batch: three lists, three transactions (the bitmap form for the
	// lists with more than 10 entries).
	l.Txs = 0
	var prog []issuer.BulkProgress
	br, err = d.BulkSetStatus(ctx, issuer.BulkSelection{BatchID: res.ID}, issuer.ActionRevoke, func(p issuer.BulkProgress) { prog = append(prog, p) })
	if err != nil || br.Selected != 150 || br.Changed != 150 || br.Lists != 3 || br.Txs != 3 || l.Txs != 3 || br.Height == 0 {
		t.Fatalf("%+v %v (%d ledger txs)", br, err, l.Txs)
	}
	if len(prog) != 3 || prog[2].Done != 150 || prog[2].Total != 150 || prog[2].Txs != 3 {
		t.Fatalf("progress %+v", prog)
	}
	if c := agree(t, d, l); c[issuer.StateRevoked] != 150 || c[issuer.StateSuspended] != 1 {
		t.Fatalf("states %v", c)
	}
	if r, _ := d.Record(ctx, rows[9][1]); r.StatusHeight != br.Height && r.StatusHeight == 0 {
		t.Fatalf("status height %d", r.StatusHeight)
	}
	// Again: nothing to change, nothing written.
	br, err = d.BulkSetStatus(ctx, issuer.BulkSelection{BatchID: res.ID}, issuer.ActionRevoke, nil)
	if err != nil || br.Changed != 0 || br.Skipped != 150 || br.Txs != 0 || l.Txs != 3 {
		t.Fatalf("%+v %v", br, err)
	}
	// Selections that name nothing.
	for _, sel := range []issuer.BulkSelection{{}, {BatchID: "x", IDs: slices.Values(ids)}, {BatchID: "no-such-batch"}, {IDs: slices.Values([]string{})}} {
		if _, err := d.BulkSetStatus(ctx, sel, issuer.ActionRevoke, nil); !errors.Is(err, issuer.ErrBulkSelection) {
			t.Fatalf("%+v: %v", sel, err)
		}
	}
	if _, err := d.BulkSetStatus(ctx, issuer.BulkSelection{BatchID: res.ID}, "delete", nil); !errors.Is(err, issuer.ErrBadTransition) {
		t.Fatal(err)
	}
	_ = opened
}

// TestBulkInterrupted: the ledger fails after the first list of a bulk suspension; the
// records of that list are suspended, the others untouched (as on the ledger); the next
// status change — a single one — first completes the operation, and everything agrees.
func TestBulkInterrupted(t *testing.T) {
	defer issuer.SetBulkJSONMax(10)()
	ctx := context.Background()
	d, l, dir := listsDept(t, 64)
	res, err := d.RunBatch(ctx, "marriage-certificate", writeFile(t, dir, "in.csv", marriageCSV(100, true, nil)), filepath.Join(dir, "out.csv"), issuer.BatchOptions{})
	if err != nil {
		t.Fatal(err)
	}
	one, err := d.Issue(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage(), Holder: holderKey(t)})
	if err != nil {
		t.Fatal(err)
	}
	down := errors.New("ledger unreachable")
	_, err = d.BulkSetStatus(ctx, issuer.BulkSelection{BatchID: res.ID}, issuer.ActionSuspend, func(issuer.BulkProgress) { l.FailStatus = down })
	if !errors.Is(err, down) {
		t.Fatal(err)
	}
	c := agree(t, d, l)
	if c[issuer.StateSuspended] != 64 || c[issuer.StateValid] != 37 {
		t.Fatalf("after the failure: %v", c)
	}
	l.FailStatus = nil
	if _, _, err := d.Revoke(ctx, one.Record.ID); err != nil {
		t.Fatal(err)
	}
	if c := agree(t, d, l); c[issuer.StateSuspended] != 100 || c[issuer.StateRevoked] != 1 {
		t.Fatalf("after completing: %v", c)
	}
	// Resumed, by batch, in bulk.
	br, err := d.BulkSetStatus(ctx, issuer.BulkSelection{BatchID: res.ID}, issuer.ActionResume, nil)
	if err != nil || br.Changed != 100 || len(br.Finished) != 0 {
		t.Fatalf("%+v %v", br, err)
	}
	if c := agree(t, d, l); c[issuer.StateValid] != 100 {
		t.Fatalf("resumed: %v", c)
	}
}

// TestMigrateRecords: a database made before status lists were numbered (status_index
// UNIQUE, no list, no batch columns) opens: its records are on list 0, its allocator state
// still covers them, and issuance goes on on list 0.
func TestMigrateRecords(t *testing.T) {
	ctx := context.Background()
	dbp := filepath.Join(t.TempDir(), "old.db")
	db, err := sql.Open("sqlite", dbp)
	if err != nil {
		t.Fatal(err)
	}
	a, _ := statuslist.NewAllocator(ledger.StatusListSize)
	for _, i := range []int{7, 1234} {
		_ = a.MarkUsed(i)
	}
	state, _ := a.MarshalBinary()
	for _, q := range []string{
		`CREATE TABLE records (id TEXT PRIMARY KEY, type TEXT NOT NULL, holder_thumbprint TEXT NOT NULL, status_index INTEGER NOT NULL UNIQUE,
		  issued_at INTEGER NOT NULL, expires_at INTEGER NOT NULL, state TEXT NOT NULL, updated_at INTEGER NOT NULL,
		  status_height INTEGER NOT NULL DEFAULT 0, offer_id TEXT NOT NULL DEFAULT '')`,
		`CREATE TABLE meta (k TEXT PRIMARY KEY, v BLOB NOT NULL)`,
		`CREATE INDEX records_issued ON records(issued_at DESC, id)`,
		`INSERT INTO records VALUES ('old-1', 'marriage-certificate', 'tp', 7, 1700000000, 0, 'valid', 1700000000, 0, '')`,
		`INSERT INTO records VALUES ('old-2', 'marriage-certificate', 'tp', 1234, 1700000001, 0, 'revoked', 1700000001, 9, '')`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := db.Exec(`INSERT INTO meta (k, v) VALUES ('allocator', ?)`, state); err != nil {
		t.Fatal(err)
	}
	db.Close()
	l, _ := issuertest.New(time.Now().Add(-time.Hour))
	d, err := issuer.Open(ctx, issuer.Config{ID: "civil-affairs", Signer: l.Signer("civil-affairs"), Ledger: l, DBPath: dbp, Sealer: testSealer("civil-affairs")})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	r, err := d.Record(ctx, "old-2")
	if err != nil || r.StatusList != 0 || r.StatusIndex != 1234 || r.State != issuer.StateRevoked || r.StatusHeight != 9 || r.BatchID != "" {
		t.Fatalf("%+v %v", r, err)
	}
	for range 20 {
		is, err := d.Issue(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriage(), Holder: holderKey(t)})
		if err != nil || is.Record.StatusList != 0 || is.Record.StatusIndex == 7 || is.Record.StatusIndex == 1234 {
			t.Fatalf("%+v %v", is, err)
		}
	}
	if n, _ := d.CountRecords(ctx); n != 22 {
		t.Fatal(n)
	}
	p, err := d.Search(ctx, issuer.SearchFilter{})
	if err != nil || p.Total != 22 {
		t.Fatalf("%+v %v", p, err)
	}
	// The old bitmap was read once and deleted: the records are the allocator's state now.
	d.Close()
	db, err = sql.Open("sqlite", dbp)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	var n int
	if err := db.QueryRow(`SELECT COUNT(*) FROM meta WHERE k = 'allocator'`).Scan(&n); err != nil || n != 0 {
		t.Fatalf("old allocator bitmap still there (%d, %v)", n, err)
	}
}
