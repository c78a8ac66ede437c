package verifier

import (
	"context"
	"crypto/sha256"
	"fmt"
	"strings"
	"testing"
	"time"

	"lianzheng/credential"
	"lianzheng/credential/sdjwtcbor"
	"lianzheng/did"
	"lianzheng/home/demonet"
	"lianzheng/internal/rig/refcred"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
	"lianzheng/qr"
)

// memTV is an in-memory TrustView over a demo genesis state, for fuzzing and benchmarks
// (the integration tests use the real ledger).
type memTV struct {
	st     *ledger.GenesisState
	res    *did.StaticResolver
	status map[string][]byte
	t      time.Time
}

func (m *memTV) Resolve(ctx context.Context, d string) (*did.Resolution, error) {
	return m.res.Resolve(ctx, d)
}
func (m *memTV) Member(_ context.Context, id string) (*ledger.Member, error) {
	for i := range m.st.Members {
		if m.st.Members[i].ID == id {
			return &m.st.Members[i], nil
		}
	}
	return nil, ledgerclient.ErrNotFound
}
func (m *memTV) Type(_ context.Context, id string) (*ledger.CredentialType, error) {
	for i := range m.st.Types {
		if m.st.Types[i].ID == id {
			return &m.st.Types[i], nil
		}
	}
	return nil, ledgerclient.ErrNotFound
}
func (m *memTV) TypeByVCT(_ context.Context, vct string) (*ledger.CredentialType, error) {
	for i := range m.st.Types {
		if m.st.Types[i].VCT == vct {
			return &m.st.Types[i], nil
		}
	}
	return nil, ledgerclient.ErrNotFound
}
func (m *memTV) Window(_ context.Context, d string) (*ledger.Window, error) {
	for i := range m.st.Windows {
		if m.st.Windows[i].DID == d {
			return &m.st.Windows[i], nil
		}
	}
	return nil, ledgerclient.ErrNotFound
}
func (m *memTV) Params(context.Context) (*ledger.Params, error) { return &m.st.Params, nil }
func (m *memTV) StatusList(_ context.Context, member string, list int) ([]byte, error) {
	k := ledger.StatusListURI(member, list)
	if b, ok := m.status[k]; ok {
		return b, nil
	}
	return make([]byte, ledger.StatusListBytes), nil
}
func (m *memTV) Height() int64   { return 7 }
func (m *memTV) Time() time.Time { return m.t }

type staticTrust struct{ v *View }

func (s staticTrust) Current(context.Context) (*View, error) { return s.v, nil }

// memWindow is a window over an in-memory demo consortium in which vehicle-admin's key is
// the reference fixture's, and the window has a second service item asking for the
// reference driving licence's four fields.
type memWindow struct {
	v     *Verifier
	trust staticTrust
	ref   *refcred.Fixture
	cons  *demonet.Consortium
}

func newMemWindow(tb testing.TB, now time.Time) *memWindow {
	tb.Helper()
	cons, err := demonet.NewConsortium("mem", now.Add(-48*time.Hour), nil)
	if err != nil {
		tb.Fatal(err)
	}
	ref, err := refcred.DrivingLicence(now.Add(-time.Hour))
	if err != nil {
		tb.Fatal(err)
	}
	st := cons.State
	res, _ := did.NewStaticResolver()
	for _, h := range st.DIDs {
		if h.DID == ref.IssuerDID {
			r, _ := ref.Resolver.Resolve(context.Background(), ref.IssuerDID)
			h = r.History
		}
		if err := res.Put(h); err != nil {
			tb.Fatal(err)
		}
	}
	st.Windows[0].ServiceItems = append(st.Windows[0].ServiceItems, ledger.ServiceItem{ID: "reference",
		Name: ledger.Text{Zh: "参考", En: "reference"}, Purpose: ledger.Text{Zh: "基准测试", En: "benchmark"},
		Requests: []ledger.FieldRequest{{Type: "driving-licence", Fields: ref.Disclose}}})
	tv := &memTV{st: st, res: res, status: map[string][]byte{}, t: now.Add(-time.Minute)}
	view, err := newView(context.Background(), tv, "memory", st.Types, st.Members, st.Windows, nil)
	if err != nil {
		tb.Fatal(err)
	}
	k := cons.Key("realestate-window-01")
	v, err := New(Config{Trust: staticTrust{view}, Window: k.DID, KeyID: k.KeyID, Key: k.PrivateKey(), Now: func() time.Time { return now }})
	if err != nil {
		tb.Fatal(err)
	}
	return &memWindow{v: v, trust: staticTrust{view}, ref: ref, cons: cons}
}

// referenceAnswer makes a request for the reference item and the answer with the licence.
func (m *memWindow) referenceAnswer(tb testing.TB, now time.Time) string {
	tb.Helper()
	r, err := m.v.NewRequest(context.Background(), "reference")
	if err != nil {
		tb.Fatal(err)
	}
	sd, err := m.ref.Issue()
	if err != nil {
		tb.Fatal(err)
	}
	m.ref.Nonce, m.ref.Audience = r.Request.NonceString(), r.Request.Audience()
	p, err := m.ref.Present(sd, now)
	if err != nil {
		tb.Fatal(err)
	}
	return answer(tb, m.v, r, p)
}

func TestMemReference(t *testing.T) {
	now := time.Now()
	m := newMemWindow(t, now)
	vd := m.v.Verify(context.Background(), m.referenceAnswer(t, now))
	if !vd.OK || len(vd.Credentials[0].Fields) != 4 {
		t.Fatalf("%s %s", vd.Code, vd.Detail)
	}
}

// A wallet encoding with only its credentials' strings (wallet.Known) may pick a hash
// prefix that is ambiguous in the window's full dictionary; the window retries with the
// request-scoped list.
func TestAmbiguousReferenceFallback(t *testing.T) {
	now := time.Now()
	m := newMemWindow(t, now)
	// A string whose SHA-256 shares its first two bytes with "name", in the window's list only.
	target := sha256.Sum256([]byte("name"))
	var collider string
	for i := 0; ; i++ {
		s := fmt.Sprintf("urn:lz:collider:%d", i)
		if h := sha256.Sum256([]byte(s)); h[0] == target[0] && h[1] == target[1] {
			collider = s
			break
		}
	}
	m.trust.v.known = append(m.trust.v.known, collider)
	m.trust.v.knownIx = sdjwtcbor.NewKnownIndex(m.trust.v.known) // the index the window decodes with
	hr, mc := m.issue(t, "household-register", now), m.issue(t, "marriage-certificate", now)
	r, err := m.v.NewRequest(context.Background(), "property-transfer")
	if err != nil {
		t.Fatal(err)
	}
	no, a := r.Request.NonceString(), r.Request.Audience()
	scoped := scopedKnown(m.trust.v, a, requested)
	body, err := sdjwtcbor.Encode([]string{hr.present(t, no, a), mc.present(t, no, a)}, &sdjwtcbor.Context{Nonce: no, Audience: a, Known: scoped})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sdjwtcbor.Decode(body, &sdjwtcbor.Context{Nonce: no, Audience: a, Known: m.trust.v.known}); err == nil || !strings.Contains(err.Error(), "ambiguous") {
		t.Fatalf("expected an ambiguous reference with the full list, got %v", err)
	}
	if vd := m.v.Verify(context.Background(), qr.Encode("LZ1R", body)); !vd.OK {
		t.Fatalf("%s %s", vd.Code, vd.Detail)
	}
}

// A KB-JWT a minute ahead of the window clock (within the 2-minute tolerance) is accepted
// with a clock-skew note; ten minutes ahead is rejected as clock_skew.
func TestClockSkewNote(t *testing.T) {
	now := time.Now()
	m := newMemWindow(t, now)
	hr, mc := m.issue(t, "household-register", now), m.issue(t, "marriage-certificate", now)
	for _, k := range []struct {
		ahead time.Duration
		ok    bool
	}{{time.Minute, true}, {10 * time.Minute, false}} {
		r, _ := m.v.NewRequest(context.Background(), "property-transfer")
		no, a := r.Request.NonceString(), r.Request.Audience()
		var texts []string
		for _, h := range []*held{hr, mc} {
			sub, _ := h.sd.Select(requested[h.typ]...)
			s, _ := sub.Bind(h.holder, no, a, now.Add(k.ahead))
			texts = append(texts, s)
		}
		vd := m.v.Verify(context.Background(), answer(t, m.v, r, texts...))
		if vd.OK != k.ok || (k.ok && vd.SkewNote == "") || (!k.ok && vd.Code != "clock_skew") {
			t.Fatalf("%s ahead: ok %v code %s note %q", k.ahead, vd.OK, vd.Code, vd.SkewNote)
		}
	}
}

// With an ambiguous reference in the window's full dictionary, an answer is found for an
// older request behind newer ones, also behind a newer request of another service item
// (whose request-scoped dictionary cannot decode it).
func TestAmbiguousReferenceOlderRequest(t *testing.T) {
	now := time.Now()
	m := newMemWindow(t, now)
	target := sha256.Sum256([]byte("name"))
	for i := 0; ; i++ {
		s := fmt.Sprintf("urn:lz:collider:%d", i)
		if h := sha256.Sum256([]byte(s)); h[0] == target[0] && h[1] == target[1] {
			m.trust.v.known = append(m.trust.v.known, s)
			m.trust.v.knownIx = sdjwtcbor.NewKnownIndex(m.trust.v.known)
			break
		}
	}
	ctx := context.Background()
	hr, mc := m.issue(t, "household-register", now), m.issue(t, "marriage-certificate", now)
	var reqs []*Request
	for _, item := range []string{"property-transfer", "property-transfer", "property-transfer", "reference"} {
		r, err := m.v.NewRequest(ctx, item)
		if err != nil {
			t.Fatal(err)
		}
		reqs = append(reqs, r)
	}
	scoped := func(r *Request) string {
		no, a := r.Request.NonceString(), r.Request.Audience()
		body, err := sdjwtcbor.Encode([]string{hr.present(t, no, a), mc.present(t, no, a)},
			&sdjwtcbor.Context{Nonce: no, Audience: a, Known: scopedKnown(m.trust.v, a, requested)})
		if err != nil {
			t.Fatal(err)
		}
		return qr.Encode("LZ1R", body)
	}
	for _, i := range []int{0, 2, 1} {
		if vd := m.v.Verify(ctx, scoped(reqs[i])); !vd.OK {
			t.Fatalf("request %d: %s %s", i, vd.Code, vd.Detail)
		}
	}
	if vd := m.v.Verify(ctx, scoped(reqs[0])); vd.Code != credential.CodeReplayed {
		t.Fatalf("second answer to request 0: %s %s", vd.Code, vd.Detail)
	}
}
