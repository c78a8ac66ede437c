package ledger

import (
	"bytes"
	"testing"

	cmtcrypto "github.com/cometbft/cometbft/proto/tendermint/crypto"
)

func TestProofs(t *testing.T) {
	h := newHarness(t)
	h.mustOK(h.tx(gaj, TxStatusSet, statusBody(1, 1)))
	h.mustOK(h.tx(gaj, TxStatusSet, statusBody(2, 2)))
	// The state of height H verifies against the app hash in header H+1, which is the
	// hash FinalizeBlock H returned (h.hashes[H-1]).
	hashAt := func(height int64) []byte { return h.hashes[height-1] }
	present := KeyStatusChunk("gaj", 0, 0)
	absent := KeyStatusChunk("gaj", 0, 3)
	for _, height := range []int64{1, 2} {
		r := h.query(QueryKey, present, height, true)
		if r.Code != CodeOK || r.Height != height || r.Value == nil || r.ProofOps == nil {
			t.Fatalf("height %d: %d %s", height, r.Code, r.Log)
		}
		if err := VerifyProofOps(hashAt(height), present, r.Value, r.ProofOps); err != nil {
			t.Fatalf("existence proof at %d: %v", height, err)
		}
		a := h.query(QueryKey, absent, height, true)
		if a.Code != CodeOK || a.Value != nil {
			t.Fatalf("absent key: %d %x", a.Code, a.Value)
		}
		if err := VerifyProofOps(hashAt(height), absent, nil, a.ProofOps); err != nil {
			t.Fatalf("absence proof at %d: %v", height, err)
		}
	}
	// Height 0 = latest.
	if r := h.query(QueryKey, present, 0, true); r.Height != 2 {
		t.Fatalf("latest height %d", r.Height)
	}
	r1 := h.query(QueryKey, present, 1, true)
	r2 := h.query(QueryKey, present, 2, true)
	ab := h.query(QueryKey, absent, 2, true)
	op, aop := r2.ProofOps.Ops[0], ab.ProofOps.Ops[0]
	tampered := bytes.Clone(r2.Value)
	tampered[0] ^= 0x40
	other := KeyStatusChunk("gaj", 0, 1)
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
		{"another key, same proof", hashAt(2), other, r2.Value, cmtcrypto.ProofOp{Type: ProofOpType, Key: other, Data: op.Data}},
		{"op key mismatch", hashAt(2), other, r2.Value, op},
		{"wrong op type", hashAt(2), present, r2.Value, cmtcrypto.ProofOp{Type: "iavl:v", Key: present, Data: op.Data}},
		{"garbage proof", hashAt(2), present, r2.Value, cmtcrypto.ProofOp{Type: ProofOpType, Key: present, Data: []byte("garbage")}},
		{"existence proof as absence", hashAt(2), present, nil, op},
		{"absence proof as existence", hashAt(2), absent, r2.Value, aop},
		{"absence proof for present key", hashAt(2), present, nil, cmtcrypto.ProofOp{Type: ProofOpType, Key: present, Data: aop.Data}},
		{"absence proof, another root", hashAt(1)[:31], absent, nil, aop},
	}
	for _, c := range cases {
		if err := VerifyProof(c.root, c.key, c.value, c.op); err == nil {
			t.Errorf("%s: proof accepted", c.name)
		}
	}
	if err := VerifyProofOps(hashAt(2), present, r2.Value, nil); err == nil {
		t.Error("nil ops accepted")
	}
	// A nonce key proves a transaction's inclusion.
	tx := h.tx(gaj, TxStatusSet, statusBody(9, 1))
	h.mustOK(tx)
	e, _ := DecodeEnvelope(tx)
	nk := KeyNonce(e.Signer, e.Nonce)
	r := h.query(QueryKey, nk, 0, true)
	if string(r.Value) != TxHash(tx) {
		t.Fatalf("nonce value %s", r.Value)
	}
	if err := VerifyProofOps(h.hashes[len(h.hashes)-1], nk, r.Value, r.ProofOps); err != nil {
		t.Fatal(err)
	}
}
