package home

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"time"

	"lianzheng/assets"
	"lianzheng/home/demonet"
	"lianzheng/internal/keystore"
	"lianzheng/issuer"
	ledgernode "lianzheng/ledger/node"
	"lianzheng/ledgerclient"
)

// DemoWindow is the window a demo home runs: the real-estate registration window.
const DemoWindow = "realestate-window-01"

// Options tune a home's services. nil, or the zero value, is the production setting.
type Options struct {
	// Log receives the services' operational logs: the embedded node's (CometBFT's per-block
	// info as debug), the issuance services', the window's. nil discards them.
	Log *slog.Logger
	// Keystore tunes the citizen wallet's key store (tests use a cheap KDF).
	Keystore *keystore.Options
	// EmptyBlocksInterval of a demo ledger OpenDemo creates (default 2 s).
	EmptyBlocksInterval time.Duration
	// PortalAddr is where the demo's online-service portal listens (default 127.0.0.1:0).
	PortalAddr string
}

// Home is a running demo home: the embedded ledger and the services bound to it.
type Home struct {
	nodeDir string
	node    *ledgernode.Node
	client  *ledgerclient.Client
	root    ledgerclient.TrustRoot
	issuers map[string]*Department
	order   []string // department ids in catalogue order
	window  *Window
	portal  *Portal
	citizen *Citizen
	gateway *gatewayService
	log     *slog.Logger

	once     sync.Once
	closeErr error
}

// DefaultDir is where the app keeps its demo home: $LZ_HOME, else
// ~/.local/share/lianzheng/demo, else .lz/app.
func DefaultDir() string {
	if h := os.Getenv("LZ_HOME"); h != "" {
		return h
	}
	if d, err := os.UserHomeDir(); err == nil && d != "" {
		return filepath.Join(d, ".local", "share", "lianzheng", "demo")
	}
	return filepath.Join(".lz", "app")
}

// Exists reports whether dir already holds a demo home (OpenDemo then only starts it; the
// first OpenDemo also creates the demo consortium's ledger).
func Exists(dir string) bool { return demonet.IsHome(filepath.Join(dir, "node")) }

// OpenDemo opens the demo home in dir, creating it on first use: the embedded single-node
// ledger of the demo consortium (home/demonet) started in-process, one ledger client checked
// against its genesis, every demo department's issuer core with its OpenID4VCI service on
// 127.0.0.1, the real-estate window's verifier and the citizen's wallet (locked until Setup
// or Unlock). Close stops everything.
func OpenDemo(ctx context.Context, dir string, o *Options) (*Home, error) {
	if o == nil {
		o = &Options{}
	}
	log := logger(o.Log)
	h := &Home{nodeDir: filepath.Join(dir, "node"), issuers: map[string]*Department{}, log: log}
	if !Exists(dir) {
		if err := os.MkdirAll(dir, 0o700); err != nil {
			return nil, fmt.Errorf("home: %w", err)
		}
		base, err := freeLoopbackBase()
		if err != nil {
			return nil, fmt.Errorf("home: %w", err)
		}
		if _, _, err := demonet.InitEmbedded(h.nodeDir, demonet.EmbeddedOptions{EmptyBlocksInterval: o.EmptyBlocksInterval,
			Now: time.Now().Add(-time.Minute), PublicBaseURL: base}); err != nil {
			return nil, fmt.Errorf("home: init demo ledger: %w", err)
		}
	}
	n, err := ledgernode.StartHomeNode(ctx, h.nodeDir, nodeLogger(o.Log))
	if err != nil {
		return nil, fmt.Errorf("home: start demo ledger: %w", err)
	}
	h.node = n
	fail := func(err error) (*Home, error) { h.Close(); return nil, err }

	l := Ledger{Genesis: ledgernode.GenesisFile(h.nodeDir), Node: n.RPCAddress()}
	if h.root, err = l.Root(); err != nil {
		return fail(err)
	}
	if h.client, err = l.dial(h.root); err != nil {
		return fail(err)
	}
	wk, err := h.DemoKey(DemoWindow)
	if err != nil {
		return fail(err)
	}
	if h.window, err = openWindow(WindowConfig{Key: wk, Dir: filepath.Join(dir, "window"), Log: o.Log}, h.client, h.root); err != nil {
		return fail(err)
	}
	pk, err := h.DemoKey(DemoPortal)
	if err != nil {
		return fail(err)
	}
	if h.portal, err = openPortal(PortalConfig{Key: pk, Dir: filepath.Join(dir, "portal"), Addr: o.PortalAddr, Log: o.Log}, h.client); err != nil {
		return fail(err)
	}
	log.Info("online-service portal", "url", h.portal.URL())
	cat, err := assets.DemoCatalogue()
	if err != nil {
		return fail(err)
	}
	if err := os.MkdirAll(filepath.Join(dir, "issuer"), 0o700); err != nil {
		return fail(err)
	}
	for _, d := range cat.Departments {
		k, err := h.DemoKey(d.ID)
		if err != nil {
			return fail(err)
		}
		// the demo department's records sealed under a key derived from its demo key, which
		// the demo home keeps unsealed (a department's own home seals with its key store)
		core, err := issuer.Open(ctx, issuer.Config{ID: d.ID, Key: k.PrivateKey(), KeyID: k.KeyID, Ledger: h.client,
			DBPath: filepath.Join(dir, "issuer", d.ID+".db"), Sealer: issuer.DemoSealer(k.PrivateKey().Seed())})
		if err != nil {
			return fail(err)
		}
		dep := &Department{core: core, log: log.With("department", d.ID), reads: h.client}
		h.issuers[d.ID] = dep
		h.order = append(h.order, d.ID)
		// the department's OpenID4VCI service on loopback
		if _, err := dep.Serve("127.0.0.1:0", ServeOptions{}); err != nil {
			return fail(err)
		}
	}
	if err := h.startGateway(ctx, cat); err != nil {
		return fail(err)
	}
	h.citizen = NewCitizen(filepath.Join(dir, "wallet"), h.client, o)
	h.citizen.insecureHTTP = true
	return h, nil
}

// Ledger is the home's ledger client.
func (h *Home) Ledger() *ledgerclient.Client { return h.client }

// TrustRoot is the consortium's trust root (from the genesis).
func (h *Home) TrustRoot() ledgerclient.TrustRoot { return h.root }

// Genesis is the path of the consortium's genesis.json.
func (h *Home) Genesis() string { return ledgernode.GenesisFile(h.nodeDir) }

// NodeRPC is the embedded node's RPC address.
func (h *Home) NodeRPC() string { return h.node.RPCAddress() }

// DemoKey is the unsealed demo key of a department or window of the demo consortium (for
// demos and tests that sign on their behalf).
func (h *Home) DemoKey(id string) (*demonet.DemoKey, error) {
	return demonet.LoadKey(demonet.KeyDir(h.nodeDir), id)
}

// Departments are the ids of the home's departments, in catalogue order.
func (h *Home) Departments() []string { return slices.Clone(h.order) }

// Issuer is the department id's issuing service.
func (h *Home) Issuer(id string) (*Department, bool) {
	d, ok := h.issuers[id]
	return d, ok
}

// Window is the service of window id, or of its did:lz (a demo home runs DemoWindow).
func (h *Home) Window(id string) (*Window, bool) {
	if h.window == nil || (id != DemoWindow && id != h.window.DID()) {
		return nil, false
	}
	return h.window, true
}

// Portal is the demo's online-service portal (DemoPortal), reachable at its URL.
func (h *Home) Portal() *Portal { return h.portal }

// Wallet is the citizen's wallet.
func (h *Home) Wallet() *Citizen { return h.citizen }

// Close stops the home's services in reverse order — the wallet, the departments' services
// and records, the window, the ledger node — and waits for each. It returns what failed;
// calling it again returns the same.
func (h *Home) Close() error {
	h.once.Do(func() {
		var errs []error
		if h.citizen != nil {
			errs = append(errs, h.citizen.Close())
		}
		errs = append(errs, h.gateway.close())
		for i := len(h.order) - 1; i >= 0; i-- {
			errs = append(errs, h.issuers[h.order[i]].Close())
		}
		if h.portal != nil {
			errs = append(errs, h.portal.Close())
		}
		if h.window != nil {
			errs = append(errs, h.window.Close())
		}
		if h.node != nil {
			errs = append(errs, h.node.Stop())
		}
		h.closeErr = errors.Join(errs...)
	})
	return h.closeErr
}
