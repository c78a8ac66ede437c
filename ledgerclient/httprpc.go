package ledgerclient

// A small JSON-RPC-over-HTTP client for the seven CometBFT v0.38 RPC calls the ledger
// client makes. It replaces CometBFT's rpc/client/http, whose response types pull in the
// p2p stack, so that a phone wallet or a window links no node code. Wire format (as
// CometBFT's own client speaks it): POST / with {"jsonrpc":"2.0","id":n,"method":m,
// "params":{…}}, each parameter and the result encoded with CometBFT's JSON codec
// (libs/json: 64-bit integers as strings, []byte as base64, HexBytes as hex, public keys
// as {"type","value"}). A node is untrusted: responses are size-bounded, every call has
// a deadline, and what they carry is verified by the caller.

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	abci "github.com/cometbft/cometbft/abci/types"
	cmtbytes "github.com/cometbft/cometbft/libs/bytes"
	cmtjson "github.com/cometbft/cometbft/libs/json"
	"github.com/cometbft/cometbft/types"
)

// RPCError is an error a node reported in its JSON-RPC response. It wraps ErrRPC and, for
// CometBFT's mempool-cache refusal, ErrTxInCache.
type RPCError struct {
	Method  string
	Code    int
	Message string
	Data    string
}

func (e *RPCError) Error() string {
	s := fmt.Sprintf("%v: %s: error %d: %s", ErrRPC, e.Method, e.Code, truncate(e.Message, 200))
	if e.Data != "" {
		s += ": " + truncate(e.Data, 300)
	}
	return s
}

// txInCacheData is the text CometBFT v0.38 puts in the error data when broadcast_tx_*
// meets a transaction already in its mempool cache (mempool.ErrTxInCache): the one place
// a node's error text is interpreted, turned here into ErrTxInCache.
const txInCacheData = "tx already exists in cache"

// Unwrap lets errors.Is match ErrRPC, and ErrTxInCache for the mempool-cache refusal.
func (e *RPCError) Unwrap() error {
	if strings.Contains(e.Data, txInCacheData) {
		return ErrTxInCache
	}
	return ErrRPC
}

// HTTPOptions tune an HTTPRPC. The zero value means the defaults.
type HTTPOptions struct {
	// Client is the HTTP client (default: one with compression off, so that a node cannot
	// send a decompression bomb, and the environment's proxy).
	Client *http.Client
	// Timeout bounds each call when the context has no earlier deadline. Default 30 s.
	Timeout time.Duration
	// MaxResponseBytes bounds a response body. Default 16 MiB (a block's results at
	// CometBFT's 4 MiB block size fit with room to spare).
	MaxResponseBytes int64
}

// HTTPRPC is the RPC of one CometBFT v0.38 node over HTTP(S). Safe for concurrent use.
type HTTPRPC struct {
	url      string // POST target
	user     string
	password string
	hc       *http.Client
	timeout  time.Duration
	max      int64
	nextID   atomic.Int64
}

var _ RPC = (*HTTPRPC)(nil)

// NewHTTPRPC makes the RPC client of the node at addr: "http://host:port",
// "https://host:port", "tcp://host:port" or "host:port" (both plain HTTP), or
// "unix:///path/to/socket"; user:password in the address is sent as basic auth.
func NewHTTPRPC(addr string, o HTTPOptions) (*HTTPRPC, error) {
	raw := addr
	if !strings.Contains(raw, "://") {
		raw = "http://" + raw
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("ledgerclient: node address %q: %w", truncate(addr, 80), err)
	}
	hc := o.Client
	var target string
	switch u.Scheme {
	case "http", "https", "tcp":
		if u.Host == "" {
			return nil, fmt.Errorf("ledgerclient: node address %q has no host", truncate(addr, 80))
		}
		scheme := u.Scheme
		if scheme == "tcp" {
			scheme = "http"
		}
		target = (&url.URL{Scheme: scheme, Host: u.Host, Path: u.Path}).String()
		if !strings.HasSuffix(target, "/") {
			target += "/"
		}
	case "unix":
		sock := u.Host + u.Path
		if sock == "" {
			return nil, fmt.Errorf("ledgerclient: node address %q has no socket path", truncate(addr, 80))
		}
		target = "http://unix/"
		if hc == nil {
			tr := defaultTransport()
			tr.Proxy = nil
			tr.DialContext = func(ctx context.Context, _, _ string) (net.Conn, error) {
				var d net.Dialer
				return d.DialContext(ctx, "unix", sock)
			}
			hc = &http.Client{Transport: tr}
		}
	default:
		return nil, fmt.Errorf("ledgerclient: node address %q: unsupported scheme %q", truncate(addr, 80), u.Scheme)
	}
	if hc == nil {
		hc = &http.Client{Transport: defaultTransport()}
	}
	c := &HTTPRPC{url: target, hc: hc, timeout: o.Timeout, max: o.MaxResponseBytes}
	if u.User != nil {
		c.user = u.User.Username()
		c.password, _ = u.User.Password()
	}
	if c.timeout <= 0 {
		c.timeout = 30 * time.Second
	}
	if c.max <= 0 {
		c.max = 16 << 20
	}
	return c, nil
}

func defaultTransport() *http.Transport {
	return &http.Transport{
		Proxy:               http.ProxyFromEnvironment,
		DisableCompression:  true,
		MaxIdleConnsPerHost: 8,
		IdleConnTimeout:     90 * time.Second,
		TLSHandshakeTimeout: 10 * time.Second,
	}
}

// String is the node's URL (without credentials).
func (c *HTTPRPC) String() string { return c.url }

// call makes one JSON-RPC call and decodes its result into out with CometBFT's JSON codec.
func (c *HTTPRPC) call(ctx context.Context, method string, params map[string]any, out any) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	ps := make(map[string]json.RawMessage, len(params))
	for k, v := range params {
		b, err := cmtjson.Marshal(v)
		if err != nil {
			return fmt.Errorf("%w: %s: encode %s: %v", ErrRPC, method, k, err)
		}
		ps[k] = b
	}
	id := c.nextID.Add(1)
	body, err := json.Marshal(struct {
		JSONRPC string                     `json:"jsonrpc"`
		ID      int64                      `json:"id"`
		Method  string                     `json:"method"`
		Params  map[string]json.RawMessage `json:"params"`
	}{"2.0", id, method, ps})
	if err != nil {
		return fmt.Errorf("%w: %s: encode request: %v", ErrRPC, method, err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("%w: %s: %v", ErrRPC, method, err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.user != "" || c.password != "" {
		req.SetBasicAuth(c.user, c.password)
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %s: %w", ErrRPC, method, ctx.Err())
		}
		return fmt.Errorf("%w: %s: %v", ErrRPC, method, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, c.max+1))
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%w: %s: read response: %w", ErrRPC, method, ctx.Err())
		}
		return fmt.Errorf("%w: %s: read response: %v", ErrRPC, method, err)
	}
	if int64(len(data)) > c.max {
		return fmt.Errorf("%w: %s: more than %d bytes", ErrResponseTooLarge, method, c.max)
	}
	var r struct {
		ID     json.RawMessage `json:"id"`
		Result json.RawMessage `json:"result"`
		Error  *struct {
			Code    int    `json:"code"`
			Message string `json:"message"`
			Data    string `json:"data"`
		} `json:"error"`
	}
	if err := json.Unmarshal(data, &r); err != nil {
		return fmt.Errorf("%w: %s: HTTP %d: not a JSON-RPC response: %v", ErrRPC, method, resp.StatusCode, err)
	}
	if r.Error != nil {
		return &RPCError{Method: method, Code: r.Error.Code, Message: r.Error.Message, Data: r.Error.Data}
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: %s: HTTP %d", ErrRPC, method, resp.StatusCode)
	}
	if string(r.ID) != strconv.FormatInt(id, 10) {
		return fmt.Errorf("%w: %s: response id %.20s, want %d", ErrRPC, method, r.ID, id)
	}
	if len(r.Result) == 0 || string(r.Result) == "null" {
		return fmt.Errorf("%w: %s: empty result", ErrRPC, method)
	}
	if err := cmtjson.Unmarshal(r.Result, out); err != nil {
		return fmt.Errorf("%w: %s: decode result: %v", ErrRPC, method, err)
	}
	return nil
}

// The result shapes of CometBFT v0.38 (rpc/core/types), reduced to the fields read.

type statusWire struct {
	NodeInfo struct {
		Network string `json:"network"`
	} `json:"node_info"`
	SyncInfo struct {
		LatestBlockHeight int64 `json:"latest_block_height"`
	} `json:"sync_info"`
}

type abciQueryWire struct {
	Response abci.ResponseQuery `json:"response"`
}

type broadcastWire struct {
	Code      uint32            `json:"code"`
	Log       string            `json:"log"`
	Codespace string            `json:"codespace"`
	Hash      cmtbytes.HexBytes `json:"hash"`
}

type txWire struct {
	Hash   cmtbytes.HexBytes `json:"hash"`
	Height int64             `json:"height"`
	Index  uint32            `json:"index"`
	Tx     types.Tx          `json:"tx"`
	Proof  types.TxProof     `json:"proof"`
}

type commitWire struct {
	SignedHeader types.SignedHeader `json:"signed_header"`
}

type validatorsWire struct {
	Validators []*types.Validator `json:"validators"`
	Total      int                `json:"total"`
}

type blockResultsWire struct {
	Height     int64                `json:"height"`
	TxsResults []*abci.ExecTxResult `json:"txs_results"`
}

// Status implements RPC.
func (c *HTTPRPC) Status(ctx context.Context) (*NodeStatus, error) {
	var w statusWire
	if err := c.call(ctx, "status", nil, &w); err != nil {
		return nil, err
	}
	return &NodeStatus{Network: w.NodeInfo.Network, LatestBlockHeight: w.SyncInfo.LatestBlockHeight}, nil
}

// ABCIQuery implements RPC.
func (c *HTTPRPC) ABCIQuery(ctx context.Context, path string, data []byte, height int64, prove bool) (*QueryResult, error) {
	var w abciQueryWire
	params := map[string]any{"path": path, "data": cmtbytes.HexBytes(data), "height": height, "prove": prove}
	if err := c.call(ctx, "abci_query", params, &w); err != nil {
		return nil, err
	}
	r := w.Response
	q := &QueryResult{Code: r.Code, Codespace: r.Codespace, Log: r.Log, Key: r.Key, Value: r.Value, Height: r.Height}
	if r.ProofOps != nil {
		for _, op := range r.ProofOps.Ops {
			q.ProofOps = append(q.ProofOps, ProofOp{Type: op.Type, Key: op.Key, Data: op.Data})
		}
	}
	return q, nil
}

// BroadcastTxSync implements RPC.
func (c *HTTPRPC) BroadcastTxSync(ctx context.Context, tx []byte) (*BroadcastResult, error) {
	var w broadcastWire
	if err := c.call(ctx, "broadcast_tx_sync", map[string]any{"tx": tx}, &w); err != nil {
		return nil, err
	}
	return &BroadcastResult{Code: w.Code, Codespace: w.Codespace, Log: w.Log, Hash: w.Hash}, nil
}

// Tx implements RPC.
func (c *HTTPRPC) Tx(ctx context.Context, hash []byte, prove bool) (*TxLookup, error) {
	var w txWire
	if err := c.call(ctx, "tx", map[string]any{"hash": hash, "prove": prove}, &w); err != nil {
		return nil, err
	}
	return &TxLookup{Hash: w.Hash, Height: w.Height, Index: w.Index, Tx: w.Tx, Proof: w.Proof}, nil
}

// Commit implements RPC.
func (c *HTTPRPC) Commit(ctx context.Context, height int64) (*types.SignedHeader, error) {
	var w commitWire
	if err := c.call(ctx, "commit", map[string]any{"height": height}, &w); err != nil {
		return nil, err
	}
	return &w.SignedHeader, nil
}

// Validators implements RPC.
func (c *HTTPRPC) Validators(ctx context.Context, height int64, page, perPage int) (*ValidatorPage, error) {
	var w validatorsWire
	params := map[string]any{"height": height, "page": page, "per_page": perPage}
	if err := c.call(ctx, "validators", params, &w); err != nil {
		return nil, err
	}
	return &ValidatorPage{Validators: w.Validators, Total: w.Total}, nil
}

// BlockResults implements RPC.
func (c *HTTPRPC) BlockResults(ctx context.Context, height int64) (*BlockResults, error) {
	var w blockResultsWire
	if err := c.call(ctx, "block_results", map[string]any{"height": height}, &w); err != nil {
		return nil, err
	}
	return &BlockResults{Height: w.Height, TxsResults: w.TxsResults}, nil
}
