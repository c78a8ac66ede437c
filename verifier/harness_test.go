package verifier

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"log/slog"
	"math/big"
	"os"
	"sync"
	"testing"
	"time"

	"lianzheng/credential/jws"
	"lianzheng/credential/sdjwt"
	"lianzheng/credential/sdjwtcbor"
	"lianzheng/credential/sdjwtvc"
	"lianzheng/did"
	"lianzheng/home/demonet"
	"lianzheng/internal/democitizen"
	"lianzheng/ledger"
	ledgernode "lianzheng/ledger/node"
	"lianzheng/ledgerclient"
	"lianzheng/qr"
)

// net is an embedded demo ledger shared by the integration tests of this package.
type net struct {
	home   string
	node   *ledgernode.Node
	client *ledgerclient.Client
	root   ledgerclient.TrustRoot
	keys   map[string]*demonet.DemoKey
}

var (
	sharedOnce sync.Once
	shared     *net
	sharedErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if shared != nil {
		shared.node.Stop()
	}
	os.Exit(code)
}

func startNet(t testing.TB, home string) *net {
	return startRegionNet(t, home, demonet.EmbeddedOptions{}, []string{"public-security", "civil-affairs", "realestate-window-01", "vehicle-admin"})
}

// startRegionNet starts an embedded ledger made with opt (its heartbeat and genesis time set
// here) and loads the demo keys of ids.
func startRegionNet(t testing.TB, home string, opt demonet.EmbeddedOptions, ids []string) *net {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	opt.EmptyBlocksInterval, opt.Now = 300*time.Millisecond, time.Now().Add(-time.Hour)
	if _, _, err := demonet.InitEmbedded(home, opt); err != nil {
		t.Fatal(err)
	}
	node, err := ledgernode.StartHomeNode(ctx, home, nil)
	if err != nil {
		t.Fatal(err)
	}
	root, err := ledgerclient.GenesisRootFile(ledgernode.GenesisFile(home))
	if err != nil {
		node.Stop()
		t.Fatal(err)
	}
	cl, err := ledgerclient.Dial(node.RPCAddress(), root, ledgerclient.Config{PollInterval: 50 * time.Millisecond})
	if err != nil {
		node.Stop()
		t.Fatal(err)
	}
	n := &net{home: home, node: node, client: cl, root: root, keys: map[string]*demonet.DemoKey{}}
	for _, id := range ids {
		k, err := demonet.LoadKey(demonet.KeyDir(home), id)
		if err != nil {
			node.Stop()
			t.Fatal(err)
		}
		n.keys[id] = k
	}
	if err := node.WaitForHeight(ctx, 2); err != nil {
		node.Stop()
		t.Fatal(err)
	}
	return n
}

func sharedNet(t testing.TB) *net {
	sharedOnce.Do(func() {
		dir, err := os.MkdirTemp("", "lz-verifier-test-")
		if err != nil {
			sharedErr = err
			return
		}
		shared = startNet(t, dir)
	})
	if shared == nil {
		t.Fatalf("shared ledger: %v", sharedErr)
	}
	return shared
}

const window = "did:lz:realestate-window-01"

// newVerifier makes a window verifier over trust.
func (n *net) newVerifier(t testing.TB, trust Trust, now func() time.Time, logs *bytes.Buffer) *Verifier {
	t.Helper()
	k := n.keys["realestate-window-01"]
	cfg := Config{Trust: trust, Window: window, KeyID: k.KeyID, Key: k.PrivateKey(), Now: now}
	if logs != nil {
		cfg.Logger = slog.New(slog.NewJSONHandler(logs, nil))
	}
	v, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

var demoClaims = democitizen.Claims()

var typeIssuer = map[string]string{"household-register": "public-security", "marriage-certificate": "civil-affairs"}

// held is a credential in the test wallet.
type held struct {
	typ    string
	sd     *sdjwt.SDJWT
	holder jws.Signer
	index  int
	member string
}

type issueOpt struct {
	issuer    string             // member id (default: the type's issuer)
	signKey   ed25519.PrivateKey // default: the issuer's demo key
	kid       string
	iat, exp  time.Time
	statusURI string
	vct       string
	claims    map[string]any // default: demoClaims[typ]
}

func randIndex() int {
	n, _ := rand.Int(rand.Reader, big.NewInt(ledger.StatusListSize))
	return int(n.Int64())
}

func (n *net) issue(t testing.TB, typ string, o issueOpt) *held {
	t.Helper()
	member := o.issuer
	if member == "" {
		member = typeIssuer[typ]
	}
	k := n.keys[member]
	key := o.signKey
	if key == nil {
		key = k.PrivateKey()
	}
	kid := o.kid
	if kid == "" {
		kid = k.KeyID
	}
	if o.iat.IsZero() {
		o.iat = time.Now().Add(-time.Minute)
	}
	if o.exp.IsZero() {
		o.exp = time.Now().AddDate(1, 0, 0)
	}
	if o.statusURI == "" {
		o.statusURI = ledger.StatusListURI(member, 0)
	}
	_, hk, _ := ed25519.GenerateKey(rand.Reader)
	hpub, _ := did.NewPublicKey(hk.Public())
	idx := randIndex()
	claims := o.claims
	if claims == nil {
		claims = demoClaims[typ]
	}
	var disclosable []string
	for c := range claims {
		disclosable = append(disclosable, c)
	}
	vct := o.vct
	if vct == "" {
		vct = "urn:lz:vct:" + typ
	}
	sd, err := sdjwtvc.Issue(sdjwtvc.Credential{Issuer: "did:lz:" + member, KeyID: kid, VCT: vct,
		IssuedAt: o.iat, Expires: o.exp, Claims: claims, Disclosable: disclosable, Holder: hpub,
		Status: &sdjwtvc.Status{Index: idx, URI: o.statusURI}}, jws.NewEd25519Signer(key))
	if err != nil {
		t.Fatal(err)
	}
	return &held{typ: typ, sd: sd, holder: jws.NewEd25519Signer(hk), index: idx, member: member}
}

var requested = map[string][]string{
	"household-register":   {"name", "id_number", "address", "marital_status"},
	"marriage-certificate": {"holder_name", "spouse_name", "spouse_id_number", "registration_date", "certificate_number"},
}

// present selects fields and binds to nonce/aud.
func (h *held) present(t testing.TB, nonce, aud string, fields ...string) string {
	t.Helper()
	if fields == nil {
		fields = requested[h.typ]
	}
	sub, err := h.sd.Select(fields...)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sub.Bind(h.holder, nonce, aud, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// answer encodes presentations as the LZ1R text for a request.
func answer(t testing.TB, v *Verifier, r *Request, texts ...string) string {
	t.Helper()
	known, err := KnownStrings(context.Background(), v.cfg.Trust)
	if err != nil {
		t.Fatal(err)
	}
	body, err := sdjwtcbor.Encode(texts, &sdjwtcbor.Context{Nonce: r.Request.NonceString(), Audience: r.Request.Audience(), Known: known})
	if err != nil {
		t.Fatal(err)
	}
	return qr.Encode("LZ1R", body)
}

func (n *net) setStatus(t testing.TB, h *held, value int) {
	t.Helper()
	k := n.keys[h.member]
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := n.client.StatusSet(ctx, ledgerclient.Signer{KeyID: k.KeyID, Key: k.PrivateKey()}, 0,
		ledger.StatusUpdate{Index: h.index, Value: value}); err != nil {
		t.Fatal(err)
	}
}

func (n *net) snapshot(t testing.TB, path string) *SnapshotTrust {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if _, err := n.client.ExportFile(ctx, path, 0); err != nil {
		t.Fatal(err)
	}
	st, err := LoadSnapshot(path, n.root, time.Now(), 0)
	if err != nil {
		t.Fatal(err)
	}
	return st
}
