package home

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"sync"
	"time"

	"lianzheng/home/demonet"
	"lianzheng/ledgerclient"
	"lianzheng/portal"
	"lianzheng/verifier"
)

// DemoPortal is the online service a demo home runs: the real-estate registration portal.
const DemoPortal = "realestate-portal"

// Portal is a department's online-service portal: the verifier core (the portal's own did:lz
// key, registered on the ledger as an online service) and its web service (package portal).
// Its receipts are anchored on the ledger every AnchorEvery, as a window's.
type Portal struct {
	v   *verifier.Verifier
	srv *portal.Server
	svc *Service
	cl  *ledgerclient.Client
	log *slog.Logger

	stop context.CancelFunc
	done chan struct{}
	once sync.Once
	err  error
}

// PortalConfig says how OpenPortal opens a portal.
type PortalConfig struct {
	Key *demonet.DemoKey // the portal's DID key
	Dir string           // its records (requests, receipts, anchors); "" memory only
	// Ledger is where it reads the ledger (a portal is online: it needs a node).
	Ledger Ledger
	// Addr is the listen address (default 127.0.0.1:0); BaseURL where browsers and wallets
	// reach it (default http://<listen address>, loopback demos and tests; https in service).
	Addr, BaseURL string
	// AnchorEvery anchors pending receipts this often (default 30 s; negative: never).
	AnchorEvery time.Duration
	// SessionTTL: how long an application page lives (default portal.DefaultSessionTTL).
	SessionTTL time.Duration
	Log        *slog.Logger
}

// OpenPortal opens and starts a portal as cfg says. Close stops it.
func OpenPortal(cfg PortalConfig) (*Portal, error) {
	if !cfg.Ledger.hasNode() {
		return nil, fmt.Errorf("home: %w: an online portal needs a ledger node", ErrNoLedger)
	}
	root, err := cfg.Ledger.Root()
	if err != nil {
		return nil, err
	}
	cl, err := cfg.Ledger.dial(root)
	if err != nil {
		return nil, err
	}
	return openPortal(cfg, cl)
}

func openPortal(cfg PortalConfig, cl *ledgerclient.Client) (*Portal, error) {
	if cfg.Key == nil {
		return nil, errors.New("home: a portal needs its key")
	}
	if cfg.Addr == "" {
		cfg.Addr = "127.0.0.1:0"
	}
	if cfg.AnchorEvery == 0 {
		cfg.AnchorEvery = 30 * time.Second
	}
	log := logger(cfg.Log).With("portal", cfg.Key.DID)
	trust := verifier.NewOnlineTrust(cl, 30*time.Second)
	v, err := verifier.New(verifier.Config{Trust: trust, Window: cfg.Key.DID, KeyID: cfg.Key.KeyID, Key: cfg.Key.PrivateKey(),
		Dir: cfg.Dir, NoSession: true, Logger: log})
	if err != nil {
		return nil, err
	}
	srv, err := portal.New(portal.Config{Verifier: v, Trust: trust, DID: cfg.Key.DID, KeyID: cfg.Key.KeyID, Key: cfg.Key.PrivateKey(),
		BaseURL: cfg.BaseURL, SessionTTL: cfg.SessionTTL, Logger: log})
	if err != nil {
		v.Close()
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		v.Close()
		return nil, fmt.Errorf("home: portal: %w", err)
	}
	if cfg.BaseURL == "" {
		srv.SetBaseURL("http://" + ln.Addr().String())
	}
	p := &Portal{v: v, srv: srv, cl: cl, log: log, done: make(chan struct{})}
	p.svc = serve(ln, srv.Handler(), log)
	ctx, stop := context.WithCancel(context.Background())
	p.stop = stop
	go p.anchorLoop(ctx, cfg.AnchorEvery)
	return p, nil
}

func (p *Portal) anchorLoop(ctx context.Context, every time.Duration) {
	defer close(p.done)
	if every < 0 {
		return
	}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			if p.v.Pending() == 0 {
				continue
			}
			if _, err := p.Anchor(ctx); err != nil && ctx.Err() == nil {
				p.log.Warn("receipts not anchored", "err", err.Error())
			}
		}
	}
}

// URL is where the portal is reached.
func (p *Portal) URL() string { return p.srv.BaseURL() }

// Server is the portal's web service.
func (p *Portal) Server() *portal.Server { return p.srv }

// Core is the portal's verifier core.
func (p *Portal) Core() *verifier.Verifier { return p.v }

// Service is the running HTTP service.
func (p *Portal) Service() *Service { return p.svc }

// Anchor anchors the receipts not yet anchored (nil when there were none).
func (p *Portal) Anchor(ctx context.Context) (*verifier.Anchor, error) { return p.v.Anchor(ctx, p.cl) }

// Close stops the web service and the anchoring, then closes the records.
func (p *Portal) Close() error {
	p.once.Do(func() {
		err := p.svc.Close()
		p.stop()
		<-p.done
		p.err = errors.Join(err, p.v.Close())
	})
	return p.err
}
