package wallet

import (
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"sync"
	"testing"
	"time"

	"lianzheng/credential/jws"
	"lianzheng/credential/sdjwtvc"
	"lianzheng/did"
	"lianzheng/home/demonet"
	"lianzheng/internal/keystore"
	"lianzheng/ledger"
	ledgernode "lianzheng/ledger/node"
	"lianzheng/ledgerclient"
)

// testKS is a cheap keystore setting for tests not about the KDF.
var testKS = &keystore.Options{KDF: &keystore.KDFParams{Time: 1, Memory: 8 * 1024, Threads: 1}}

func init() { BackupKDF = keystore.KDFParams{Time: 1, Memory: 8 * 1024, Threads: 1} }

// env is one embedded ledger node shared by the package's tests.
type env struct {
	home string
	node *ledgernode.Node
	cl   *ledgerclient.Client
	keys map[string]*demonet.DemoKey
}

var (
	envOnce sync.Once
	envVal  *env
	envErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if envVal != nil {
		envVal.node.Stop()
		os.RemoveAll(envVal.home)
	}
	os.Exit(code)
}

func ledgerEnv(t testing.TB) *env {
	t.Helper()
	if testing.Short() {
		t.Skip("starts an embedded ledger node")
	}
	envOnce.Do(func() {
		home, err := os.MkdirTemp("", "lz-wallet-ledger-")
		if err != nil {
			envErr = err
			return
		}
		if _, _, err := demonet.InitEmbedded(home, demonet.EmbeddedOptions{EmptyBlocksInterval: 200 * time.Millisecond,
			Now: time.Now().Add(-time.Minute)}); err != nil {
			envErr = err
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		node, err := ledgernode.StartHomeNode(ctx, home, nil)
		if err != nil {
			envErr = err
			return
		}
		root, err := ledgerclient.GenesisRootFile(ledgernode.GenesisFile(home))
		if err != nil {
			envErr = err
			return
		}
		cl, err := ledgerclient.Dial(node.RPCAddress(), root, ledgerclient.Config{PollInterval: 50 * time.Millisecond})
		if err != nil {
			envErr = err
			return
		}
		e := &env{home: home, node: node, cl: cl, keys: map[string]*demonet.DemoKey{}}
		for _, id := range []string{"public-security", "civil-affairs", "realestate-window-01"} {
			k, err := demonet.LoadKey(demonet.KeyDir(home), id)
			if err != nil {
				envErr = err
				return
			}
			e.keys[id] = k
		}
		envVal = e
	})
	if envErr != nil {
		t.Fatal(envErr)
	}
	return envVal
}

// testIssuer is a minimal OpenID4VCI 1.0 credential issuer (pre-authorised code flow with
// tx_code, nonce endpoint, jwt key proofs). It is a test double of the PROTOCOL, written
// from the specification — not of our issuer service (issuer/).
type testIssuer struct {
	srv     *httptest.Server
	mu      sync.Mutex
	key     *demonet.DemoKey // the department signing key
	vct     string
	claims  map[string]any
	disc    []string
	pin     string
	code    string
	nonces  map[string]bool
	tokens  map[string]bool
	index   int // status index of the last issued credential
	draft13 bool
	lastErr error
}

func newTestIssuer(t *testing.T, key *demonet.DemoKey, vct string, claims map[string]any, pin string) *testIssuer {
	ti := &testIssuer{key: key, vct: vct, claims: claims, pin: pin, code: "code-" + newID(),
		nonces: map[string]bool{}, tokens: map[string]bool{}}
	for k := range claims {
		ti.disc = append(ti.disc, k)
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /.well-known/openid-credential-issuer", func(w http.ResponseWriter, r *http.Request) {
		md := map[string]any{"credential_issuer": ti.srv.URL, "credential_endpoint": ti.srv.URL + "/credential",
			"credential_configurations_supported": map[string]any{"cfg": map[string]any{"format": "dc+sd-jwt", "vct": vct}}}
		if !ti.draft13 {
			md["nonce_endpoint"] = ti.srv.URL + "/nonce"
		}
		json.NewEncoder(w).Encode(md)
	})
	mux.HandleFunc("GET /.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
		json.NewEncoder(w).Encode(map[string]any{"issuer": ti.srv.URL, "token_endpoint": ti.srv.URL + "/token"})
	})
	oauthErr := func(w http.ResponseWriter, code int, e string) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(code)
		json.NewEncoder(w).Encode(map[string]string{"error": e})
	}
	mux.HandleFunc("POST /token", func(w http.ResponseWriter, r *http.Request) {
		r.ParseForm()
		ti.mu.Lock()
		defer ti.mu.Unlock()
		if r.Form.Get("grant_type") != GrantPreAuthCode || r.Form.Get("pre-authorized_code") != ti.code {
			oauthErr(w, 400, "invalid_grant")
			return
		}
		if ti.pin != "" && r.Form.Get("tx_code") != ti.pin {
			oauthErr(w, 400, "invalid_grant")
			return
		}
		tok := newID()
		ti.tokens[tok] = true
		resp := map[string]any{"access_token": tok, "token_type": "Bearer", "expires_in": 300}
		if ti.draft13 {
			n := newID()
			ti.nonces[n] = true
			resp["c_nonce"] = n
		}
		json.NewEncoder(w).Encode(resp)
	})
	mux.HandleFunc("GET /offer", func(w http.ResponseWriter, r *http.Request) {
		o := ti.offer()
		u, _ := url.Parse(o)
		w.Header().Set("Content-Type", "application/json")
		w.Write([]byte(u.Query().Get("credential_offer")))
	})
	mux.HandleFunc("POST /nonce", func(w http.ResponseWriter, r *http.Request) {
		ti.mu.Lock()
		n := newID()
		ti.nonces[n] = true
		ti.mu.Unlock()
		w.Header().Set("Cache-Control", "no-store")
		json.NewEncoder(w).Encode(map[string]string{"c_nonce": n})
	})
	mux.HandleFunc("POST /credential", func(w http.ResponseWriter, r *http.Request) {
		ti.mu.Lock()
		defer ti.mu.Unlock()
		auth := r.Header.Get("Authorization")
		if len(auth) < 8 || !ti.tokens[auth[7:]] {
			oauthErr(w, 401, "invalid_token")
			return
		}
		var req struct {
			ID     string `json:"credential_configuration_id"`
			Proofs struct {
				JWT []string `json:"jwt"`
			} `json:"proofs"`
			Proof struct {
				Type string `json:"proof_type"`
				JWT  string `json:"jwt"`
			} `json:"proof"`
		}
		json.NewDecoder(r.Body).Decode(&req)
		proof := req.Proof.JWT
		if !ti.draft13 {
			if len(req.Proofs.JWT) != 1 || proof != "" {
				oauthErr(w, 400, "invalid_proof")
				return
			}
			proof = req.Proofs.JWT[0]
		}
		holder, err := ti.checkProof(proof)
		if err != nil || req.ID != "cfg" {
			ti.lastErr = err
			oauthErr(w, 400, "invalid_proof")
			return
		}
		n, _ := rand.Int(rand.Reader, big.NewInt(ledger.StatusListSize))
		ti.index = int(n.Int64())
		member := ti.key.ID
		sd, err := sdjwtvc.Issue(sdjwtvc.Credential{Issuer: ti.key.DID, KeyID: ti.key.KeyID, VCT: ti.vct,
			IssuedAt: time.Now().Add(-time.Second), Expires: time.Now().AddDate(1, 0, 0), Claims: ti.claims,
			Disclosable: ti.disc, Holder: holder,
			Status: &sdjwtvc.Status{Index: ti.index, URI: ledger.StatusListURI(member, 0)}},
			jws.NewEd25519Signer(ti.key.PrivateKey()))
		if err != nil {
			oauthErr(w, 500, "server_error")
			return
		}
		json.NewEncoder(w).Encode(map[string]any{"credentials": []map[string]any{{"credential": sd.String()}}})
	})
	ti.srv = httptest.NewServer(mux)
	t.Cleanup(ti.srv.Close)
	return ti
}

func (ti *testIssuer) checkProof(proof string) (did.PublicKey, error) {
	p, err := jws.Parse(proof)
	if err != nil {
		return did.PublicKey{}, err
	}
	if p.Header["typ"] != ProofTyp {
		return did.PublicKey{}, fmt.Errorf("typ %v", p.Header["typ"])
	}
	jb, _ := json.Marshal(p.Header["jwk"])
	hk, err := did.ParseJWKJSON(jb)
	if err != nil {
		return did.PublicKey{}, err
	}
	if err := p.Verify(hk.Key); err != nil {
		return did.PublicKey{}, err
	}
	var c struct {
		Aud   string `json:"aud"`
		Nonce string `json:"nonce"`
		Iat   int64  `json:"iat"`
	}
	json.Unmarshal(p.Payload, &c)
	if c.Aud != ti.srv.URL || !ti.nonces[c.Nonce] || time.Since(time.Unix(c.Iat, 0)).Abs() > time.Minute {
		return did.PublicKey{}, errors.New("aud, nonce or iat")
	}
	delete(ti.nonces, c.Nonce)
	return hk, nil
}

func (ti *testIssuer) offer() string {
	o := map[string]any{"credential_issuer": ti.srv.URL, "credential_configuration_ids": []string{"cfg"},
		"grants": map[string]any{GrantPreAuthCode: map[string]any{"pre-authorized_code": ti.code,
			"tx_code": map[string]any{"input_mode": "numeric", "length": 6}}}}
	b, _ := json.Marshal(o)
	return OfferScheme + "?credential_offer=" + url.QueryEscape(string(b))
}

func newTestWallet(t testing.TB, l Ledger) *Wallet {
	t.Helper()
	w, err := Init(t.TempDir(), "123456", &Options{Keystore: testKS})
	if err != nil {
		t.Fatal(err)
	}
	w.Ledger = l
	t.Cleanup(func() { w.Close() })
	return w
}

var _ = ed25519.PublicKeySize
