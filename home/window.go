package home

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"

	"lianzheng/home/demonet"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
	"lianzheng/qr"
	"lianzheng/verifier"
)

// Window is a service window: the verifier core, and the trust its verdicts rest on — the
// ledger (online, 30 s cache) or a saved trust snapshot (offline) — switchable while verdicts
// run. Its methods are what the window's screens and commands call.
type Window struct {
	v        *verifier.Verifier
	online   *verifier.OnlineTrust // nil without a ledger client
	trust    switchTrust
	cl       *ledgerclient.Client // nil: offline only
	root     ledgerclient.TrustRoot
	did      string
	snapshot string
	maxAge   time.Duration
	log      *slog.Logger
}

// WindowConfig says how OpenWindow opens a window.
type WindowConfig struct {
	// Key is the window's DID key, registered on the ledger (demo windows have demo keys).
	Key *demonet.DemoKey
	// Dir keeps the window's receipts and anchors ("" keeps them in memory only).
	Dir string
	// Ledger is where the window reads the ledger. Without a node it verifies offline from
	// Snapshot, or not at all (it can still hand out the receipts in Dir).
	Ledger Ledger
	// Snapshot is the trust snapshot file for offline verdicts (default Dir/trust.snap).
	Snapshot string
	// Offline starts on the snapshot instead of the ledger (no node is contacted).
	Offline bool
	// MaxTrustAge is the policy's oldest trust accepted (default verifier.DefaultMaxTrustAge).
	MaxTrustAge time.Duration
	Log         *slog.Logger
}

// OpenWindow opens a window's verifier as cfg says. Close releases it.
func OpenWindow(cfg WindowConfig) (*Window, error) {
	var root ledgerclient.TrustRoot
	var cl *ledgerclient.Client
	var err error
	if cfg.Offline || cfg.Ledger.hasNode() {
		if root, err = cfg.Ledger.Root(); err != nil {
			return nil, err
		}
	}
	if !cfg.Offline && cfg.Ledger.hasNode() {
		if cl, err = cfg.Ledger.dial(root); err != nil {
			return nil, err
		}
	}
	return openWindow(cfg, cl, root)
}

func openWindow(cfg WindowConfig, cl *ledgerclient.Client, root ledgerclient.TrustRoot) (*Window, error) {
	if cfg.Key == nil {
		return nil, errors.New("home: a window needs its key")
	}
	if cfg.MaxTrustAge <= 0 {
		cfg.MaxTrustAge = verifier.DefaultMaxTrustAge
	}
	if cfg.Snapshot == "" && cfg.Dir != "" {
		cfg.Snapshot = filepath.Join(cfg.Dir, "trust.snap")
	}
	log := logger(cfg.Log).With("window", cfg.Key.DID)
	w := &Window{cl: cl, root: root, did: cfg.Key.DID, snapshot: cfg.Snapshot, maxAge: cfg.MaxTrustAge, log: log}
	if cl != nil {
		w.online = verifier.NewOnlineTrust(cl, 30*time.Second)
	}
	switch {
	case cfg.Offline:
		st, err := w.loadSnapshot(context.Background())
		if err != nil {
			return nil, err
		}
		w.trust.set(st)
	case w.online != nil:
		w.trust.set(w.online)
	default:
		w.trust.set(noTrust{})
	}
	v, err := verifier.New(verifier.Config{Trust: &w.trust, Window: cfg.Key.DID, KeyID: cfg.Key.KeyID,
		Key: cfg.Key.PrivateKey(), Dir: cfg.Dir, MaxTrustAge: cfg.MaxTrustAge,
		Logger: log})
	if err != nil {
		return nil, err
	}
	w.v = v
	return w, nil
}

// noTrust is the trust of a window without a ledger: every verdict needing it fails.
type noTrust struct{}

func (noTrust) Current(context.Context) (*verifier.View, error) {
	return nil, fmt.Errorf("home: %w: the window has no trust source", ErrNoLedger)
}

// switchTrust is a verifier.Trust whose source can be swapped while verdicts are running.
type switchTrust struct{ cur atomic.Pointer[trustBox] }

type trustBox struct{ t verifier.Trust }

func (s *switchTrust) set(t verifier.Trust) { s.cur.Store(&trustBox{t}) }
func (s *switchTrust) get() verifier.Trust  { return s.cur.Load().t }
func (s *switchTrust) Current(ctx context.Context) (*verifier.View, error) {
	return s.get().Current(ctx)
}

// Core is the verifier core.
func (w *Window) Core() *verifier.Verifier { return w.v }

// DID is the window's did:lz.
func (w *Window) DID() string { return w.did }

// SnapshotFile is where the window keeps its offline trust snapshot.
func (w *Window) SnapshotFile() string { return w.snapshot }

// Current is the ledger view the verdicts rest on now (so a Window is a verifier.Trust).
func (w *Window) Current(ctx context.Context) (*verifier.View, error) { return w.trust.Current(ctx) }

// Items are the service items registered for this window on the ledger.
func (w *Window) Items(ctx context.Context) ([]ledger.ServiceItem, error) {
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

// NewRequest makes the signed request QR for a service item.
func (w *Window) NewRequest(ctx context.Context, item string) (*verifier.Request, error) {
	return w.v.NewRequest(ctx, item)
}

// Verify checks a scanned answer.
func (w *Window) Verify(ctx context.Context, s string) *verifier.Verdict { return w.v.Verify(ctx, s) }

// VerifyPNG reads an answer from a QR image and checks it.
func (w *Window) VerifyPNG(ctx context.Context, b []byte) *verifier.Verdict {
	return w.v.VerifyPNG(ctx, b)
}

// CloseSession ends the clerk's session: disclosed values are dropped.
func (w *Window) CloseSession() { w.v.CloseSession() }

// Trust reports the trust data the verdicts rest on; refresh re-reads it (from the ledger, or
// the snapshot file, which another process may have renewed).
func (w *Window) Trust(ctx context.Context, refresh bool) (verifier.TrustInfo, error) {
	if refresh {
		if _, offline := w.trust.get().(*verifier.SnapshotTrust); offline {
			// re-read the file: another process (lz verify snapshot) may have renewed it
			if info, err := w.SetOffline(ctx, true); err == nil {
				return info, nil
			}
		} else if w.online != nil {
			w.online.Invalidate()
		}
	}
	return w.info(ctx)
}

func (w *Window) info(ctx context.Context) (verifier.TrustInfo, error) {
	view, err := w.trust.Current(ctx)
	if err != nil {
		return verifier.TrustInfo{}, err
	}
	now := time.Now()
	return verifier.TrustInfo{Source: view.Source, Height: view.Height, Time: view.Time, Age: view.Age(now),
		MaxAge: w.maxAge, Regions: view.Regions(ctx, now)}, nil
}

// SaveSnapshot exports a fresh signed trust snapshot from the ledger to SnapshotFile.
func (w *Window) SaveSnapshot(ctx context.Context) (verifier.TrustInfo, error) {
	if w.cl == nil {
		return verifier.TrustInfo{}, fmt.Errorf("home: %w: no node to export a snapshot from", ErrNoLedger)
	}
	if w.snapshot == "" {
		return verifier.TrustInfo{}, errors.New("home: the window has no snapshot file")
	}
	if err := os.MkdirAll(filepath.Dir(w.snapshot), 0o700); err != nil {
		return verifier.TrustInfo{}, err
	}
	tmp := w.snapshot + ".new"
	os.Remove(tmp)
	s, err := w.cl.ExportFile(ctx, tmp, 0)
	if err != nil {
		os.Remove(tmp)
		return verifier.TrustInfo{}, fmt.Errorf("export trust snapshot: %w", err)
	}
	if err := os.Rename(tmp, w.snapshot); err != nil {
		return verifier.TrustInfo{}, err
	}
	if err := w.saveForeign(ctx); err != nil {
		w.log.Warn("snapshot of other regions", "err", err)
	}
	if _, offline := w.trust.get().(*verifier.SnapshotTrust); offline {
		return w.SetOffline(ctx, true)
	}
	return verifier.TrustInfo{Source: "snapshot", Height: s.Height(), Time: s.Time(), Age: time.Since(s.Time()),
		MaxAge: w.maxAge}, nil
}

// SetOffline switches the verdicts to the saved snapshot (true) or back to the ledger.
// Going offline fails, and nothing changes, when the snapshot is missing, forged or stale.
func (w *Window) SetOffline(ctx context.Context, offline bool) (verifier.TrustInfo, error) {
	if !offline {
		if w.online == nil {
			return verifier.TrustInfo{}, fmt.Errorf("home: %w: the window has no node", ErrNoLedger)
		}
		w.online.Invalidate()
		w.trust.set(w.online)
		return w.info(ctx)
	}
	st, err := w.loadSnapshot(ctx)
	if err != nil {
		return verifier.TrustInfo{}, err
	}
	w.trust.set(st)
	return w.info(ctx)
}

// loadSnapshot verifies the window's snapshot and adds the recognised regions' snapshots
// beside it (verifier.ForeignSnapshotFile); a region whose snapshot is missing or fails is
// logged, and its credentials are refused with that region's code — the window works on.
func (w *Window) loadSnapshot(ctx context.Context) (*verifier.SnapshotTrust, error) {
	now := time.Now()
	st, err := verifier.LoadSnapshot(w.snapshot, w.root, now, w.maxAge)
	if err != nil {
		return nil, err
	}
	if err := st.LoadForeign(ctx, w.snapshot, now); err != nil {
		w.log.Warn("other regions offline", "err", err)
	}
	return st, nil
}

// saveForeign exports a snapshot of every region the ledger recognises now to
// verifier.ForeignSnapshotFile, through that region's light client (rooted in the agreement);
// a region that cannot be read keeps its previous file, and says so in the error.
func (w *Window) saveForeign(ctx context.Context) error {
	recs, err := w.cl.Recognitions(ctx)
	if err != nil {
		return err
	}
	var errs []error
	now := time.Now()
	for i := range recs {
		r := &recs[i]
		if !r.InForce(now) {
			continue
		}
		c, err := ledgerclient.Foreign(r, ledgerclient.Config{}, nil)
		if err == nil {
			path := verifier.ForeignSnapshotFile(w.snapshot, r.Region)
			tmp := path + ".new"
			if _, err = c.ExportFile(ctx, tmp, 0); err == nil {
				err = os.Rename(tmp, path)
			}
			os.Remove(tmp)
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("region %s: %w", r.Region, err))
		}
	}
	return errors.Join(errs...)
}

// Anchor anchors the receipts not yet anchored with one anchor.post on the ledger (nil when
// there were none).
func (w *Window) Anchor(ctx context.Context) (*verifier.Anchor, error) {
	if w.cl == nil {
		return nil, fmt.Errorf("home: %w: anchoring needs a node", ErrNoLedger)
	}
	return w.v.Anchor(ctx, w.cl)
}

// QRResult is a code shown on screen: its text and its PNG.
type QRResult struct {
	Text string
	PNG  []byte
	// Receipts only: whether the bundle carries its ledger anchor proof, and why not.
	Anchored  bool
	AnchorErr error
}

// HandReceipt anchors the receipts not yet anchored and returns the citizen's receipt bundle
// for a verdict's receipt id, as QR text and PNG. A verdict without a receipt (no credential
// verified: nobody's data was seen) has none to hand: verifier.ErrNoReceipt, and nothing is
// anchored.
func (w *Window) HandReceipt(ctx context.Context, id string) (*QRResult, error) {
	if id == "" {
		return nil, verifier.ErrNoReceipt
	}
	// Anchoring needs the ledger; offline, the citizen still gets the signed receipt and can
	// have it checked on the ledger later from another bundle of the same receipt.
	_, anchorErr := w.Anchor(ctx)
	if anchorErr != nil && w.cl != nil { // without a node, not anchoring is the expected state
		w.log.Warn("receipts not anchored", "receipt", id, "err", anchorErr.Error())
	}
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

// Close closes the window's records.
func (w *Window) Close() error { return w.v.Close() }
