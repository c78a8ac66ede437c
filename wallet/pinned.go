package wallet

import (
	"context"
	"sync"
	"time"

	"lianzheng/did"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
)

// viewSource is a ledger that can give its latest verified state as one view (the online
// ledgerclient.Client).
type viewSource interface {
	Ledger
	View(ctx context.Context) (*ledgerclient.StateView, error)
}

// pin returns l read at one height for a whole operation (a plan): the first read takes the
// latest verified view and every later read of the operation is at that height. The online
// client otherwise asks the node for its height, and verifies a header whenever a block has
// passed, at every read; a plan reads a dozen things (the request key's history, the window,
// its department, the catalogue types, the status lists of the candidates). Pinned, the
// answers are also one block's state, so the window, its department and the catalogue agree
// with each other. A ledger that cannot pin (a snapshot, which is one height already) is l.
func pin(l Ledger) Ledger {
	if s, ok := l.(viewSource); ok {
		return &pinnedLedger{src: s}
	}
	return l
}

// view is one verified state of the online ledger.
type view = ledgerclient.StateView

// pinnedLedger is pin's result. A failed first read pins nothing: the next read tries again.
type pinnedLedger struct {
	src viewSource
	mu  sync.Mutex
	v   *view
}

var _ Ledger = (*pinnedLedger)(nil)

func (p *pinnedLedger) view(ctx context.Context) (*view, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.v == nil {
		v, err := p.src.View(ctx)
		if err != nil {
			return nil, err
		}
		p.v = v
	}
	return p.v, nil
}

// at runs one read on the pinned view.
func at[T any](ctx context.Context, p *pinnedLedger, read func(*view) (T, error)) (T, error) {
	v, err := p.view(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	return read(v)
}

func (p *pinnedLedger) Resolve(ctx context.Context, d string) (*did.Resolution, error) {
	return at(ctx, p, func(v *view) (*did.Resolution, error) { return v.Resolve(ctx, d) })
}

func (p *pinnedLedger) Member(ctx context.Context, id string) (*ledger.Member, error) {
	return at(ctx, p, func(v *view) (*ledger.Member, error) { return v.Member(ctx, id) })
}

func (p *pinnedLedger) Type(ctx context.Context, id string) (*ledger.CredentialType, error) {
	return at(ctx, p, func(v *view) (*ledger.CredentialType, error) { return v.Type(ctx, id) })
}

func (p *pinnedLedger) TypeByVCT(ctx context.Context, vct string) (*ledger.CredentialType, error) {
	return at(ctx, p, func(v *view) (*ledger.CredentialType, error) { return v.TypeByVCT(ctx, vct) })
}

func (p *pinnedLedger) Window(ctx context.Context, d string) (*ledger.Window, error) {
	return at(ctx, p, func(v *view) (*ledger.Window, error) { return v.Window(ctx, d) })
}

func (p *pinnedLedger) Params(ctx context.Context) (*ledger.Params, error) {
	return at(ctx, p, func(v *view) (*ledger.Params, error) { return v.Params(ctx) })
}

func (p *pinnedLedger) StatusList(ctx context.Context, member string, list int) ([]byte, error) {
	return at(ctx, p, func(v *view) ([]byte, error) { return v.StatusList(ctx, member, list) })
}

// Height is the pinned height, or the source's before the first read.
func (p *pinnedLedger) Height() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.v != nil {
		return p.v.Height()
	}
	return p.src.Height()
}

// Time is the pinned view's header time, or the source's before the first read.
func (p *pinnedLedger) Time() time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.v != nil {
		return p.v.Time()
	}
	return p.src.Time()
}
