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
	"sync/atomic"
	"time"

	"lianzheng/assets"
	"lianzheng/internal/demonet"
	"lianzheng/internal/keystore"
	"lianzheng/issuer"
	"lianzheng/issuer/oid4vci"
	"lianzheng/ledger"
	ledgernode "lianzheng/ledger/node"
	"lianzheng/ledgerclient"
	"lianzheng/qr"
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
	if _, err := os.Stat(ledgernode.GenesisFile(node)); err != nil {
		if err := os.MkdirAll(home, 0o700); err != nil {
			return nil, err
		}
		if _, _, err := demonet.InitEmbedded(node, demonet.EmbeddedOptions{EmptyBlocksInterval: o.EmptyBlocksInterval,
			Now: time.Now().Add(-time.Minute)}); err != nil {
			return nil, fmt.Errorf("app: init demo ledger: %w", err)
		}
	}
	n, err := ledgernode.StartHomeNode(ctx, node, nil)
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

	root, err := ledgerclient.GenesisRootFile(ledgernode.GenesisFile(node))
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
	wc := &windowCore{online: verifier.NewOnlineTrust(cl, 30*time.Second), cl: cl, root: root, did: wk.DID,
		dir: filepath.Join(home, "window")}
	wc.trust.set(wc.online)
	v, err := verifier.New(verifier.Config{Trust: &wc.trust, Window: wk.DID, KeyID: wk.KeyID, Key: wk.PrivateKey(),
		Dir: wc.dir})
	if err != nil {
		return fail(err)
	}
	wc.v = v
	svc := &Services{Demo: true, Departments: map[string]DepartmentCore{}}
	svc.Window = wc

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
	cc := &citizenCore{home: filepath.Join(home, "wallet"), ledger: cl, ks: o.Keystore}
	closers = append(closers, cc.close)
	svc.Citizen = cc
	svc.Close = closeAll
	return svc, nil
}

// windowCore binds WindowCore to verifier.Verifier. Its trust source switches between the
// ledger (online, 30 s cache) and the snapshot saved in the window's directory (offline).
type windowCore struct {
	v      *verifier.Verifier
	online *verifier.OnlineTrust
	trust  switchTrust
	cl     *ledgerclient.Client
	root   ledgerclient.TrustRoot
	dir    string
	did    string
}

// switchTrust is a verifier.Trust whose source can be swapped while verdicts are running.
type switchTrust struct{ cur atomic.Pointer[trustBox] }

type trustBox struct{ t verifier.Trust }

func (s *switchTrust) set(t verifier.Trust) { s.cur.Store(&trustBox{t}) }
func (s *switchTrust) get() verifier.Trust  { return s.cur.Load().t }
func (s *switchTrust) Current(ctx context.Context) (*verifier.View, error) {
	return s.get().Current(ctx)
}

// SnapshotFile is where the window keeps its offline trust snapshot.
func (w *windowCore) snapshotFile() string { return filepath.Join(w.dir, "trust.snap") }

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
		if _, offline := w.trust.get().(*verifier.SnapshotTrust); offline {
			// re-read the file: another process (lz verify snapshot) may have renewed it
			if info, err := w.SetOffline(ctx, true); err == nil {
				return info, nil
			}
		} else {
			w.online.Invalidate()
		}
	}
	return w.info(ctx)
}

func (w *windowCore) info(ctx context.Context) (verifier.TrustInfo, error) {
	view, err := w.trust.Current(ctx)
	if err != nil {
		return verifier.TrustInfo{}, err
	}
	return verifier.TrustInfo{Source: view.Source, Height: view.Height, Time: view.Time, Age: view.Age(time.Now()),
		MaxAge: verifier.DefaultMaxTrustAge}, nil
}

func (w *windowCore) SaveSnapshot(ctx context.Context) (verifier.TrustInfo, error) {
	if err := os.MkdirAll(w.dir, 0o700); err != nil {
		return verifier.TrustInfo{}, err
	}
	tmp := w.snapshotFile() + ".new"
	os.Remove(tmp)
	s, err := w.cl.ExportFile(ctx, tmp, 0)
	if err != nil {
		os.Remove(tmp)
		return verifier.TrustInfo{}, fmt.Errorf("export trust snapshot: %w", err)
	}
	if err := os.Rename(tmp, w.snapshotFile()); err != nil {
		return verifier.TrustInfo{}, err
	}
	if _, offline := w.trust.get().(*verifier.SnapshotTrust); offline {
		return w.SetOffline(ctx, true)
	}
	return verifier.TrustInfo{Source: "snapshot", Height: s.Height(), Time: s.Time(), Age: time.Since(s.Time()),
		MaxAge: verifier.DefaultMaxTrustAge}, nil
}

func (w *windowCore) SetOffline(ctx context.Context, offline bool) (verifier.TrustInfo, error) {
	if !offline {
		w.online.Invalidate()
		w.trust.set(w.online)
		return w.info(ctx)
	}
	st, err := verifier.LoadSnapshot(w.snapshotFile(), w.root, time.Now(), verifier.DefaultMaxTrustAge)
	if err != nil {
		return verifier.TrustInfo{}, err
	}
	w.trust.set(st)
	return w.info(ctx)
}

func (w *windowCore) HandReceipt(ctx context.Context, id string) (*QRResult, error) {
	// Anchoring needs the ledger; offline, the citizen still gets the signed receipt and can
	// have it checked on the ledger later from another bundle of the same receipt.
	_, anchorErr := w.v.Anchor(ctx, w.cl)
	b, err := w.v.Receipt(id)
	if err != nil {
		return nil, err
	}
	text, err := b.Text()
	if err != nil {
		return nil, err
	}
	png, err := qr.RenderPNG(text, 0)
	if err != nil {
		return nil, err
	}
	return &QRResult{Text: text, PNG: png, Anchored: b.Proof != nil, AnchorErr: anchorErr}, nil
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

func (c *citizenCore) ImportReceipt(ctx context.Context, text string) (*wallet.HistoryEntry, error) {
	w, err := c.wallet()
	if err != nil {
		return nil, err
	}
	b, err := wallet.ParseReceiptBundle([]byte(text))
	if err != nil {
		return nil, err
	}
	return w.ImportReceipt(ctx, b, c.ledger)
}

// Restore installs the backup into the (empty) wallet home; the citizen then unlocks it.
func (c *citizenCore) Restore(path, passphrase string) error {
	c.close()
	return wallet.Restore(path, passphrase, c.home)
}

func (c *citizenCore) Backup(path, passphrase string) error {
	w, err := c.wallet()
	if err != nil {
		return err
	}
	return w.Backup(path, passphrase)
}
