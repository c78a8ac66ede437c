package wallet

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"lianzheng/issuer"
	ledgernode "lianzheng/ledger/node"
	"lianzheng/ledgerclient"
)

const receiveChildEnv = "LZ_WALLET_RECEIVE_CHILD"

// receiveKillIterations bounds TestReceiveSurvivesKills in `make test`;
// scripts/soak-receive.sh runs more (LZ_KILL_ITERATIONS).
func receiveKillIterations() int {
	if n, err := strconv.Atoi(os.Getenv("LZ_KILL_ITERATIONS")); err == nil && n > 0 {
		return n
	}
	return 8
}

// TestReceiveChild is the child process of TestReceiveSurvivesKills: it opens the wallet,
// says "ready", and does what a starting wallet does — sweep orphaned keys, resume
// interrupted receives — then receives the offer it was given, if any.
func TestReceiveChild(t *testing.T) {
	home := os.Getenv(receiveChildEnv)
	if home == "" {
		t.Skip("child process of TestReceiveSurvivesKills")
	}
	fail := func(what string, err error) {
		fmt.Println(what+":", err)
		os.Exit(3)
	}
	root, err := ledgerclient.GenesisRootFile(os.Getenv(receiveChildEnv + "_GENESIS"))
	if err != nil {
		fail("genesis", err)
	}
	cl, err := ledgerclient.Dial(os.Getenv(receiveChildEnv+"_NODE"), root, ledgerclient.Config{PollInterval: 50 * time.Millisecond})
	if err != nil {
		fail("ledger", err)
	}
	w, err := Open(home, &Options{Keystore: testKS})
	if err != nil {
		fail("open", err)
	}
	if err := w.Unlock("123456"); err != nil {
		fail("unlock", err)
	}
	w.Ledger = cl
	fmt.Println("ready") // the parent kills at a random point after this line
	ctx := context.Background()
	o := &ReceiveOptions{InsecureHTTP: true}
	if _, err := w.SweepOrphanKeys(); err != nil {
		fail("sweep", err)
	}
	if _, err := w.ResumePending(ctx, o); err != nil {
		fail("resume", err)
	}
	if offer := os.Getenv(receiveChildEnv + "_OFFER"); offer != "" {
		if _, err := w.Receive(ctx, offer, os.Getenv(receiveChildEnv+"_PIN"), o); err != nil {
			fail("receive", err)
		}
	}
	os.Exit(0)
}

// runReceiveChild runs TestReceiveChild and SIGKILLs it `after` it said ready (0: lets it
// finish). It returns how long the child ran after "ready".
func runReceiveChild(t *testing.T, e *env, home, offer, pin string, after time.Duration) time.Duration {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^TestReceiveChild$", "-test.count=1")
	cmd.Env = append(os.Environ(), receiveChildEnv+"="+home, receiveChildEnv+"_OFFER="+offer, receiveChildEnv+"_PIN="+pin,
		receiveChildEnv+"_NODE="+e.node.RPCAddress(), receiveChildEnv+"_GENESIS="+ledgernode.GenesisFile(e.home))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	ready := make(chan time.Time, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if sc.Text() == "ready" {
				ready <- time.Now()
				break
			}
			t.Logf("child: %s", sc.Text())
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	done := make(chan struct{})
	go func() { _ = cmd.Wait(); close(done) }()
	var start time.Time
	select {
	case start = <-ready:
	case <-done:
		t.Fatal("the child exited before it was ready")
	case <-time.After(time.Minute):
		_ = cmd.Process.Kill()
		t.Fatal("the child did not get ready")
	}
	if after > 0 {
		select {
		case <-done:
		case <-time.After(after):
			_ = cmd.Process.Kill()
			<-done
		}
	} else {
		<-done
	}
	return time.Since(start)
}

// TestReceiveSurvivesKills: `lz wallet receive` killed (SIGKILL) at random points against
// the real department service, repeatedly, and half the time the next start killed too.
// After the next start that is not killed, every offer is either received or cleanly not
// redeemed (and then received with the same offer): zero credentials lost (every credential
// the department issued is in the wallet, bound to its key), zero orphaned keys, nothing
// left pending (issue 16.3).
func TestReceiveSurvivesKills(t *testing.T) {
	if testing.Short() {
		t.Skip("kills child processes")
	}
	e := ledgerEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	ri := newRealIssuer(t, e)
	home := t.TempDir()
	w, err := Init(home, "123456", &Options{Keystore: testKS})
	if err != nil {
		t.Fatal(err)
	}
	w.Close()
	// one receive uninterrupted: how long the window to kill in is
	o := ri.offer(t)
	cost := runReceiveChild(t, e, home, ri.offerURI(o), o.PIN, 0)
	stats := map[string]int{}
	for i := range receiveKillIterations() {
		o := ri.offer(t)
		after := time.Duration(rand.Int64N(int64(cost))) + time.Millisecond
		runReceiveChild(t, e, home, ri.offerURI(o), o.PIN, after)
		if rand.IntN(2) == 0 { // the next start (sweep, resume) is killed too
			runReceiveChild(t, e, home, "", "", time.Duration(rand.Int64N(int64(cost)))+time.Millisecond)
		}
		st, _, _ := ri.d.OfferState(ctx, o.ID)
		stats[st]++
		w, err := Open(home, &Options{Keystore: testKS})
		if err != nil {
			t.Fatal(err)
		}
		if err := w.Unlock("123456"); err != nil {
			t.Fatal(err)
		}
		w.Ledger = e.cl
		if _, err := w.SweepOrphanKeys(); err != nil {
			t.Fatal(err)
		}
		rep, err := w.ResumePending(ctx, &ReceiveOptions{})
		if err != nil || len(rep.Waiting)+len(rep.Abandoned) != 0 {
			t.Fatalf("iteration %d (killed after %v, offer %s): resume: %v %+v", i, after, st, err, rep)
		}
		stats["completed by the next start"] += len(rep.Received)
		switch st, _, _ := ri.d.OfferState(ctx, o.ID); st {
		case issuer.OfferIssued:
		case issuer.OfferPending: // cleanly abandoned before the offer was redeemed: retry it
			if _, err := w.Receive(ctx, ri.offerURI(o), o.PIN, &ReceiveOptions{InsecureHTTP: true}); err != nil {
				t.Fatalf("iteration %d: the same offer again: %v", i, err)
			}
		default:
			t.Fatalf("iteration %d (killed after %v): offer %s after resuming", i, after, st)
		}
		checkNoLossNoOrphan(t, w, ri)
		w.Close()
	}
	t.Logf("%d kills within %v of a receive; offer state right after the kill(s): %v", receiveKillIterations(), cost, stats)
}
