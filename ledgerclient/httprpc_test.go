package ledgerclient

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	cmtbytes "github.com/cometbft/cometbft/libs/bytes"
	"github.com/cometbft/cometbft/libs/log"
	"github.com/cometbft/cometbft/p2p"
	coretypes "github.com/cometbft/cometbft/rpc/core/types"
	rpcserver "github.com/cometbft/cometbft/rpc/jsonrpc/server"
	rpctypes "github.com/cometbft/cometbft/rpc/jsonrpc/types"
	"github.com/cometbft/cometbft/types"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"

	"lianzheng/ledger"
)

// cometServer serves the fake chain through CometBFT v0.38's own JSON-RPC server code and
// result types, with the argument lists of rpc/core/routes.go: what HTTPRPC sends is
// decoded, and what it reads is encoded, exactly as by a real node.
func cometServer(t testing.TB, fc *fakeChain) *httptest.Server {
	ctx := context.Background()
	funcs := map[string]*rpcserver.RPCFunc{
		"status": rpcserver.NewRPCFunc(func(*rpctypes.Context) (*coretypes.ResultStatus, error) {
			st, err := fc.Status(ctx)
			if err != nil {
				return nil, err
			}
			return &coretypes.ResultStatus{NodeInfo: p2p.DefaultNodeInfo{Network: fc.chainID},
				SyncInfo: coretypes.SyncInfo{LatestBlockHeight: st.LatestBlockHeight}}, nil
		}, ""),
		"abci_query": rpcserver.NewRPCFunc(func(_ *rpctypes.Context, path string, data cmtbytes.HexBytes, height int64, prove bool) (*coretypes.ResultABCIQuery, error) {
			r, err := fc.ABCIQuery(ctx, path, data, height, prove)
			if err != nil {
				return nil, err
			}
			resp := abci.ResponseQuery{Code: r.Code, Codespace: r.Codespace, Log: r.Log, Key: r.Key, Value: r.Value, Height: r.Height}
			if r.ProofOps != nil {
				resp.ProofOps = &cmtcrypto.ProofOps{}
				for _, op := range r.ProofOps {
					resp.ProofOps.Ops = append(resp.ProofOps.Ops, cmtcrypto.ProofOp{Type: op.Type, Key: op.Key, Data: op.Data})
				}
			}
			return &coretypes.ResultABCIQuery{Response: resp}, nil
		}, "path,data,height,prove"),
		"broadcast_tx_sync": rpcserver.NewRPCFunc(func(_ *rpctypes.Context, tx types.Tx) (*coretypes.ResultBroadcastTx, error) {
			fc.mu.Lock()
			_, seen := fc.txAt[ledger.TxHash(tx)]
			fc.mu.Unlock()
			if seen {
				return nil, errors.New("tx already exists in cache") // as CometBFT's mempool
			}
			r, err := fc.BroadcastTxSync(ctx, tx)
			if err != nil {
				return nil, err
			}
			return &coretypes.ResultBroadcastTx{Code: r.Code, Codespace: r.Codespace, Log: r.Log, Hash: r.Hash}, nil
		}, "tx"),
		"tx": rpcserver.NewRPCFunc(func(_ *rpctypes.Context, hash []byte, prove bool) (*coretypes.ResultTx, error) {
			r, err := fc.Tx(ctx, hash, prove)
			if err != nil {
				return nil, err
			}
			fc.mu.Lock()
			res := *fc.results[r.Height][r.Index]
			fc.mu.Unlock()
			return &coretypes.ResultTx{Hash: r.Hash, Height: r.Height, Index: r.Index, TxResult: res, Tx: r.Tx, Proof: r.Proof}, nil
		}, "hash,prove"),
		"commit": rpcserver.NewRPCFunc(func(_ *rpctypes.Context, height *int64) (*coretypes.ResultCommit, error) {
			sh, err := fc.Commit(ctx, *height)
			if err != nil {
				return nil, err
			}
			return coretypes.NewResultCommit(sh.Header, sh.Commit, true), nil
		}, "height"),
		"validators": rpcserver.NewRPCFunc(func(_ *rpctypes.Context, height *int64, page, perPage *int) (*coretypes.ResultValidators, error) {
			r, err := fc.Validators(ctx, *height, *page, *perPage)
			if err != nil {
				return nil, err
			}
			return &coretypes.ResultValidators{BlockHeight: *height, Validators: r.Validators, Count: len(r.Validators), Total: r.Total}, nil
		}, "height,page,per_page"),
		"block_results": rpcserver.NewRPCFunc(func(_ *rpctypes.Context, height *int64) (*coretypes.ResultBlockResults, error) {
			r, err := fc.BlockResults(ctx, *height)
			if err != nil {
				return nil, err
			}
			return &coretypes.ResultBlockResults{Height: r.Height, TxsResults: r.TxsResults}, nil
		}, "height"),
	}
	mux := http.NewServeMux()
	rpcserver.RegisterRPCFuncs(mux, funcs, log.NewNopLogger())
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// Every call's result over HTTP equals the fake chain's own answer.
func TestHTTPRPCMatchesSource(t *testing.T) {
	st := newTestState(t, 3)
	fc, direct := newTestClient(t, 4, st)
	if _, err := direct.StatusSet(bg, signer(st, deptID(0)), 0, ledger.StatusUpdate{Index: 3, Value: ledger.StatusRevoked}); err != nil {
		t.Fatal(err)
	}
	fc.autoMine = false
	srv := cometServer(t, fc)
	h, err := NewHTTPRPC(srv.URL, HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}

	s, err := h.Status(bg)
	if err != nil || s.Network != fc.chainID || s.LatestBlockHeight != fc.height {
		t.Fatalf("status %+v %v", s, err)
	}
	key := ledger.KeyMember(deptID(1))
	for _, prove := range []bool{false, true} {
		got, err := h.ABCIQuery(bg, ledger.QueryKey, key, 2, prove)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := fc.ABCIQuery(bg, ledger.QueryKey, key, 2, prove)
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("abci_query prove=%v:\n got %+v\nwant %+v", prove, got, want)
		}
	}
	for hgt := int64(1); hgt <= fc.height; hgt++ {
		got, err := h.Commit(bg, hgt)
		if err != nil {
			t.Fatal(err)
		}
		want, _ := fc.Commit(bg, hgt)
		gp, _ := got.ToProto().Marshal()
		wp, _ := want.ToProto().Marshal()
		if !bytes.Equal(gp, wp) || !bytes.Equal(got.Hash(), want.Hash()) {
			t.Fatalf("commit %d differs", hgt)
		}
		gv, err := h.Validators(bg, hgt, 1, 3)
		if err != nil {
			t.Fatal(err)
		}
		wv, _ := fc.Validators(bg, hgt, 1, 3)
		if !reflect.DeepEqual(gv, wv) {
			t.Fatalf("validators %d:\n got %+v\nwant %+v", hgt, gv, wv)
		}
		gr, err := h.BlockResults(bg, hgt)
		if err != nil {
			t.Fatal(err)
		}
		wr, _ := fc.BlockResults(bg, hgt)
		if gr.Height != wr.Height || !bytes.Equal(types.NewResults(gr.TxsResults).Hash(), types.NewResults(wr.TxsResults).Hash()) || len(gr.TxsResults) != len(wr.TxsResults) {
			t.Fatalf("block_results %d:\n got %+v\nwant %+v", hgt, gr, wr)
		}
	}
	var hash []byte
	for hx := range fc.txAt {
		hash, _ = hex.DecodeString(hx)
		break
	}
	gt, err := h.Tx(bg, hash, true)
	if err != nil {
		t.Fatal(err)
	}
	wt, _ := fc.Tx(bg, hash, true)
	gp, wp := gt.Proof.ToProto(), wt.Proof.ToProto()
	gpp, _ := gp.Marshal()
	wpp, _ := wp.Marshal()
	if !bytes.Equal(gt.Hash, wt.Hash) || gt.Height != wt.Height || gt.Index != wt.Index || !bytes.Equal(gt.Tx, wt.Tx) ||
		!bytes.Equal(gpp, wpp) || gt.Proof.Validate(fc.headers[gt.Height].DataHash) != nil {
		t.Fatalf("tx:\n got %+v\nwant %+v", gt, wt)
	}
	if _, err := h.Tx(bg, make([]byte, 32), true); !errors.Is(err, ErrRPC) {
		t.Fatalf("unknown tx: %v", err)
	}
	// A committed transaction broadcast again: the node's mempool cache refuses it.
	_, err = h.BroadcastTxSync(bg, gt.Tx)
	var re *RPCError
	if !errors.Is(err, ErrTxInCache) || !errors.Is(err, ErrRPC) || !errors.As(err, &re) || re.Method != "broadcast_tx_sync" {
		t.Fatalf("rebroadcast: %v", err)
	}
	b, err := h.BroadcastTxSync(bg, []byte("not an envelope"))
	if err != nil || b.Code != ledger.CodeMalformed || b.Codespace != ledger.Codespace || len(b.Hash) != 32 {
		t.Fatalf("broadcast: %+v %v", b, err)
	}
}

// The whole client over HTTP: verified reads, a confirmed write, a snapshot.
func TestClientOverHTTP(t *testing.T) {
	st := newTestState(t, 3)
	fc, _ := newTestClient(t, 4, st)
	srv := cometServer(t, fc)
	cl, err := Dial("tcp://"+strings.TrimPrefix(srv.URL, "http://"), fc.root(), Config{PollInterval: time.Millisecond, ResubmitAfter: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if ms, err := cl.Members(bg); err != nil || len(ms) != 3 {
		t.Fatalf("members: %d %v", len(ms), err)
	}
	res, err := cl.StatusSet(bg, signer(st, deptID(1)), 0, ledger.StatusUpdate{Index: 9, Value: ledger.StatusSuspended})
	if err != nil || res.Submits != 1 {
		t.Fatalf("write: %+v %v", res, err)
	}
	list, err := cl.StatusList(bg, deptID(1), 0)
	if v, serr := ledger.StatusAt(list, 9); err != nil || serr != nil || v != ledger.StatusSuspended {
		t.Fatalf("read back: %v", err)
	}
	var buf bytes.Buffer
	if _, err := cl.Export(bg, &buf, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := VerifySnapshot(buf.Bytes(), fc.root(), time.Now(), 0); err != nil {
		t.Fatal(err)
	}
	// A node of another chain is refused.
	other := fc.root()
	other.ChainID = "other"
	cl2, _ := Dial(srv.URL, other, Config{})
	if _, err := cl2.Members(bg); !errors.Is(err, ErrUnverified) {
		t.Fatalf("other chain: %v", err)
	}
}

// rpcStub answers every request with handler, recording the last request.
type rpcStub struct {
	mu      sync.Mutex
	req     *http.Request
	body    []byte
	handler func(w http.ResponseWriter, id json.RawMessage)
}

func (s *rpcStub) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	var req struct {
		ID json.RawMessage `json:"id"`
	}
	json.Unmarshal(b, &req)
	s.mu.Lock()
	s.req, s.body = r, b
	s.mu.Unlock()
	s.handler(w, req.ID)
}

func reply(w http.ResponseWriter, id json.RawMessage, result string) {
	w.Header().Set("Content-Type", "application/json")
	io.WriteString(w, `{"jsonrpc":"2.0","id":`+string(id)+`,"result":`+result+`}`)
}

func TestHTTPRPCRequestShape(t *testing.T) {
	stub := &rpcStub{handler: func(w http.ResponseWriter, id json.RawMessage) {
		reply(w, id, `{"response":{"code":0,"value":"dg==","height":"7"}}`)
	}}
	srv := httptest.NewServer(stub)
	defer srv.Close()
	h, err := NewHTTPRPC(strings.Replace(srv.URL, "http://", "http://alice:s3cret@", 1), HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	q, err := h.ABCIQuery(bg, ledger.QueryKey, []byte("member/x"), 7, true)
	if err != nil || string(q.Value) != "v" || q.Height != 7 {
		t.Fatalf("%+v %v", q, err)
	}
	if u, p, ok := stub.req.BasicAuth(); !ok || u != "alice" || p != "s3cret" {
		t.Fatal("basic auth not sent")
	}
	if stub.req.Method != http.MethodPost || stub.req.URL.Path != "/" || stub.req.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("request %s %s %s", stub.req.Method, stub.req.URL.Path, stub.req.Header.Get("Content-Type"))
	}
	var body struct {
		JSONRPC string                     `json:"jsonrpc"`
		Method  string                     `json:"method"`
		Params  map[string]json.RawMessage `json:"params"`
	}
	if err := json.Unmarshal(stub.body, &body); err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"path": `"/key"`, "data": `"6D656D6265722F78"`, "height": `"7"`, "prove": `true`}
	if body.JSONRPC != "2.0" || body.Method != "abci_query" || len(body.Params) != len(want) {
		t.Fatalf("body %s", stub.body)
	}
	for k, v := range want {
		if string(body.Params[k]) != v {
			t.Errorf("param %s = %s, want %s", k, body.Params[k], v)
		}
	}
}

func TestHTTPRPCErrors(t *testing.T) {
	cases := []struct {
		name    string
		opts    HTTPOptions
		timeout time.Duration
		handler func(w http.ResponseWriter, id json.RawMessage)
		check   func(error) bool
	}{
		{"node error", HTTPOptions{}, 0, func(w http.ResponseWriter, id json.RawMessage) {
			io.WriteString(w, `{"jsonrpc":"2.0","id":`+string(id)+`,"error":{"code":-32603,"message":"Internal error","data":"height 99 must be less than or equal to the current blockchain height 5"}}`)
		}, func(err error) bool {
			var re *RPCError
			return errors.Is(err, ErrRPC) && !errors.Is(err, ErrTxInCache) && errors.As(err, &re) && re.Code == -32603
		}},
		{"oversized response", HTTPOptions{MaxResponseBytes: 1000}, 0, func(w http.ResponseWriter, id json.RawMessage) {
			reply(w, id, `{"node_info":{"network":"`+strings.Repeat("x", 2000)+`"}}`)
		}, func(err error) bool { return errors.Is(err, ErrResponseTooLarge) && errors.Is(err, ErrRPC) }},
		{"not JSON (proxy error page)", HTTPOptions{}, 0, func(w http.ResponseWriter, _ json.RawMessage) {
			w.WriteHeader(http.StatusBadGateway)
			io.WriteString(w, "<html>bad gateway</html>")
		}, func(err error) bool { return errors.Is(err, ErrRPC) && strings.Contains(err.Error(), "502") }},
		{"HTTP error without JSON-RPC error", HTTPOptions{}, 0, func(w http.ResponseWriter, id json.RawMessage) {
			w.WriteHeader(http.StatusInternalServerError)
			io.WriteString(w, `{"jsonrpc":"2.0","id":`+string(id)+`,"result":{}}`)
		}, func(err error) bool { return errors.Is(err, ErrRPC) }},
		{"another request's id", HTTPOptions{}, 0, func(w http.ResponseWriter, _ json.RawMessage) {
			reply(w, json.RawMessage(`12345`), `{}`)
		}, func(err error) bool { return errors.Is(err, ErrRPC) }},
		{"null result", HTTPOptions{}, 0, func(w http.ResponseWriter, id json.RawMessage) {
			reply(w, id, `null`)
		}, func(err error) bool { return errors.Is(err, ErrRPC) }},
		{"result of the wrong shape", HTTPOptions{}, 0, func(w http.ResponseWriter, id json.RawMessage) {
			reply(w, id, `{"sync_info":{"latest_block_height":12}}`) // int64 must be a string
		}, func(err error) bool { return errors.Is(err, ErrRPC) }},
		{"slow node, caller's deadline", HTTPOptions{}, 50 * time.Millisecond, func(w http.ResponseWriter, id json.RawMessage) {
			time.Sleep(300 * time.Millisecond)
			reply(w, id, `{}`)
		}, func(err error) bool { return errors.Is(err, ErrRPC) && errors.Is(err, context.DeadlineExceeded) }},
		{"slow node, client timeout", HTTPOptions{Timeout: 50 * time.Millisecond}, 0, func(w http.ResponseWriter, id json.RawMessage) {
			time.Sleep(300 * time.Millisecond)
			reply(w, id, `{}`)
		}, func(err error) bool { return errors.Is(err, ErrRPC) && errors.Is(err, context.DeadlineExceeded) }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(&rpcStub{handler: tc.handler})
			defer srv.Close()
			h, err := NewHTTPRPC(srv.URL, tc.opts)
			if err != nil {
				t.Fatal(err)
			}
			ctx := bg
			if tc.timeout > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(bg, tc.timeout)
				defer cancel()
			}
			_, err = h.Status(ctx)
			if err == nil || !tc.check(err) {
				t.Fatalf("unexpected error: %v", err)
			}
		})
	}
	// Nothing listening.
	l, _ := net.Listen("tcp", "127.0.0.1:0")
	addr := l.Addr().String()
	l.Close()
	h, _ := NewHTTPRPC(addr, HTTPOptions{})
	if _, err := h.Status(bg); !errors.Is(err, ErrRPC) {
		t.Fatalf("refused: %v", err)
	}
}

func TestHTTPRPCAddresses(t *testing.T) {
	for in, want := range map[string]string{
		"127.0.0.1:26657":             "http://127.0.0.1:26657/",
		"tcp://127.0.0.1:26657":       "http://127.0.0.1:26657/",
		"http://node.example:26657":   "http://node.example:26657/",
		"https://node.example/rpc":    "https://node.example/rpc/",
		"http://u:p@node.example:443": "http://node.example:443/",
	} {
		h, err := NewHTTPRPC(in, HTTPOptions{})
		if err != nil || h.String() != want {
			t.Errorf("%s: %v %v, want %s", in, h, err, want)
		}
	}
	for _, bad := range []string{"ftp://x", "http://", "unix://", "ws://node:26657", "http://[::1"} {
		if _, err := NewHTTPRPC(bad, HTTPOptions{}); err == nil {
			t.Errorf("%s accepted", bad)
		}
	}
	// A Unix socket.
	sock := filepath.Join(t.TempDir(), "rpc.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Skip("no unix sockets:", err)
	}
	srv := httptest.NewUnstartedServer(&rpcStub{handler: func(w http.ResponseWriter, id json.RawMessage) {
		reply(w, id, `{"node_info":{"network":"lz-sock"},"sync_info":{"latest_block_height":"4"}}`)
	}})
	srv.Listener = l
	srv.Start()
	defer srv.Close()
	h, err := NewHTTPRPC("unix://"+sock, HTTPOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if s, err := h.Status(bg); err != nil || s.Network != "lz-sock" || s.LatestBlockHeight != 4 {
		t.Fatalf("unix: %+v %v", s, err)
	}
}
