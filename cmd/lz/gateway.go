package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"lianzheng/home"
)

const gatewayUsage = `用法 / usage:
  lz serve gateway (--ledger-home DIR | --genesis FILE --node URL) [--addr 127.0.0.1:8480]
      公开网关：DID 解析、类型元数据（各部门的状态列表由其签发服务发布）
      the public gateway: DID resolution and type metadata (each department's issuance service publishes its status lists)
  lz gateway export DIR (--ledger-home DIR | --genesis FILE --node URL | --issuer-home DIR)
      把公开网关的内容写成静态文件（--issuer-home：连同本部门签名的状态列表）
      write what the public gateway serves as static files (--issuer-home: with the department's signed status lists)
See docs/outside-verifiers.md.`

// ledgerFlags name a ledger to read: a ledger home (its genesis and node), or a genesis file
// and a node address.
type ledgerFlags struct{ home, genesis, node string }

func (l *ledgerFlags) register(fs interface {
	StringVar(*string, string, string, string)
}) {
	fs.StringVar(&l.home, "ledger-home", "", "ledger home (its genesis.json is the trust root; its node is read)")
	fs.StringVar(&l.genesis, "genesis", "", "the consortium's genesis.json (trust root), with --node")
	fs.StringVar(&l.node, "node", "", "RPC address of a ledger node")
}

func (l *ledgerFlags) ledger() (home.Ledger, error) {
	if l.home == "" && (l.genesis == "" || l.node == "") {
		return home.Ledger{}, errors.New("give --ledger-home, or --genesis and --node")
	}
	return home.Ledger{NodeHome: l.home, Genesis: l.genesis, Node: l.node}, nil
}

func serveGateway(args []string) error {
	fs := newFlags("serve gateway")
	var lf ledgerFlags
	lf.register(fs)
	addr := fs.String("addr", "127.0.0.1:8480", "listen address")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	l, err := lf.ledger()
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	g, err := home.ServeGateway(ctx, l, *addr, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "公开网关 / public gateway: %s (base %s)\n", g.Service().Addr(), g.Server().Base())
	select {
	case <-ctx.Done():
	case <-g.Service().Done():
	}
	return g.Close()
}

func cmdGateway(args []string, out io.Writer) error {
	if len(args) == 0 || args[0] != "export" {
		fmt.Fprintln(os.Stderr, gatewayUsage)
		if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
			return nil
		}
		return errors.New("gateway: want `gateway export DIR`")
	}
	fs := newFlags("gateway export")
	var lf ledgerFlags
	lf.register(fs)
	f := &issuerFlags{fs: fs, home: fs.String("issuer-home", "", "a department home: export its status lists too, signed with its key"),
		passFile: fs.String("passphrase-file", "", "file holding the key store passphrase (default: $LZ_ISSUER_PASSPHRASE)")}
	f.node = &lf.node
	if len(args) == 2 && (args[1] == "-h" || args[1] == "--help") {
		fmt.Fprintln(os.Stderr, gatewayUsage)
		return flag.ErrHelp
	}
	if len(args) < 2 || strings.HasPrefix(args[1], "-") {
		fmt.Fprintln(os.Stderr, gatewayUsage)
		return errors.New("gateway export: give the output directory first: lz gateway export DIR …")
	}
	dir := args[1]
	if err := parseFlags(fs, args[2:]); err != nil {
		return err
	}
	ctx := context.Background()
	var d *home.Department
	var l home.Ledger
	if *f.home != "" {
		var err error
		if d, err = openDepartment(ctx, f, slog.New(slog.DiscardHandler)); err != nil {
			return err
		}
		defer d.Close()
	} else {
		var err error
		if l, err = lf.ledger(); err != nil {
			return err
		}
	}
	idx, err := home.ExportGateway(ctx, l, d, dir)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "已写入 %d 个文件到 %s（公开地址 %s，账本高度 %d；内容类型见 %s）\n", len(idx.Files), dir, idx.PublicBaseURL, idx.Height, "gateway-index.json")
	fmt.Fprintf(out, "wrote %d files to %s (public base URL %s, ledger height %d; content types in %s)\n", len(idx.Files), dir, idx.PublicBaseURL, idx.Height, "gateway-index.json")
	return nil
}
