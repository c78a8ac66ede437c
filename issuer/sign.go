package issuer

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"lianzheng/internal/edkey"
	"time"

	"lianzheng/credential/dataintegrity"
	"lianzheng/credential/jws"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
)

// signW3C adds an eddsa-rdfc-2022 proof made with the department's signer (which may be a
// sealed key store's signer that never reveals the private key).
func signW3C(cred map[string]any, kid string, signer jws.Signer, created time.Time) (map[string]any, error) {
	return dataintegrity.SignWith(cred, dataintegrity.ProofConfig{Cryptosuite: dataintegrity.CryptosuiteRDFC,
		VerificationMethod: kid, ProofPurpose: dataintegrity.PurposeAssertion, Created: created}, signer)
}

// submit signs a ledger transaction with the department's signer (no raw key needed) and
// has the client broadcast and confirm it.
func (d *Department) submit(ctx context.Context, signer jws.Signer, kid, txType string, body any) (*ledgerclient.TxResult, error) {
	_, tx, err := ledger.NewEnvelope(d.ledger.ChainID(), txType, body, txSigner{kid: kid, s: signer})
	if err != nil {
		return nil, err
	}
	return d.ledger.SubmitRaw(ctx, txType, tx)
}

// txSigner is the department's signer as a ledger.Signer. It checks every signature it
// makes: a sealed key store's signer that produced a bad one would have the transaction
// refused by the ledger only after a round trip.
type txSigner struct {
	kid string
	s   jws.Signer
}

func (t txSigner) DIDURL() string { return t.kid }

func (t txSigner) Sign(msg []byte) ([]byte, error) {
	sig, err := t.s.Sign(msg)
	if err != nil {
		return nil, fmt.Errorf("issuer: sign transaction: %w", err)
	}
	if pub, ok := t.s.Public().(ed25519.PublicKey); !ok || !edkey.Verify(pub, msg, sig) {
		return nil, fmt.Errorf("issuer: signer produced an invalid signature")
	}
	return sig, nil
}
