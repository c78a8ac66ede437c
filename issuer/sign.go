package issuer

import (
	"context"
	"crypto/ed25519"
	"fmt"
	"time"

	"github.com/multiformats/go-multibase"

	"lianzheng/credential/dataintegrity"
	"lianzheng/credential/jws"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
)

// signW3C adds an eddsa-rdfc-2022 proof made with signer (which may be a sealed key store's
// signer that never reveals the private key); it matches dataintegrity.SignCredential.
func signW3C(cred map[string]any, kid string, signer jws.Signer, created time.Time) (map[string]any, error) {
	proof := map[string]any{
		"type":               dataintegrity.ProofType,
		"cryptosuite":        dataintegrity.CryptosuiteRDFC,
		"created":            created.UTC().Format("2006-01-02T15:04:05Z"),
		"verificationMethod": kid,
		"proofPurpose":       dataintegrity.PurposeAssertion,
	}
	in, err := dataintegrity.ComputeSigningInput(dataintegrity.CryptosuiteRDFC, cred, proof)
	if err != nil {
		return nil, err
	}
	sig, err := signer.Sign(in.Combined())
	if err != nil {
		return nil, err
	}
	pv, err := multibase.Encode(multibase.Base58BTC, sig)
	if err != nil {
		return nil, err
	}
	proof["proofValue"] = pv
	out := make(map[string]any, len(cred)+1)
	for k, v := range cred {
		out[k] = v
	}
	out["proof"] = proof
	return out, nil
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
	if pub, ok := t.s.Public().(ed25519.PublicKey); !ok || !ed25519.Verify(pub, msg, sig) {
		return nil, fmt.Errorf("issuer: signer produced an invalid signature")
	}
	return sig, nil
}
