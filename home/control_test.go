package home

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"lianzheng/did"
	"lianzheng/internal/keystore"
	"lianzheng/issuer"
	"lianzheng/issuer/issuertest"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
)

const testPassphrase = "民政局 control passphrase"

// newControlDept is a department's own home in a fresh directory over the in-memory ledger:
// a sealed key store (cheap KDF; a fixed clock and a 1 h back-off, so that back-off is
// deterministic) and the issuer core, as OpenIssuer makes it.
func newControlDept(t *testing.T, log *syncBuffer) *Department {
	t.Helper()
	l, err := issuertest.New(time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(t.TempDir(), "issuer")
	now := time.Now()
	ks, err := keystore.Init(filepath.Join(dir, "keystore"), testPassphrase, &keystore.Options{
		KDF: &keystore.KDFParams{Time: 1, Memory: 8 * 1024, Threads: 1}, BaseDelay: time.Hour, Now: func() time.Time { return now }})
	if err != nil {
		t.Fatal(err)
	}
	core, err := issuer.Open(context.Background(), issuer.Config{ID: "civil-affairs", Signer: l.Signer("civil-affairs"), Ledger: l,
		DBPath: filepath.Join(dir, "issuer.db"), Sealer: ks})
	if err != nil {
		t.Fatal(err)
	}
	d := &Department{core: core, log: slog.New(slog.NewTextHandler(log, nil)), dir: dir, ks: ks, url: "http://127.0.0.1:8470"}
	t.Cleanup(func() { d.Close() })
	return d
}

func marriageClaims(date string) map[string]any {
	return map[string]any{"holder_name": "测试用户甲", "spouse_name": "测试用户乙", "spouse_id_number": "TEST00000000000002",
		"registration_date": date, "certificate_number": "TEST-J-1", "registry": "示例登记处"}
}

// TestControlSocket: a serving department's home has a private control socket; OpenDesk
// goes through it, and every operation gives what the core gives in process — results, and
// errors with the same text and the same types (validation per field, not authorised,
// unknown record, bad transition, invalid batch rows). The passphrase is checked by the key
// store the service holds: wrong ones are counted, then backed off. Nothing personal is
// logged. Close removes the socket.
func TestControlSocket(t *testing.T) {
	ctx := context.Background()
	var log syncBuffer
	d := newControlDept(t, &log)
	if _, err := d.Serve("127.0.0.1:0", ServeOptions{}); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(d.dir, ControlSocket)
	fi, err := os.Lstat(sock)
	if err != nil || fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Fatalf("control socket %v: %v", fi, err)
	}
	if left, _ := filepath.Glob(filepath.Join(d.dir, ".ctl*")); len(left) != 0 {
		t.Fatalf("left behind: %v", left)
	}
	desk, err := OpenDesk(ctx, d.dir, IssuerOptions{Passphrase: testPassphrase})
	if err != nil {
		t.Fatal(err)
	}
	defer desk.Close()
	c, ok := desk.(*Control)
	if !ok {
		t.Fatalf("OpenDesk on a serving home gave %T", desk)
	}
	local := localDesk{d}
	if c.IssuerURL() != d.IssuerURL() || c.ID() != "civil-affairs" {
		t.Fatalf("session: %q %q", c.IssuerURL(), c.ID())
	}

	ts, err := c.Types(ctx)
	if err != nil || len(ts) == 0 || ts[0].ID == "" {
		t.Fatalf("types: %v %v", ts, err)
	}
	o, err := c.CreateOffer(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriageClaims("2018-05-20")}, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	if st, _, err := d.core.OfferState(ctx, o.ID); err != nil || st != issuer.OfferPending || len(o.PIN) != issuer.PINDigits {
		t.Fatalf("offer in the service: %q %v", st, err)
	}
	_, hk, _ := ed25519.GenerateKey(rand.Reader)
	holder, _ := did.ParseKey(did.KeyFromEd25519(hk.Public().(ed25519.PublicKey)))
	is, err := c.Issue(ctx, issuer.Request{Type: "marriage-certificate", Claims: marriageClaims("2018-05-20"), Holder: holder})
	if err != nil || is.SDJWT == "" || is.W3C["proof"] == nil || is.Record.State != issuer.StateValid {
		t.Fatalf("issue: %+v %v", is, err)
	}
	r, tx, err := c.SetStatus(ctx, is.Record.ID, issuer.ActionSuspend)
	if err != nil || r.State != issuer.StateSuspended || tx.Height == 0 {
		t.Fatalf("suspend: %+v %+v %v", r, tx, err)
	}
	p, err := c.Search(ctx, issuer.SearchFilter{Query: "测试用户甲"})
	if err != nil || p.Total != 1 || p.Records[0].ID != is.Record.ID || p.Records[0].State != issuer.StateSuspended ||
		p.Records[0].Holder.String() == "" || strings.Contains(p.Records[0].Holder.String(), "测试用户甲") {
		t.Fatalf("search: %+v %v", p, err)
	}
	// a batch: the service reads and writes the files itself, progress comes back as it goes
	dir := t.TempDir()
	csvOf := func(name string, dates ...string) string {
		var b strings.Builder
		b.WriteString("holder_name,spouse_name,spouse_id_number,registration_date,certificate_number,registry\n")
		for i, d := range dates {
			fmt.Fprintf(&b, "测试用户%d,测试配偶%d,TEST%d,%s,TEST-J-%d,示例登记处\n", i, i, i, d, i)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(b.String()), 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	badIn := csvOf("bad.csv", "2018-05-20", "2021-02-29")
	res, errBatch := c.Batch(ctx, BatchJob{Type: "marriage-certificate", In: badIn, Out: filepath.Join(dir, "bad-out.csv")}, nil)
	if !errors.Is(errBatch, issuer.ErrBatchInvalid) || res == nil || res.Rows != 2 || len(res.Errors) != 1 || res.Errors[0].Row != 2 {
		t.Fatalf("invalid batch: %+v %v", res, errBatch)
	}
	var progress []issuer.BatchProgress
	res, err = c.Batch(ctx, BatchJob{Type: "marriage-certificate", In: csvOf("good.csv", "2018-05-20", "2021-02-28"), Out: filepath.Join(dir, "out.csv")},
		func(p issuer.BatchProgress) { progress = append(progress, p) })
	if err != nil || res.Count != 2 || res.Kind != issuer.BatchOffers || len(progress) == 0 {
		t.Fatalf("batch: %+v %v (%d progress lines)", res, err, len(progress))
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "out.csv")); !strings.Contains(string(b), "openid-credential-offer://") {
		t.Fatalf("result file: %s", b)
	}
	if _, err := c.Batch(ctx, BatchJob{Type: "marriage-certificate", In: filepath.Join(dir, "good.csv"), Out: filepath.Join(dir, "again.csv")}, nil); !errors.Is(err, issuer.ErrBatchDone) {
		t.Fatalf("the same batch again: %v", err)
	}
	bs, err := c.Batches(ctx)
	if err != nil || len(bs) != 1 || bs[0].ID != res.ID {
		t.Fatalf("batches: %+v %v", bs, err)
	}
	// a bulk status change of a batch of credentials
	var hb strings.Builder
	hb.WriteString("holder_name,spouse_name,spouse_id_number,registration_date,certificate_number,registry,holder\n")
	for i := range 3 {
		_, k, _ := ed25519.GenerateKey(rand.Reader)
		fmt.Fprintf(&hb, "测试用户%d,测试配偶%d,TEST%d,2018-05-20,TEST-J-%d,示例登记处,%s\n", i, i, i, i, did.KeyFromEd25519(k.Public().(ed25519.PublicKey)))
	}
	hin := filepath.Join(dir, "holders.csv")
	os.WriteFile(hin, []byte(hb.String()), 0o600)
	hres, err := c.Batch(ctx, BatchJob{Type: "marriage-certificate", In: hin, Out: filepath.Join(dir, "creds.csv")}, nil)
	if err != nil || hres.Count != 3 {
		t.Fatalf("credentials batch: %+v %v", hres, err)
	}
	bulk, err := c.BulkStatus(ctx, BulkJob{Action: issuer.ActionRevoke, BatchID: hres.ID}, nil)
	if err != nil || bulk.Changed != 3 || bulk.Txs != 1 {
		t.Fatalf("bulk: %+v %v", bulk, err)
	}
	if _, err := c.BulkStatus(ctx, BulkJob{Action: issuer.ActionRevoke}, nil); !errors.Is(err, issuer.ErrBulkSelection) {
		t.Fatalf("bulk without a selection: %v", err)
	}

	// errors: the same text as in process, and the same types
	same := func(what string, remote, inproc error) {
		t.Helper()
		if remote == nil || inproc == nil || remote.Error() != inproc.Error() {
			t.Fatalf("%s: through the socket %q, in process %q", what, remote, inproc)
		}
	}
	bad := issuer.Request{Type: "marriage-certificate", Claims: marriageClaims("2018-13-40")}
	_, e1 := c.CreateOffer(ctx, bad, 0)
	_, e2 := local.CreateOffer(ctx, bad, 0)
	same("validation", e1, e2)
	var ve *issuer.ValidationError
	if !errors.As(e1, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Field != "registration_date" || ve.Fields[0].Zh == "" {
		t.Fatalf("validation: %v", e1)
	}
	hr := issuer.Request{Type: "household-register", Claims: map[string]any{"name": "x"}}
	_, e1 = c.CreateOffer(ctx, hr, 0)
	_, e2 = local.CreateOffer(ctx, hr, 0)
	same("not authorised", e1, e2)
	var na *issuer.NotAuthorisedError
	if !errors.As(e1, &na) || len(na.Issuers) == 0 || !errors.Is(e1, issuer.ErrNotAuthorised) {
		t.Fatalf("not authorised: %v", e1)
	}
	_, _, e1 = c.SetStatus(ctx, "no-such-record", issuer.ActionRevoke)
	_, _, e2 = local.SetStatus(ctx, "no-such-record", issuer.ActionRevoke)
	same("unknown record", e1, e2)
	if !errors.Is(e1, issuer.ErrRecordNotFound) {
		t.Fatalf("unknown record: %v", e1)
	}
	_, _, e1 = c.SetStatus(ctx, is.Record.ID, issuer.ActionSuspend)
	_, _, e2 = local.SetStatus(ctx, is.Record.ID, issuer.ActionSuspend)
	same("bad transition", e1, e2)
	if !errors.Is(e1, issuer.ErrBadTransition) {
		t.Fatalf("bad transition: %v", e1)
	}
	_, e1 = c.Search(ctx, issuer.SearchFilter{After: "garbage"})
	_, e2 = local.Search(ctx, issuer.SearchFilter{After: "garbage"})
	same("bad cursor", e1, e2)
	_, e2 = local.Batch(ctx, BatchJob{Type: "marriage-certificate", In: badIn, Out: filepath.Join(dir, "bad-out.csv")}, nil)
	same("invalid batch", errBatch, e2)

	// the passphrase: checked by the service's key store, wrong ones counted, then backed off
	for i := 1; i <= 4; i++ {
		if _, err := DialControl(ctx, d.dir, "wrong passphrase"); !errors.Is(err, keystore.ErrWrongPIN) {
			t.Fatalf("wrong passphrase %d: %v", i, err)
		}
		if f, _, _ := d.ks.Status(); f != i {
			t.Fatalf("after %d wrong passphrases the key store counts %d", i, f)
		}
	}
	var be *keystore.BackoffError
	if _, err := DialControl(ctx, d.dir, testPassphrase); !errors.As(err, &be) || be.Wait != time.Hour || !errors.Is(err, keystore.ErrBackoff) {
		t.Fatalf("after 4 wrong passphrases: %v", err)
	}
	if _, err := c.Types(ctx); err != nil { // the open session is not affected
		t.Fatal(err)
	}

	// a session ends; an unknown one is refused
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Types(ctx); !errors.Is(err, ErrControlSession) {
		t.Fatalf("after logout: %v", err)
	}
	// bounded requests
	if _, err := DialControl(ctx, d.dir, strings.Repeat("x", 100<<10)); !errors.Is(err, ErrControlTooLarge) {
		t.Fatalf("huge passphrase: %v", err)
	}

	for _, secret := range []string{testPassphrase, "测试用户甲", "TEST00000000000002", o.PIN, o.Code} {
		if strings.Contains(log.String(), secret) {
			t.Fatalf("the log holds %q:\n%s", secret, log.String())
		}
	}
	if !strings.Contains(log.String(), "kind=validation") || !strings.Contains(log.String(), "kind=wrong_passphrase") {
		t.Fatalf("failures not logged by kind:\n%s", log.String())
	}
	if err := d.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("socket left after Close: %v", err)
	}
}

// staleSocket leaves a socket at path that nobody answers on, as a killed service does.
func staleSocket(t *testing.T, path string) {
	t.Helper()
	ln, err := net.ListenUnix("unix", &net.UnixAddr{Name: path, Net: "unix"})
	if err != nil {
		t.Fatal(err)
	}
	ln.SetUnlinkOnClose(false)
	ln.Close()
	os.Chmod(path, 0o600)
}

// TestControlStaleAndUnsafe: a stale socket means no service (OpenDesk opens the home
// itself) and Serve replaces it; a file that is not a socket is left alone; nothing is sent
// to a socket another user could have put there, and Serve makes none in a home others can
// write to.
func TestControlStaleAndUnsafe(t *testing.T) {
	ctx := context.Background()
	var log syncBuffer
	d := newControlDept(t, &log)
	sock := filepath.Join(d.dir, ControlSocket)

	if _, err := DialControl(ctx, d.dir, testPassphrase); !errors.Is(err, ErrNoService) {
		t.Fatalf("no socket: %v", err)
	}
	staleSocket(t, sock)
	if _, err := DialControl(ctx, d.dir, testPassphrase); !errors.Is(err, ErrNoService) {
		t.Fatalf("stale socket: %v", err)
	}
	if _, err := d.Serve("127.0.0.1:0", ServeOptions{}); err != nil {
		t.Fatal(err)
	}
	if d.ctl == nil {
		t.Fatalf("the stale socket was not replaced:\n%s", log.String())
	}
	c, err := DialControl(ctx, d.dir, testPassphrase)
	if err != nil {
		t.Fatal(err)
	}
	c.Close()
	// the socket's mode
	os.Chmod(sock, 0o660)
	if _, err := DialControl(ctx, d.dir, testPassphrase); !errors.Is(err, ErrUnsafeControl) {
		t.Fatalf("group-accessible socket: %v", err)
	}
	os.Chmod(sock, 0o600)
	// the home's mode
	os.Chmod(d.dir, 0o770)
	if _, err := DialControl(ctx, d.dir, testPassphrase); !errors.Is(err, ErrUnsafeControl) {
		t.Fatalf("socket in a group-writable home: %v", err)
	}
	if f, _, _ := d.ks.Status(); f != 0 {
		t.Fatal("a passphrase reached the service through an unsafe socket")
	}
	d.Close()

	// Serve makes no socket in a home others can write to (and says why)
	var log2 syncBuffer
	d2 := newControlDept(t, &log2)
	os.Chmod(d2.dir, 0o775)
	if _, err := d2.Serve("127.0.0.1:0", ServeOptions{}); err != nil {
		t.Fatal(err)
	}
	if d2.ctl != nil || !strings.Contains(log2.String(), "control socket not started") {
		t.Fatalf("control socket in a group-writable home:\n%s", log2.String())
	}
	d2.Close()

	// a file that is not a socket is not removed
	var log3 syncBuffer
	d3 := newControlDept(t, &log3)
	p3 := filepath.Join(d3.dir, ControlSocket)
	os.WriteFile(p3, []byte("mine"), 0o600)
	if _, err := d3.Serve("127.0.0.1:0", ServeOptions{}); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p3); d3.ctl != nil || string(b) != "mine" {
		t.Fatalf("a regular file at the socket's path: %q\n%s", b, log3.String())
	}
	if _, err := DialControl(ctx, d3.dir, testPassphrase); !errors.Is(err, ErrNoService) {
		t.Fatalf("a regular file at the socket's path: %v", err)
	}
}

// TestControlErrorWire: every error kind survives the socket with its text and its type.
func TestControlErrorWire(t *testing.T) {
	cases := []error{
		&issuer.ValidationError{Type: "t", Fields: []issuer.FieldError{{Field: "f", Code: "required"}}},
		fmt.Errorf("wrapped: %w", &issuer.NotAuthorisedError{Department: "a", Type: "t", Issuers: []string{"b"}}),
		&keystore.BackoffError{Wait: 3 * time.Second},
		errors.New("something else"),
	}
	for _, k := range controlKinds {
		cases = append(cases, fmt.Errorf("context: %w", k.err))
	}
	for _, err := range cases {
		e, status := encodeError(err)
		b, _ := json.Marshal(ctlFailure{e})
		var fe ctlFailure
		if err := json.Unmarshal(b, &fe); err != nil {
			t.Fatal(err)
		}
		back := decodeError(fe.Error)
		if back.Error() != err.Error() || status < 400 {
			t.Errorf("%v: came back as %q (%d)", err, back, status)
		}
		var ve *issuer.ValidationError
		var na *issuer.NotAuthorisedError
		var be *keystore.BackoffError
		switch {
		case errors.As(err, &ve):
			var got *issuer.ValidationError
			if !errors.As(back, &got) || got.Fields[0].Field != "f" {
				t.Errorf("%v: not a ValidationError", err)
			}
		case errors.As(err, &na):
			var got *issuer.NotAuthorisedError
			if !errors.As(back, &got) || got.Issuers[0] != "b" || !errors.Is(back, issuer.ErrNotAuthorised) {
				t.Errorf("%v: not a NotAuthorisedError", err)
			}
		case errors.As(err, &be):
			var got *keystore.BackoffError
			if !errors.As(back, &got) || got.Wait != be.Wait {
				t.Errorf("%v: not a BackoffError", err)
			}
		}
		for _, k := range controlKinds {
			if errors.Is(err, k.err) && !errors.Is(back, k.err) {
				t.Errorf("%v: errors.Is(%v) lost", err, k.err)
			}
		}
	}
}

// TestControlSessions: sessions expire, and there are at most controlMaxSessions.
func TestControlSessions(t *testing.T) {
	s := sessions{m: map[[32]byte]time.Time{}}
	now := time.Now()
	first, _ := s.open(now)
	if !s.valid(first, now) || s.valid("", now) || s.valid(first+"x", now) {
		t.Fatal("validity")
	}
	if s.valid(first, now.Add(controlSessionTTL)) {
		t.Fatal("an expired session is valid")
	}
	toks := []string{}
	for i := range controlMaxSessions + 1 {
		tok, _ := s.open(now.Add(time.Duration(i) * time.Millisecond))
		toks = append(toks, tok)
	}
	if len(s.m) != controlMaxSessions || s.valid(toks[0], now) || !s.valid(toks[len(toks)-1], now) {
		t.Fatalf("%d sessions; the oldest should have gone", len(s.m))
	}
	s.close(toks[1])
	if s.valid(toks[1], now) {
		t.Fatal("a closed session is valid")
	}
}

// TestControlGovernance: governance through the control socket answers as in process — a
// payload that is not an object is issuer.ErrProposal, what the ledger refuses comes back as
// the ledger client's typed error (the test ledger takes status changes only: malformed) —
// and the socket's errors keep their types.
func TestControlGovernance(t *testing.T) {
	ctx := context.Background()
	var log syncBuffer
	d := newControlDept(t, &log)
	if _, err := d.Serve("127.0.0.1:0", ServeOptions{}); err != nil {
		t.Fatal(err)
	}
	desk, err := OpenDesk(ctx, d.dir, IssuerOptions{Passphrase: testPassphrase})
	if err != nil {
		t.Fatal(err)
	}
	defer desk.Close()
	if _, ok := desk.(*Control); !ok {
		t.Fatalf("OpenDesk on a serving home gave %T", desk)
	}
	for _, c := range []struct {
		name    string
		f       func(Desk) error
		wantErr error
	}{
		{"not an object", func(x Desk) error {
			_, err := x.Propose(ctx, ledger.ActionParamsSet, json.RawMessage(`"x"`))
			return err
		}, issuer.ErrProposal},
		{"bad id", func(x Desk) error { _, err := x.Approve(ctx, "short"); return err }, issuer.ErrProposal},
		{"refused by the ledger", func(x Desk) error {
			_, err := x.Propose(ctx, ledger.ActionParamsSet, json.RawMessage(`{"approvals":2}`))
			return err
		}, ledgerclient.ErrTxMalformed},
	} {
		remote, local := c.f(desk), c.f(localDesk{d})
		if !errors.Is(remote, c.wantErr) || !errors.Is(local, c.wantErr) || remote.Error() != local.Error() {
			t.Errorf("%s: through the socket %v, in process %v; want %v", c.name, remote, local, c.wantErr)
		}
	}
}
