package home

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"

	"lianzheng/assets"
	"lianzheng/credential/jws"
	"lianzheng/gateway"
	"lianzheng/home/demonet"
	"lianzheng/ledger"
)

// The demo home's public gateway (package gateway): what an outside verifier or wallet
// fetches — status lists in both encodings, DID resolution, type metadata — served on
// loopback at the ledger's public base URL, every department's lists signed with its demo key.

// gatewayService is a running gateway: its HTTP service and the loop following the ledger.
type gatewayService struct {
	srv  *gateway.Server
	svc  *Service
	stop context.CancelFunc
	done chan struct{}
}

func (g *gatewayService) close() error {
	if g == nil {
		return nil
	}
	g.stop()
	<-g.done
	return g.svc.Close()
}

// freeLoopbackBase reserves nothing: it asks the system for a free loopback port and names
// the base URL there (a new demo ledger records it in its genesis).
func freeLoopbackBase() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return "http://" + ln.Addr().String(), nil
}

// startGateway serves the demo consortium's gateway at the base URL the ledger records. A
// home made before there was one, or whose port is now taken, gets a free loopback port
// recorded by governance (the demo home holds every member's key).
func (h *Home) startGateway(ctx context.Context, cat *assets.Catalogue) error {
	p, err := h.client.Params(ctx)
	if err != nil {
		return fmt.Errorf("home: gateway: params: %w", err)
	}
	var ln net.Listener
	if u, err := url.Parse(p.PublicBaseURL); err == nil && p.PublicBaseURL != "" && u.Scheme == "http" {
		ln, _ = net.Listen("tcp", u.Host)
	}
	if ln == nil {
		if ln, err = net.Listen("tcp", "127.0.0.1:0"); err != nil {
			return fmt.Errorf("home: gateway: %w", err)
		}
		np := *p
		np.PublicBaseURL = "http://" + ln.Addr().String()
		if err := h.govern(ctx, ledger.ActionParamsSet, np); err != nil {
			ln.Close()
			return fmt.Errorf("home: gateway: record the public base URL: %w", err)
		}
		h.log.Info("public base URL recorded on the ledger", "url", np.PublicBaseURL)
	}
	signers := gateway.StaticSigners{}
	for _, d := range cat.Departments {
		k, err := h.DemoKey(d.ID)
		if err != nil {
			ln.Close()
			return err
		}
		signers[d.ID] = gateway.Signer{KeyID: k.KeyID, Signer: jws.NewEd25519Signer(k.PrivateKey())}
	}
	srv, err := gateway.New(gateway.Config{Ledger: h.client, Signers: signers, Log: h.log.With("service", "gateway")})
	if err != nil {
		ln.Close()
		return err
	}
	if err := srv.Refresh(ctx); err != nil {
		ln.Close()
		return err
	}
	rctx, stop := context.WithCancel(context.Background())
	g := &gatewayService{srv: srv, stop: stop, done: make(chan struct{})}
	go func() { defer close(g.done); srv.Run(rctx) }()
	g.svc = serve(ln, srv.Handler(), h.log)
	h.gateway = g
	h.log.Info("public gateway", "base", srv.Base(), "listen", g.svc.Addr())
	return nil
}

// govern passes a governance action with the demo members' keys (demonet.Govern).
func (h *Home) govern(ctx context.Context, action string, payload any) error {
	return demonet.Govern(ctx, h.client, h.DemoKey, action, payload)
}

// Gateway is the demo home's public gateway (nil if it did not start).
func (h *Home) Gateway() *gateway.Server {
	if h.gateway == nil {
		return nil
	}
	return h.gateway.srv
}

// deptSigners publishes one department's lists with its current key.
type deptSigners struct{ d *Department }

func (s deptSigners) Signer(member string) (gateway.Signer, bool) {
	if member != s.d.core.ID {
		return gateway.Signer{}, false
	}
	kid, sg := s.d.core.ListSigner()
	return gateway.Signer{KeyID: kid, Signer: sg}, true
}

// gatewayPaths are the URL paths the gateway answers under (ledger/publicurl.go).
var gatewayPaths = []string{"/status/", "/1.0/identifiers/", "/vct/", "/ns/"}

// withGateway puts a department home's own gateway beside its issuance service on one
// listener: the department's status lists (signed with its key), DID resolution and type
// metadata are served under the gateway's paths, everything else is the issuance service.
// A consortium routes <base>/status/<id>/ to each department's service (docs/outside-verifiers.md).
// A demo home's departments do not: the demo home runs one gateway for all (startGateway).
func (d *Department) withGateway(next http.Handler) (http.Handler, error) {
	if d.cfg == nil {
		return next, nil
	}
	srv, err := gateway.New(gateway.Config{Ledger: d.client, Signers: deptSigners{d}, Log: d.log.With("service", "gateway")})
	if err != nil {
		return nil, err
	}
	ctx, stop := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); srv.Run(ctx) }()
	d.gwStop = func() { stop(); <-done }
	gh := srv.Handler()
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, p := range gatewayPaths {
			if strings.HasPrefix(r.URL.Path, p) {
				gh.ServeHTTP(w, r)
				return
			}
		}
		next.ServeHTTP(w, r)
	}), nil
}

// Gateway is a running public gateway that signs nothing: DID resolution, type metadata and
// the vocabulary for any consortium member to serve (`lz serve gateway`); status lists are
// published by each department (its issuance service, or a static copy).
type Gateway struct {
	g *gatewayService
}

// ServeGateway reads the ledger l and serves its public gateway on addr until Close.
func ServeGateway(ctx context.Context, l Ledger, addr string, log *slog.Logger) (*Gateway, error) {
	cl, err := l.Dial()
	if err != nil {
		return nil, err
	}
	srv, err := gateway.New(gateway.Config{Ledger: cl, Log: logger(log).With("service", "gateway")})
	if err != nil {
		return nil, err
	}
	if err := srv.Refresh(ctx); err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	rctx, stop := context.WithCancel(context.Background())
	g := &gatewayService{srv: srv, stop: stop, done: make(chan struct{})}
	go func() { defer close(g.done); srv.Run(rctx) }()
	g.svc = serve(ln, srv.Handler(), logger(log))
	logger(log).Info("public gateway", "base", srv.Base(), "listen", g.svc.Addr())
	return &Gateway{g: g}, nil
}

// Server is the gateway.
func (g *Gateway) Server() *gateway.Server { return g.g.srv }

// Service is its HTTP service (address, Done).
func (g *Gateway) Service() *Service { return g.g.svc }

// Close stops it.
func (g *Gateway) Close() error { return g.g.close() }

// ExportGateway writes the static copy of the public gateway to dir: with d (a department
// home) its status lists signed with its key, else only what needs no signature.
func ExportGateway(ctx context.Context, l Ledger, d *Department, dir string) (*gateway.ExportIndex, error) {
	cfg := gateway.Config{Log: slog.New(slog.DiscardHandler)}
	if d != nil {
		if d.client == nil {
			return nil, errors.New("home: export: not a department home")
		}
		cfg.Ledger, cfg.Signers = d.client, deptSigners{d}
	} else {
		cl, err := l.Dial()
		if err != nil {
			return nil, err
		}
		cfg.Ledger = cl
	}
	srv, err := gateway.New(cfg)
	if err != nil {
		return nil, err
	}
	if err := srv.Refresh(ctx); err != nil {
		return nil, err
	}
	return srv.Export(dir)
}
