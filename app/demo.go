package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"time"

	"lianzheng/assets"
	"lianzheng/internal/demonet"
	"lianzheng/internal/keystore"
	"lianzheng/issuer"
	"lianzheng/issuer/oid4vci"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
	"lianzheng/verifier"
	"lianzheng/wallet"
)

// DemoWindow is the demo window the window role acts as.
const DemoWindow = "realestate-window-01"

// DefaultHome is where the demo keeps its embedded ledger, wallet, window and department
// state: $LZ_HOME, else ~/.local/share/lianzheng/demo, else .lz/app.
func DefaultHome() string {
	if h := os.Getenv("LZ_HOME"); h != "" {
		return h
	}
	if d, err := os.UserHomeDir(); err == nil && d != "" {
		return filepath.Join(d, ".local", "share", "lianzheng", "demo")
	}
	return filepath.Join(".lz", "app")
}

// DemoOptions tune StartDemo (tests use cheap key-store settings).
type DemoOptions struct {
	Keystore *keystore.Options
	// EmptyBlocksInterval of a fresh embedded node (default 2 s).
	EmptyBlocksInterval time.Duration
}

// StartDemo opens (creating on first use) the embedded single-node demo ledger in home with
// the demo departments, starts it in-process and binds the three roles to it: the citizen
// wallet in home/wallet, the real-estate window in home/window, every demo department in
// home/issuer. Close stops everything.
func StartDemo(ctx context.Context, home string, o *DemoOptions) (*Services, error) {
	if o == nil {
		o = &DemoOptions{}
	}
	node := filepath.Join(home, "node")
	if _, err := os.Stat(ledger.GenesisFile(node)); err != nil {
		if err := os.MkdirAll(home, 0o700); err != nil {
			return nil, err
		}
		if _, _, err := demonet.InitEmbedded(node, demonet.EmbeddedOptions{EmptyBlocksInterval: o.EmptyBlocksInterval,
			Now: time.Now().Add(-time.Minute)}); err != nil {
			return nil, fmt.Errorf("app: init demo ledger: %w", err)
		}
	}
	n, err := ledger.StartHomeNode(ctx, node, nil)
	if err != nil {
		return nil, fmt.Errorf("app: start demo ledger: %w", err)
	}
	closers := []func(){func() { n.Stop() }}
	closeAll := func() {
		for i := len(closers) - 1; i >= 0; i-- {
			closers[i]()
		}
	}
	fail := func(err error) (*Services, error) { closeAll(); return nil, err }

	root, err := ledgerclient.GenesisRootFile(ledger.GenesisFile(node))
	if err != nil {
		return fail(err)
	}
	cl, err := ledgerclient.Dial(n.RPCAddress(), root, ledgerclient.Config{PollInterval: 100 * time.Millisecond})
	if err != nil {
		return fail(err)
	}
	keys := demonet.KeyDir(node)

	// window
	wk, err := demonet.LoadKey(keys, DemoWindow)
	if err != nil {
		return fail(err)
	}
	trust := verifier.NewOnlineTrust(cl, 30*time.Second)
	v, err := verifier.New(verifier.Config{Trust: trust, Window: wk.DID, KeyID: wk.KeyID, Key: wk.PrivateKey(),
		Dir: filepath.Join(home, "window")})
	if err != nil {
		return fail(err)
	}
	svc := &Services{Demo: true, Departments: map[string]DepartmentCore{}}
	svc.Window = &windowCore{v: v, trust: trust, did: wk.DID}

	// departments
	cat, err := assets.DemoCatalogue()
	if err != nil {
		return fail(err)
	}
	if err := os.MkdirAll(filepath.Join(home, "issuer"), 0o700); err != nil {
		return fail(err)
	}
	for _, d := range cat.Departments {
		k, err := demonet.LoadKey(keys, d.ID)
		if err != nil {
			return fail(err)
		}
		dep, err := issuer.Open(ctx, issuer.Config{ID: d.ID, Key: k.PrivateKey(), KeyID: k.KeyID, Ledger: cl,
			DBPath: filepath.Join(home, "issuer", d.ID+".db")})
		if err != nil {
			return fail(err)
		}
		closers = append(closers, func() { dep.Close() })
		// the department's OpenID4VCI service on loopback
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return fail(err)
		}
		srv := &oid4vci.Server{Dept: dep, IssuerURL: "http://" + ln.Addr().String()}
		hs := &http.Server{Handler: srv.Handler(), ReadHeaderTimeout: 10 * time.Second}
		go hs.Serve(ln)
		closers = append(closers, func() { hs.Close() })
		svc.Departments[d.ID] = &deptCore{d: dep, srv: srv}
	}
	svc.Department = svc.Departments["public-security"]

	// citizen
	wc := &citizenCore{home: filepath.Join(home, "wallet"), ledger: cl, ks: o.Keystore}
	closers = append(closers, wc.close)
	svc.Citizen = wc
	svc.Close = closeAll
	return svc, nil
}

// windowCore binds WindowCore to verifier.Verifier.
type windowCore struct {
	v     *verifier.Verifier
	trust *verifier.OnlineTrust
	did   string
}

func (w *windowCore) Items(ctx context.Context) ([]ledger.ServiceItem, error) {
	view, err := w.trust.Current(ctx)
	if err != nil {
		return nil, err
	}
	win, ok := view.Window(w.did)
	if !ok {
		return nil, fmt.Errorf("window %s is not registered on the ledger", w.did)
	}
	return win.ServiceItems, nil
}

func (w *windowCore) NewRequest(ctx context.Context, item string) (*verifier.Request, error) {
	return w.v.NewRequest(ctx, item)
}
func (w *windowCore) Verify(ctx context.Context, s string) *verifier.Verdict {
	return w.v.Verify(ctx, s)
}
func (w *windowCore) VerifyPNG(ctx context.Context, b []byte) *verifier.Verdict {
	return w.v.VerifyPNG(ctx, b)
}
func (w *windowCore) CloseSession() { w.v.CloseSession() }
func (w *windowCore) Trust(ctx context.Context, refresh bool) (verifier.TrustInfo, error) {
	if refresh {
		w.trust.Invalidate()
	}
	view, err := w.trust.Current(ctx)
	if err != nil {
		return verifier.TrustInfo{}, err
	}
	return verifier.TrustInfo{Source: view.Source, Height: view.Height, Time: view.Time, Age: view.Age(time.Now()),
		MaxAge: verifier.DefaultMaxTrustAge}, nil
}

// deptCore binds DepartmentCore to issuer.Department.
type deptCore struct {
	d   *issuer.Department
	srv *oid4vci.Server
}

func (d *deptCore) ID() string { return d.d.ID }
func (d *deptCore) Types(ctx context.Context) ([]ledger.CredentialType, error) {
	return d.d.Types(ctx)
}
func (d *deptCore) Check(ctx context.Context, r issuer.Request) error { return d.d.Check(ctx, r) }

// Offer creates a pre-authorised offer (issuer core) and renders it as the OpenID4VCI offer
// URI and QR of the department's service.
func (d *deptCore) Offer(ctx context.Context, r issuer.Request) (*OfferResult, error) {
	o, err := d.d.CreateOffer(ctx, r, 0)
	if err != nil {
		return nil, err
	}
	png, err := oid4vci.OfferQR(d.srv.IssuerURL, o)
	if err != nil {
		return nil, err
	}
	return &OfferResult{Text: d.srv.OfferURI(o), PNG: png, PIN: o.PIN, Expires: o.Expires}, nil
}
func (d *deptCore) Records(ctx context.Context) ([]issuer.Record, error) {
	return d.d.Records(ctx, issuer.ListFilter{})
}
func (d *deptCore) SetStatus(ctx context.Context, id, action string) error {
	_, _, err := d.d.SetStatus(ctx, id, action)
	return err
}

// citizenCore binds CitizenCore to wallet.Wallet.
type citizenCore struct {
	home   string
	ledger *ledgerclient.Client
	ks     *keystore.Options

	mu sync.Mutex
	w  *wallet.Wallet
}

func (c *citizenCore) wallet() (*wallet.Wallet, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.w == nil {
		return nil, errors.New("wallet locked")
	}
	return c.w, nil
}

func (c *citizenCore) Ready() (bool, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	return keystore.Exists(filepath.Join(c.home, "keys")), c.w != nil
}

func (c *citizenCore) Setup(pin string) error {
	if err := os.MkdirAll(c.home, 0o700); err != nil {
		return err
	}
	w, err := wallet.Init(c.home, pin, &wallet.Options{Keystore: c.ks})
	if err != nil {
		return err
	}
	w.Ledger = c.ledger
	c.mu.Lock()
	c.w = w
	c.mu.Unlock()
	return nil
}

func (c *citizenCore) Unlock(pin string) error {
	w, err := wallet.Open(c.home, &wallet.Options{Keystore: c.ks})
	if err != nil {
		return err
	}
	if err := w.Unlock(pin); err != nil {
		w.Close()
		return err
	}
	w.Ledger = c.ledger
	c.mu.Lock()
	c.w = w
	c.mu.Unlock()
	return nil
}

func (c *citizenCore) close() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.w != nil {
		c.w.Close()
		c.w = nil
	}
}

func (c *citizenCore) List(ctx context.Context) ([]wallet.Item, error) {
	w, err := c.wallet()
	if err != nil {
		return nil, err
	}
	return w.List(ctx)
}

func (c *citizenCore) Detail(ctx context.Context, id string) (*wallet.Item, error) {
	w, err := c.wallet()
	if err != nil {
		return nil, err
	}
	return w.Detail(ctx, id)
}

func (c *citizenCore) Receive(ctx context.Context, offer, pin string) ([]*wallet.Credential, error) {
	w, err := c.wallet()
	if err != nil {
		return nil, err
	}
	// the demo's issuers listen on loopback http
	return w.Receive(ctx, offer, pin, &wallet.ReceiveOptions{InsecureHTTP: true})
}

func (c *citizenCore) PlanRequest(ctx context.Context, text string) (*wallet.Plan, error) {
	w, err := c.wallet()
	if err != nil {
		return nil, err
	}
	return w.PlanRequest(ctx, text)
}

func (c *citizenCore) Present(ctx context.Context, p *wallet.Plan) (*wallet.Response, error) {
	w, err := c.wallet()
	if err != nil {
		return nil, err
	}
	return w.Present(ctx, p, nil)
}

func (c *citizenCore) History() ([]wallet.HistoryEntry, error) {
	w, err := c.wallet()
	if err != nil {
		return nil, err
	}
	return w.Store.History()
}

func (c *citizenCore) Backup(path, passphrase string) error {
	w, err := c.wallet()
	if err != nil {
		return err
	}
	return w.Backup(path, passphrase)
}
