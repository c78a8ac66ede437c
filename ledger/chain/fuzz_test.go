package chain

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"lianzheng/did"
	"lianzheng/ledger"
)

// FuzzDecodeTx feeds arbitrary bytes through CheckTx (which decodes with
// ledger.DecodeEnvelope): nothing panics, every rejection has a code and a message. The
// model's FuzzDecodeEnvelope checks the decoder's fast path against its strict walk.
func FuzzDecodeTx(f *testing.F) {
	h := newHarness(f)
	h.mustOK()
	f.Add(h.tx(gaj, ledger.TxStatusSet, statusBody(1, 1)))
	f.Add(h.tx(w1, ledger.TxAnchorPost, ledger.AnchorPost{Root: "00", Count: 1}))
	f.Add(propose(h, gaj, ledger.ActionParamsSet, ledger.Params{Approvals: 1}))
	f.Add(propose(h, gaj, ledger.ActionWindowPut, testGenesis().Windows[0]))
	f.Add(h.tx(gaj, ledger.TxDIDCreate, ledger.DIDCreate{DID: "did:lz:x", Keys: nil}))
	f.Add(h.tx(gaj, ledger.TxDIDRevokeKey, ledger.DIDRevokeKey{DID: "did:lz:gaj", KeyID: "key-1"}))
	f.Add([]byte(`{"v":1,"chain":"lz-test-1","type":"status.set","signer":"did:lz:gaj#key-1","nonce":"aaaaaaaaaaaaaaaa","body":{"list":0,"updates":[{"index":1,"value":1}]}}`))
	f.Add([]byte(`{"v":1,"chain":"c","type":"t","signer":"s","nonce":"n","body":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]],"sig":"x"}`))
	f.Add([]byte(`{"v":1,"chain":"c","type":"t","signer":"s","nonce":"n","body":{"a":"\"[[[[[[[[[[[[[[[[[["},"sig":"x"}`))
	f.Fuzz(func(t *testing.T, tx []byte) {
		r, err := h.app.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: tx, Type: abci.CheckTxType_New})
		if err != nil {
			t.Fatal(err)
		}
		if r.Code != ledger.CodeOK && r.Log == "" {
			t.Fatalf("code %d without a message", r.Code)
		}
		if r.Code == ledger.CodeInternal {
			t.Fatalf("internal error: %s", r.Log)
		}
	})
}

// FuzzSignedBody signs arbitrary bodies of every transaction type with valid member and
// window keys, so the handlers themselves (not just the envelope checks) see hostile input.
func FuzzSignedBody(f *testing.F) {
	h := newHarness(f)
	h.mustOK()
	types := []string{ledger.TxProposalCreate, ledger.TxProposalApprove, ledger.TxDIDCreate, ledger.TxDIDAddKey, ledger.TxDIDRevokeKey, ledger.TxDIDDeactivate, ledger.TxStatusSet, ledger.TxAnchorPost}
	seeds := []any{
		ledger.ProposalCreate{Action: ledger.ActionWindowPut, Payload: mustRaw(testGenesis().Windows[0])},
		ledger.ProposalApprove{ID: "00"},
		ledger.DIDCreate{DID: "did:lz:x", Keys: []did.KeyRecord{keyRecord("k", testKey("k"), genesisTime)}},
		ledger.DIDAddKey{DID: "did:lz:gaj", Key: keyRecord("k", testKey("k"), genesisTime)},
		ledger.DIDRevokeKey{DID: "did:lz:gaj", KeyID: "key-1"},
		ledger.DIDDeactivate{DID: "did:lz:bdc-w1"},
		statusBody(1, 1),
		ledger.AnchorPost{Root: strings.Repeat("00", 32), Count: 1},
	}
	for i, s := range seeds {
		f.Add(uint8(i), uint8(0), []byte(mustRaw(s)))
	}
	signers := []string{gaj, bdc, w1}
	n := 0
	f.Fuzz(func(t *testing.T, typ, signer uint8, body []byte) {
		if !json.Valid(body) {
			return
		}
		n++
		var c bytes.Buffer
		if json.Compact(&c, body) != nil {
			return
		}
		s := signers[int(signer)%len(signers)]
		e := &ledger.Envelope{V: ledger.TxVersion, Chain: testChain, Type: types[int(typ)%len(types)], Signer: s,
			Nonce: fmt.Sprintf("fuzz-nonce-%012d", n), Body: c.Bytes()}
		if err := signWith(e, h.keys[s]); err != nil {
			t.Fatal(err)
		}
		tx, _ := e.Bytes()
		r, err := h.app.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: tx, Type: abci.CheckTxType_New})
		if err != nil {
			t.Fatal(err)
		}
		if r.Code == ledger.CodeInternal || (r.Code != ledger.CodeOK && r.Log == "") {
			t.Fatalf("code %d: %q", r.Code, r.Log)
		}
	})
}
