package chain

import (
	"bytes"
	"testing"

	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"

	"lianzheng/ledger"
	"lianzheng/ledgerclient"
)

// verifyOps checks a QueryKey answer's proof the way clients do: ProofFromOps, then
// ledgerclient.VerifyProof.
func verifyOps(appHash, key, value []byte, ops *cmtcrypto.ProofOps) error {
	p, err := ProofFromOps(ops, key)
	if err != nil {
		return err
	}
	return ledgerclient.VerifyProof(appHash, key, value, p)
}

func TestProofs(t *testing.T) {
	h := newHarness(t)
	h.mustOK(h.tx(gaj, ledger.TxStatusSet, statusBody(1, 1)))
	h.mustOK(h.tx(gaj, ledger.TxStatusSet, statusBody(2, 2)))
	// The state of height H verifies against the app hash in header H+1, which is the
	// hash FinalizeBlock H returned (h.hashes[H-1]).
	hashAt := func(height int64) []byte { return h.hashes[height-1] }
	present := ledger.KeyStatusChunk("gaj", 0, 0)
	absent := ledger.KeyStatusChunk("gaj", 0, 3)
	for _, height := range []int64{1, 2} {
		r := h.query(ledger.QueryKey, present, height, true)
		if r.Code != ledger.CodeOK || r.Height != height || r.Value == nil || r.ProofOps == nil {
			t.Fatalf("height %d: %d %s", height, r.Code, r.Log)
		}
		if err := verifyOps(hashAt(height), present, r.Value, r.ProofOps); err != nil {
			t.Fatalf("existence proof at %d: %v", height, err)
		}
		a := h.query(ledger.QueryKey, absent, height, true)
		if a.Code != ledger.CodeOK || a.Value != nil {
			t.Fatalf("absent key: %d %x", a.Code, a.Value)
		}
		if err := verifyOps(hashAt(height), absent, nil, a.ProofOps); err != nil {
			t.Fatalf("absence proof at %d: %v", height, err)
		}
	}
	// Height 0 = latest.
	if r := h.query(ledger.QueryKey, present, 0, true); r.Height != 2 {
		t.Fatalf("latest height %d", r.Height)
	}
	r1 := h.query(ledger.QueryKey, present, 1, true)
	r2 := h.query(ledger.QueryKey, present, 2, true)
	ab := h.query(ledger.QueryKey, absent, 2, true)
	op, aop := r2.ProofOps.Ops[0], ab.ProofOps.Ops[0]
	tampered := bytes.Clone(r2.Value)
	tampered[0] ^= 0x40
	other := ledger.KeyStatusChunk("gaj", 0, 1)
	cases := []struct {
		name  string
		root  []byte
		key   []byte
		value []byte
		op    cmtcrypto.ProofOp
	}{
		{"tampered value", hashAt(2), present, tampered, op},
		{"value of another height", hashAt(2), present, r1.Value, op},
		{"another root", hashAt(1), present, r2.Value, op},
		{"another key, same proof", hashAt(2), other, r2.Value, cmtcrypto.ProofOp{Type: ledger.ProofOpType, Key: other, Data: op.Data}},
		{"op key mismatch", hashAt(2), other, r2.Value, op},
		{"wrong op type", hashAt(2), present, r2.Value, cmtcrypto.ProofOp{Type: "iavl:v", Key: present, Data: op.Data}},
		{"garbage proof", hashAt(2), present, r2.Value, cmtcrypto.ProofOp{Type: ledger.ProofOpType, Key: present, Data: []byte("garbage")}},
		{"existence proof as absence", hashAt(2), present, nil, op},
		{"absence proof as existence", hashAt(2), absent, r2.Value, aop},
		{"absence proof for present key", hashAt(2), present, nil, cmtcrypto.ProofOp{Type: ledger.ProofOpType, Key: present, Data: aop.Data}},
		{"absence proof, another root", hashAt(1)[:31], absent, nil, aop},
	}
	for _, c := range cases {
		if err := verifyOps(c.root, c.key, c.value, &cmtcrypto.ProofOps{Ops: []cmtcrypto.ProofOp{c.op}}); err == nil {
			t.Errorf("%s: proof accepted", c.name)
		}
	}
	if err := verifyOps(hashAt(2), present, r2.Value, nil); err == nil {
		t.Error("nil ops accepted")
	}
	// A nonce key proves a transaction's inclusion.
	tx := h.tx(gaj, ledger.TxStatusSet, statusBody(9, 1))
	h.mustOK(tx)
	e, _ := ledger.DecodeEnvelope(tx)
	nk := ledger.KeyNonce(e.Signer, e.Nonce)
	r := h.query(ledger.QueryKey, nk, 0, true)
	if string(r.Value) != ledger.TxHash(tx) {
		t.Fatalf("nonce value %s", r.Value)
	}
	if err := verifyOps(h.hashes[len(h.hashes)-1], nk, r.Value, r.ProofOps); err != nil {
		t.Fatal(err)
	}
}
