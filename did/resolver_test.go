package did

import (
	"context"
	"crypto/ed25519"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"
)

func newTestResolver(t testing.TB, now time.Time, hs ...*History) MultiResolver {
	t.Helper()
	s, err := NewStaticResolver(hs...)
	if err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return now }
	return MultiResolver{LZ: s}
}

// resolverFunc adapts a function to Resolver, to model a faulty ledger client.
type resolverFunc func(ctx context.Context, did string) (*Resolution, error)

func (f resolverFunc) Resolve(ctx context.Context, did string) (*Resolution, error) {
	return f(ctx, did)
}

func TestMultiResolver(t *testing.T) {
	ctx := context.Background()
	r := newTestResolver(t, tRotate.Add(time.Hour), rotatedHistory())
	const key = "did:key:zDnaerx9CtbPJ1q36T5Ln5wYt3MQYeGRG5ehnPAmxcf5mDZpv"
	res, err := r.Resolve(ctx, key)
	if err != nil || res.Document.ID != key || res.Metadata.Deactivated {
		t.Fatalf("did:key: %+v, %v", res, err)
	}
	res, err = r.Resolve(ctx, "did:lz:gaj-beijing")
	if err != nil {
		t.Fatal(err)
	}
	if res.Document == nil || len(res.Document.AssertionMethod) != 1 || res.Document.AssertionMethod[0] != "did:lz:gaj-beijing#key-2" {
		t.Errorf("current document: %s", mustJSON(t, res.Document))
	}
	if len(res.History.Keys) != 3 || res.Metadata.VersionID != "1" || res.Metadata.Height != 1 ||
		!res.Metadata.Created.Equal(tCreated) || !res.Metadata.Updated.Equal(tRotate) {
		t.Errorf("history/metadata: %+v", res.Metadata)
	}
	// Callers cannot change the resolver's state through what it returns.
	res.History.Keys[0].ValidUntil = nil
	res2, _ := r.Resolve(ctx, "did:lz:gaj-beijing")
	if res2.History.Keys[0].ValidUntil == nil {
		t.Error("resolution shares memory with the resolver")
	}

	for _, c := range []struct {
		r    Resolver
		did  string
		want error
	}{
		{r, "did:lz:unknown", ErrNotFound},
		{r, "did:lz:Bad", ErrInvalidDID},
		{r, "did:lz:gaj-beijing#key-1", ErrInvalidDID},
		{r, "did:web:example.com", ErrUnsupportedMethod},
		{r, "did:key:z6Mk", ErrInvalidDID},
		{MultiResolver{}, "did:lz:gaj-beijing", ErrUnsupportedMethod},
	} {
		_, err := c.r.Resolve(ctx, c.did)
		if !errors.Is(err, c.want) {
			t.Errorf("Resolve(%s) err = %v, want %v", c.did, err, c.want)
		}
		if err != nil && !strings.HasPrefix(err.Error(), "resolve ") {
			t.Errorf("Resolve(%s) error lacks context: %v", c.did, err)
		}
	}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	for _, did := range []string{key, "did:lz:gaj-beijing"} {
		if _, err := r.Resolve(cancelled, did); !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled Resolve(%s) err = %v", did, err)
		}
	}
}

func TestMultiResolverChecksLedgerAnswer(t *testing.T) {
	ctx := context.Background()
	good, err := NewStaticResolver(rotatedHistory())
	if err != nil {
		t.Fatal(err)
	}
	other := rotatedHistory()
	other.DID = "did:lz:mca"
	otherDoc, _ := other.Document(tRotate)
	cases := map[string]resolverFunc{
		"nil resolution": func(context.Context, string) (*Resolution, error) { return nil, nil },
		"other history": func(context.Context, string) (*Resolution, error) {
			return &Resolution{History: other, Document: otherDoc}, nil
		},
		"other document": func(ctx context.Context, did string) (*Resolution, error) {
			res, err := good.Resolve(ctx, did)
			if err == nil {
				res.Document = otherDoc
			}
			return res, err
		},
		"no document, active": func(ctx context.Context, did string) (*Resolution, error) {
			res, err := good.Resolve(ctx, did)
			if err == nil {
				res.Document = nil
			}
			return res, err
		},
		"invalid history": func(ctx context.Context, did string) (*Resolution, error) {
			res, err := good.Resolve(ctx, did)
			if err == nil {
				res.History.Keys[1].PublicKeyMultibase = res.History.Keys[0].PublicKeyMultibase
			}
			return res, err
		},
	}
	for name, f := range cases {
		if _, err := (MultiResolver{LZ: f}).Resolve(ctx, "did:lz:gaj-beijing"); !errors.Is(err, ErrInvalidDID) {
			t.Errorf("%s: MultiResolver err = %v", name, err)
		}
		if _, err := AssertionKeyAt(ctx, f, "did:lz:gaj-beijing#key-2", tRotate); !errors.Is(err, ErrInvalidDID) {
			t.Errorf("%s: AssertionKeyAt err = %v", name, err)
		}
	}
	failing := resolverFunc(func(context.Context, string) (*Resolution, error) { return nil, ErrNotFound })
	_, err = (MultiResolver{LZ: failing}).Resolve(ctx, "did:lz:gaj-beijing")
	if !errors.Is(err, ErrNotFound) || !strings.HasPrefix(err.Error(), "resolve did:lz:gaj-beijing: ") {
		t.Errorf("ledger error not wrapped: %v", err)
	}
}

func TestAssertionKeyAt(t *testing.T) {
	ctx := context.Background()
	r := newTestResolver(t, tEnd, rotatedHistory())
	k1, _ := DecodeMultikey(testKey(1))
	k2, _ := DecodeMultikey(testKey(2))
	const lz = "did:lz:gaj-beijing"
	const dk = "did:key:z6MkiTBz1ymuepAQ4HEHYSF1H8quG5GLVVQR3djdX3mDooWp"
	cases := []struct {
		name, url string
		at        time.Time
		want      error
		key       PublicKey
	}{
		{"old key before rotation", lz + "#key-1", tRotate.Add(-time.Second), nil, k1},
		{"old key at rotation", lz + "#key-1", tRotate, ErrKeyNotValid, PublicKey{}},
		{"old key after rotation", lz + "#key-1", tEnd, ErrKeyNotValid, PublicKey{}},
		{"new key before rotation", lz + "#key-2", tRotate.Add(-time.Second), ErrKeyNotValid, PublicKey{}},
		{"new key after rotation", lz + "#key-2", tEnd, nil, k2},
		{"authentication-only key", lz + "#key-auth", tEnd, ErrKeyNotValid, PublicKey{}},
		{"unknown key", lz + "#key-9", tEnd, ErrNotFound, PublicKey{}},
		{"unknown did", "did:lz:nobody#key-1", tEnd, ErrNotFound, PublicKey{}},
		{"no fragment", lz, tEnd, ErrInvalidDID, PublicKey{}},
		{"malformed", "did:lz:gaj beijing#key-1", tEnd, ErrInvalidDID, PublicKey{}},
		{"did:key", dk + "#" + dk[8:], tEnd, nil, mustParseKey(t, dk)},
		{"did:key wrong fragment", dk + "#key-1", tEnd, ErrNotFound, PublicKey{}},
		{"unsupported method", "did:web:example.com#key-1", tEnd, ErrUnsupportedMethod, PublicKey{}},
	}
	for _, c := range cases {
		k, err := AssertionKeyAt(ctx, r, c.url, c.at)
		if c.want == nil {
			if err != nil || !k.Equal(c.key) {
				t.Errorf("%s: AssertionKeyAt = %v, %v", c.name, k.Alg, err)
			}
			if err := CheckAssertionKey(ctx, r, c.url, c.key.JWK(), c.at); err != nil {
				t.Errorf("%s: CheckAssertionKey(JWK): %v", c.name, err)
			}
			if err := CheckAssertionKey(ctx, r, c.url, k3(t), c.at); !errors.Is(err, ErrKeyNotValid) {
				t.Errorf("%s: CheckAssertionKey(other key): %v", c.name, err)
			}
			continue
		}
		if !errors.Is(err, c.want) {
			t.Errorf("%s: AssertionKeyAt err = %v, want %v", c.name, err, c.want)
		}
	}

	if u, err := FindAssertionKey(ctx, r, lz, k1.Key, tCreated); err != nil || u != lz+"#key-1" {
		t.Errorf("FindAssertionKey(k1, created) = %q, %v", u, err)
	}
	if u, err := FindAssertionKey(ctx, r, lz, k2.JWK(), tEnd); err != nil || u != lz+"#key-2" {
		t.Errorf("FindAssertionKey(k2, end) = %q, %v", u, err)
	}
	if _, err := FindAssertionKey(ctx, r, lz, k1, tEnd); !errors.Is(err, ErrKeyNotValid) {
		t.Errorf("FindAssertionKey(k1, end) err = %v", err)
	}
	if _, err := FindAssertionKey(ctx, r, lz+"#key-1", k1, tCreated); !errors.Is(err, ErrInvalidDID) {
		t.Errorf("FindAssertionKey(DID URL) err = %v", err)
	}
	if _, err := AssertionKeyAt(ctx, nil, lz+"#key-1", tCreated); err == nil {
		t.Error("nil resolver accepted")
	}
}

func mustParseKey(t testing.TB, did string) PublicKey {
	t.Helper()
	k, err := ParseKey(did)
	if err != nil {
		t.Fatal(err)
	}
	return k
}

func k3(t testing.TB) ed25519.PublicKey {
	k, err := DecodeMultikey(testKey(9))
	if err != nil {
		t.Fatal(err)
	}
	return k.Key.(ed25519.PublicKey)
}

func TestAssertionKeyAtDeactivated(t *testing.T) {
	ctx := context.Background()
	h := rotatedHistory()
	h.Deactivated = ptr(tEnd)
	for _, now := range []time.Time{tEnd.Add(-time.Hour), tEnd, tEnd.AddDate(1, 0, 0)} {
		r := newTestResolver(t, now, h)
		res, err := r.Resolve(ctx, h.DID)
		if err != nil {
			t.Fatalf("Resolve at %s: %v", now, err)
		}
		if deact := !now.Before(tEnd); res.Metadata.Deactivated != deact || (res.Document == nil) != deact {
			t.Errorf("at %s: deactivated=%v document=%v", now, res.Metadata.Deactivated, res.Document != nil)
		}
		// Even for a time before deactivation: the signer chooses the claimed time.
		if _, err := AssertionKeyAt(ctx, r, h.DID+"#key-2", tRotate); !errors.Is(err, ErrDeactivated) {
			t.Errorf("at %s: AssertionKeyAt err = %v", now, err)
		}
	}
	r := newTestResolver(t, tEnd, h)
	if res, _ := r.Resolve(ctx, h.DID); !res.Metadata.Updated.Equal(tEnd) {
		t.Errorf("Updated = %s, want deactivation time", res.Metadata.Updated)
	}
}

func TestStaticResolverUpdates(t *testing.T) {
	ctx := context.Background()
	s, err := NewStaticResolver()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Put(&History{DID: "did:lz:x", Keys: []KeyRecord{{ID: "k", PublicKeyMultibase: "z", Purposes: []string{PurposeAssertion}}}}); !errors.Is(err, ErrInvalidDID) {
		t.Errorf("Put(invalid) err = %v", err)
	}
	if _, err := NewStaticResolver(&History{DID: "bad"}); !errors.Is(err, ErrInvalidDID) {
		t.Errorf("NewStaticResolver(invalid) err = %v", err)
	}
	s.Now = func() time.Time { return tEnd }
	h := rotatedHistory()
	h.Keys = h.Keys[:1]
	h.Keys[0].ValidUntil = nil
	if err := s.Put(h); err != nil {
		t.Fatal(err)
	}
	h.Keys = rotatedHistory().Keys // rotate; the stored copy is unaffected until Put
	res, _ := s.Resolve(ctx, h.DID)
	if len(res.History.Keys) != 1 || res.Metadata.VersionID != "1" {
		t.Errorf("before update: %d keys, version %s", len(res.History.Keys), res.Metadata.VersionID)
	}
	if err := s.Put(h); err != nil {
		t.Fatal(err)
	}
	if err := s.Put(&History{DID: "did:lz:mca", Created: tCreated}); err != nil {
		t.Fatal(err)
	}
	res, _ = s.Resolve(ctx, h.DID)
	if len(res.History.Keys) != 3 || res.Metadata.VersionID != "2" || res.Metadata.Height != 3 {
		t.Errorf("after update: %d keys, version %s, height %d", len(res.History.Keys), res.Metadata.VersionID, res.Metadata.Height)
	}
	// A DID with no keys yet resolves to a document without verification methods.
	res, err = s.Resolve(ctx, "did:lz:mca")
	if err != nil || res.Document == nil || len(res.Document.VerificationMethod) != 0 {
		t.Errorf("keyless DID: %+v, %v", res, err)
	}
	// Not yet created at "now".
	s.Now = func() time.Time { return tCreated.Add(-time.Hour) }
	if _, err := s.Resolve(ctx, h.DID); !errors.Is(err, ErrNotFound) {
		t.Errorf("before creation: %v", err)
	}
}

func TestStaticResolverConcurrent(t *testing.T) {
	ctx := context.Background()
	s, err := NewStaticResolver(rotatedHistory())
	if err != nil {
		t.Fatal(err)
	}
	r := MultiResolver{LZ: s}
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			for j := 0; j < 50; j++ {
				if i%2 == 0 {
					if err := s.Put(rotatedHistory()); err != nil {
						t.Error(err)
					}
					continue
				}
				if _, err := AssertionKeyAt(ctx, r, "did:lz:gaj-beijing#key-1", tCreated); err != nil {
					t.Error(err)
				}
			}
		}(i)
	}
	wg.Wait()
}

func TestErrorMessages(t *testing.T) {
	ctx := context.Background()
	r := newTestResolver(t, tEnd, rotatedHistory())
	for _, c := range []struct{ url, want string }{
		{"did:lz:nobody#key-1", "resolve did:lz:nobody: did: not found: did:lz:nobody"},
		{"did:lz:gaj-beijing#key-1", "did: key not valid: did:lz:gaj-beijing#key-1 not valid at 2026-06-30T00:00:00Z"},
		{"did:lz:gaj-beijing#key-auth", "did: key not valid: did:lz:gaj-beijing#key-auth is not an assertion method"},
		{"did:lz:gaj beijing#k", `did: invalid: "did:lz:gaj beijing": id must be 1-64 characters of [a-z0-9-], not starting or ending with '-'`},
		{"did:lz:gaj#k 1", `did: invalid: DID URL "did:lz:gaj#k 1": fragment must be 1-128 characters of [A-Za-z0-9._~-]`},
	} {
		_, err := AssertionKeyAt(ctx, r, c.url, tEnd)
		if err == nil || err.Error() != c.want {
			t.Errorf("%s: error %q, want %q", c.url, err, c.want)
		}
	}
}
