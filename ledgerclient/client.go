package ledgerclient

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"
)

// Config tunes a Client. The zero value means the defaults.
type Config struct {
	Options
	// PollInterval between checks for a new block or a committed transaction. Default 100 ms.
	PollInterval time.Duration
	// ResubmitAfter: a broadcast transaction not seen committed after this long is
	// broadcast again (same bytes, same nonce). Default 3 s.
	ResubmitAfter time.Duration
	// MaxResubmits bounds the resubmissions of one transaction. Default 5.
	MaxResubmits int
	// ConfirmTimeout bounds a write (broadcast to confirmed result) when the context has
	// no earlier deadline. Default 60 s.
	ConfirmTimeout time.Duration
	// Concurrency of proof queries when listing. Default 4.
	Concurrency int
}

func (c Config) withDefaults() (Config, error) {
	o, err := c.Options.withDefaults()
	if err != nil {
		return c, err
	}
	c.Options = o
	if c.PollInterval <= 0 {
		c.PollInterval = 100 * time.Millisecond
	}
	if c.ResubmitAfter <= 0 {
		c.ResubmitAfter = 3 * time.Second
	}
	if c.MaxResubmits <= 0 {
		c.MaxResubmits = 5
	}
	if c.ConfirmTimeout <= 0 {
		c.ConfirmTimeout = 60 * time.Second
	}
	if c.Concurrency <= 0 {
		c.Concurrency = 4
	}
	return c, nil
}

// Client reads the ledger with proofs and writes signed transactions. It trusts only its
// TrustRoot: every header is verified with the light-client rules, every value with its
// ICS23 proof. It is safe for concurrent use.
type Client struct {
	rpc   RPC
	root  TrustRoot
	cfg   Config
	store *verifiedStore
	src   headerSource

	minState atomic.Int64              // state height our last confirmed write is in
	last     atomic.Pointer[StateView] // the latest view handed out
}

// Dial connects to a node's RPC address ("tcp://127.0.0.1:26657" or "http://…"; see
// NewHTTPRPC) with the default HTTPOptions.
func Dial(addr string, root TrustRoot, cfg Config) (*Client, error) {
	h, err := NewHTTPRPC(addr, HTTPOptions{})
	if err != nil {
		return nil, fmt.Errorf("ledgerclient: dial %s: %w", addr, err)
	}
	return New(h, root, cfg)
}

// New makes a client over any RPC implementation.
func New(rpc RPC, root TrustRoot, cfg Config) (*Client, error) {
	if rpc == nil {
		return nil, errors.New("ledgerclient: nil RPC")
	}
	if err := root.check(); err != nil {
		return nil, err
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	return &Client{
		rpc:   rpc,
		root:  root,
		cfg:   cfg,
		store: newVerifiedStore(root, cfg.Options),
		src:   rpcSource{rpc: rpc},
	}, nil
}

// ChainID is the chain the client trusts.
func (c *Client) ChainID() string { return c.root.ChainID }

// nodeHeight is the node's latest block height (unverified: only used to know what to ask).
func (c *Client) nodeHeight(ctx context.Context) (int64, error) {
	st, err := c.rpc.Status(ctx)
	if err != nil {
		return 0, fmt.Errorf("ledgerclient: node status: %w", err)
	}
	if st.Network != "" && st.Network != c.root.ChainID {
		return 0, fmt.Errorf("%w: node is on chain %q, trusted chain is %q", ErrUnverified, truncate(st.Network, 60), c.root.ChainID)
	}
	return st.LatestBlockHeight, nil
}

// waitBlock waits until the node has block h.
func (c *Client) waitBlock(ctx context.Context, h int64) error {
	for {
		l, err := c.nodeHeight(ctx)
		if err != nil {
			return err
		}
		if l >= h {
			return nil
		}
		t := time.NewTimer(c.cfg.PollInterval)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("ledgerclient: waiting for block %d (node at %d): %w", h, l, ctx.Err())
		case <-t.C:
		}
	}
}

// Header returns the verified signed header at height h (waiting for it if needed).
func (c *Client) header(ctx context.Context, h int64) (*lightBlock, error) {
	if lb := c.store.get(h); lb != nil {
		return lb, nil
	}
	if err := c.waitBlock(ctx, h); err != nil {
		return nil, err
	}
	return c.store.verifyTo(ctx, c.src, h, nil)
}

// VerifiedHeader returns the height, hash, time and AppHash of the verified header h
// (for pinning, display and diagnostics).
func (c *Client) VerifiedHeader(ctx context.Context, h int64) (hash, appHash []byte, t time.Time, err error) {
	lb, err := c.header(ctx, h)
	if err != nil {
		return nil, nil, time.Time{}, err
	}
	return lb.SH.Hash(), lb.SH.AppHash, lb.SH.Time, nil
}

// At returns a consistent view of the state at height h, verified against header h+1
// (waiting for that header if the chain has not produced it yet).
func (c *Client) At(ctx context.Context, h int64) (*StateView, error) {
	if h < c.root.RootHeight() {
		return nil, fmt.Errorf("%w: state %d, root header %d", ErrBeforeTrustRoot, h, c.root.RootHeight())
	}
	lb, err := c.header(ctx, h+1)
	if err != nil {
		return nil, err
	}
	v := &StateView{c: c, height: h, lb: lb}
	if l := c.last.Load(); l == nil || l.height < h {
		c.last.Store(v)
	}
	return v, nil
}

// View returns a view of the latest state the client can verify: the state below the
// node's latest block (whose header carries its AppHash), or the state of the client's
// last confirmed write if that is newer (waiting for the next header).
func (c *Client) View(ctx context.Context) (*StateView, error) {
	l, err := c.nodeHeight(ctx)
	if err != nil {
		return nil, err
	}
	h := l - 1
	if m := c.minState.Load(); m > h {
		h = m
	}
	if h < c.root.RootHeight() {
		h = c.root.RootHeight()
	}
	return c.At(ctx, h)
}
