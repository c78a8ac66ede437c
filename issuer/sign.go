package issuer

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
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
// has the client broadcast and confirm it (ledgerclient.NewEnvelope's format).
func (d *Department) submit(ctx context.Context, signer jws.Signer, kid, txType string, body any) (*ledgerclient.TxResult, error) {
	b, err := json.Marshal(body)
	if err != nil {
		return nil, err
	}
	var n [16]byte
	if _, err := rand.Read(n[:]); err != nil {
		return nil, err
	}
	env := &ledger.Envelope{V: ledger.TxVersion, Chain: d.ledger.ChainID(), Type: txType, Signer: kid,
		Nonce: base64.RawURLEncoding.EncodeToString(n[:]), Body: b}
	in, err := env.SigningBytes()
	if err != nil {
		return nil, err
	}
	sig, err := signer.Sign(in)
	if err != nil {
		return nil, fmt.Errorf("issuer: sign transaction: %w", err)
	}
	if !ed25519.Verify(signer.Public().(ed25519.PublicKey), in, sig) {
		return nil, fmt.Errorf("issuer: signer produced an invalid signature")
	}
	env.Sig = base64.RawURLEncoding.EncodeToString(sig)
	tx, err := env.Bytes()
	if err != nil {
		return nil, err
	}
	return d.ledger.SubmitRaw(ctx, txType, tx)
}
