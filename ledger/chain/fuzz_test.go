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
		ledger.StatusSet{List: 2, Bulk: &ledger.StatusBulk{Value: 1, Bitmap: bitmapOf(0, 9, 70000)}},
	}
	for i, s := range seeds {
		f.Add(uint8(i%len(types)), uint8(0), []byte(mustRaw(s)))
	}
	f.Add(uint8(6), uint8(0), []byte(mustRaw(seeds[len(seeds)-1])))
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

// FuzzStatusBulk applies arbitrary bulk bitmaps and values to a list already holding
// entries, and checks the result entry by entry against setting each marked entry alone
// (ledger.SetStatus): what the bulk form must mean. Malformed bitmaps are refused as
// invalid, never an internal error.
func FuzzStatusBulk(f *testing.F) {
	f.Add([]byte{0x80}, uint16(0), uint8(1), false)
	f.Add([]byte{0xFF, 0x01, 0, 0x10}, uint16(4095), uint8(2), false)
	f.Add([]byte{1, 2, 3}, uint16(16383), uint8(0), true)
	f.Add([]byte{}, uint16(0), uint8(3), false)
	f.Fuzz(func(t *testing.T, part []byte, at uint16, value uint8, garble bool) {
		prev := make([]byte, ledger.StatusChunkBytes)
		for i := range prev {
			prev[i] = byte(i*37 + 11) // entries 0-3 (3 is undefined, kept as it is)
		}
		st := state{newOverlay(mapReader{string(ledger.KeyStatusChunk("gaj", 5, 1)): prev})}
		c := &txCtx{st: st, member: &ledger.Member{ID: "gaj"}, env: &ledger.Envelope{Type: ledger.TxStatusSet}}
		bm := make([]byte, ledger.StatusBitmapBytes)
		off := int(at) % ledger.StatusBitmapBytes
		copy(bm[off:], part)
		enc := ledger.EncodeStatusBitmap(bm)
		if garble && len(part) > 0 {
			i := int(part[0]) % len(enc)
			enc = enc[:i] + string(rune(part[len(part)-1]%128)) + enc[i+1:]
		}
		err := c.statusSet(&ledger.StatusSet{List: 5, Bulk: &ledger.StatusBulk{Value: int(value), Bitmap: enc}})
		want, n, derr := ledger.DecodeStatusBitmap(enc)
		if derr != nil || value > 2 {
			if err == nil || err.code != ledger.CodeInvalid {
				t.Fatalf("malformed bulk (%v, value %d) gave %v", derr, value, err)
			}
			return
		}
		if err != nil {
			t.Fatalf("well-formed bulk of %d entries refused: %v", n, err)
		}
		model := map[int][]byte{1: append([]byte(nil), prev...)}
		for i := 0; i < ledger.StatusListSize; i++ {
			if want[i/8]&(0x80>>(i%8)) == 0 {
				continue
			}
			ci := i / ledger.StatusChunkEntries
			if model[ci] == nil {
				model[ci] = make([]byte, ledger.StatusChunkBytes)
			}
			_ = ledger.SetStatus(model[ci], i%ledger.StatusChunkEntries, int(value))
		}
		for ci := 0; ci < ledger.StatusChunks; ci++ {
			got, e := c.st.statusChunk("gaj", 5, ci)
			if e != nil {
				t.Fatal(e)
			}
			w := model[ci]
			if w == nil {
				w = make([]byte, ledger.StatusChunkBytes)
			}
			if !bytes.Equal(got, w) {
				t.Fatalf("chunk %d differs from setting each entry alone", ci)
			}
		}
	})
}
