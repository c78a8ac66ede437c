package verifier

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"fmt"
	"sync"
	"testing"
	"time"

	"lianzheng/credential"
	"lianzheng/credential/jws"
	"lianzheng/credential/sdjwt"
)

// claimFix is a window (memory or directory store) with requests made, the citizen's genuine
// credentials (two sets: two distinct answers to one request) and an attacker's forgeries.
type claimFix struct {
	m        *memWindow
	v        *Verifier
	reqs     []*Request // reqs[0] the oldest
	foreign  *Request   // a request of the same window DID made by another verifier (not this one's)
	hr, mc   *held
	hr2, mc2 *held
	forged   *held // household register signed by a key that is not the department's
	expired  *held // household register past its exp
	texts    []string
}

func newClaimFix(t *testing.T, dir string, open int) *claimFix {
	t.Helper()
	now := time.Now()
	m := newMemWindow(t, now)
	f := &claimFix{m: m, v: m.v}
	if dir != "" {
		v, err := New(Config{Trust: m.trust, Window: m.v.cfg.Window, KeyID: m.v.cfg.KeyID, Key: m.v.cfg.Key,
			Dir: dir, Now: func() time.Time { return now }})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { v.Close() })
		f.v = v
	}
	_, bad, _ := ed25519.GenerateKey(rand.Reader)
	f.hr, f.mc = m.issue(t, "household-register", now), m.issue(t, "marriage-certificate", now)
	f.hr2, f.mc2 = m.issue(t, "household-register", now), m.issue(t, "marriage-certificate", now)
	f.forged = m.issueWith(t, "household-register", now, issueOpt{signKey: bad})
	f.expired = m.issueWith(t, "household-register", now, issueOpt{iat: now.Add(-2 * time.Hour), exp: now.Add(-time.Hour)})
	other, err := New(Config{Trust: m.trust, Window: m.v.cfg.Window, KeyID: m.v.cfg.KeyID, Key: m.v.cfg.Key,
		Now: func() time.Time { return now }}) // another store
	if err != nil {
		t.Fatal(err)
	}
	if f.foreign, err = other.NewRequest(context.Background(), "property-transfer"); err != nil {
		t.Fatal(err)
	}
	for range open {
		r, err := f.v.NewRequest(context.Background(), "property-transfer")
		if err != nil {
			t.Fatal(err)
		}
		f.reqs = append(f.reqs, r)
	}
	return f
}

// answer is the LZ1R text of hr and mc presented to r.
func (f *claimFix) answer(t testing.TB, r *Request, hr, mc *held) string {
	no, a := r.Request.NonceString(), r.Request.Audience()
	return answer(t, f.v, r, hr.present(t, no, a), mc.present(t, no, a))
}

// Issue 16.2: only an answer that verified consumes its request; a refused answer leaves
// it open and says its own reason (never "replayed" unless the request was really used);
// an answer to any still-valid request is found however many newer requests are open.
func TestRequestConsumedOnlyByVerifiedAnswer(t *testing.T) {
	type answerOf func(f *claimFix, t *testing.T) string
	to := func(i int, pick func(f *claimFix) (*held, *held)) answerOf {
		return func(f *claimFix, t *testing.T) string {
			hr, mc := pick(f)
			return f.answer(t, f.reqs[i], hr, mc)
		}
	}
	genuine := func(i int) answerOf { return to(i, func(f *claimFix) (*held, *held) { return f.hr, f.mc }) }
	genuine2 := func(i int) answerOf { return to(i, func(f *claimFix) (*held, *held) { return f.hr2, f.mc2 }) }
	forged := func(i int) answerOf { return to(i, func(f *claimFix) (*held, *held) { return f.forged, f.mc }) }
	expired := func(i int) answerOf { return to(i, func(f *claimFix) (*held, *held) { return f.expired, f.mc }) }
	forgedKB := func(i int) answerOf { // the genuine credential, bound with a key that is not its holder's
		return func(f *claimFix, t *testing.T) string {
			r := f.reqs[i]
			no, a := r.Request.NonceString(), r.Request.Audience()
			_, k, _ := ed25519.GenerateKey(rand.Reader)
			sub, _ := f.hr.sd.Select(requested["household-register"]...)
			s, err := sub.Bind(jws.NewEd25519Signer(k), no, a, time.Now())
			if err != nil {
				t.Fatal(err)
			}
			return answer(t, f.v, r, s, f.mc.present(t, no, a))
		}
	}
	carried := func(i int) answerOf { // a KB-JWT payload not in canonical form: the compact form carries it, nonce included
		return func(f *claimFix, t *testing.T) string {
			r := f.reqs[i]
			no, a := r.Request.NonceString(), r.Request.Audience()
			sub, _ := f.hr.sd.Select(requested["household-register"]...)
			payload := fmt.Sprintf(`{"nonce": %q, "aud": %q, "iat": %d, "sd_hash": %q}`, no, a, time.Now().Unix(), sdjwt.Digest(sub.SDHashInput()))
			kb, err := jws.Sign(map[string]any{"typ": sdjwt.KBTyp}, []byte(payload), f.hr.holder)
			if err != nil {
				t.Fatal(err)
			}
			return answer(t, f.v, r, sub.SDHashInput()+kb, f.mc.present(t, no, a))
		}
	}
	foreign := func(pick func(f *claimFix) (*held, *held)) answerOf {
		return func(f *claimFix, t *testing.T) string {
			hr, mc := pick(f)
			return f.answer(t, f.foreign, hr, mc)
		}
	}
	same := func(k int) answerOf { return func(f *claimFix, _ *testing.T) string { return f.texts[k] } }
	const ok credential.Code = ""
	type step struct {
		what string
		text answerOf
		want credential.Code
	}
	cases := []struct {
		name  string
		open  int // requests the window made before the steps
		steps []step
	}{
		{"forged issuer signature leaves the request open", 1, []step{
			{"forged", forged(0), credential.CodeBadSignature},
			{"forged again", forged(0), credential.CodeBadSignature},
			{"genuine", genuine(0), ok},
			{"second genuine", genuine2(0), credential.CodeReplayed},
		}},
		{"expired credential leaves the request open", 1, []step{
			{"expired", expired(0), credential.CodeExpired},
			{"genuine", genuine(0), ok},
		}},
		{"forged KB-JWT leaves the request open", 1, []step{
			{"forged KB-JWT", forgedKB(0), credential.CodeBadKB},
			{"genuine", genuine(0), ok},
		}},
		{"forged answer to an answered request", 1, []step{
			{"genuine", genuine(0), ok},
			{"forged", forged(0), credential.CodeBadSignature},
			{"expired", expired(0), credential.CodeExpired},
			{"second genuine", genuine2(0), credential.CodeReplayed},
		}},
		{"forged answer with no request at all", 0, []step{
			{"forged", foreign(func(f *claimFix) (*held, *held) { return f.forged, f.mc }), credential.CodeBadSignature},
			{"expired", foreign(func(f *claimFix) (*held, *held) { return f.expired, f.mc }), credential.CodeExpired},
			{"genuine", foreign(func(f *claimFix) (*held, *held) { return f.hr, f.mc }), credential.CodeNoRequest},
		}},
		{"answer to a request this window did not make", 3, []step{
			{"genuine", foreign(func(f *claimFix) (*held, *held) { return f.hr, f.mc }), credential.CodeBadKB},
			{"forged", foreign(func(f *claimFix) (*held, *held) { return f.forged, f.mc }), credential.CodeBadSignature},
			{"genuine to the newest", genuine(2), ok},
		}},
		{"the oldest of 101 open requests", 101, []step{
			{"oldest", genuine(0), ok},
			{"middle", genuine(50), ok},
			{"oldest again", genuine2(0), credential.CodeReplayed},
			{"second oldest, nonce carried", carried(1), ok},
			{"forged to the newest", forged(100), credential.CodeBadSignature},
			{"newest", genuine(100), ok},
		}},
		{"forged answer to an old request while newer ones are open", 40, []step{
			{"forged to the oldest", forged(0), credential.CodeBadSignature},
			{"expired to the oldest", expired(0), credential.CodeExpired},
			{"newest", genuine(39), ok},
			{"oldest", genuine(0), ok},
		}},
		{"replay", 2, []step{
			{"genuine", genuine(1), ok},
			{"the same answer", same(0), credential.CodeReplayed},
			{"another answer to the same request", genuine2(1), credential.CodeReplayed},
			{"the other request", genuine(0), ok},
			{"the first answer again", same(0), credential.CodeReplayed},
		}},
	}
	for _, store := range []string{"memory", "directory"} {
		for _, c := range cases {
			t.Run(store+"/"+c.name, func(t *testing.T) {
				dir := ""
				if store == "directory" {
					dir = t.TempDir()
				}
				f := newClaimFix(t, dir, c.open)
				for _, s := range c.steps {
					text := s.text(f, t)
					f.texts = append(f.texts, text)
					vd := f.v.Verify(context.Background(), text)
					if vd.OK != (s.want == ok) || vd.Code != s.want {
						t.Fatalf("%s: ok %v code %q (%s), want %q", s.what, vd.OK, vd.Code, vd.Detail, s.want)
					}
					// A receipt means someone's data was seen (issue 14.3): every accepted
					// answer has one; a replay or a forgery, whose data nobody saw, has none.
					if vd.OK && vd.Receipt == "" {
						t.Fatalf("%s: accepted without a receipt", s.what)
					}
					if !vd.OK && vd.Code == credential.CodeReplayed && vd.Receipt != "" {
						t.Fatalf("%s: a receipt for a verdict that saw no one's data", s.what)
					}
					if !vd.OK && len(vd.Credentials) > 0 && vd.Code == credential.CodeReplayed {
						t.Fatalf("%s: a replayed answer shows its credentials", s.what)
					}
				}
			})
		}
	}
}

// Two verifiers on one directory (two processes): a forgery checked by one leaves the
// request open for the genuine answer checked by the other; an old request made by one is
// found by the other behind 100 newer ones; two genuine answers to one request checked at
// once by both: exactly one is accepted.
func TestClaimsAcrossVerifiers(t *testing.T) {
	dir := t.TempDir()
	f := newClaimFix(t, dir, 0)
	ctx := context.Background()
	b, err := New(Config{Trust: f.m.trust, Window: f.v.cfg.Window, KeyID: f.v.cfg.KeyID, Key: f.v.cfg.Key,
		Dir: dir, Now: f.v.cfg.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	a := f.v
	for range 101 {
		r, err := a.NewRequest(ctx, "property-transfer")
		if err != nil {
			t.Fatal(err)
		}
		f.reqs = append(f.reqs, r)
	}
	for _, s := range []struct {
		what string
		v    *Verifier
		text string
		want credential.Code
	}{
		{"forged, by b", b, f.answer(t, f.reqs[0], f.forged, f.mc), credential.CodeBadSignature},
		{"expired, by b", b, f.answer(t, f.reqs[0], f.expired, f.mc), credential.CodeExpired},
		{"genuine, by a", a, f.answer(t, f.reqs[0], f.hr, f.mc), ""},
		{"second genuine, by b", b, f.answer(t, f.reqs[0], f.hr2, f.mc2), credential.CodeReplayed},
		{"forged after the answer, by b", b, f.answer(t, f.reqs[0], f.forged, f.mc), credential.CodeBadSignature},
		{"newest, by b", b, f.answer(t, f.reqs[100], f.hr, f.mc), ""},
	} {
		if vd := s.v.Verify(ctx, s.text); vd.Code != s.want || vd.OK != (s.want == "") {
			t.Fatalf("%s: ok %v code %q (%s), want %q", s.what, vd.OK, vd.Code, vd.Detail, s.want)
		}
	}
	for i := 1; i <= 5; i++ {
		x, y := f.answer(t, f.reqs[i], f.hr, f.mc), f.answer(t, f.reqs[i], f.hr2, f.mc2)
		var wg sync.WaitGroup
		vds := make([]*Verdict, 2)
		for j, v := range []*Verifier{a, b} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				vds[j] = v.Verify(ctx, []string{x, y}[j])
			}()
		}
		wg.Wait()
		if vds[0].OK == vds[1].OK {
			t.Fatalf("request %d answered twice at once: %v %s / %v %s", i, vds[0].OK, vds[0].Code, vds[1].OK, vds[1].Code)
		}
		for _, vd := range vds {
			if !vd.OK && vd.Code != credential.CodeReplayed {
				t.Fatalf("request %d: the losing answer says %s (%s)", i, vd.Code, vd.Detail)
			}
		}
	}
}
