package node

import (
	"context"
	"github.com/cometbft/cometbft/libs/log"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	dbm "github.com/cometbft/cometbft-db"
	"github.com/cometbft/cometbft/abci/example/kvstore"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"

	"lianzheng/ledger"
)

// initTestHome makes a one-validator home whose genesis has a single member.
func initTestHome(t *testing.T, dir string) *HomeInfo {
	t.Helper()
	info, err := InitHome(dir, HomeOptions{Moniker: "t", Timing: TimingEmbedded, EmptyBlocksInterval: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	st := &ledger.GenesisState{
		Params:  ledger.Params{Approvals: 1},
		Members: []ledger.Member{{ID: "m", DID: "did:lz:m", Validator: info.ValidatorKeyBase64(), Power: 10}},
	}
	doc, err := NewGenesis("lz-node-test", time.Now(), st)
	if err != nil {
		t.Fatal(err)
	}
	if err := WriteGenesis(dir, doc); err != nil {
		t.Fatal(err)
	}
	return info
}

func TestNodeHomeFiles(t *testing.T) {
	dir := t.TempDir()
	info := initTestHome(t, dir)
	for _, f := range []string{"config/config.toml", "config/genesis.json", "config/node_key.json", "config/priv_validator_key.json", "data/priv_validator_state.json"} {
		if _, err := os.Stat(filepath.Join(dir, f)); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []string{"config/node_key.json", "config/priv_validator_key.json"} {
		fi, _ := os.Stat(filepath.Join(dir, f))
		if fi.Mode().Perm() != 0o600 {
			t.Errorf("%s mode %v", f, fi.Mode())
		}
	}
	c, err := LoadConfig(dir)
	if err != nil {
		t.Fatal(err)
	}
	if c.Consensus.TimeoutCommit != 100*time.Millisecond || c.Consensus.CreateEmptyBlocksInterval != 200*time.Millisecond {
		t.Errorf("timeouts not read back: %v %v", c.Consensus.TimeoutCommit, c.Consensus.CreateEmptyBlocksInterval)
	}
	if c.RPC.ListenAddress != "tcp://"+info.RPCAddress || c.P2P.ListenAddress != "tcp://"+info.P2PAddress {
		t.Errorf("addresses: %s %s vs %+v", c.RPC.ListenAddress, c.P2P.ListenAddress, info)
	}
	// InitHome again keeps the keys.
	again, err := InitHome(dir, HomeOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if again.NodeID != info.NodeID || again.ValidatorKeyBase64() != info.ValidatorKeyBase64() {
		t.Error("InitHome replaced existing keys")
	}
	if again.P2PAddress != info.P2PAddress || again.RPCAddress != info.RPCAddress {
		t.Errorf("InitHome moved the ports: %+v vs %+v", again, info)
	}
	_, st, err := ReadGenesis(dir)
	if err != nil || len(st.Members) != 1 || st.Members[0].Validator != info.ValidatorKeyBase64() {
		t.Fatalf("genesis read back: %v %+v", err, st)
	}
	if !strings.HasPrefix(info.PeerAddress("127.0.0.1"), info.NodeID+"@127.0.0.1:") {
		t.Error(info.PeerAddress("127.0.0.1"))
	}
}

// TestNodeStartStop runs CometBFT over the example kvstore app (the runner does not depend
// on our state machine), commits a transaction through RPC and stops cleanly, twice on the
// same home (restart replays nothing and keeps the height).
func TestNodeStartStop(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a node")
	}
	dir := t.TempDir()
	initTestHome(t, dir)
	var last int64
	for round := 0; round < 2; round++ {
		db, err := dbm.NewGoLevelDB("kv", filepath.Join(dir, "data"))
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		rec := &recordingLogger{}
		n, err := StartNode(ctx, dir, kvstore.NewApplication(db), rec)
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		if !strings.HasPrefix(n.RPCAddress(), "http://127.0.0.1:") {
			t.Error(n.RPCAddress())
		}
		if err := n.WaitForHeight(ctx, last+2); err != nil {
			t.Fatal(err)
		}
		hc := &http.Client{Transport: &http.Transport{}}
		c, err := rpchttp.NewWithClient(n.RPCAddress(), "/websocket", hc)
		if err != nil {
			t.Fatal(err)
		}
		res, err := c.BroadcastTxCommit(ctx, []byte("k"+string(rune('0'+round))+"=v"))
		if err != nil || res.TxResult.Code != 0 || res.CheckTx.Code != 0 {
			t.Fatalf("commit: %v %+v", err, res)
		}
		q, err := c.ABCIQuery(ctx, "", []byte("k"+string(rune('0'+round))))
		if err != nil || string(q.Response.Value) != "v" {
			t.Fatalf("query: %v %+v", err, q)
		}
		last = n.Height()
		hc.CloseIdleConnections()
		before := rec.errorCount()
		if err := n.Stop(); err != nil {
			t.Fatal(err)
		}
		// A clean stop logs no errors (CometBFT's closed-listener lines are debug then).
		if got := rec.errorCount(); got != before {
			t.Errorf("round %d: %d error lines logged while stopping: %q", round, got-before, rec.errorLines()[before:])
		}
		if err := n.Stop(); err != nil { // idempotent
			t.Fatal(err)
		}
		cancel()
		db.Close()
	}
	// The node's goroutines are gone, except CometBFT's own leak: the consensus WAL closes
	// its head file without stopping the autofile's two goroutines (libs/autofile: Group.Close
	// calls closeFile, not Close), two idle goroutines per start.
	deadline := time.Now().Add(5 * time.Second)
	for {
		leaked := leakedGoroutines()
		if len(leaked) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines left after Stop:\n%s", strings.Join(leaked, "\n\n"))
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// leakedGoroutines returns the stacks of goroutines running CometBFT or net/http server
// code, other than the known autofile ones.
func leakedGoroutines() []string {
	buf := make([]byte, 4<<20)
	buf = buf[:runtime.Stack(buf, true)]
	var out []string
	for _, g := range strings.Split(string(buf), "\n\n") {
		switch {
		case strings.Contains(g, "libs/autofile.OpenAutoFile"), strings.Contains(g, "os/signal.loop"):
		case strings.Contains(g, "cometbft"), strings.Contains(g, "net/http.(*conn).serve"), strings.Contains(g, "goleveldb"):
			out = append(out, g)
		}
	}
	return out
}

// recordingLogger keeps the error lines a node logs.
type recordingLogger struct {
	mu   sync.Mutex
	errs []string
}

func (r *recordingLogger) Debug(string, ...any) {}
func (r *recordingLogger) Info(string, ...any)  {}
func (r *recordingLogger) Error(msg string, _ ...any) {
	r.mu.Lock()
	r.errs = append(r.errs, msg)
	r.mu.Unlock()
}
func (r *recordingLogger) With(...any) log.Logger { return r }
func (r *recordingLogger) errorCount() int        { return len(r.errorLines()) }
func (r *recordingLogger) errorLines() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.errs)
}

func TestStopAwareLogger(t *testing.T) {
	rec := &recordingLogger{}
	l := newStopAwareLogger(rec)
	child := l.With("module", "p2p")
	child.Error("before")
	l.stopping.Store(true)
	child.Error("while stopping")
	l.Error("while stopping")
	if got := rec.errorLines(); len(got) != 1 || got[0] != "before" {
		t.Fatalf("errors passed: %q", got)
	}
}
