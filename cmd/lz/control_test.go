package main

import (
	"bufio"
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"lianzheng/did"
	"lianzheng/home"
	"lianzheng/home/demonet"
	"lianzheng/internal/keystore"
	"lianzheng/issuer"
)

// issuerService is `lz serve issuer` running as its own OS process.
type issuerService struct {
	cmd  *exec.Cmd
	done chan error // the process's exit
	mu   sync.Mutex
	log  bytes.Buffer // its stderr
}

func (s *issuerService) stderr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.log.String()
}

// startIssuerService starts the lz binary's `serve issuer` on home and returns once its
// control socket listens (it logs "control socket").
func startIssuerService(t *testing.T, home, addr string) *issuerService {
	t.Helper()
	s := &issuerService{cmd: exec.Command(lzBin, "serve", "issuer", "--home", home, "--addr", addr), done: make(chan error, 1)}
	pipe, err := s.cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan struct{})
	go func() {
		sc := bufio.NewScanner(pipe)
		once := sync.Once{}
		for sc.Scan() {
			s.mu.Lock()
			s.log.WriteString(sc.Text() + "\n")
			s.mu.Unlock()
			if strings.Contains(sc.Text(), "control socket") {
				once.Do(func() { close(ready) })
			}
		}
		_, _ = io.Copy(io.Discard, pipe)
		s.done <- s.cmd.Wait()
	}()
	t.Cleanup(func() {
		if s.cmd.ProcessState == nil {
			_ = s.cmd.Process.Kill()
		}
	})
	select {
	case <-ready:
	case err := <-s.done:
		t.Fatalf("lz serve issuer exited: %v\n%s", err, s.stderr())
	case <-time.After(90 * time.Second):
		t.Fatalf("lz serve issuer did not start its control socket\n%s", s.stderr())
	}
	return s
}

// running reports whether the service process is still the one that was started.
func (s *issuerService) running() bool {
	select {
	case err := <-s.done:
		s.done <- err
		return false
	default:
		return true
	}
}

func freeLoopbackPort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// TestIssuerWhileServing (issue 11.5): with `lz serve issuer` running as its own process on a
// department home, the clerk's commands, run from this process, work — through the
// service's control socket, since the service holds the home's key store (in process they
// would wait for it and fail): types, offer, list, suspend, resume, revoke, issue, batch,
// rotate.
// The status changes reach the ledger (the citizen's wallet sees them); offers made so are
// redeemed at the running service, which was never restarted. A wrong passphrase is refused
// and counted by the service's key store. After the service is killed (SIGKILL, leaving its
// socket), the same commands run in process with the same output and the same error texts;
// a new service replaces the stale socket, and removes it when it stops.
func TestIssuerWhileServing(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a CometBFT node and lz serve issuer")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	lh, _ := startDemoLedger(t, ctx, demonet.EmbeddedOptions{})
	const pass = "民政局 test passphrase"
	t.Setenv("LZ_ISSUER_PASSPHRASE", pass)
	dir := filepath.Join(t.TempDir(), "issuer")
	addr := freeLoopbackPort(t)
	try := func(f func([]string, io.Writer) error, args ...string) (string, error) {
		var b bytes.Buffer
		start := time.Now()
		err := f(append(args, "--home", dir), &b)
		t.Logf("lz issuer %s: %v", strings.Join(args, " "), time.Since(start).Round(time.Millisecond))
		return b.String(), err
	}
	run := func(f func([]string, io.Writer) error, args ...string) string {
		t.Helper()
		out, err := try(f, args...)
		if err != nil {
			t.Fatalf("%v: %v\n%s", args, err, out)
		}
		return out
	}
	status := func(action string) func([]string, io.Writer) error {
		return func(args []string, w io.Writer) error { return issuerStatus(action, args, w) }
	}
	run(issuerInit, "--id", "civil-affairs", "--ledger-home", lh, "--issuer-url", "http://"+addr)

	wh := filepath.Join(t.TempDir(), "wallet")
	t.Setenv("LZ_PIN", "246810")
	wallet := func(args ...string) string {
		t.Helper()
		var b bytes.Buffer
		if err := runWallet(args, &b); err != nil {
			t.Fatalf("lz wallet %s: %v\n%s", strings.Join(args, " "), err, b.String())
		}
		return b.String()
	}
	wallet("init", "--home", wh)
	W := []string{"--home", wh, "--ledger-home", lh}
	pinRE := regexp.MustCompile(`PIN: (\d{6})`)
	receive := func(offerOut string) string {
		t.Helper()
		m := pinRE.FindStringSubmatch(offerOut)
		lines := strings.Split(strings.TrimSpace(offerOut), "\n")
		uri := lines[len(lines)-1]
		if m == nil || !strings.HasPrefix(uri, "openid-credential-offer://") {
			t.Fatalf("offer output: %s", offerOut)
		}
		return wallet(append([]string{"receive", "--offer", uri, "--tx-code", m[1], "--insecure-http"}, W...)...)
	}
	claims := func(holder, cert string) []string {
		return []string{"--type", "marriage-certificate", "--claim", "holder_name=" + holder, "--claim", "spouse_name=测试用户乙",
			"--claim", "spouse_id_number=TEST2", "--claim", "registration_date=2018-05-20", "--claim", "certificate_number=" + cert,
			"--claim", "registry=示例登记处"}
	}

	svc := startIssuerService(t, dir, addr)
	sock := filepath.Join(dir, home.ControlSocket)
	if fi, err := os.Lstat(sock); err != nil || fi.Mode().Type() != os.ModeSocket || fi.Mode().Perm() != 0o600 {
		t.Fatalf("control socket: %v %v", fi, err)
	}

	// The service holds the key store: every command below succeeds only through the socket.
	if out := run(issuerTypes); !strings.Contains(out, "marriage-certificate") {
		t.Fatal(out)
	}
	qr := filepath.Join(t.TempDir(), "offer.png")
	offer1 := run(issuerOffer, append(claims("测试用户甲", "J-1"), "--qr", qr)...)
	if st, err := os.Stat(qr); err != nil || st.Size() == 0 {
		t.Fatalf("offer QR: %v", err)
	}
	if out := receive(offer1); !strings.Contains(out, "marriage-certificate") {
		t.Fatal(out)
	}
	out := run(issuerList)
	if !strings.Contains(out, "1 of 1") || !strings.Contains(out, "valid") || !strings.Contains(out, "测****") {
		t.Fatal(out)
	}
	rec := strings.Fields(out)[0]
	credID := strings.Fields(wallet(append([]string{"list"}, W...)...))[0]
	offer2 := run(issuerOffer, claims("测试用户丙", "J-2")...) // redeemed at the end

	// Errors come back typed, and print as in process.
	_, errVal := try(issuerOffer, append(claims("测试用户甲", "J-3"), "--claim", "registration_date=2018-13-40")...)
	var ve *issuer.ValidationError
	if !errors.As(errVal, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Field != "registration_date" {
		t.Fatalf("validation error through the socket: %v", errVal)
	}
	_, errRec := try(status("suspend"), "no-such-record")
	if !errors.Is(errRec, issuer.ErrRecordNotFound) {
		t.Fatalf("unknown record through the socket: %v", errRec)
	}

	// Status changes reach the ledger: the wallet reads them there.
	for _, step := range []struct{ action, state string }{{"suspend", "suspended"}, {"resume", "valid"}, {"revoke", "revoked"}} {
		if out := run(status(step.action), rec); !strings.Contains(out, rec+" → "+step.state) || !strings.Contains(out, "ledger block") {
			t.Fatal(out)
		}
		if out := wallet(append([]string{"status", "--id", credID}, W...)...); !strings.Contains(out, step.state) {
			t.Fatalf("after %s the ledger says: %s", step.action, out)
		}
	}
	_, errTrans := try(status("resume"), rec)
	if !errors.Is(errTrans, issuer.ErrBadTransition) {
		t.Fatalf("resume a revoked credential: %v", errTrans)
	}

	// issue to a holder key, and a batch of offers
	_, hk, _ := ed25519.GenerateKey(rand.Reader)
	outDir := t.TempDir()
	run(issuerIssue, append(claims("测试用户丁", "J-4"), "--holder", did.KeyFromEd25519(hk.Public().(ed25519.PublicKey)), "--out", outDir)...)
	if files, _ := filepath.Glob(filepath.Join(outDir, "*.sd-jwt")); len(files) != 1 {
		t.Fatalf("issued: %v", files)
	}
	csvIn := filepath.Join(t.TempDir(), "in.csv")
	os.WriteFile(csvIn, []byte("holder_name,spouse_name,spouse_id_number,registration_date,certificate_number,registry\n"+
		"甲,乙,T1,2018-05-20,J-5,处\n丙,丁,T2,2021-02-29,J-6,处\n"), 0o600)
	_, errBatch := try(issuerBatch, "--type", "marriage-certificate", "--csv", csvIn, "--out", filepath.Join(t.TempDir(), "bad.csv"))
	if errBatch == nil || !strings.Contains(errBatch.Error(), "1 of 2 rows invalid") {
		t.Fatalf("batch with a bad row through the socket: %v", errBatch)
	}
	os.WriteFile(csvIn, []byte("holder_name,spouse_name,spouse_id_number,registration_date,certificate_number,registry\n"+
		"甲,乙,T1,2018-05-20,J-5,处\n丙,丁,T2,2021-02-28,J-6,处\n"), 0o600)
	outCSV := filepath.Join(t.TempDir(), "out.csv")
	if out := run(issuerBatch, "--type", "marriage-certificate", "--csv", csvIn, "--out", outCSV); !strings.Contains(out, "2 offers") {
		t.Fatal(out)
	}
	if b, _ := os.ReadFile(outCSV); !bytes.Contains(b, []byte("openid-credential-offer://")) || !bytes.Contains(b, []byte(strings.ReplaceAll(addr, ":", "%3A"))) {
		t.Fatalf("batch offers: %s", b)
	}

	// A key rotation in the service (it records the key in issuer.json and signs with it).
	if out := run(issuerRotate); !strings.Contains(out, "#key-2") {
		t.Fatal(out)
	}

	// The offer made before all that is still redeemable at the same running service.
	if out := receive(offer2); !strings.Contains(out, "marriage-certificate") {
		t.Fatal(out)
	}
	if !svc.running() {
		t.Fatalf("the service stopped\n%s", svc.stderr())
	}
	listed := run(issuerList)
	if !strings.Contains(listed, "3 of 3") || !strings.Contains(listed, "revoked") {
		t.Fatal(listed)
	}

	// A wrong passphrase: refused by the service's key store, and counted there.
	t.Setenv("LZ_ISSUER_PASSPHRASE", "not the passphrase")
	for range 2 {
		if _, err := try(issuerList); !errors.Is(err, keystore.ErrWrongPIN) {
			t.Fatalf("wrong passphrase: %v", err)
		}
	}
	t.Setenv("LZ_ISSUER_PASSPHRASE", pass)
	if strings.Contains(svc.stderr(), pass) || strings.Contains(svc.stderr(), "测试用户") {
		t.Fatalf("the service logged a passphrase or a name:\n%s", svc.stderr())
	}

	// SIGKILL: the socket stays behind, stale; the commands open the home themselves.
	if err := svc.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-svc.done
	if fi, err := os.Lstat(sock); err != nil || fi.Mode().Type() != os.ModeSocket {
		t.Fatalf("after SIGKILL the socket should be left behind: %v", err)
	}
	ks, err := keystore.Open(filepath.Join(dir, "keystore"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if f, _, _ := ks.Status(); f != 2 {
		t.Fatalf("the key store counted %d failures, want 2", f)
	}
	ks.Close()
	if out := run(issuerList); out != listed {
		t.Fatalf("in process the list reads\n%s\nthrough the service it read\n%s", out, listed)
	}
	if _, err := try(issuerOffer, append(claims("测试用户甲", "J-3"), "--claim", "registration_date=2018-13-40")...); err == nil || err.Error() != errVal.Error() {
		t.Fatalf("validation error in process %q, through the service %q", err, errVal)
	}
	if _, err := try(status("suspend"), "no-such-record"); err == nil || err.Error() != errRec.Error() {
		t.Fatalf("unknown record in process %q, through the service %q", err, errRec)
	}
	if _, err := try(status("resume"), rec); err == nil || err.Error() != errTrans.Error() {
		t.Fatalf("bad transition in process %q, through the service %q", err, errTrans)
	}
	offer3 := run(issuerOffer, claims("测试用户戊", "J-7")...)

	// A new service replaces the stale socket; offers made in process are redeemed there.
	svc = startIssuerService(t, dir, addr)
	if out := run(issuerList); out != listed {
		t.Fatalf("through the new service:\n%s", out)
	}
	if out := receive(offer3); !strings.Contains(out, "marriage-certificate") {
		t.Fatal(out)
	}
	if err := svc.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := <-svc.done; err != nil {
		t.Fatalf("lz serve issuer on SIGTERM: %v\n%s", err, svc.stderr())
	}
	if _, err := os.Lstat(sock); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the control socket outlived its service: %v", err)
	}
}
