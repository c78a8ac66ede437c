// Package issuertest is an in-memory stand-in for the ledger, for fast tests and
// benchmarks of the issuer without a CometBFT node. It serves the demo catalogue and
// did:lz histories and applies status.set to in-memory lists. The end-to-end tests use
// the embedded ledger instead.
package issuertest

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"sync"
	"time"

	"lianzheng/assets"
	"lianzheng/credential/jws"
	"lianzheng/did"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
)

// Ledger is a fake ledger (issuer.Ledger and did.Resolver).
type Ledger struct {
	mu       sync.Mutex
	types    []ledger.CredentialType
	resolver *did.StaticResolver
	hist     map[string]*did.History
	members  map[string]ledger.Member
	lists    map[string][]byte
	height   int64
	Keys     map[string]ed25519.PrivateKey // department id → key-1
	// FailStatus makes StatusSet fail (nothing written).
	FailStatus error
	// PublicBaseURL is the consortium parameter Params returns ("" until set).
	PublicBaseURL string
	// Txs counts the status.set transactions applied.
	Txs int
}

// New returns a fake ledger with the demo catalogue and a fresh key-1 per department,
// valid since created.
func New(created time.Time) (*Ledger, error) {
	cat, err := assets.DemoCatalogue()
	if err != nil {
		return nil, err
	}
	b, _ := json.Marshal(cat.Types)
	l := &Ledger{resolver: &did.StaticResolver{}, hist: map[string]*did.History{}, lists: map[string][]byte{},
		members: map[string]ledger.Member{}, Keys: map[string]ed25519.PrivateKey{}, height: 1}
	if err := json.Unmarshal(b, &l.types); err != nil {
		return nil, err
	}
	for _, d := range cat.Departments {
		_, k, _ := ed25519.GenerateKey(rand.Reader)
		mk, err := did.EncodeMultikey(k.Public())
		if err != nil {
			return nil, err
		}
		h := &did.History{DID: d.DID, Created: created, Keys: []did.KeyRecord{{ID: "key-1", PublicKeyMultibase: mk,
			ValidFrom: created, Purposes: []string{did.PurposeAuthentication, did.PurposeAssertion}}}}
		if err := l.resolver.Put(h); err != nil {
			return nil, err
		}
		l.hist[d.DID] = h
		l.Keys[d.ID] = k
		l.members[d.ID] = ledger.Member{ID: d.ID, DID: d.DID, Name: d.Name}
	}
	return l, nil
}

// Type implements issuer.Ledger.
func (l *Ledger) Type(ctx context.Context, id string) (*ledger.CredentialType, error) {
	for _, t := range l.types {
		if t.ID == id {
			c := t
			return &c, nil
		}
	}
	return nil, ledgerclient.ErrNotFound
}

// Types implements issuer.Ledger.
func (l *Ledger) Types(ctx context.Context) ([]ledger.CredentialType, error) {
	return append([]ledger.CredentialType(nil), l.types...), nil
}

// Member implements issuer.MemberReader: the demo catalogue's department record.
func (l *Ledger) Member(ctx context.Context, id string) (*ledger.Member, error) {
	m, ok := l.members[id]
	if !ok {
		return nil, ledgerclient.ErrNotFound
	}
	return &m, nil
}

// History implements issuer.Ledger.
func (l *Ledger) History(ctx context.Context, d string) (*did.History, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	h, ok := l.hist[d]
	if !ok {
		return nil, ledgerclient.ErrNotFound
	}
	return h.Clone(), nil
}

// Resolve implements did.Resolver.
func (l *Ledger) Resolve(ctx context.Context, d string) (*did.Resolution, error) {
	return l.resolver.Resolve(ctx, d)
}

// ChainID implements issuer.Ledger.
func (l *Ledger) ChainID() string { return "issuertest" }

// Params returns approvals 1 and the PublicBaseURL field.
func (l *Ledger) Params(ctx context.Context) (*ledger.Params, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return &ledger.Params{Approvals: 1, PublicBaseURL: l.PublicBaseURL}, nil
}

// SubmitRaw implements issuer.Ledger for status.set (both forms): the envelope must be signed
// by a department's key-1 for this chain and fit ledger.MaxTxBytes; the update is applied at
// once.
func (l *Ledger) SubmitRaw(ctx context.Context, txType string, tx []byte) (*ledgerclient.TxResult, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.FailStatus != nil {
		return nil, l.FailStatus
	}
	var env ledger.Envelope
	if len(tx) > ledger.MaxTxBytes {
		return nil, ledgerclient.ErrTxMalformed
	}
	if err := json.Unmarshal(tx, &env); err != nil || env.Type != txType || txType != ledger.TxStatusSet || env.Chain != "issuertest" {
		return nil, ledgerclient.ErrTxMalformed
	}
	in, _ := env.SigningBytes()
	sig, err := base64.RawURLEncoding.DecodeString(env.Sig)
	if err != nil {
		return nil, ledgerclient.ErrTxMalformed
	}
	for id, k := range l.Keys {
		if "did:lz:"+id+"#key-1" != env.Signer {
			continue
		}
		if !ed25519.Verify(k.Public().(ed25519.PublicKey), in, sig) {
			return nil, ledgerclient.ErrTxBadSignature
		}
		var body ledger.StatusSet
		if err := json.Unmarshal(env.Body, &body); err != nil {
			return nil, ledgerclient.ErrTxMalformed
		}
		key := fmt.Sprintf("%s/%d", id, body.List)
		b := l.lists[key]
		if b == nil {
			b = make([]byte, ledger.StatusListBytes)
			l.lists[key] = b
		}
		if (body.Bulk == nil) == (len(body.Updates) == 0) || body.List < 0 || body.List >= ledger.MaxStatusLists {
			return nil, ledgerclient.ErrTxInvalid
		}
		for _, u := range body.Updates {
			if err := ledger.SetStatus(b, u.Index, u.Value); err != nil {
				return nil, ledgerclient.ErrTxInvalid
			}
		}
		if body.Bulk != nil {
			bm, _, err := ledger.DecodeStatusBitmap(body.Bulk.Bitmap)
			if err != nil || body.Bulk.Value < 0 || body.Bulk.Value > 2 {
				return nil, ledgerclient.ErrTxInvalid
			}
			for i := 0; i < ledger.StatusListSize; i++ {
				if bm[i/8]&(0x80>>(i%8)) != 0 {
					_ = ledger.SetStatus(b, i, body.Bulk.Value)
				}
			}
		}
		l.Txs++
		l.height++
		return &ledgerclient.TxResult{Type: txType, Height: l.height, Hash: ledger.TxHash(tx)}, nil
	}
	return nil, errors.New("issuertest: signer is not a department key-1")
}

// Signer returns a department's key-1 signer.
func (l *Ledger) Signer(id string) jws.Signer { return jws.NewEd25519Signer(l.Keys[id]) }

// StatusList returns a copy of a member's list (zeros if never written).
func (l *Ledger) StatusList(ctx context.Context, member string, list int) ([]byte, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	b := l.lists[fmt.Sprintf("%s/%d", member, list)]
	if b == nil {
		return make([]byte, ledger.StatusListBytes), nil
	}
	return append([]byte(nil), b...), nil
}
