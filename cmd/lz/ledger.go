package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	cmtflags "github.com/cometbft/cometbft/libs/cli/flags"
	"github.com/cometbft/cometbft/libs/log"
	rpchttp "github.com/cometbft/cometbft/rpc/client/http"

	"lianzheng/home"
	"lianzheng/home/demonet"
	"lianzheng/internal/rig/testnet"
	"lianzheng/ledger"
	ledgernode "lianzheng/ledger/node"
)

const ledgerUsage = `用法 / usage: lz ledger <command> [flags]

  init     --home DIR [--demo] [--chain-id ID] [--rpc ADDR] [--p2p ADDR] [--timing embedded|loopback|wan]
           初始化节点目录 / make a node home. With --demo: a complete single-validator demo
           ledger (demo consortium genesis, unsealed demo keys in DIR/demo-keys). Without:
           config and keys only; prints the node ID and validator key to send to the
           consortium, and --genesis FILE installs the consortium's genesis.json.
  start    --home DIR        运行节点直到 Ctrl-C / run the node until SIGINT or SIGTERM
  status   --home DIR | --node ADDR
           打印 {"height": N, "app_hash": "…"} / print the last committed height and app hash
  genesis  --chain-id ID --state APP_STATE.json --out genesis.json
           由各部门的成员记录生成创世文件 / build a consortium genesis: validators = members' keys
  testnet init --validators N --dir DIR [--base-port P] [--chain-id ID] [--timing loopback|wan]
           本机多验证者测试网 / N validators on loopback: DIR/node0..node<N-1>`

func cmdLedger(args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, ledgerUsage)
		return errors.New("ledger: missing command")
	}
	switch args[0] {
	case "init":
		return ledgerInit(args[1:], os.Stdout)
	case "start":
		return ledgerStart(args[1:])
	case "status":
		return ledgerStatus(args[1:], os.Stdout)
	case "genesis":
		return ledgerGenesis(args[1:], os.Stdout)
	case "testnet":
		if len(args) < 2 || args[1] != "init" {
			fmt.Fprintln(os.Stderr, ledgerUsage)
			return errors.New("ledger testnet: want `testnet init`")
		}
		return ledgerTestnetInit(args[2:], os.Stdout)
	case "-h", "--help", "help":
		fmt.Fprintln(os.Stdout, ledgerUsage)
		return nil
	}
	fmt.Fprintln(os.Stderr, ledgerUsage)
	return fmt.Errorf("ledger: unknown command %q", args[0])
}

func newFlags(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(os.Stderr)
	return fs
}

func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%s: unexpected argument %q", fs.Name(), fs.Arg(0))
	}
	return nil
}

func ledgerInit(args []string, out io.Writer) error {
	fs := newFlags("ledger init")
	home := fs.String("home", "", "node home directory (required)")
	demo := fs.Bool("demo", false, "make a complete single-validator demo ledger")
	chainID := fs.String("chain-id", "", "chain id (demo default "+demonet.EmbeddedChainID+")")
	rpc := fs.String("rpc", "", "RPC listen host:port (default: a free port on 127.0.0.1)")
	p2p := fs.String("p2p", "", "P2P listen host:port (default: a free port on 127.0.0.1)")
	timing := fs.String("timing", "", "consensus timeouts: embedded, loopback or wan (default: embedded with --demo, wan otherwise)")
	peers := fs.String("peers", "", "persistent peers, comma-separated nodeID@host:port")
	genesis := fs.String("genesis", "", "install this genesis.json (a consortium member's node)")
	baseURL := fs.String("public-base-url", "", "with --demo: the consortium's public base URL for outside verifiers (https, or http on loopback)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *home == "" {
		return errors.New("ledger init: --home is required")
	}
	if *demo {
		if *genesis != "" || *peers != "" || (*timing != "" && *timing != "embedded") {
			return errors.New("ledger init: --demo makes its own genesis, has no peers and uses embedded timing")
		}
		if *baseURL != "" {
			if err := ledger.CheckPublicBaseURL(*baseURL); err != nil {
				return err
			}
		}
		c, info, err := demonet.InitEmbedded(*home, demonet.EmbeddedOptions{ChainID: *chainID, RPCListen: *rpc, P2PListen: *p2p, PublicBaseURL: *baseURL})
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "demo ledger %s initialised in %s\n", c.ChainID, info.Home)
		fmt.Fprintf(out, "  rpc      http://%s\n  node id  %s\n  members  %d (validator: %s), approvals %d of %d\n",
			info.RPCAddress, info.NodeID, len(c.State.Members), demonet.EmbeddedValidator, c.State.Params.Approvals, len(c.State.Members))
		fmt.Fprintf(out, "  demo keys (UNSEALED, demo only) in %s\n", demonet.KeyDir(info.Home))
		fmt.Fprintf(out, "start it with: lz ledger start --home %s\n", *home)
		return nil
	}
	t := ledgernode.TimingWAN
	if *timing != "" {
		var err error
		if t, err = ledgernode.ParseTiming(*timing); err != nil {
			return err
		}
	}
	var peerList []string
	if *peers != "" {
		peerList = strings.Split(*peers, ",")
	}
	info, err := ledgernode.InitHome(*home, ledgernode.HomeOptions{RPCListen: *rpc, P2PListen: *p2p, PersistentPeers: peerList, Timing: t, EmptyBlocksInterval: 5 * time.Second})
	if err != nil {
		return err
	}
	if *genesis != "" {
		if err := installGenesis(info, *genesis, *chainID); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "{\n  \"home\": %q,\n  \"node_id\": %q,\n  \"p2p\": %q,\n  \"validator\": %q\n}\n", info.Home, info.NodeID, info.P2PAddress, info.ValidatorKeyBase64())
	return nil
}

// installGenesis copies a consortium genesis into the home after checking it: valid, its
// app_state accepted by the ledger, and (warning only) naming this node's validator key.
func installGenesis(info *ledgernode.HomeInfo, path, chainID string) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	tmp := ledgernode.GenesisFile(info.Home) + ".tmp"
	if err := os.WriteFile(tmp, b, 0o644); err != nil {
		return err
	}
	if err := os.Rename(tmp, ledgernode.GenesisFile(info.Home)); err != nil {
		return err
	}
	doc, st, err := ledgernode.ReadGenesis(info.Home)
	if err == nil {
		_, err = ledger.ParseGenesis(doc.AppState)
	}
	if err != nil {
		os.Remove(ledgernode.GenesisFile(info.Home))
		return fmt.Errorf("ledger init: %s: %w", path, err)
	}
	if chainID != "" && doc.ChainID != chainID {
		os.Remove(ledgernode.GenesisFile(info.Home))
		return fmt.Errorf("ledger init: %s is for chain %s, not %s", path, doc.ChainID, chainID)
	}
	found := false
	for _, m := range st.Members {
		found = found || m.Validator == info.ValidatorKeyBase64()
	}
	if !found {
		fmt.Fprintln(os.Stderr, "warning: this node's validator key is not in the genesis: it will follow the chain without voting")
	}
	return nil
}

func nodeLogger(home string) (log.Logger, error) {
	c, err := ledgernode.LoadConfig(home)
	if err != nil {
		return nil, err
	}
	l := log.NewTMLogger(log.NewSyncWriter(os.Stderr))
	return cmtflags.ParseLogLevel(c.LogLevel, l, "info")
}

func ledgerStart(args []string) error {
	fs := newFlags("ledger start")
	home := fs.String("home", "", "node home directory (required)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *home == "" {
		return errors.New("ledger start: --home is required")
	}
	logger, err := nodeLogger(*home)
	if err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	n, err := ledgernode.StartHomeNode(ctx, *home, logger)
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "lz ledger: node %s of chain %s running; RPC %s (Ctrl-C stops it)\n", n.NodeID(), n.ChainID(), n.RPCAddress())
	<-ctx.Done()
	stop() // a second Ctrl-C kills the process the usual way
	fmt.Fprintln(os.Stderr, "lz ledger: stopping…")
	done := make(chan error, 1)
	go func() { done <- n.Stop() }()
	select {
	case err := <-done:
		if err != nil {
			return err
		}
	case <-time.After(30 * time.Second):
		return errors.New("ledger start: the node did not stop within 30 s")
	}
	fmt.Fprintf(os.Stderr, "lz ledger: stopped at height %d\n", n.Height())
	return nil
}

func ledgerStatus(args []string, out io.Writer) error {
	fs := newFlags("ledger status")
	nodeHome := fs.String("home", "", "node home directory (its RPC address is read from config.toml)")
	node := fs.String("node", "", "RPC address of a node, host:port or http://host:port")
	timeout := fs.Duration("timeout", 5*time.Second, "give up after this long")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	var addr string
	switch {
	case *nodeHome != "" && *node != "":
		return errors.New("ledger status: give --home or --node, not both")
	case *nodeHome != "":
		c, err := ledgernode.LoadConfig(*nodeHome)
		if err != nil {
			return err
		}
		addr = ledgernode.RPCURL(c.RPC.ListenAddress)
	case *node != "":
		addr = home.NodeURL(*node)
	default:
		return errors.New("ledger status: --home or --node is required")
	}
	cl, err := rpchttp.New(addr, "/websocket")
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), *timeout)
	defer cancel()
	info, err := cl.ABCIInfo(ctx)
	if err != nil {
		return fmt.Errorf("ledger status: %s: %w", addr, err)
	}
	fmt.Fprintf(out, "{\"height\": %d, \"app_hash\": \"%X\"}\n", info.Response.LastBlockHeight, info.Response.LastBlockAppHash)
	return nil
}

func ledgerTestnetInit(args []string, out io.Writer) error {
	fs := newFlags("ledger testnet init")
	n := fs.Int("validators", 4, "number of validators (1-5; the first N demo departments)")
	dir := fs.String("dir", "", "testnet directory (required)")
	base := fs.Int("base-port", 0, "node i uses p2p base+10i and RPC base+10i+1 (default: free ports)")
	chainID := fs.String("chain-id", "", "chain id (default "+testnet.ChainID+")")
	timing := fs.String("timing", "loopback", "consensus timeouts: loopback or wan")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *dir == "" {
		return errors.New("ledger testnet init: --dir is required")
	}
	t, err := ledgernode.ParseTiming(*timing)
	if err != nil {
		return err
	}
	tn, err := testnet.Init(*dir, testnet.Options{Validators: *n, ChainID: *chainID, BasePort: *base, Timing: t})
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "testnet %s: %d validators in %s (demo keys, UNSEALED, in %s)\n", tn.ChainID, len(tn.Nodes), tn.Dir, demonet.KeyDir(tn.Dir))
	for _, nd := range tn.Nodes {
		fmt.Fprintf(out, "  %s  %-18s p2p %s  rpc http://%s  id %s\n", nd.Name, nd.Member, nd.P2P, nd.RPC, nd.NodeID)
	}
	fmt.Fprintf(out, "start each with: lz ledger start --home %s/node<i>\n", tn.Dir)
	return nil
}

// ledgerGenesis builds the genesis.json of a real consortium from its app_state (members with
// their validator keys, DID histories, catalogue, windows, params), checked as the ledger
// will check it at InitChain.
func ledgerGenesis(args []string, out io.Writer) error {
	fs := newFlags("ledger genesis")
	chainID := fs.String("chain-id", "", "chain id (required)")
	statePath := fs.String("state", "", "app_state JSON: ledger.GenesisState (required)")
	outPath := fs.String("out", "genesis.json", "where to write the genesis document")
	at := fs.String("time", "", "genesis time, RFC 3339 (default now); no DID key may be valid before it")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *chainID == "" || *statePath == "" {
		return errors.New("ledger genesis: --chain-id and --state are required")
	}
	b, err := os.ReadFile(*statePath)
	if err != nil {
		return err
	}
	st, err := ledger.ParseGenesis(b)
	if err != nil {
		return fmt.Errorf("ledger genesis: %w", err)
	}
	t := time.Now()
	if *at != "" {
		if t, err = time.Parse(time.RFC3339, *at); err != nil {
			return fmt.Errorf("ledger genesis: --time: %w", err)
		}
	}
	doc, err := ledgernode.NewGenesis(*chainID, t, st)
	if err != nil {
		return err
	}
	if _, err := os.Stat(*outPath); err == nil {
		return fmt.Errorf("ledger genesis: %s exists", *outPath)
	}
	if err := doc.SaveAs(*outPath); err != nil {
		return err
	}
	fmt.Fprintf(out, "genesis of %s written to %s: %d members, %d validators\n", doc.ChainID, *outPath, len(st.Members), len(doc.Validators))
	return nil
}
