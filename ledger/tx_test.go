package ledger

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"lianzheng/did"
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
	if code != CodeOK && !bytes.Equal(before, h.appHash()) {
		t.Errorf("%s: rejected transaction changed the app hash", name)
	}
	if code != CodeOK && (res[0].Log == "" || res[0].Codespace != Codespace) {
		t.Errorf("%s: rejection without log or codespace", name)
	}
}

func statusBody(idx, val int) StatusSet {
	return StatusSet{List: 0, Updates: []StatusUpdate{{Index: idx, Value: val}}}
}

func TestEnvelopeRejections(t *testing.T) {
	h := newHarness(t)
	h.mustOK()
	good := h.tx(gaj, TxStatusSet, statusBody(1, 1))
	canon := func(mod func(*Envelope)) []byte { return h.tx(gaj, TxStatusSet, statusBody(1, 1), mod) }
	resign := func(mod func(e *Envelope)) []byte {
		e := h.env(gaj, TxStatusSet, statusBody(1, 1))
		mod(e)
		b, _ := e.Bytes()
		return b
	}
	raw := func(body string) []byte {
		return h.tx(gaj, TxStatusSet, json.RawMessage(body))
	}
	h.keys["did:lz:gaj#key-9"] = testKey("did:lz:gaj#key-9")
	cases := []struct {
		name string
		tx   []byte
		code uint32
	}{
		{"empty", nil, CodeMalformed},
		{"not json", []byte("{"), CodeMalformed},
		{"array", []byte("[]"), CodeMalformed},
		{"oversized", append(bytes.Repeat([]byte(" "), MaxTxBytes), good...), CodeMalformed},
		{"whitespace", append([]byte(" "), good...), CodeMalformed},
		{"indented", func() []byte { var b bytes.Buffer; json.Indent(&b, good, "", " "); return b.Bytes() }(), CodeMalformed},
		{"unknown envelope member", bytes.Replace(good, []byte(`{"v":1`), []byte(`{"x":1,"v":1`), 1), CodeMalformed},
		{"uppercase envelope member", bytes.Replace(good, []byte(`"chain"`), []byte(`"Chain"`), 1), CodeMalformed},
		{"duplicate envelope member", bytes.Replace(good, []byte(`{"v":1`), []byte(`{"v":1,"v":1`), 1), CodeMalformed},
		{"version", canon(func(e *Envelope) { e.V = 2 }), CodeMalformed},
		{"wrong chain", canon(func(e *Envelope) { e.Chain = "lz-other" }), CodeMalformed},
		{"unknown type", canon(func(e *Envelope) { e.Type = "status.wipe" }), CodeMalformed},
		{"body not object", raw(`[1]`), CodeMalformed},
		{"body malformed value", raw(`{"list":"0","updates":[]}`), CodeMalformed},
		{"body unknown field", raw(`{"list":0,"updates":[{"index":1,"value":1}],"extra":1}`), CodeMalformed},
		{"body case-folded field", raw(`{"List":0,"updates":[{"index":1,"value":1}]}`), CodeMalformed},
		{"body duplicate field", raw(`{"list":0,"list":1,"updates":[{"index":1,"value":1}]}`), CodeMalformed},
		{"body nested unknown", raw(`{"list":0,"updates":[{"index":1,"value":1,"x":0}]}`), CodeMalformed},
		{"body float", raw(`{"list":0,"updates":[{"index":1.5,"value":1}]}`), CodeMalformed},
		{"body too deep", raw(`{"list":0,"updates":[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]}`), CodeMalformed},
		{"short nonce", canon(func(e *Envelope) { e.Nonce = "abc" }), CodeMalformed},
		{"long nonce", canon(func(e *Envelope) { e.Nonce = strings.Repeat("a", 65) }), CodeMalformed},
		{"nonce alphabet", canon(func(e *Envelope) { e.Nonce = "nonce+with/slash=" }), CodeMalformed},
		{"signer without fragment", canon(func(e *Envelope) { e.Signer = "did:lz:gaj" }), CodeMalformed},
		{"signer did:key", canon(func(e *Envelope) { e.Signer = "did:key:" + multikey(testKey("x")) + "#x" }), CodeMalformed},
		{"unknown signer", h.tx("did:lz:nobody#key-1", TxStatusSet, statusBody(1, 1)), CodeUnauthorized},
		{"unknown key", h.tx("did:lz:gaj#key-9", TxStatusSet, statusBody(1, 1)), CodeBadSignature},
		{"bad signature", resign(func(e *Envelope) { e.Body = json.RawMessage(`{"list":0,"updates":[{"index":2,"value":1}]}`) }), CodeBadSignature},
		{"signature by another key", resign(func(e *Envelope) { e.Sign(testKey("intruder")) }), CodeBadSignature},
		{"signature not base64url", resign(func(e *Envelope) { e.Sig = strings.Repeat("+", 86) }), CodeBadSignature},
		{"signature truncated", resign(func(e *Envelope) { e.Sig = e.Sig[:80] }), CodeBadSignature},
		{"no signature", resign(func(e *Envelope) { e.Sig = "" }), CodeBadSignature},
	}
	for _, c := range cases {
		expectBoth(t, h, c.name, c.tx, c.code)
	}
	// The good one passes, then is a replay in CheckTx, in a later block and in the same block.
	expectBoth(t, h, "good", good, CodeOK)
	expectBoth(t, h, "replay", good, CodeReplay)
	again := h.tx(gaj, TxStatusSet, statusBody(3, 1))
	res := h.block(again, again)
	if res[0].Code != CodeOK || res[1].Code != CodeReplay {
		t.Errorf("same-block replay: codes %d %d", res[0].Code, res[1].Code)
	}
	// The same nonce with another body is a replay too.
	reuse := h.tx(gaj, TxStatusSet, statusBody(4, 1), func(e *Envelope) { e.Nonce = "nonce-000000000001" })
	if r := h.check(reuse); r.Code != CodeReplay {
		t.Errorf("nonce reuse: %d %s", r.Code, r.Log)
	}
	// Two different pending transactions with one nonce: the second is refused by CheckTx;
	// the same transaction again is not (CometBFT's cache handles that).
	p1 := h.tx(gaj, TxStatusSet, statusBody(5, 1), func(e *Envelope) { e.Nonce = "pending-nonce-0001" })
	p2 := h.tx(gaj, TxStatusSet, statusBody(6, 1), func(e *Envelope) { e.Nonce = "pending-nonce-0001" })
	if r := h.check(p1); r.Code != CodeOK {
		t.Fatalf("p1: %d %s", r.Code, r.Log)
	}
	if r := h.check(p1); r.Code != CodeOK {
		t.Fatalf("p1 again: %d %s", r.Code, r.Log)
	}
	if r := h.check(p2); r.Code != CodeReplay {
		t.Fatalf("p2: %d %s", r.Code, r.Log)
	}
	if res := h.block(p2, p1); res[0].Code != CodeOK || res[1].Code != CodeReplay {
		t.Fatalf("block: %d %d", res[0].Code, res[1].Code)
	}
}

func TestStatusSet(t *testing.T) {
	h := newHarness(t)
	h.mustOK()
	many := make([]StatusUpdate, MaxStatusUpdates+1)
	for i := range many {
		many[i] = StatusUpdate{Index: i, Value: 1}
	}
	cases := []struct {
		name   string
		signer string
		body   StatusSet
		code   uint32
	}{
		{"window not member", w1, statusBody(1, 1), CodeUnauthorized},
		{"list negative", gaj, StatusSet{List: -1, Updates: statusBody(1, 1).Updates}, CodeInvalid},
		{"list 16", gaj, StatusSet{List: 16, Updates: statusBody(1, 1).Updates}, CodeInvalid},
		{"no updates", gaj, StatusSet{List: 0}, CodeInvalid},
		{"index negative", gaj, statusBody(-1, 1), CodeInvalid},
		{"index too large", gaj, statusBody(StatusListSize, 1), CodeInvalid},
		{"value 3", gaj, statusBody(1, 3), CodeInvalid},
		{"value negative", gaj, statusBody(1, -1), CodeInvalid},
	}
	for _, c := range cases {
		expectBoth(t, h, c.name, h.tx(c.signer, TxStatusSet, c.body), c.code)
	}
	// 4,097 updates do not fit in MaxTxBytes as JSON: check the limit on the handler itself.
	c := &txCtx{st: state{newOverlay(mapReader{})}, member: &Member{ID: "gaj"}, env: &Envelope{Type: TxStatusSet}}
	if err := c.statusSet(&StatusSet{List: 0, Updates: many}); err == nil || err.code != CodeInvalid {
		t.Errorf("too many updates: %v", err)
	}
	if b := h.get(KeyStatusChunk("gaj", 0, 0)); b != nil {
		t.Fatalf("chunk written by rejected transactions")
	}
	// Success: entries in two chunks; W3C bit order; each member writes only its own lists.
	h.mustOK(h.tx(gaj, TxStatusSet, StatusSet{List: 15, Updates: []StatusUpdate{{0, 1}, {1, 2}, {5, 1}, {StatusListSize - 1, 2}}}),
		h.tx(mzj, TxStatusSet, StatusSet{List: 15, Updates: []StatusUpdate{{0, 2}}}))
	c0 := h.get(KeyStatusChunk("gaj", 15, 0))
	if len(c0) != StatusChunkBytes || c0[0] != 0b01_10_00_00 || c0[1] != 0b00_01_00_00 {
		t.Fatalf("chunk 0 starts %08b %08b", c0[0], c0[1])
	}
	c3 := h.get(KeyStatusChunk("gaj", 15, StatusChunks-1))
	if c3[StatusChunkBytes-1] != 0b00_00_00_10 {
		t.Fatalf("last entry byte %08b", c3[StatusChunkBytes-1])
	}
	if h.get(KeyStatusChunk("gaj", 15, 1)) != nil {
		t.Fatalf("untouched chunk was written")
	}
	if m := h.get(KeyStatusChunk("mzj", 15, 0)); m[0] != 0b10_00_00_00 {
		t.Fatalf("mzj chunk %08b", m[0])
	}
	// Reset to valid.
	h.mustOK(h.tx(gaj, TxStatusSet, StatusSet{List: 15, Updates: []StatusUpdate{{1, 0}}}))
	if c0 := h.get(KeyStatusChunk("gaj", 15, 0)); c0[0] != 0b01_00_00_00 {
		t.Fatalf("after reset %08b", c0[0])
	}
}

func TestAnchorPost(t *testing.T) {
	h := newHarness(t)
	h.mustOK()
	root := strings.Repeat("a1", 32)
	cases := []struct {
		name   string
		signer string
		body   AnchorPost
		code   uint32
	}{
		{"member is not a window", gaj, AnchorPost{Root: root, Count: 1}, CodeUnauthorized},
		{"short root", w1, AnchorPost{Root: root[:62], Count: 1}, CodeInvalid},
		{"uppercase root", w1, AnchorPost{Root: strings.ToUpper(root), Count: 1}, CodeInvalid},
		{"non-hex root", w1, AnchorPost{Root: strings.Repeat("zz", 32), Count: 1}, CodeInvalid},
		{"count 0", w1, AnchorPost{Root: root, Count: 0}, CodeInvalid},
		{"count too large", w1, AnchorPost{Root: root, Count: MaxAnchorCount + 1}, CodeInvalid},
	}
	for _, c := range cases {
		expectBoth(t, h, c.name, h.tx(c.signer, TxAnchorPost, c.body), c.code)
	}
	res := h.mustOK(h.tx(w1, TxAnchorPost, AnchorPost{Root: root, Count: 7}), h.tx(w1, TxAnchorPost, AnchorPost{Root: root, Count: MaxAnchorCount}))
	var a Anchor
	if err := json.Unmarshal(res[1].Data, &a); err != nil || a.Seq != 2 {
		t.Fatalf("result data %s", res[1].Data)
	}
	if !h.getJSON(KeyAnchor("did:lz:bdc-w1", 1), &a) || a.Count != 7 || a.Root != root || a.Height != h.height || !a.Time.Equal(h.now) {
		t.Fatalf("anchor 1 = %+v", a)
	}
	if string(h.get(KeyAnchorSeq("did:lz:bdc-w1"))) != "2" {
		t.Fatalf("seq = %s", h.get(KeyAnchorSeq("did:lz:bdc-w1")))
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
		{"create by non-member", w1, TxDIDCreate, DIDCreate{DID: "did:lz:gaj-w9", Keys: []did.KeyRecord{rec}}, CodeUnauthorized},
		{"create existing", gaj, TxDIDCreate, DIDCreate{DID: "did:lz:mzj", Keys: []did.KeyRecord{rec}}, CodeConflict},
		{"create bad did", gaj, TxDIDCreate, DIDCreate{DID: "did:lz:Bad", Keys: []did.KeyRecord{rec}}, CodeInvalid},
		{"create did:key", gaj, TxDIDCreate, DIDCreate{DID: "did:key:" + multikey(nk), Keys: []did.KeyRecord{rec}}, CodeInvalid},
		{"create no keys", gaj, TxDIDCreate, DIDCreate{DID: "did:lz:gaj-w9"}, CodeInvalid},
		{"create bad key", gaj, TxDIDCreate, DIDCreate{DID: "did:lz:gaj-w9", Keys: []did.KeyRecord{{ID: "k", PublicKeyMultibase: "zzz", Purposes: []string{"authentication"}}}}, CodeInvalid},
		{"create bad purpose", gaj, TxDIDCreate, DIDCreate{DID: "did:lz:gaj-w9", Keys: []did.KeyRecord{{ID: "k", PublicKeyMultibase: multikey(nk), Purposes: []string{"everything"}}}}, CodeInvalid},
		{"create duplicate key ids", gaj, TxDIDCreate, DIDCreate{DID: "did:lz:gaj-w9", Keys: []did.KeyRecord{rec, keyRecord("key-1", testKey("o"), time.Time{})}}, CodeInvalid},
		{"create with validUntil", gaj, TxDIDCreate, DIDCreate{DID: "did:lz:gaj-w9", Keys: []did.KeyRecord{func() did.KeyRecord { r := rec; r.ValidUntil = &until; return r }()}}, CodeInvalid},
		{"add key to unknown DID", gaj, TxDIDAddKey, DIDAddKey{DID: "did:lz:nobody", Key: rec}, CodeNotFound},
		{"add key to another member", gaj, TxDIDAddKey, DIDAddKey{DID: "did:lz:mzj", Key: keyRecord("key-2", testKey("x2"), time.Time{})}, CodeUnauthorized},
		{"add key with used id", gaj, TxDIDAddKey, DIDAddKey{DID: "did:lz:gaj", Key: keyRecord("key-1", testKey("x3"), time.Time{})}, CodeConflict},
		{"add key already present", gaj, TxDIDAddKey, DIDAddKey{DID: "did:lz:gaj", Key: keyRecord("key-2", testKey("did:lz:gaj#key-1"), time.Time{})}, CodeInvalid},
		{"revoke unknown key", gaj, TxDIDRevokeKey, DIDRevokeKey{DID: "did:lz:gaj", KeyID: "key-7"}, CodeNotFound},
		{"revoke last key", gaj, TxDIDRevokeKey, DIDRevokeKey{DID: "did:lz:gaj", KeyID: "key-1"}, CodeConflict},
		{"revoke other member's key", gaj, TxDIDRevokeKey, DIDRevokeKey{DID: "did:lz:mzj", KeyID: "key-1"}, CodeUnauthorized},
		{"window revokes department key", w1, TxDIDRevokeKey, DIDRevokeKey{DID: "did:lz:bdc", KeyID: "key-1"}, CodeUnauthorized},
		{"deactivate member DID", gaj, TxDIDDeactivate, DIDDeactivate{DID: "did:lz:gaj"}, CodeUnauthorized},
		{"deactivate by non-controller", gaj, TxDIDDeactivate, DIDDeactivate{DID: "did:lz:bdc-w1"}, CodeUnauthorized},
		{"window deactivates itself", w1, TxDIDDeactivate, DIDDeactivate{DID: "did:lz:bdc-w1"}, CodeUnauthorized},
		{"deactivate unknown", gaj, TxDIDDeactivate, DIDDeactivate{DID: "did:lz:nobody"}, CodeNotFound},
	}
	for _, c := range cases {
		expectBoth(t, h, c.name, h.tx(c.signer, c.typ, c.body), c.code)
	}
	// Create: controller is the signer, keys start at the block time.
	expectBoth(t, h, "create", h.tx(gaj, TxDIDCreate, DIDCreate{DID: "did:lz:gaj-w9", Keys: []did.KeyRecord{rec}}), CodeOK)
	hs := h.history("did:lz:gaj-w9")
	if hs.Controller != "did:lz:gaj" || !hs.Created.Equal(h.now) || !hs.Keys[0].ValidFrom.Equal(h.now) {
		t.Fatalf("created history %+v", hs)
	}
	// The new DID and its controller can both manage its keys.
	h.keys["did:lz:gaj-w9#key-2"] = testKey("did:lz:gaj-w9#key-2")
	expectBoth(t, h, "self add key", h.tx("did:lz:gaj-w9#key-1", TxDIDAddKey, DIDAddKey{DID: "did:lz:gaj-w9", Key: keyRecord("key-2", testKey("did:lz:gaj-w9#key-2"), time.Time{})}), CodeOK)
	expectBoth(t, h, "controller revokes", h.tx(gaj, TxDIDRevokeKey, DIDRevokeKey{DID: "did:lz:gaj-w9", KeyID: "key-1"}), CodeOK)
	expectBoth(t, h, "revoke again", h.tx(gaj, TxDIDRevokeKey, DIDRevokeKey{DID: "did:lz:gaj-w9", KeyID: "key-1"}), CodeConflict)
	expectBoth(t, h, "revoked key signs", h.tx("did:lz:gaj-w9#key-1", TxDIDAddKey, DIDAddKey{DID: "did:lz:gaj-w9", Key: keyRecord("key-3", testKey("k3"), time.Time{})}), CodeBadSignature)
	expectBoth(t, h, "mark revoked key compromised", h.tx(gaj, TxDIDRevokeKey, DIDRevokeKey{DID: "did:lz:gaj-w9", KeyID: "key-1", Compromised: true}), CodeOK)
	if hs := h.history("did:lz:gaj-w9"); !hs.Keys[0].Compromised || hs.Keys[0].ValidUntil == nil {
		t.Fatalf("history after compromise %+v", hs.Keys[0])
	}
	// Only the controller deactivates; afterwards nothing changes the DID and its keys sign nothing.
	expectBoth(t, h, "self deactivate", h.tx("did:lz:gaj-w9#key-2", TxDIDDeactivate, DIDDeactivate{DID: "did:lz:gaj-w9"}), CodeUnauthorized)
	expectBoth(t, h, "deactivate", h.tx(gaj, TxDIDDeactivate, DIDDeactivate{DID: "did:lz:gaj-w9"}), CodeOK)
	expectBoth(t, h, "deactivate again", h.tx(gaj, TxDIDDeactivate, DIDDeactivate{DID: "did:lz:gaj-w9"}), CodeConflict)
	expectBoth(t, h, "add key to deactivated", h.tx(gaj, TxDIDAddKey, DIDAddKey{DID: "did:lz:gaj-w9", Key: keyRecord("key-4", testKey("k4"), time.Time{})}), CodeConflict)
	expectBoth(t, h, "create deactivated again", h.tx(gaj, TxDIDCreate, DIDCreate{DID: "did:lz:gaj-w9", Keys: []did.KeyRecord{keyRecord("key-1", testKey("k5"), time.Time{})}}), CodeConflict)
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
	h.mustOK(h.tx(mzj, TxDIDAddKey, DIDAddKey{DID: "did:lz:mzj", Key: keyRecord("key-2", k2, time.Time{})}))
	added := h.now
	// Same block: a key cannot be revoked in the block that added it; later it can.
	h.mustOK(h.tx("did:lz:mzj#key-2", TxDIDRevokeKey, DIDRevokeKey{DID: "did:lz:mzj", KeyID: "key-1"}))
	rotated := h.now
	old := h.tx(mzj, TxStatusSet, statusBody(1, 1))
	if r := h.check(old); r.Code != CodeBadSignature {
		t.Fatalf("old key after rotation: %d %s", r.Code, r.Log)
	}
	if r := h.check(h.tx("did:lz:mzj#key-2", TxStatusSet, statusBody(1, 1))); r.Code != CodeOK {
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
	r := h.query(QueryKey, KeyDID("did:lz:mzj"), h.height-1, true)
	var before did.History
	if err := json.Unmarshal(r.Value, &before); err != nil || before.Keys[0].ValidUntil != nil {
		t.Fatalf("history at height %d: %s", h.height-1, r.Value)
	}
	// Revoking in the block that added the key is refused.
	k3 := testKey("did:lz:mzj#key-3")
	h.keys["did:lz:mzj#key-3"] = k3
	res := h.block(h.tx("did:lz:mzj#key-2", TxDIDAddKey, DIDAddKey{DID: "did:lz:mzj", Key: keyRecord("key-3", k3, time.Time{})}),
		h.tx("did:lz:mzj#key-2", TxDIDRevokeKey, DIDRevokeKey{DID: "did:lz:mzj", KeyID: "key-3"}))
	if res[0].Code != CodeOK || res[1].Code != CodeConflict {
		t.Fatalf("same-block add+revoke: %d %d %s", res[0].Code, res[1].Code, res[1].Log)
	}
	// Compromised at revocation: never valid, even before.
	h.mustOK(h.tx("did:lz:mzj#key-2", TxDIDRevokeKey, DIDRevokeKey{DID: "did:lz:mzj", KeyID: "key-3", Compromised: true}))
	if _, err := h.history("did:lz:mzj").KeyAt("key-3", h.now.Add(-time.Second)); err == nil {
		t.Fatal("compromised key still valid in its interval")
	}
}
