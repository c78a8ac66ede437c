package issuer

import (
	"context"
	"crypto/ed25519"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"lianzheng/credential/jws"
	"lianzheng/did"
	"lianzheng/ledger"
)

// Rotation is the outcome of Rotate.
type Rotation struct {
	OldKeyID, NewKeyID string
	AddHeight          int64 // block of did.add_key
	RevokeHeight       int64 // block of did.revoke_key (0 if the old key was kept)
}

// Rotate moves the department to the key of next: did.add_key (signed by the current key)
// registers it as key-N+1, the department switches to it, and — unless keepOld —
// did.revoke_key (signed by the new key) ends the old key's validity at that block's time.
// Credentials issued before stay valid: verifiers take the key the DID had at their iat.
// Rotate returns once the new key is valid on the ledger for credentials issued from now on.
// Issuance is paused while it runs.
func (d *Department) Rotate(ctx context.Context, next jws.Signer, keepOld bool) (*Rotation, error) {
	pub, ok := next.Public().(ed25519.PublicKey)
	if !ok || next.Alg() != jws.AlgEdDSA {
		return nil, errors.New("issuer: the new department key must be Ed25519")
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	h, err := d.ledger.History(ctx, d.DID)
	if err != nil {
		return nil, err
	}
	n := 0
	for _, k := range h.Keys {
		if pk, err := k.PublicKey(); err == nil && pk.Equal(pub) {
			return nil, errors.New("issuer: the new key is already in the department's DID history")
		}
		if v, err := strconv.Atoi(strings.TrimPrefix(k.ID, "key-")); err == nil && v > n {
			n = v
		}
	}
	frag := fmt.Sprintf("key-%d", n+1)
	mk, err := did.EncodeMultikey(pub)
	if err != nil {
		return nil, err
	}
	rec := did.KeyRecord{ID: frag, PublicKeyMultibase: mk, ValidFrom: d.now().UTC(),
		Purposes: []string{did.PurposeAuthentication, did.PurposeAssertion}}
	add, err := d.submit(ctx, d.signer, d.KeyID, ledger.TxDIDAddKey, ledger.DIDAddKey{DID: d.DID, Key: rec})
	if err != nil {
		return nil, fmt.Errorf("issuer: did.add_key: %w", err)
	}
	rot := &Rotation{OldKeyID: d.KeyID, NewKeyID: d.DID + "#" + frag, AddHeight: add.Height}
	old := d.KeyID
	d.signer, d.KeyID = next, rot.NewKeyID
	// Wait until the new key is valid at a whole-second iat (credentials carry seconds).
	if h, err = d.ledger.History(ctx, d.DID); err == nil {
		if k, err := h.KeyAt(frag, time.Now().Add(time.Hour)); err == nil {
			wait := time.Until(k.ValidFrom.Truncate(time.Second).Add(time.Second))
			if wait > 0 {
				select {
				case <-time.After(wait):
				case <-ctx.Done():
					return rot, ctx.Err()
				}
			}
		}
	}
	if !keepOld {
		rv, err := d.submit(ctx, d.signer, d.KeyID, ledger.TxDIDRevokeKey, ledger.DIDRevokeKey{DID: d.DID, KeyID: strings.TrimPrefix(old, d.DID+"#")})
		if err != nil {
			return rot, fmt.Errorf("issuer: new key in use, but did.revoke_key of %s failed: %w", old, err)
		}
		rot.RevokeHeight = rv.Height
	}
	return rot, nil
}
