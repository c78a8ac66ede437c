package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"

	"lianzheng/home"
	"lianzheng/home/demonet"
)

// servePortal runs an online-service portal (docs/portal.md): `lz serve portal --home DIR`,
// with DIR a ledger home holding the portal's key (demo-keys/<portal>.json).
func servePortal(args []string) error {
	fs := newFlags("serve portal")
	dir := fs.String("home", "", "ledger home (trust root genesis.json, node address, demo-keys/)")
	node := fs.String("node", "", "RPC address of a ledger node (default: from the home's config.toml)")
	id := fs.String("portal", home.DemoPortal, "the online service's id (did:lz:<id>, registered with channel online)")
	addr := fs.String("addr", "127.0.0.1:8490", "listen address")
	base := fs.String("base-url", "", "where browsers and wallets reach the portal (default http://<addr>; https in service)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("serve portal: --home is required")
	}
	k, err := demonet.LoadKey(demonet.KeyDir(*dir), *id)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	p, err := home.OpenPortal(home.PortalConfig{Key: k, Dir: filepath.Join(*dir, "portal-"+*id),
		Ledger: home.Ledger{NodeHome: *dir, Node: *node}, Addr: *addr, BaseURL: *base,
		Log: slog.New(slog.NewTextHandler(os.Stderr, nil))})
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "网上服务平台 / online-service portal: %s\n", p.URL())
	select {
	case <-ctx.Done():
	case <-p.Service().Done():
	}
	return p.Close()
}
