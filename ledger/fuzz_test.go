package ledger

import (
	"context"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"
)

// FuzzDecodeTx feeds arbitrary bytes through DecodeEnvelope and CheckTx: nothing panics,
// every rejection has a code and a message.
func FuzzDecodeTx(f *testing.F) {
	h := newHarness(f)
	h.mustOK()
	f.Add(h.tx(gaj, TxStatusSet, statusBody(1, 1)))
	f.Add(h.tx(w1, TxAnchorPost, AnchorPost{Root: "00", Count: 1}))
	f.Add(propose(h, gaj, ActionParamsSet, Params{Approvals: 1}))
	f.Add(propose(h, gaj, ActionWindowPut, testGenesis().Windows[0]))
	f.Add(h.tx(gaj, TxDIDCreate, DIDCreate{DID: "did:lz:x", Keys: nil}))
	f.Add(h.tx(gaj, TxDIDRevokeKey, DIDRevokeKey{DID: "did:lz:gaj", KeyID: "key-1"}))
	f.Add([]byte(`{"v":1,"chain":"lz-test-1","type":"status.set","signer":"did:lz:gaj#key-1","nonce":"aaaaaaaaaaaaaaaa","body":{"list":0,"updates":[{"index":1,"value":1}]}}`))
	f.Fuzz(func(t *testing.T, tx []byte) {
		_, _ = DecodeEnvelope(tx)
		r, err := h.app.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: tx, Type: abci.CheckTxType_New})
		if err != nil {
			t.Fatal(err)
		}
		if r.Code != CodeOK && r.Log == "" {
			t.Fatalf("code %d without a message", r.Code)
		}
		if r.Code == CodeInternal {
			t.Fatalf("internal error: %s", r.Log)
		}
	})
}
