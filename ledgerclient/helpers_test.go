package ledgerclient

import (
	"context"
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"lianzheng/did"
	"lianzheng/ledger"
)

var bg = context.Background()

func mustJSON(t testing.TB, v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// testState is a seeded genesis: n departments (members with DIDs), types, a window.
type testState struct {
	seed map[string][]byte
	keys map[string]ed25519.PrivateKey // member id -> key-1
}

var created = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

func deptID(i int) string { return fmt.Sprintf("dept-%03d", i) }

func newTestState(t testing.TB, n int) *testState {
	s := &testState{seed: map[string][]byte{}, keys: map[string]ed25519.PrivateKey{}}
	s.seed[string(ledger.KeyParams())] = mustJSON(t, ledger.Params{Approvals: 2})
	for i := 0; i < n; i++ {
		id := deptID(i)
		_, k, _ := ed25519.GenerateKey(nil)
		s.keys[id] = k
		d := "did:lz:" + id
		s.seed[string(ledger.KeyMember(id))] = mustJSON(t, ledger.Member{ID: id, DID: d, Name: ledger.Text{Zh: "部门", En: id}})
		h := &did.History{DID: d, Created: created, Keys: []did.KeyRecord{{
			ID: "key-1", PublicKeyMultibase: mustMultikey(t, k.Public()), ValidFrom: created,
			Purposes: []string{did.PurposeAssertion, did.PurposeAuthentication},
		}}}
		s.seed[string(ledger.KeyDID(d))] = mustJSON(t, h)
	}
	for _, ty := range []ledger.CredentialType{
		{ID: "household-register", VCT: "urn:lz:vct:household-register", Issuers: []string{deptID(0)}, MaxValidityDays: 3650},
		{ID: "marriage-certificate", VCT: "urn:lz:vct:marriage-certificate", Issuers: []string{deptID(1 % n)}, MaxValidityDays: 36500},
	} {
		s.seed[string(ledger.KeyType(ty.ID))] = mustJSON(t, ty)
	}
	w := ledger.Window{DID: "did:lz:window-1", Department: deptID(0), ServiceItems: []ledger.ServiceItem{{ID: "real-estate",
		Requests: []ledger.FieldRequest{{Type: "household-register", Fields: []string{"name"}}}}}}
	s.seed[string(ledger.KeyWindow(w.DID))] = mustJSON(t, w)
	return s
}

func mustMultikey(t testing.TB, pub any) string {
	m, err := did.EncodeMultikey(pub)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func signer(s *testState, id string) Signer {
	return Signer{KeyID: "did:lz:" + id + "#key-1", Key: s.keys[id]}
}

// newTestClient starts a fake chain over st and a client trusting its genesis.
func newTestClient(t testing.TB, nvals int, st *testState) (*fakeChain, *Client) {
	c := newFakeChain(t, nvals, st.seed)
	c.mine()
	c.autoMine = true
	cl, err := New(c, c.root(), Config{PollInterval: time.Millisecond, ResubmitAfter: 20 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	return c, cl
}

func ed25519Key() (ed25519.PublicKey, ed25519.PublicKey, ed25519.PrivateKey) {
	pub, priv, _ := ed25519.GenerateKey(nil)
	return pub, pub, priv
}

func fmtX(b []byte) string { return fmt.Sprintf("%X", b) }

// statusAt is ledger.StatusAt with -1 for an index outside the list.
func statusAt(list []byte, i int) int {
	v, err := ledger.StatusAt(list, i)
	if err != nil {
		return -1
	}
	return v
}
