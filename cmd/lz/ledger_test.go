package main

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	rpchttp "github.com/cometbft/cometbft/rpc/client/http"

	"lianzheng/home/demonet"
	"lianzheng/internal/rig/testnet"
	"lianzheng/ledger"
	ledgernode "lianzheng/ledger/node"
)

// lzBin is the lz binary built by TestMain with CGO_ENABLED=0 (empty under -short).
var lzBin string

func TestMain(m *testing.M) {
	flag.Parse()
	code := func() int {
		if !testing.Short() {
			dir, err := os.MkdirTemp("", "lz-bin-")
			if err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
			defer os.RemoveAll(dir)
			lzBin = filepath.Join(dir, "lz")
			if err := buildLZ(lzBin); err != nil {
				fmt.Fprintln(os.Stderr, err)
				return 1
			}
		}
		return m.Run()
	}()
	os.Exit(code)
}

// buildLZ builds this command without cgo, as it ships, with the toolchain running the test.
func buildLZ(out string) error {
	goCmd := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := os.Stat(goCmd); err != nil {
		goCmd = "go"
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, goCmd, "build", "-o", out, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("build lz with CGO_ENABLED=0: %v\n%s", err, b)
	}
	return nil
}

func runLZ(t *testing.T, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var out, errb bytes.Buffer
	cmd := exec.CommandContext(ctx, lzBin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		t.Fatalf("lz %s: %v\n%s%s", strings.Join(args, " "), err, out.String(), errb.String())
	}
	return out.String()
}

// proc is one `lz ledger start` subprocess in its own process group.
type proc struct {
	t    *testing.T
	name string
	cmd  *exec.Cmd
	done chan error
	log  *os.File
}

func startNode(t *testing.T, home, logPath string) *proc {
	t.Helper()
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(lzBin, "ledger", "start", "--home", home)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		f.Close()
		t.Fatal(err)
	}
	p := &proc{t: t, name: filepath.Base(home), cmd: cmd, done: make(chan error, 1), log: f}
	go func() { p.done <- cmd.Wait() }()
	t.Cleanup(func() { p.kill() })
	return p
}

// kill SIGKILLs the process group and reaps it (idempotent).
func (p *proc) kill() {
	if p.cmd == nil {
		return
	}
	_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
	select {
	case <-p.done:
	case <-time.After(10 * time.Second):
		p.t.Errorf("%s did not die", p.name)
	}
	p.cmd = nil
	p.log.Close()
}

// interrupt sends SIGINT and expects a clean exit.
func (p *proc) interrupt() error {
	if err := p.cmd.Process.Signal(os.Interrupt); err != nil {
		return err
	}
	select {
	case err := <-p.done:
		p.cmd = nil
		p.log.Close()
		return err
	case <-time.After(30 * time.Second):
		return errors.New(p.name + " did not stop within 30 s of SIGINT")
	}
}

func heights(ctx context.Context, cls []*rpchttp.HTTP) []int64 {
	out := make([]int64, len(cls))
	for i, c := range cls {
		out[i] = -1
		if c == nil {
			continue
		}
		if st, err := c.Status(ctx); err == nil {
			out[i] = st.SyncInfo.LatestBlockHeight
		}
	}
	return out
}

// waitAll waits until every listed node has committed block h.
func waitAll(t *testing.T, cls []*rpchttp.HTTP, idx []int, h int64, within time.Duration) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), within)
	defer cancel()
	for _, i := range idx {
		if err := testnet.WaitForHeight(ctx, cls[i], h); err != nil {
			t.Fatalf("node%d: %v (heights %v)", i, err, heights(context.Background(), cls))
		}
	}
}

func maxHeight(hs []int64) int64 {
	m := int64(0)
	for _, h := range hs {
		m = max(m, h)
	}
	return m
}

var statusRE = regexp.MustCompile(`^\{"height": (\d+), "app_hash": "([0-9A-F]{64})"\}\n$`)

// TestTestnetFaultTolerance runs a 4-validator consortium on loopback as real `lz` processes:
// all commit (and a signed transaction goes through); with one validator killed the other
// three keep committing; with two killed the chain halts without forking; restarted, all four
// resume and agree on every header; SIGINT stops each cleanly.
func TestTestnetFaultTolerance(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a 4-validator testnet")
	}
	dir := t.TempDir()
	out := runLZ(t, "ledger", "testnet", "init", "--validators", "4", "--dir", dir)
	if !strings.Contains(out, "node3") {
		t.Fatal(out)
	}
	tn, err := testnet.Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	_, st, err := ledgernode.ReadGenesis(tn.Nodes[0].Home)
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range st.Members { // four department validators; realestate is a plain member
		if (m.Validator != "") == (m.ID == "realestate") {
			t.Fatalf("member %s validator %q", m.ID, m.Validator)
		}
	}
	procs := make([]*proc, 4)
	cls := make([]*rpchttp.HTTP, 4)
	for i, n := range tn.Nodes {
		procs[i] = startNode(t, n.Home, filepath.Join(dir, n.Name+".log"))
		if cls[i], err = rpchttp.New("http://"+n.RPC, "/websocket"); err != nil {
			t.Fatal(err)
		}
	}
	t.Cleanup(func() {
		if t.Failed() {
			for _, n := range tn.Nodes {
				b, _ := os.ReadFile(filepath.Join(dir, n.Name+".log"))
				if len(b) > 3000 {
					b = b[len(b)-3000:]
				}
				t.Logf("%s log tail:\n%s", n.Name, b)
			}
		}
	})
	all := []int{0, 1, 2, 3}
	waitAll(t, cls, all, 3, 60*time.Second)

	// A signed transaction through node0, confirmed by hash on node3.
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Second)
	defer cancel()
	key, err := demonet.LoadKey(demonet.KeyDir(dir), "civil-affairs")
	if err != nil {
		t.Fatal(err)
	}
	tx, _ := testnet.NewTx(tn.ChainID, key, ledger.TxStatusSet, ledger.StatusSet{List: 0, Updates: []ledger.StatusUpdate{{Index: 7, Value: ledger.StatusSuspended}}})
	res, err := testnet.Submit(ctx, cls[0], tx, testnet.SubmitOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := testnet.QueryProved(ctx, cls[3], tn.ChainID, ledger.KeyStatusChunk("civil-affairs", 0, 0), res.Height); err != nil {
		t.Fatal(err)
	}

	// One of four down: the remaining three keep committing.
	procs[3].kill()
	cls3 := cls[3]
	cls[3] = nil
	h0 := maxHeight(heights(ctx, cls))
	waitAll(t, cls, []int{0, 1, 2}, h0+3, 40*time.Second)
	t.Logf("node3 down: %v -> %v", h0, heights(ctx, cls))

	// Two of four down: no quorum (20 of 40 votes < 2/3), the height stops; no fork.
	procs[2].kill()
	cls2 := cls[2]
	cls[2] = nil
	time.Sleep(2 * time.Second) // a block already precommitted by node2 may still land
	halted := heights(ctx, cls)
	time.Sleep(6 * time.Second)
	after := heights(ctx, cls)
	if after[0] != halted[0] || after[1] != halted[1] || after[0] < 0 {
		t.Fatalf("two of four down, yet heights moved: %v -> %v", halted, after)
	}
	t.Logf("node2, node3 down: halted at %v", after)

	// Both back: all four resume and agree.
	procs[2] = startNode(t, tn.Nodes[2].Home, filepath.Join(dir, "node2.log"))
	procs[3] = startNode(t, tn.Nodes[3].Home, filepath.Join(dir, "node3.log"))
	cls[2], cls[3] = cls2, cls3
	target := maxHeight(after) + 3
	waitAll(t, cls, all, target, 90*time.Second)
	t.Logf("all back: %v", heights(ctx, cls))
	for h := int64(1); h <= target; h++ {
		var ref []byte
		for i, c := range cls {
			hd, err := c.Header(ctx, &h)
			if err != nil {
				t.Fatalf("node%d header %d: %v", i, h, err)
			}
			b := hd.Header.Hash()
			if i == 0 {
				ref = b
			} else if !bytes.Equal(b, ref) {
				t.Fatalf("fork: node%d header %d is %X, node0 has %X", i, h, b, ref)
			}
		}
	}
	// `lz ledger status` on each node: exact format; the app hash after block N is the AppHash
	// of header N+1, the same on every node.
	for i, n := range tn.Nodes {
		args := []string{"ledger", "status", "--node", n.RPC}
		if i%2 == 1 {
			args = []string{"ledger", "status", "--home", n.Home}
		}
		out := runLZ(t, args...)
		m := statusRE.FindStringSubmatch(out)
		if m == nil {
			t.Fatalf("lz ledger status printed %q", out)
		}
		var s struct {
			Height  int64  `json:"height"`
			AppHash string `json:"app_hash"`
		}
		if err := json.Unmarshal([]byte(out), &s); err != nil {
			t.Fatal(err)
		}
		next := s.Height + 1
		if err := testnet.WaitForHeight(ctx, cls[0], next); err != nil {
			t.Fatal(err)
		}
		hd, err := cls[0].Header(ctx, &next)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.ToUpper(hex.EncodeToString(hd.Header.AppHash)); got != s.AppHash {
			t.Fatalf("node%d status %s, header %d app hash %s", i, out, next, got)
		}
	}
	// SIGINT: each node stops cleanly.
	for i, p := range procs {
		if err := p.interrupt(); err != nil {
			t.Errorf("node%d: %v", i, err)
		}
	}
}

// TestLedgerInitDemo covers `lz ledger init --demo`, start, status and SIGINT on one node.
func TestLedgerInitDemo(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a node")
	}
	home := filepath.Join(t.TempDir(), "demo")
	out := runLZ(t, "ledger", "init", "--home", home, "--demo")
	if !strings.Contains(out, "lianzheng-demo") {
		t.Fatal(out)
	}
	for _, id := range []string{"public-security", "civil-affairs", "market-regulation", "vehicle-admin", "realestate", "realestate-window-01"} {
		if _, err := demonet.LoadKey(demonet.KeyDir(home), id); err != nil {
			t.Fatal(err)
		}
	}
	if err := exec.Command(lzBin, "ledger", "init", "--home", home, "--demo").Run(); err == nil {
		t.Fatal("init --demo twice succeeded")
	}
	p := startNode(t, home, filepath.Join(t.TempDir(), "node.log"))
	c, err := ledgernode.LoadConfig(home)
	if err != nil {
		t.Fatal(err)
	}
	cl, _ := rpchttp.New(ledgernode.RPCURL(c.RPC.ListenAddress), "/websocket")
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := testnet.WaitForHeight(ctx, cl, 2); err != nil {
		t.Fatal(err)
	}
	if out := runLZ(t, "ledger", "status", "--home", home); !statusRE.MatchString(out) {
		t.Fatalf("status %q", out)
	}
	if err := p.interrupt(); err != nil {
		t.Fatal(err)
	}

	// A consortium genesis from an app_state, installed into a member's fresh home.
	doc, _, err := ledgernode.ReadGenesis(home)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	state := filepath.Join(dir, "app_state.json")
	if err := os.WriteFile(state, doc.AppState, 0o600); err != nil {
		t.Fatal(err)
	}
	gen := filepath.Join(dir, "genesis.json")
	runLZ(t, "ledger", "genesis", "--chain-id", "lz-prod-test", "--state", state, "--out", gen)
	out = runLZ(t, "ledger", "init", "--home", filepath.Join(dir, "member"), "--genesis", gen, "--chain-id", "lz-prod-test")
	var info struct {
		NodeID    string `json:"node_id"`
		Validator string `json:"validator"`
	}
	if err := json.Unmarshal([]byte(out), &info); err != nil || len(info.NodeID) != 40 {
		t.Fatalf("init printed %q: %v", out, err)
	}
	got, _, err := ledgernode.ReadGenesis(filepath.Join(dir, "member"))
	if err != nil || got.ChainID != "lz-prod-test" || len(got.Validators) != 1 {
		t.Fatalf("installed genesis: %v %+v", err, got)
	}
	if err := exec.Command(lzBin, "ledger", "init", "--home", filepath.Join(dir, "x"), "--genesis", gen, "--chain-id", "other").Run(); err == nil {
		t.Fatal("installed a genesis of another chain")
	}
}
