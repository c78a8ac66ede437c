// Package onlinerig is the shared set-up of the online-service benchmarks (portal and wallet
// `make bench` figures, docs/portal.md): a demo home (embedded ledger, the demo departments),
// a citizen wallet holding the real-estate item's two credentials, and a portal for the
// demo's online service on 127.0.0.1 — the same portal.Server and verifier core as the
// demo's, with its records in memory and its trust view cached for an hour (the warm path a
// busy portal runs; the per-client rate limit lifted, since one client asks as fast as it
// can). It lives under internal/rig because it drives every core. All personal
// data is invented test data.
package onlinerig

import (
	"context"
	"encoding/json"
	"errors"
	"net"
	"net/http"
	"os"
	"testing"
	"time"

	"lianzheng/credential/oid4vp"
	"lianzheng/did"
	"lianzheng/home"
	"lianzheng/internal/democitizen"
	"lianzheng/internal/keystore"
	"lianzheng/issuer"
	"lianzheng/portal"
	"lianzheng/verifier"
	"lianzheng/wallet"
)

// Item is the demo's online service item.
const Item = "property-transfer-online"

var claims = democitizen.Claims()

// Rig is the running set-up.
type Rig struct {
	Home     *home.Home
	Wallet   *wallet.Wallet
	Server   *portal.Server
	Verifier *verifier.Verifier
	URL      string
	// Loopback lets the wallet use the portal's http:// loopback URLs.
	Loopback *wallet.OpenID4VPOptions
}

// New starts the rig; it is closed when tb ends.
func New(tb testing.TB) *Rig {
	tb.Helper()
	ctx := context.Background()
	dir, err := os.MkdirTemp("", "lz-onlinerig-")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { os.RemoveAll(dir) })
	h, err := home.OpenDemo(ctx, dir, &home.Options{EmptyBlocksInterval: 300 * time.Millisecond,
		Keystore: &keystore.Options{KDF: &keystore.KDFParams{Time: 1, Memory: 8 * 1024, Threads: 1}}})
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { h.Close() })
	r := &Rig{Home: h, Loopback: &wallet.OpenID4VPOptions{InsecureLoopback: true}}
	if err := h.Wallet().Setup("20261125"); err != nil {
		tb.Fatal(err)
	}
	if r.Wallet, err = h.Wallet().Core(); err != nil {
		tb.Fatal(err)
	}
	for typ, member := range map[string]string{"household-register": "public-security", "marriage-certificate": "civil-affairs"} {
		dep, _ := h.Issuer(member)
		kid, err := r.Wallet.Keys.NewEd25519()
		if err != nil {
			tb.Fatal(err)
		}
		pub, _ := r.Wallet.Keys.Public(kid)
		hp, _ := did.NewPublicKey(pub)
		iss, err := dep.Core().Issue(ctx, issuer.Request{Type: typ, Claims: claims[typ], Holder: hp})
		if err != nil {
			tb.Fatal(err)
		}
		if _, err := r.Wallet.Accept(ctx, h.Ledger(), iss.SDJWT, kid); err != nil {
			tb.Fatal(err)
		}
	}
	k, err := h.DemoKey(home.DemoPortal)
	if err != nil {
		tb.Fatal(err)
	}
	trust := verifier.NewOnlineTrust(h.Ledger(), time.Hour)
	if r.Verifier, err = verifier.New(verifier.Config{Trust: trust, Window: k.DID, KeyID: k.KeyID, Key: k.PrivateKey(), NoSession: true}); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { r.Verifier.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatal(err)
	}
	r.URL = "http://" + ln.Addr().String()
	if r.Server, err = portal.New(portal.Config{Verifier: r.Verifier, Trust: trust, DID: k.DID, KeyID: k.KeyID, Key: k.PrivateKey(), BaseURL: r.URL,
		PerMinute: 1 << 30, Burst: 1 << 20}); err != nil { // one client asking as fast as it can: no rate limit
		tb.Fatal(err)
	}
	hs := &http.Server{Handler: r.Server.Handler(), ReadHeaderTimeout: 10 * time.Second}
	go hs.Serve(ln)
	tb.Cleanup(func() { hs.Close() })
	return r
}

// Start opens an application session and returns its id and openid4vp:// link.
func (r *Rig) Start(tb testing.TB) (id, link string) {
	tb.Helper()
	s, err := r.Server.Start(context.Background(), Item)
	if err != nil {
		tb.Fatal(err)
	}
	return s.ID, s.Link
}

// Answer is the wallet's encrypted answer (the compact JWE it would post) to a fresh
// session, with the session's id: the request planned and the presentations made by the
// wallet core, bound to the request's nonce and client id, encrypted to its key.
func (r *Rig) Answer(tb testing.TB) (id, jwe string) {
	tb.Helper()
	ctx := context.Background()
	id, link := r.Start(tb)
	pl, err := r.Wallet.PlanOpenID4VP(ctx, link, r.Loopback)
	if err != nil {
		tb.Fatal(err)
	}
	// the wallet posts to a path the portal answers 404: its presentations, not posted
	req := pl.Online.Request
	save := req.ResponseURI
	req.ResponseURI = r.URL + "/oid4vp/response/nowhere"
	res, err := r.Wallet.PresentOpenID4VP(ctx, pl, nil)
	req.ResponseURI = save
	if err != nil {
		tb.Fatal(err)
	}
	// the texts come in the plan's order of asks (one per chosen credential)
	vp := map[string][]string{}
	i := 0
	for _, a := range pl.Asks {
		if a.Chosen == "" || i >= len(res.Texts) {
			continue
		}
		q := pl.Online.QueryIDs[a.Type]
		vp[q] = append(vp[q], res.Texts[i])
		i++
	}
	if len(vp) != len(pl.Online.QueryIDs) || i != len(res.Texts) {
		tb.Fatal(errors.New("onlinerig: an answer lacks a credential"))
	}
	pt, err := json.Marshal(oid4vp.Response{VPToken: vp, State: req.State})
	if err != nil {
		tb.Fatal(err)
	}
	to, err := req.EncryptionKey()
	if err != nil {
		tb.Fatal(err)
	}
	if jwe, err = oid4vp.Encrypt(to, req.Enc(), req.Nonce, pt); err != nil {
		tb.Fatal(err)
	}
	return id, jwe
}
