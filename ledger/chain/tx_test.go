package chain

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"lianzheng/did"
	"lianzheng/ledger"
)

// expectBoth runs tx through CheckTx and then in a block, expecting code from both, and
// checks the app hash did not move when the code is not OK.
func expectBoth(t *testing.T, h *harness, name string, tx []byte, code uint32) {
	t.Helper()
	if r := h.check(tx); r.Code != code {
		t.Errorf("%s: CheckTx code %d (%s), want %d", name, r.Code, r.Log, code)
	}
	before := h.appHash()
	res := h.block(tx)
	if res[0].Code != code {
		t.Errorf("%s: FinalizeBlock code %d (%s), want %d", name, res[0].Code, res[0].Log, code)
	}
	if code != ledger.CodeOK && !bytes.Equal(before, h.appHash()) {
		t.Errorf("%s: rejected transaction changed the app hash", name)
	}
	if code != ledger.CodeOK && (res[0].Log == "" || res[0].Codespace != ledger.Codespace) {
		t.Errorf("%s: rejection without log or codespace", name)
	}
}

func statusBody(idx, val int) ledger.StatusSet {
	return ledger.StatusSet{List: 0, Updates: []ledger.StatusUpdate{{Index: idx, Value: val}}}
}

func TestEnvelopeRejections(t *testing.T) {
	h := newHarness(t)
	h.mustOK()
	good := h.tx(gaj, ledger.TxStatusSet, statusBody(1, 1))
	canon := func(mod func(*ledger.Envelope)) []byte { return h.tx(gaj, ledger.TxStatusSet, statusBody(1, 1), mod) }
	resign := func(mod func(e *ledger.Envelope)) []byte {
		e := h.env(gaj, ledger.TxStatusSet, statusBody(1, 1))
		mod(e)
		b, _ := e.Bytes()
		return b
	}
	raw := func(body string) []byte {
		return h.tx(gaj, ledger.TxStatusSet, json.RawMessage(body))
	}
	h.keys["did:lz:gaj#key-9"] = testKey("did:lz:gaj#key-9")
	cases := []struct {
		name string
		tx   []byte
		code uint32
	}{
		{"empty", nil, ledger.CodeMalformed},
		{"not json", []byte("{"), ledger.CodeMalformed},
		{"array", []byte("[]"), ledger.CodeMalformed},
		{"oversized", append(bytes.Repeat([]byte(" "), ledger.MaxTxBytes), good...), ledger.CodeMalformed},
		{"whitespace", append([]byte(" "), good...), ledger.CodeMalformed},
		{"indented", func() []byte { var b bytes.Buffer; json.Indent(&b, good, "", " "); return b.Bytes() }(), ledger.CodeMalformed},
		{"unknown envelope member", bytes.Replace(good, []byte(`{"v":1`), []byte(`{"x":1,"v":1`), 1), ledger.CodeMalformed},
		{"uppercase envelope member", bytes.Replace(good, []byte(`"chain"`), []byte(`"Chain"`), 1), ledger.CodeMalformed},
		{"duplicate envelope member", bytes.Replace(good, []byte(`{"v":1`), []byte(`{"v":1,"v":1`), 1), ledger.CodeMalformed},
		{"version", canon(func(e *ledger.Envelope) { e.V = 2 }), ledger.CodeMalformed},
		{"wrong chain", canon(func(e *ledger.Envelope) { e.Chain = "lz-other" }), ledger.CodeMalformed},
		{"unknown type", canon(func(e *ledger.Envelope) { e.Type = "status.wipe" }), ledger.CodeMalformed},
		{"body not object", raw(`[1]`), ledger.CodeMalformed},
		{"body malformed value", raw(`{"list":"0","updates":[]}`), ledger.CodeMalformed},
		{"body unknown field", raw(`{"list":0,"updates":[{"index":1,"value":1}],"extra":1}`), ledger.CodeMalformed},
		{"body case-folded field", raw(`{"List":0,"updates":[{"index":1,"value":1}]}`), ledger.CodeMalformed},
		{"body duplicate field", raw(`{"list":0,"list":1,"updates":[{"index":1,"value":1}]}`), ledger.CodeMalformed},
		{"body nested unknown", raw(`{"list":0,"updates":[{"index":1,"value":1,"x":0}]}`), ledger.CodeMalformed},
		{"body float", raw(`{"list":0,"updates":[{"index":1.5,"value":1}]}`), ledger.CodeMalformed},
		{"body too deep", raw(`{"list":0,"updates":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}`), ledger.CodeMalformed},
		{"short nonce", canon(func(e *ledger.Envelope) { e.Nonce = "abc" }), ledger.CodeMalformed},
		{"long nonce", canon(func(e *ledger.Envelope) { e.Nonce = strings.Repeat("a", 65) }), ledger.CodeMalformed},
		{"nonce alphabet", canon(func(e *ledger.Envelope) { e.Nonce = "nonce+with/slash=" }), ledger.CodeMalformed},
		{"signer without fragment", canon(func(e *ledger.Envelope) { e.Signer = "did:lz:gaj" }), ledger.CodeMalformed},
		{"signer did:key", canon(func(e *ledger.Envelope) { e.Signer = "did:key:" + multikey(testKey("x")) + "#x" }), ledger.CodeMalformed},
		{"unknown signer", h.tx("did:lz:nobody#key-1", ledger.TxStatusSet, statusBody(1, 1)), ledger.CodeUnauthorized},
		{"unknown key", h.tx("did:lz:gaj#key-9", ledger.TxStatusSet, statusBody(1, 1)), ledger.CodeBadSignature},
		{"bad signature", resign(func(e *ledger.Envelope) { e.Body = json.RawMessage(`{"list":0,"updates":[{"index":2,"value":1}]}`) }), ledger.CodeBadSignature},
		{"signature by another key", resign(func(e *ledger.Envelope) { signWith(e, testKey("intruder")) }), ledger.CodeBadSignature},
		{"signature not base64url", resign(func(e *ledger.Envelope) { e.Sig = strings.Repeat("+", 86) }), ledger.CodeBadSignature},
		{"signature truncated", resign(func(e *ledger.Envelope) { e.Sig = e.Sig[:80] }), ledger.CodeBadSignature},
		{"no signature", resign(func(e *ledger.Envelope) { e.Sig = "" }), ledger.CodeBadSignature},
	}
	for _, c := range cases {
		expectBoth(t, h, c.name, c.tx, c.code)
	}
	// The good one passes, then is a replay in CheckTx, in a later block and in the same block.
	expectBoth(t, h, "good", good, ledger.CodeOK)
	expectBoth(t, h, "replay", good, ledger.CodeReplay)
	again := h.tx(gaj, ledger.TxStatusSet, statusBody(3, 1))
	res := h.block(again, again)
	if res[0].Code != ledger.CodeOK || res[1].Code != ledger.CodeReplay {
		t.Errorf("same-block replay: codes %d %d", res[0].Code, res[1].Code)
	}
	// The same nonce with another body is a replay too.
	reuse := h.tx(gaj, ledger.TxStatusSet, statusBody(4, 1), func(e *ledger.Envelope) { e.Nonce = "nonce-000000000001" })
	if r := h.check(reuse); r.Code != ledger.CodeReplay {
		t.Errorf("nonce reuse: %d %s", r.Code, r.Log)
	}
	// Two different pending transactions with one nonce: the second is refused by CheckTx;
	// the same transaction again is not (CometBFT's cache handles that).
	p1 := h.tx(gaj, ledger.TxStatusSet, statusBody(5, 1), func(e *ledger.Envelope) { e.Nonce = "pending-nonce-0001" })
	p2 := h.tx(gaj, ledger.TxStatusSet, statusBody(6, 1), func(e *ledger.Envelope) { e.Nonce = "pending-nonce-0001" })
	if r := h.check(p1); r.Code != ledger.CodeOK {
		t.Fatalf("p1: %d %s", r.Code, r.Log)
	}
	if r := h.check(p1); r.Code != ledger.CodeOK {
		t.Fatalf("p1 again: %d %s", r.Code, r.Log)
	}
	if r := h.check(p2); r.Code != ledger.CodeReplay {
		t.Fatalf("p2: %d %s", r.Code, r.Log)
	}
	if res := h.block(p2, p1); res[0].Code != ledger.CodeOK || res[1].Code != ledger.CodeReplay {
		t.Fatalf("block: %d %d", res[0].Code, res[1].Code)
	}
}

func TestStatusSet(t *testing.T) {
	h := newHarness(t)
	h.mustOK()
	many := make([]ledger.StatusUpdate, ledger.MaxStatusUpdates+1)
	for i := range many {
		many[i] = ledger.StatusUpdate{Index: i, Value: 1}
	}
	cases := []struct {
		name   string
		signer string
		body   ledger.StatusSet
		code   uint32
	}{
		{"window not member", w1, statusBody(1, 1), ledger.CodeUnauthorized},
		{"list negative", gaj, ledger.StatusSet{List: -1, Updates: statusBody(1, 1).Updates}, ledger.CodeInvalid},
		{"list too large", gaj, ledger.StatusSet{List: ledger.MaxStatusLists, Updates: statusBody(1, 1).Updates}, ledger.CodeInvalid},
		{"no updates", gaj, ledger.StatusSet{List: 0}, ledger.CodeInvalid},
		{"index negative", gaj, statusBody(-1, 1), ledger.CodeInvalid},
		{"index too large", gaj, statusBody(ledger.StatusListSize, 1), ledger.CodeInvalid},
		{"value 3", gaj, statusBody(1, 3), ledger.CodeInvalid},
		{"value negative", gaj, statusBody(1, -1), ledger.CodeInvalid},
	}
	for _, c := range cases {
		expectBoth(t, h, c.name, h.tx(c.signer, ledger.TxStatusSet, c.body), c.code)
	}
	// 4,097 updates do not fit in MaxTxBytes as JSON: check the limit on the handler itself.
	c := &txCtx{st: state{newOverlay(mapReader{})}, member: &ledger.Member{ID: "gaj"}, env: &ledger.Envelope{Type: ledger.TxStatusSet}}
	if err := c.statusSet(&ledger.StatusSet{List: 0, Updates: many}); err == nil || err.code != ledger.CodeInvalid {
		t.Errorf("too many updates: %v", err)
	}
	if b := h.get(ledger.KeyStatusChunk("gaj", 0, 0)); b != nil {
		t.Fatalf("chunk written by rejected transactions")
	}
	// Success: entries in two chunks; W3C bit order; each member writes only its own lists.
	h.mustOK(h.tx(gaj, ledger.TxStatusSet, ledger.StatusSet{List: 15, Updates: []ledger.StatusUpdate{{Index: 0, Value: 1}, {Index: 1, Value: 2}, {Index: 5, Value: 1}, {Index: ledger.StatusListSize - 1, Value: 2}}}),
		h.tx(mzj, ledger.TxStatusSet, ledger.StatusSet{List: 15, Updates: []ledger.StatusUpdate{{Index: 0, Value: 2}}}))
	c0 := h.get(ledger.KeyStatusChunk("gaj", 15, 0))
	if len(c0) != ledger.StatusChunkBytes || c0[0] != 0b01_10_00_00 || c0[1] != 0b00_01_00_00 {
		t.Fatalf("chunk 0 starts %08b %08b", c0[0], c0[1])
	}
	c3 := h.get(ledger.KeyStatusChunk("gaj", 15, ledger.StatusChunks-1))
	if c3[ledger.StatusChunkBytes-1] != 0b00_00_00_10 {
		t.Fatalf("last entry byte %08b", c3[ledger.StatusChunkBytes-1])
	}
	if h.get(ledger.KeyStatusChunk("gaj", 15, 1)) != nil {
		t.Fatalf("untouched chunk was written")
	}
	if m := h.get(ledger.KeyStatusChunk("mzj", 15, 0)); m[0] != 0b10_00_00_00 {
		t.Fatalf("mzj chunk %08b", m[0])
	}
	// Reset to valid.
	h.mustOK(h.tx(gaj, ledger.TxStatusSet, ledger.StatusSet{List: 15, Updates: []ledger.StatusUpdate{{Index: 1, Value: 0}}}))
	if c0 := h.get(ledger.KeyStatusChunk("gaj", 15, 0)); c0[0] != 0b01_00_00_00 {
		t.Fatalf("after reset %08b", c0[0])
	}
}

func bitmapOf(idx ...int) string {
	bm := make([]byte, ledger.StatusBitmapBytes)
	for _, i := range idx {
		if err := ledger.SetBitmap(bm, i); err != nil {
			panic(err)
		}
	}
	return ledger.EncodeStatusBitmap(bm)
}

// TestStatusBulk: the bulk form of status.set (one value, a bitmap of the whole list).
func TestStatusBulk(t *testing.T) {
	h := newHarness(t)
	h.mustOK()
	good := bitmapOf(3)
	bulk := func(list, value int, bm string) ledger.StatusSet {
		return ledger.StatusSet{List: list, Bulk: &ledger.StatusBulk{Value: value, Bitmap: bm}}
	}
	cases := []struct {
		name string
		body ledger.StatusSet
		code uint32
	}{
		{"updates and bulk", ledger.StatusSet{List: 0, Updates: statusBody(1, 1).Updates, Bulk: &ledger.StatusBulk{Value: 1, Bitmap: good}}, ledger.CodeInvalid},
		{"value 3", bulk(0, 3, good), ledger.CodeInvalid},
		{"value negative", bulk(0, -1, good), ledger.CodeInvalid},
		{"list too large", bulk(ledger.MaxStatusLists, 1, good), ledger.CodeInvalid},
		{"list negative", bulk(-1, 1, good), ledger.CodeInvalid},
		{"empty bitmap", bulk(0, 1, ""), ledger.CodeInvalid},
		{"no entry marked", bulk(0, 1, bitmapOf()), ledger.CodeInvalid},
		{"short", bulk(0, 1, good[:len(good)-4]), ledger.CodeInvalid},
		{"long", bulk(0, 1, good+"AAAA"), ledger.CodeInvalid},
		{"padded", bulk(0, 1, good[:len(good)-2]+"=="), ledger.CodeInvalid},
		{"standard base64", bulk(0, 1, strings.Replace(good, "A", "+", 1)), ledger.CodeInvalid},
		{"non-canonical last character", bulk(0, 1, good[:len(good)-1]+"B"), ledger.CodeInvalid},
	}
	for _, c := range cases {
		expectBoth(t, h, c.name, h.tx(gaj, ledger.TxStatusSet, c.body), c.code)
	}
	if b := h.get(ledger.KeyStatusChunk("gaj", 0, 0)); b != nil {
		t.Fatalf("chunk written by rejected transactions")
	}
	// A whole list in one transaction: every entry revoked, well within MaxTxBytes.
	all := make([]byte, ledger.StatusBitmapBytes)
	for i := range all {
		all[i] = 0xFF
	}
	whole := h.tx(gaj, ledger.TxStatusSet, bulk(1, ledger.StatusRevoked, ledger.EncodeStatusBitmap(all)))
	if len(whole) > ledger.MaxTxBytes/2 {
		t.Fatalf("a whole-list bulk transaction is %d bytes", len(whole))
	}
	h.mustOK(whole)
	for ci := 0; ci < ledger.StatusChunks; ci++ {
		ch := h.get(ledger.KeyStatusChunk("gaj", 1, ci))
		for i, b := range ch {
			if b != 0b01_01_01_01 {
				t.Fatalf("chunk %d byte %d = %08b", ci, i, b)
			}
		}
	}
	// Marked entries only: earlier values elsewhere kept, untouched chunks not written, and
	// the last list number accepted.
	last := ledger.MaxStatusLists - 1
	h.mustOK(h.tx(gaj, ledger.TxStatusSet, ledger.StatusSet{List: last, Updates: []ledger.StatusUpdate{{Index: 1, Value: 1}, {Index: 7, Value: 1}}}))
	h.mustOK(h.tx(gaj, ledger.TxStatusSet, bulk(last, ledger.StatusSuspended, bitmapOf(0, 7, 32768, ledger.StatusListSize-1))))
	c0 := h.get(ledger.KeyStatusChunk("gaj", last, 0))
	if c0[0] != 0b10_01_00_00 || c0[1] != 0b00_00_00_10 {
		t.Fatalf("chunk 0 starts %08b %08b", c0[0], c0[1])
	}
	if c1 := h.get(ledger.KeyStatusChunk("gaj", last, 1)); c1[0] != 0b10_00_00_00 {
		t.Fatalf("chunk 1 starts %08b", c1[0])
	}
	if h.get(ledger.KeyStatusChunk("gaj", last, 2)) != nil {
		t.Fatal("untouched chunk written")
	}
	if c3 := h.get(ledger.KeyStatusChunk("gaj", last, 3)); c3[ledger.StatusChunkBytes-1] != 0b00_00_00_10 {
		t.Fatalf("last byte %08b", c3[ledger.StatusChunkBytes-1])
	}
	// Back to valid in bulk.
	h.mustOK(h.tx(gaj, ledger.TxStatusSet, bulk(last, ledger.StatusValid, bitmapOf(0, 1, 7))))
	if c0 := h.get(ledger.KeyStatusChunk("gaj", last, 0)); c0[0] != 0 || c0[1] != 0 {
		t.Fatalf("after reset %08b %08b", c0[0], c0[1])
	}
}

func TestAnchorPost(t *testing.T) {
	h := newHarness(t)
	h.mustOK()
	root := strings.Repeat("a1", 32)
	cases := []struct {
		name   string
		signer string
		body   ledger.AnchorPost
		code   uint32
	}{
		{"member is not a window", gaj, ledger.AnchorPost{Root: root, Count: 1}, ledger.CodeUnauthorized},
		{"short root", w1, ledger.AnchorPost{Root: root[:62], Count: 1}, ledger.CodeInvalid},
		{"uppercase root", w1, ledger.AnchorPost{Root: strings.ToUpper(root), Count: 1}, ledger.CodeInvalid},
		{"non-hex root", w1, ledger.AnchorPost{Root: strings.Repeat("zz", 32), Count: 1}, ledger.CodeInvalid},
		{"count 0", w1, ledger.AnchorPost{Root: root, Count: 0}, ledger.CodeInvalid},
		{"count too large", w1, ledger.AnchorPost{Root: root, Count: ledger.MaxAnchorCount + 1}, ledger.CodeInvalid},
	}
	for _, c := range cases {
		expectBoth(t, h, c.name, h.tx(c.signer, ledger.TxAnchorPost, c.body), c.code)
	}
	res := h.mustOK(h.tx(w1, ledger.TxAnchorPost, ledger.AnchorPost{Root: root, Count: 7}), h.tx(w1, ledger.TxAnchorPost, ledger.AnchorPost{Root: root, Count: ledger.MaxAnchorCount}))
	var a ledger.Anchor
	if err := json.Unmarshal(res[1].Data, &a); err != nil || a.Seq != 2 {
		t.Fatalf("result data %s", res[1].Data)
	}
	if !h.getJSON(ledger.KeyAnchor("did:lz:bdc-w1", 1), &a) || a.Count != 7 || a.Root != root || a.Height != h.height || !a.Time.Equal(h.now) {
		t.Fatalf("anchor 1 = %+v", a)
	}
	if string(h.get(ledger.KeyAnchorSeq("did:lz:bdc-w1"))) != "2" {
		t.Fatalf("seq = %s", h.get(ledger.KeyAnchorSeq("did:lz:bdc-w1")))
	}
}

func TestDIDLifecycle(t *testing.T) {
	h := newHarness(t)
	h.mustOK()
	nk := testKey("did:lz:gaj-w9#key-1")
	h.keys["did:lz:gaj-w9#key-1"] = nk
	rec := keyRecord("key-1", nk, time.Time{})
	until := genesisTime
	cases := []struct {
		name   string
		signer string
		typ    string
		body   any
		code   uint32
	}{
		{"create by non-member", w1, ledger.TxDIDCreate, ledger.DIDCreate{DID: "did:lz:gaj-w9", Keys: []did.KeyRecord{rec}}, ledger.CodeUnauthorized},
		{"create existing", gaj, ledger.TxDIDCreate, ledger.DIDCreate{DID: "did:lz:mzj", Keys: []did.KeyRecord{rec}}, ledger.CodeConflict},
		{"create bad did", gaj, ledger.TxDIDCreate, ledger.DIDCreate{DID: "did:lz:Bad", Keys: []did.KeyRecord{rec}}, ledger.CodeInvalid},
		{"create did:key", gaj, ledger.TxDIDCreate, ledger.DIDCreate{DID: "did:key:" + multikey(nk), Keys: []did.KeyRecord{rec}}, ledger.CodeInvalid},
		{"create no keys", gaj, ledger.TxDIDCreate, ledger.DIDCreate{DID: "did:lz:gaj-w9"}, ledger.CodeInvalid},
		{"create bad key", gaj, ledger.TxDIDCreate, ledger.DIDCreate{DID: "did:lz:gaj-w9", Keys: []did.KeyRecord{{ID: "k", PublicKeyMultibase: "zzz", Purposes: []string{"authentication"}}}}, ledger.CodeInvalid},
		{"create bad purpose", gaj, ledger.TxDIDCreate, ledger.DIDCreate{DID: "did:lz:gaj-w9", Keys: []did.KeyRecord{{ID: "k", PublicKeyMultibase: multikey(nk), Purposes: []string{"everything"}}}}, ledger.CodeInvalid},
		{"create duplicate key ids", gaj, ledger.TxDIDCreate, ledger.DIDCreate{DID: "did:lz:gaj-w9", Keys: []did.KeyRecord{rec, keyRecord("key-1", testKey("o"), time.Time{})}}, ledger.CodeInvalid},
		{"create with validUntil", gaj, ledger.TxDIDCreate, ledger.DIDCreate{DID: "did:lz:gaj-w9", Keys: []did.KeyRecord{func() did.KeyRecord { r := rec; r.ValidUntil = &until; return r }()}}, ledger.CodeInvalid},
		{"add key to unknown DID", gaj, ledger.TxDIDAddKey, ledger.DIDAddKey{DID: "did:lz:nobody", Key: rec}, ledger.CodeNotFound},
		{"add key to another member", gaj, ledger.TxDIDAddKey, ledger.DIDAddKey{DID: "did:lz:mzj", Key: keyRecord("key-2", testKey("x2"), time.Time{})}, ledger.CodeUnauthorized},
		{"add key with used id", gaj, ledger.TxDIDAddKey, ledger.DIDAddKey{DID: "did:lz:gaj", Key: keyRecord("key-1", testKey("x3"), time.Time{})}, ledger.CodeConflict},
		{"add key already present", gaj, ledger.TxDIDAddKey, ledger.DIDAddKey{DID: "did:lz:gaj", Key: keyRecord("key-2", testKey("did:lz:gaj#key-1"), time.Time{})}, ledger.CodeInvalid},
		{"revoke unknown key", gaj, ledger.TxDIDRevokeKey, ledger.DIDRevokeKey{DID: "did:lz:gaj", KeyID: "key-7"}, ledger.CodeNotFound},
		{"revoke last key", gaj, ledger.TxDIDRevokeKey, ledger.DIDRevokeKey{DID: "did:lz:gaj", KeyID: "key-1"}, ledger.CodeConflict},
		{"revoke other member's key", gaj, ledger.TxDIDRevokeKey, ledger.DIDRevokeKey{DID: "did:lz:mzj", KeyID: "key-1"}, ledger.CodeUnauthorized},
		{"window revokes department key", w1, ledger.TxDIDRevokeKey, ledger.DIDRevokeKey{DID: "did:lz:bdc", KeyID: "key-1"}, ledger.CodeUnauthorized},
		{"deactivate member DID", gaj, ledger.TxDIDDeactivate, ledger.DIDDeactivate{DID: "did:lz:gaj"}, ledger.CodeUnauthorized},
		{"deactivate by non-controller", gaj, ledger.TxDIDDeactivate, ledger.DIDDeactivate{DID: "did:lz:bdc-w1"}, ledger.CodeUnauthorized},
		{"window deactivates itself", w1, ledger.TxDIDDeactivate, ledger.DIDDeactivate{DID: "did:lz:bdc-w1"}, ledger.CodeUnauthorized},
		{"deactivate unknown", gaj, ledger.TxDIDDeactivate, ledger.DIDDeactivate{DID: "did:lz:nobody"}, ledger.CodeNotFound},
	}
	for _, c := range cases {
		expectBoth(t, h, c.name, h.tx(c.signer, c.typ, c.body), c.code)
	}
	// Create: controller is the signer, keys start at the block time.
	expectBoth(t, h, "create", h.tx(gaj, ledger.TxDIDCreate, ledger.DIDCreate{DID: "did:lz:gaj-w9", Keys: []did.KeyRecord{rec}}), ledger.CodeOK)
	hs := h.history("did:lz:gaj-w9")
	if hs.Controller != "did:lz:gaj" || !hs.Created.Equal(h.now) || !hs.Keys[0].ValidFrom.Equal(h.now) {
		t.Fatalf("created history %+v", hs)
	}
	// The new DID and its controller can both manage its keys.
	h.keys["did:lz:gaj-w9#key-2"] = testKey("did:lz:gaj-w9#key-2")
	expectBoth(t, h, "self add key", h.tx("did:lz:gaj-w9#key-1", ledger.TxDIDAddKey, ledger.DIDAddKey{DID: "did:lz:gaj-w9", Key: keyRecord("key-2", testKey("did:lz:gaj-w9#key-2"), time.Time{})}), ledger.CodeOK)
	expectBoth(t, h, "controller revokes", h.tx(gaj, ledger.TxDIDRevokeKey, ledger.DIDRevokeKey{DID: "did:lz:gaj-w9", KeyID: "key-1"}), ledger.CodeOK)
	expectBoth(t, h, "revoke again", h.tx(gaj, ledger.TxDIDRevokeKey, ledger.DIDRevokeKey{DID: "did:lz:gaj-w9", KeyID: "key-1"}), ledger.CodeConflict)
	expectBoth(t, h, "revoked key signs", h.tx("did:lz:gaj-w9#key-1", ledger.TxDIDAddKey, ledger.DIDAddKey{DID: "did:lz:gaj-w9", Key: keyRecord("key-3", testKey("k3"), time.Time{})}), ledger.CodeBadSignature)
	expectBoth(t, h, "mark revoked key compromised", h.tx(gaj, ledger.TxDIDRevokeKey, ledger.DIDRevokeKey{DID: "did:lz:gaj-w9", KeyID: "key-1", Compromised: true}), ledger.CodeOK)
	if hs := h.history("did:lz:gaj-w9"); !hs.Keys[0].Compromised || hs.Keys[0].ValidUntil == nil {
		t.Fatalf("history after compromise %+v", hs.Keys[0])
	}
	// Only the controller deactivates; afterwards nothing changes the DID and its keys sign nothing.
	expectBoth(t, h, "self deactivate", h.tx("did:lz:gaj-w9#key-2", ledger.TxDIDDeactivate, ledger.DIDDeactivate{DID: "did:lz:gaj-w9"}), ledger.CodeUnauthorized)
	expectBoth(t, h, "deactivate", h.tx(gaj, ledger.TxDIDDeactivate, ledger.DIDDeactivate{DID: "did:lz:gaj-w9"}), ledger.CodeOK)
	expectBoth(t, h, "deactivate again", h.tx(gaj, ledger.TxDIDDeactivate, ledger.DIDDeactivate{DID: "did:lz:gaj-w9"}), ledger.CodeConflict)
	expectBoth(t, h, "add key to deactivated", h.tx(gaj, ledger.TxDIDAddKey, ledger.DIDAddKey{DID: "did:lz:gaj-w9", Key: keyRecord("key-4", testKey("k4"), time.Time{})}), ledger.CodeConflict)
	expectBoth(t, h, "create deactivated again", h.tx(gaj, ledger.TxDIDCreate, ledger.DIDCreate{DID: "did:lz:gaj-w9", Keys: []did.KeyRecord{keyRecord("key-1", testKey("k5"), time.Time{})}}), ledger.CodeConflict)
	if hs := h.history("did:lz:gaj-w9"); hs.Deactivated == nil {
		t.Fatal("not deactivated")
	}
}

// Key rotation keeps history: the old key verified before the rotation time, not after.
func TestKeyRotationKeepsHistory(t *testing.T) {
	h := newHarness(t)
	h.mustOK()
	k2 := testKey("did:lz:mzj#key-2")
	h.keys["did:lz:mzj#key-2"] = k2
	h.mustOK(h.tx(mzj, ledger.TxDIDAddKey, ledger.DIDAddKey{DID: "did:lz:mzj", Key: keyRecord("key-2", k2, time.Time{})}))
	added := h.now
	// Same block: a key cannot be revoked in the block that added it; later it can.
	h.mustOK(h.tx("did:lz:mzj#key-2", ledger.TxDIDRevokeKey, ledger.DIDRevokeKey{DID: "did:lz:mzj", KeyID: "key-1"}))
	rotated := h.now
	old := h.tx(mzj, ledger.TxStatusSet, statusBody(1, 1))
	if r := h.check(old); r.Code != ledger.CodeBadSignature {
		t.Fatalf("old key after rotation: %d %s", r.Code, r.Log)
	}
	if r := h.check(h.tx("did:lz:mzj#key-2", ledger.TxStatusSet, statusBody(1, 1))); r.Code != ledger.CodeOK {
		t.Fatalf("new key: %d %s", r.Code, r.Log)
	}
	hs := h.history("did:lz:mzj")
	if len(hs.Keys) != 2 {
		t.Fatalf("history %+v", hs)
	}
	for _, c := range []struct {
		key   string
		at    time.Time
		valid bool
	}{
		{"key-1", rotated.Add(-time.Second), true},
		{"key-1", rotated, false},
		{"key-1", genesisTime, true},
		{"key-2", added, true},
		{"key-2", added.Add(-time.Second), false},
		{"key-2", rotated.Add(time.Hour), true},
	} {
		_, err := hs.KeyAt(c.key, c.at)
		if (err == nil) != c.valid {
			t.Errorf("KeyAt(%s, %s) = %v, want valid %v", c.key, c.at, err, c.valid)
		}
	}
	// The version before the rotation still holds the old history (proved queries by height).
	r := h.query(ledger.QueryKey, ledger.KeyDID("did:lz:mzj"), h.height-1, true)
	var before did.History
	if err := json.Unmarshal(r.Value, &before); err != nil || before.Keys[0].ValidUntil != nil {
		t.Fatalf("history at height %d: %s", h.height-1, r.Value)
	}
	// Revoking in the block that added the key is refused.
	k3 := testKey("did:lz:mzj#key-3")
	h.keys["did:lz:mzj#key-3"] = k3
	res := h.block(h.tx("did:lz:mzj#key-2", ledger.TxDIDAddKey, ledger.DIDAddKey{DID: "did:lz:mzj", Key: keyRecord("key-3", k3, time.Time{})}),
		h.tx("did:lz:mzj#key-2", ledger.TxDIDRevokeKey, ledger.DIDRevokeKey{DID: "did:lz:mzj", KeyID: "key-3"}))
	if res[0].Code != ledger.CodeOK || res[1].Code != ledger.CodeConflict {
		t.Fatalf("same-block add+revoke: %d %d %s", res[0].Code, res[1].Code, res[1].Log)
	}
	// Compromised at revocation: never valid, even before.
	h.mustOK(h.tx("did:lz:mzj#key-2", ledger.TxDIDRevokeKey, ledger.DIDRevokeKey{DID: "did:lz:mzj", KeyID: "key-3", Compromised: true}))
	if _, err := h.history("did:lz:mzj").KeyAt("key-3", h.now.Add(-time.Second)); err == nil {
		t.Fatal("compromised key still valid in its interval")
	}
}
