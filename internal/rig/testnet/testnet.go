// Package testnet is a test rig: a demo consortium (home/demonet) run by several validators
// on loopback, one node home per validator (Init, Load; `lz ledger testnet init` and
// `make consortium`), and raw-RPC helpers that tests and benchmarks use to drive a node
// directly: signed transactions confirmed by hash (NewTx, Submit) and proved reads checked
// against a commit (QueryProved, VerifiedHeader). Its load generator lives in _test.go files
// beside the benchmarks that use it. Nothing in production imports it but the lz command's
// testnet init.
//
// Like every demo ledger, the testnet's department and window keys are unsealed demo keys
// (demonet.DemoKey) in DIR/demo-keys: for loopback tests only.
package testnet

import (
	"encoding/json"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"lianzheng/assets"
	"lianzheng/home/demonet"
	"lianzheng/ledger/node"
)

// ChainID is the default chain id of a testnet.
const ChainID = "lianzheng-testnet"

// Options configure Init.
type Options struct {
	Validators int    // 1..5 departments run validators, in catalogue order
	ChainID    string // default ChainID
	// BasePort: node i listens for p2p on BasePort+10*i and for RPC on BasePort+10*i+1
	// (26656 gives node0 CometBFT's usual ports). 0 picks free loopback ports.
	BasePort            int
	Timing              node.Timing   // default node.TimingLoopback
	EmptyBlocksInterval time.Duration // heartbeat when idle (default 1 s; negative: none)
	LogLevel            string
	Now                 time.Time
	// Catalogue is the consortium's departments, types and windows (default: the demo
	// city's; assets.RegionBCatalogue for a second region).
	Catalogue *assets.Catalogue
}

// Node describes one node of a testnet (DIR/nodes.json lists them).
type Node struct {
	Name      string `json:"name"`   // node0, node1, ...
	Home      string `json:"home"`   // absolute path
	Member    string `json:"member"` // department whose validator this is
	NodeID    string `json:"node_id"`
	P2P       string `json:"p2p"` // host:port
	RPC       string `json:"rpc"` // host:port
	Validator string `json:"validator"`
}

// Testnet is what Init made.
type Testnet struct {
	Dir        string              `json:"dir"`
	ChainID    string              `json:"chain_id"`
	Nodes      []Node              `json:"nodes"`
	Consortium *demonet.Consortium `json:"-"`
}

// File is the description of a testnet inside its directory.
func File(dir string) string { return filepath.Join(dir, "nodes.json") }

// Init makes a testnet of several validators on loopback: one home per validator
// (DIR/node0 ... DIR/node<N-1>) with distinct ports, every other node as a persistent peer,
// addr_book_strict = false and allow_duplicate_ip = true; a shared genesis (also written to
// DIR/genesis.json) in which the first N departments of the catalogue are validators and
// the rest are plain members; the demo keys under DIR/demo-keys; DIR/nodes.json.
func Init(dir string, opt Options) (*Testnet, error) {
	cat, err := opt.Catalogue, error(nil)
	if cat == nil {
		if cat, err = assets.DemoCatalogue(); err != nil {
			return nil, err
		}
	}
	if opt.Validators < 1 || opt.Validators > len(cat.Departments) {
		return nil, fmt.Errorf("testnet: --validators must be 1-%d (one per demo department), not %d", len(cat.Departments), opt.Validators)
	}
	if opt.ChainID == "" {
		opt.ChainID = ChainID
	}
	if opt.EmptyBlocksInterval == 0 {
		opt.EmptyBlocksInterval = time.Second
	} else if opt.EmptyBlocksInterval < 0 {
		opt.EmptyBlocksInterval = 0
	}
	if opt.Timing == node.TimingEmbedded {
		opt.Timing = node.TimingLoopback
	}
	if opt.Now.IsZero() {
		opt.Now = time.Now()
	}
	if opt.BasePort < 0 || opt.BasePort+10*opt.Validators > 65535 {
		return nil, fmt.Errorf("testnet: base port %d out of range", opt.BasePort)
	}
	dir, err = filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	if _, err := os.Stat(File(dir)); err == nil {
		return nil, fmt.Errorf("testnet: %s: %w", dir, demonet.ErrExists)
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("testnet: %w", err)
	}
	tn := &Testnet{Dir: dir, ChainID: opt.ChainID}
	// Pass 1: addresses (all known before any config names its peers).
	for i := 0; i < opt.Validators; i++ {
		var p2p, rpc string
		if opt.BasePort > 0 {
			p2p = net.JoinHostPort("127.0.0.1", strconv.Itoa(opt.BasePort+10*i))
			rpc = net.JoinHostPort("127.0.0.1", strconv.Itoa(opt.BasePort+10*i+1))
		} else {
			if p2p, err = node.FreeLoopbackAddr(); err != nil {
				return nil, err
			}
			if rpc, err = node.FreeLoopbackAddr(); err != nil {
				return nil, err
			}
		}
		name := "node" + strconv.Itoa(i)
		tn.Nodes = append(tn.Nodes, Node{Name: name, Home: filepath.Join(dir, name), Member: cat.Departments[i].ID, P2P: p2p, RPC: rpc})
	}
	if opt.BasePort == 0 && duplicates(tn.Nodes) {
		return nil, fmt.Errorf("testnet: could not pick distinct free ports; give --base-port")
	}
	// Pass 2: keys (node ids are needed for persistent_peers).
	vals := map[string][]byte{}
	for i := range tn.Nodes {
		n := &tn.Nodes[i]
		info, err := node.InitHome(n.Home, node.HomeOptions{Moniker: n.Member, RPCListen: n.RPC, P2PListen: n.P2P,
			Timing: opt.Timing, EmptyBlocksInterval: opt.EmptyBlocksInterval, Loopback: true, LogLevel: opt.LogLevel})
		if err != nil {
			return nil, err
		}
		n.NodeID = info.NodeID
		n.Validator = info.ValidatorKeyBase64()
		vals[n.Member] = info.ValidatorPubKey
	}
	// Pass 3: configs with peers.
	for i := range tn.Nodes {
		n := &tn.Nodes[i]
		var peers []string
		for j, o := range tn.Nodes {
			if j != i {
				peers = append(peers, o.NodeID+"@"+o.P2P)
			}
		}
		if _, err := node.InitHome(n.Home, node.HomeOptions{Moniker: n.Member, RPCListen: n.RPC, P2PListen: n.P2P,
			PersistentPeers: peers, Timing: opt.Timing, EmptyBlocksInterval: opt.EmptyBlocksInterval, Loopback: true,
			LogLevel: opt.LogLevel}); err != nil {
			return nil, err
		}
	}
	c, err := demonet.NewConsortiumFrom(cat, opt.ChainID, opt.Now, vals)
	if err != nil {
		return nil, err
	}
	tn.Consortium = c
	var homes []string
	for _, n := range tn.Nodes {
		homes = append(homes, n.Home)
	}
	doc, err := c.Genesis()
	if err != nil {
		return nil, err
	}
	if err := doc.SaveAs(filepath.Join(dir, "genesis.json")); err != nil {
		return nil, err
	}
	if err := c.Install(homes, demonet.KeyDir(dir)); err != nil {
		return nil, err
	}
	b, _ := json.MarshalIndent(tn, "", "  ")
	if err := os.WriteFile(File(dir), append(b, '\n'), 0o600); err != nil {
		return nil, err
	}
	return tn, nil
}

func duplicates(ns []Node) bool {
	seen := map[string]bool{}
	for _, n := range ns {
		for _, a := range []string{n.P2P, n.RPC} {
			if seen[a] {
				return true
			}
			seen[a] = true
		}
	}
	return false
}

// Load reads DIR/nodes.json.
func Load(dir string) (*Testnet, error) {
	b, err := os.ReadFile(File(dir))
	if err != nil {
		return nil, fmt.Errorf("testnet: %w", err)
	}
	var tn Testnet
	if err := json.Unmarshal(b, &tn); err != nil {
		return nil, fmt.Errorf("testnet: %s: %w", File(dir), err)
	}
	return &tn, nil
}
