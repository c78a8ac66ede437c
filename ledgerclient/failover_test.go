package ledgerclient

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/cometbft/cometbft/types"
)

// stubRPC answers Status with its height, or fails every call with err.
type stubRPC struct {
	height int64
	err    error
	calls  int
}

func (s *stubRPC) Status(context.Context) (*NodeStatus, error) {
	s.calls++
	if s.err != nil {
		return nil, s.err
	}
	return &NodeStatus{Network: "c", LatestBlockHeight: s.height}, nil
}
func (s *stubRPC) ABCIQuery(context.Context, string, []byte, int64, bool) (*QueryResult, error) {
	return nil, s.err
}
func (s *stubRPC) BroadcastTxSync(context.Context, []byte) (*BroadcastResult, error) {
	s.calls++
	return nil, s.err
}
func (s *stubRPC) Tx(context.Context, []byte, bool) (*TxLookup, error)        { return nil, s.err }
func (s *stubRPC) Commit(context.Context, int64) (*types.SignedHeader, error) { return nil, s.err }
func (s *stubRPC) Validators(context.Context, int64, int, int) (*ValidatorPage, error) {
	return nil, s.err
}
func (s *stubRPC) BlockResults(context.Context, int64) (*BlockResults, error) { return nil, s.err }

func TestFailover(t *testing.T) {
	down := fmt.Errorf("%w: connection refused", ErrRPC)
	for _, c := range []struct {
		name      string
		nodes     []*stubRPC
		want      int64 // the height answered, 0 for an error
		wantErr   error
		wantCalls []int
	}{
		{"first answers", []*stubRPC{{height: 1}, {height: 2}}, 1, nil, []int{1, 0}},
		{"first down", []*stubRPC{{err: down}, {height: 2}}, 2, nil, []int{1, 1}},
		{"all down", []*stubRPC{{err: down}, {err: down}}, 0, ErrRPC, []int{1, 1}},
		{"not a node failure", []*stubRPC{{err: errors.New("bug")}, {height: 2}}, 0, nil, []int{1, 0}},
		{"cancelled", []*stubRPC{{err: context.Canceled}, {height: 2}}, 0, context.Canceled, []int{1, 0}},
	} {
		t.Run(c.name, func(t *testing.T) {
			rpcs := make([]RPC, len(c.nodes))
			for i, n := range c.nodes {
				rpcs[i] = n
			}
			st, err := Failover(rpcs...).Status(context.Background())
			switch {
			case c.want != 0 && (err != nil || st.LatestBlockHeight != c.want):
				t.Fatalf("Status = %+v, %v; want height %d", st, err, c.want)
			case c.want == 0 && err == nil:
				t.Fatalf("Status = %+v; want an error", st)
			case c.wantErr != nil && !errors.Is(err, c.wantErr):
				t.Fatalf("err = %v; want %v", err, c.wantErr)
			}
			for i, n := range c.nodes {
				if n.calls != c.wantCalls[i] {
					t.Errorf("node %d asked %d times, want %d", i, n.calls, c.wantCalls[i])
				}
			}
		})
	}

	// The node that answered is asked first next time; a mempool duplicate is not retried
	// elsewhere.
	a, b := &stubRPC{err: down}, &stubRPC{height: 2}
	f := Failover(a, b)
	for range 3 {
		if _, err := f.Status(context.Background()); err != nil {
			t.Fatal(err)
		}
	}
	if a.calls != 1 || b.calls != 3 {
		t.Errorf("calls %d, %d; want the down node asked once", a.calls, b.calls)
	}
	b.err = ErrTxInCache
	if _, err := f.BroadcastTxSync(context.Background(), []byte("tx")); !errors.Is(err, ErrTxInCache) || a.calls != 1 {
		t.Errorf("broadcast: %v, down node asked %d times", err, a.calls)
	}
}
