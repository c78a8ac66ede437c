package wallet

import (
	"crypto/ed25519"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"lianzheng/credential/jws"
	"lianzheng/credential/sdjwtvc"
	"lianzheng/credential/wire"
	"lianzheng/did"
	"lianzheng/internal/benchfloor"
)

// benchWallet holds a household register and a marriage certificate issued locally (no
// ledger) and a plan asking for the real-estate fields of both.
func benchWallet(b testing.TB) (*Wallet, *Plan) {
	w, err := Init(b.TempDir(), "123456", &Options{Keystore: testKS})
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { w.Close() })
	type spec struct {
		typ, dep string
		claims   map[string]any
		fields   []string
	}
	specs := []spec{
		{"household-register", "public-security", householdClaims, []string{"name", "id_number", "address", "relation_to_head"}},
		{"marriage-certificate", "civil-affairs", marriageClaims, []string{"holder_name", "spouse_name", "spouse_id_number", "registration_date", "certificate_number"}},
	}
	var reqs []wire.FieldRequest
	for _, s := range specs {
		reqs = append(reqs, wire.FieldRequest{Type: s.typ, Fields: s.fields})
	}
	r, err := wire.New(windowDID, windowDID+"#key-1", "realestate-transfer", reqs, time.Now(), 10*time.Minute)
	if err != nil {
		b.Fatal(err)
	}
	p := &Plan{Request: r}
	for _, s := range specs {
		_, ik, _ := ed25519.GenerateKey(nil)
		kid, _ := w.Keys.NewEd25519()
		pub, _ := w.Keys.Public(kid)
		hp, _ := did.NewPublicKey(pub)
		var disc []string
		for k := range s.claims {
			disc = append(disc, k)
		}
		sd, err := sdjwtvc.Issue(sdjwtvc.Credential{Issuer: "did:lz:" + s.dep, KeyID: "did:lz:" + s.dep + "#key-1",
			VCT: "urn:lz:vct:" + s.typ, IssuedAt: time.Now(), Expires: time.Now().AddDate(1, 0, 0), Claims: s.claims,
			Disclosable: disc, Holder: hp, Status: &sdjwtvc.Status{Index: 4711, URI: "urn:lz:status:" + s.dep + ":0"}},
			jws.NewEd25519Signer(ik))
		if err != nil {
			b.Fatal(err)
		}
		c := Credential{ID: newID(), SDJWT: sd.String(), Type: s.typ, VCT: "urn:lz:vct:" + s.typ, Issuer: "did:lz:" + s.dep,
			HolderKID: kid, StatusURI: "urn:lz:status:" + s.dep + ":0", StatusIdx: 4711}
		w.Store.PutCredential(&c)
		p.Asks = append(p.Asks, Ask{Type: s.typ, Allowed: s.fields, Candidates: []Item{{Credential: c, Status: StatusValid}}, Chosen: c.ID})
	}
	return w, p
}

// BenchmarkResponse2 builds the real-estate response (two credentials, 9 disclosures, two
// KB-JWTs signed by sealed keys, one compact QR). Floor: the two raw Ed25519 signatures it
// contains. "build" excludes the history write, "with-history" includes its fsync'd commit.
func BenchmarkResponse2(b *testing.B) {
	sign, _ := benchfloor.Ed25519()
	for _, mode := range []string{"build", "with-history"} {
		b.Run(mode, func(b *testing.B) {
			w, p := benchWallet(b)
			o := &PresentOptions{noHistory: mode == "build"}
			b.ResetTimer()
			for b.Loop() {
				if _, err := w.Present(b.Context(), p, o); err != nil {
					b.Fatal(err)
				}
			}
			benchfloor.Report(b, 2*sign)
		})
	}
}

// BenchmarkOpenStore1000 opens a store of 1,000 sealed credentials and lists them (unseal and
// decode each). Floor: decoding the 1,000 JSON records alone.
func BenchmarkOpenStore1000(b *testing.B) {
	w, p := benchWallet(b)
	base := p.Asks[0].Candidates[0].Credential
	dir := b.TempDir()
	s, err := OpenStore(dir)
	if err != nil {
		b.Fatal(err)
	}
	s.crypt = w.Keys   // records sealed as in a real wallet
	s.db.NoSync = true // fill fast; the benchmark measures opening
	for i := range 1000 {
		c := base
		c.ID = fmt.Sprintf("c%04d", i)
		c.Received = time.Now()
		if err := s.PutCredential(&c); err != nil {
			b.Fatal(err)
		}
	}
	s.db.Sync()
	s.Close()
	// floor: decoding the 1,000 records, which any listing must do
	rec, _ := json.Marshal(&base)
	start := time.Now()
	n := 0
	for time.Since(start) < 300*time.Millisecond {
		for range 1000 {
			var c Credential
			json.Unmarshal(rec, &c)
		}
		n++
	}
	floor := float64(time.Since(start).Nanoseconds()) / float64(n)
	b.ResetTimer()
	for b.Loop() {
		s, err := OpenStore(dir)
		if err != nil {
			b.Fatal(err)
		}
		s.crypt = w.Keys
		cs, err := s.Credentials()
		if err != nil || len(cs) != 1000 {
			b.Fatal(len(cs), err)
		}
		s.Close()
	}
	benchfloor.Report(b, floor)
}

// TestNothingRegisteredNothingShown: a type whose requested fields are all refused (or all
// declined) is left out of the response entirely.
func TestNothingRegisteredNothingShown(t *testing.T) {
	w, p := benchWallet(t)
	p.Asks[1].Refused, p.Asks[1].Allowed = p.Asks[1].Allowed, nil
	resp, err := w.Present(t.Context(), p, nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Texts) != 1 || resp.Fields[p.Asks[1].Type] != nil {
		t.Fatalf("presented %v", resp.Fields)
	}
	resp, err = w.Present(t.Context(), p, &PresentOptions{Omit: map[string][]string{p.Asks[0].Type: p.Asks[0].Allowed}})
	if err == nil {
		t.Fatalf("everything declined, still presented %v", resp.Fields)
	}
}
