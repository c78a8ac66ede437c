package wallet

import (
	"context"
	"sync"
	"testing"
	"time"

	ledgernode "lianzheng/ledger/node"
	"lianzheng/ledgerclient"
)

// countingRPC counts the node's status calls and records the heights of its queries.
type countingRPC struct {
	ledgerclient.RPC
	mu      sync.Mutex
	status  int
	heights map[int64]int
}

func (c *countingRPC) Status(ctx context.Context) (*ledgerclient.NodeStatus, error) {
	c.mu.Lock()
	c.status++
	c.mu.Unlock()
	return c.RPC.Status(ctx)
}

func (c *countingRPC) ABCIQuery(ctx context.Context, path string, data []byte, height int64, prove bool) (*ledgerclient.QueryResult, error) {
	c.mu.Lock()
	c.heights[height]++
	c.mu.Unlock()
	return c.RPC.ABCIQuery(ctx, path, data, height, prove)
}

func (c *countingRPC) reset() {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.status, c.heights = 0, map[int64]int{}
}

// TestPlanReadsOneHeight: a plan reads the window, its department and the catalogue types
// (and the listing its candidates' status lists) from one verified state, not each from
// whatever block the node is at when it is asked — one status call for the plan and one for
// the listing, besides the request key's resolution, however many things are read (before:
// a status call, and a header verification whenever a block had passed, at every read).
func TestPlanReadsOneHeight(t *testing.T) {
	e := ledgerEnv(t)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	h, err := ledgerclient.NewHTTPRPC(e.node.RPCAddress(), ledgerclient.HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	rpc := &countingRPC{RPC: h, heights: map[int64]int{}}
	root, err := ledgerclient.GenesisRootFile(ledgernode.GenesisFile(e.home))
	if err != nil {
		t.Fatal(err)
	}
	cl, err := ledgerclient.New(rpc, root, ledgerclient.Config{PollInterval: 50 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	w := newTestWallet(t, cl)
	text, _ := windowRequest(t, e, nil)
	if _, err := w.PlanRequest(ctx, text); err != nil { // warm: the client verifies its headers
		t.Fatal(err)
	}
	rpc.reset()
	plan, err := w.PlanRequest(ctx, text)
	if err != nil {
		t.Fatal(err)
	}
	if len(plan.Asks) != 2 {
		t.Fatalf("plan: %+v", plan)
	}
	queries := 0
	for _, n := range rpc.heights {
		queries += n
	}
	// the request key's resolution (before the window's region is known), the plan, the listing
	if rpc.status > 3 || queries < 4 {
		t.Errorf("a plan made %d status calls for %d queries at heights %v; want at most 3", rpc.status, queries, rpc.heights)
	}
	t.Logf("%d status calls, %d queries at heights %v", rpc.status, queries, rpc.heights)
}
