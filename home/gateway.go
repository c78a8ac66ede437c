package home

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"

	"lianzheng/assets"
	"lianzheng/credential/jws"
	"lianzheng/gateway"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
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
	signers := map[string]gateway.Signer{}
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

// govern passes a governance action with the demo members' keys: proposed by the first
// member, approved by the next until the consortium's approvals are reached.
func (h *Home) govern(ctx context.Context, action string, payload any) error {
	p, err := h.client.Params(ctx)
	if err != nil {
		return err
	}
	members, err := h.client.Members(ctx)
	if err != nil {
		return err
	}
	if len(members) < p.Approvals {
		return errors.New("fewer members than approvals")
	}
	var id string
	for i := 0; i < p.Approvals; i++ {
		k, err := h.DemoKey(members[i].ID)
		if err != nil {
			return err
		}
		s := ledgerclient.Signer{KeyID: k.KeyID, Key: k.PrivateKey()}
		if i == 0 {
			res, err := h.client.ProposalCreate(ctx, s, action, payload)
			if err != nil {
				return err
			}
			id = res.ProposalID
			continue
		}
		if _, err := h.client.ProposalApprove(ctx, s, id); err != nil {
			return err
		}
	}
	pr, err := h.client.Proposal(ctx, id)
	if err != nil {
		return err
	}
	if pr.Status != "applied" {
		return fmt.Errorf("proposal %s %s: %s", id, pr.Status, pr.Error)
	}
	return nil
}

// Gateway is the demo home's public gateway (nil if it did not start).
func (h *Home) Gateway() *gateway.Server {
	if h.gateway == nil {
		return nil
	}
	return h.gateway.srv
}
