package ledger

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	abci "github.com/cometbft/cometbft/abci/types"

	"lianzheng/did"
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
	f.Add([]byte(`{"v":1,"chain":"c","type":"t","signer":"s","nonce":"n","body":[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]],"sig":"x"}`))
	f.Add([]byte(`{"v":1,"chain":"c","type":"t","signer":"s","nonce":"n","body":{"a":"\"[[[[[[[[[[[[[[[[[["},"sig":"x"}`))
	f.Fuzz(func(t *testing.T, tx []byte) {
		// DecodeEnvelope (canonical fast path first) answers exactly as the strict walk alone.
		got, gotErr := DecodeEnvelope(tx)
		want, wantErr := decodeEnvelopeStrict(tx)
		if len(tx) > 0 && len(tx) <= MaxTxBytes && (fmt.Sprint(gotErr) != fmt.Sprint(wantErr) || !reflect.DeepEqual(got, want)) {
			t.Fatalf("DecodeEnvelope: %+v, %v; strict walk: %+v, %v", got, gotErr, want, wantErr)
		}
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

// FuzzSignedBody signs arbitrary bodies of every transaction type with valid member and
// window keys, so the handlers themselves (not just the envelope checks) see hostile input.
func FuzzSignedBody(f *testing.F) {
	h := newHarness(f)
	h.mustOK()
	types := []string{TxProposalCreate, TxProposalApprove, TxDIDCreate, TxDIDAddKey, TxDIDRevokeKey, TxDIDDeactivate, TxStatusSet, TxAnchorPost}
	seeds := []any{
		ProposalCreate{Action: ActionWindowPut, Payload: mustRaw(testGenesis().Windows[0])},
		ProposalApprove{ID: "00"},
		DIDCreate{DID: "did:lz:x", Keys: []did.KeyRecord{keyRecord("k", testKey("k"), genesisTime)}},
		DIDAddKey{DID: "did:lz:gaj", Key: keyRecord("k", testKey("k"), genesisTime)},
		DIDRevokeKey{DID: "did:lz:gaj", KeyID: "key-1"},
		DIDDeactivate{DID: "did:lz:bdc-w1"},
		statusBody(1, 1),
		AnchorPost{Root: strings.Repeat("00", 32), Count: 1},
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
		e := &Envelope{V: TxVersion, Chain: testChain, Type: types[int(typ)%len(types)], Signer: s,
			Nonce: fmt.Sprintf("fuzz-nonce-%012d", n), Body: c.Bytes()}
		if err := e.Sign(h.keys[s]); err != nil {
			t.Fatal(err)
		}
		tx, _ := e.Bytes()
		r, err := h.app.CheckTx(context.Background(), &abci.RequestCheckTx{Tx: tx, Type: abci.CheckTxType_New})
		if err != nil {
			t.Fatal(err)
		}
		if r.Code == CodeInternal || (r.Code != CodeOK && r.Log == "") {
			t.Fatalf("code %d: %q", r.Code, r.Log)
		}
	})
}
