package ledgerclient

import (
	"context"
	"time"

	"lianzheng/did"
	"lianzheng/ledger"
)

// The Client's reads use the latest verifiable state (see View); each call takes a fresh
// view. Use View or At for several reads from one consistent height.

// Get returns the verified value of key at the latest state and that state's height;
// ErrNotFound (with the height) if the key is proven absent.
func (c *Client) Get(ctx context.Context, key []byte) ([]byte, int64, error) {
	v, err := c.View(ctx)
	if err != nil {
		return nil, 0, err
	}
	b, err := v.Get(ctx, key)
	return b, v.height, err
}

// GetAt is Get at state height h (verified against header h+1).
func (c *Client) GetAt(ctx context.Context, key []byte, h int64) ([]byte, error) {
	v, err := c.At(ctx, h)
	if err != nil {
		return nil, err
	}
	return v.Get(ctx, key)
}

func latest[T any](ctx context.Context, c *Client, f func(*StateView) (T, error)) (T, error) {
	v, err := c.View(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	return f(v)
}

// Member implements TrustView.
func (c *Client) Member(ctx context.Context, id string) (*ledger.Member, error) {
	return latest(ctx, c, func(v *StateView) (*ledger.Member, error) { return v.Member(ctx, id) })
}

// Members lists all members.
func (c *Client) Members(ctx context.Context) ([]ledger.Member, error) {
	return latest(ctx, c, func(v *StateView) ([]ledger.Member, error) { return v.Members(ctx) })
}

// Type implements TrustView.
func (c *Client) Type(ctx context.Context, id string) (*ledger.CredentialType, error) {
	return latest(ctx, c, func(v *StateView) (*ledger.CredentialType, error) { return v.Type(ctx, id) })
}

// Types lists the catalogue.
func (c *Client) Types(ctx context.Context) ([]ledger.CredentialType, error) {
	return latest(ctx, c, func(v *StateView) ([]ledger.CredentialType, error) { return v.Types(ctx) })
}

// TypeByVCT implements TrustView.
func (c *Client) TypeByVCT(ctx context.Context, vct string) (*ledger.CredentialType, error) {
	return latest(ctx, c, func(v *StateView) (*ledger.CredentialType, error) { return v.TypeByVCT(ctx, vct) })
}

// Window implements TrustView.
func (c *Client) Window(ctx context.Context, d string) (*ledger.Window, error) {
	return latest(ctx, c, func(v *StateView) (*ledger.Window, error) { return v.Window(ctx, d) })
}

// Windows lists the registered windows.
func (c *Client) Windows(ctx context.Context) ([]ledger.Window, error) {
	return latest(ctx, c, func(v *StateView) ([]ledger.Window, error) { return v.Windows(ctx) })
}

// Params implements TrustView.
func (c *Client) Params(ctx context.Context) (*ledger.Params, error) {
	return latest(ctx, c, func(v *StateView) (*ledger.Params, error) { return v.Params(ctx) })
}

// Proposal returns a governance proposal.
func (c *Client) Proposal(ctx context.Context, id string) (*ledger.Proposal, error) {
	return latest(ctx, c, func(v *StateView) (*ledger.Proposal, error) { return v.Proposal(ctx, id) })
}

// Anchor returns a window's anchor by sequence number.
func (c *Client) Anchor(ctx context.Context, window string, seq uint64) (*ledger.Anchor, error) {
	return latest(ctx, c, func(v *StateView) (*ledger.Anchor, error) { return v.Anchor(ctx, window, seq) })
}

// AnchorSeq returns how many anchors a window has posted.
func (c *Client) AnchorSeq(ctx context.Context, window string) (uint64, error) {
	return latest(ctx, c, func(v *StateView) (uint64, error) { return v.AnchorSeq(ctx, window) })
}

// History returns a DID's key history.
func (c *Client) History(ctx context.Context, d string) (*did.History, error) {
	return latest(ctx, c, func(v *StateView) (*did.History, error) { return v.History(ctx, d) })
}

// StatusChunk returns one chunk of a status list (zeros if never written).
func (c *Client) StatusChunk(ctx context.Context, member string, list, chunk int) ([]byte, error) {
	return latest(ctx, c, func(v *StateView) ([]byte, error) { return v.StatusChunk(ctx, member, list, chunk) })
}

// StatusList implements TrustView.
func (c *Client) StatusList(ctx context.Context, member string, list int) ([]byte, error) {
	return latest(ctx, c, func(v *StateView) ([]byte, error) { return v.StatusList(ctx, member, list) })
}

// List returns every key under prefix, verified and proven complete.
func (c *Client) List(ctx context.Context, prefix string) ([]Entry, error) {
	return latest(ctx, c, func(v *StateView) ([]Entry, error) { return v.List(ctx, prefix) })
}

// Resolve implements did.Resolver (so did.MultiResolver{LZ: client} works).
func (c *Client) Resolve(ctx context.Context, d string) (*did.Resolution, error) {
	return latest(ctx, c, func(v *StateView) (*did.Resolution, error) { return v.Resolve(ctx, d) })
}

// Height implements TrustView: the height of the latest state the client has verified
// (0 before the first read).
func (c *Client) Height() int64 {
	if v := c.last.Load(); v != nil {
		return v.height
	}
	return 0
}

// Time implements TrustView: the header time of the latest verified state.
func (c *Client) Time() time.Time {
	if v := c.last.Load(); v != nil {
		return v.Time()
	}
	return time.Time{}
}
