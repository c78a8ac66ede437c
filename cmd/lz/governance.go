package main

// Governance as a department (lz issuer propose|approve) and the mutual-recognition agreement
// a consortium proposes (lz federation agreement): see docs/federation.md.

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"lianzheng/home"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
)

func issuerPropose(args []string, out io.Writer) error {
	f := newIssuerFlags("propose")
	action := f.fs.String("action", "", "governance action, e.g. recognition.put, recognition.remove, window.put, params.set")
	payloadFile := f.fs.String("payload", "", "the action's payload, a JSON file (e.g. from lz federation agreement)")
	if err := parseFlags(f.fs, args); err != nil {
		return err
	}
	if *action == "" || *payloadFile == "" {
		return errors.New("issuer propose: --action and --payload are required")
	}
	payload, err := os.ReadFile(*payloadFile)
	if err != nil {
		return err
	}
	ctx := context.Background()
	d, err := openDesk(ctx, f)
	if err != nil {
		return err
	}
	defer d.Close()
	g, err := d.Propose(ctx, *action, json.RawMessage(payload))
	if err != nil {
		return err
	}
	printGovernance(out, g)
	return nil
}

func issuerApprove(args []string, out io.Writer) error {
	f := newIssuerFlags("approve")
	id := f.fs.String("id", "", "the proposal id (32 hex digits, printed by lz issuer propose)")
	if err := parseFlags(f.fs, args); err != nil {
		return err
	}
	if *id == "" {
		return errors.New("issuer approve: --id is required")
	}
	ctx := context.Background()
	d, err := openDesk(ctx, f)
	if err != nil {
		return err
	}
	defer d.Close()
	g, err := d.Approve(ctx, *id)
	if err != nil {
		return err
	}
	printGovernance(out, g)
	return nil
}

// printGovernance: the proposal id to pass on, and where it stands.
func printGovernance(out io.Writer, g *home.Governance) {
	fmt.Fprintf(out, "proposal %s (block %d)\n", g.ProposalID, g.Height)
	if p := g.Proposal; p != nil {
		switch p.Status {
		case "applied":
			fmt.Fprintf(out, "已生效 / applied: %s, approved by %s\n", p.Action, strings.Join(p.Approvals, ", "))
		case "failed":
			fmt.Fprintf(out, "未能生效 / failed: %s: %s\n", p.Action, p.Error)
		default:
			fmt.Fprintf(out, "待批准 / pending: %s, approved so far by %s; other members run: lz issuer approve --id %s\n",
				p.Action, strings.Join(p.Approvals, ", "), g.ProposalID)
		}
	}
}

const federationUsage = `用法 / usage: lz federation agreement --genesis OTHER_GENESIS.json --region ID --name-zh 名称 --name-en NAME
           --node URL [--node URL …] --type THEIRS=OURS:ITEM[,ITEM…] [--type …] [--claim TYPE:THEIRS=OURS …]
           [--from RFC3339] [--years N] [--max-age 24h] [--out FILE]
  写出互认协议（recognition.put 的内容），各成员再以 lz issuer propose / approve 表决通过；
  打印对方创世文件的 SHA-256，请与对方通过其他渠道核对 /
  writes the mutual-recognition agreement (the payload of recognition.put) for the members to pass
  with lz issuer propose / approve, and prints the other region's genesis SHA-256 to check with
  them out of band (read aloud, an official letter).`

func cmdFederation(args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(os.Stderr, federationUsage)
		return nil
	}
	if args[0] == "agreement" {
		return federationAgreement(args[1:], os.Stdout, time.Now)
	}
	fmt.Fprintln(os.Stderr, federationUsage)
	return fmt.Errorf("federation: unknown command %q", args[0])
}

// multi is a repeatable string flag.
type multi []string

func (m *multi) String() string     { return strings.Join(*m, " ") }
func (m *multi) Set(s string) error { *m = append(*m, s); return nil }

func federationAgreement(args []string, out io.Writer, now func() time.Time) error {
	fs := flag.NewFlagSet("federation agreement", flag.ContinueOnError)
	genesis := fs.String("genesis", "", "the other region's genesis.json, as its consortium sent it")
	region := fs.String("region", "", "our id for the other region ([a-z0-9._-])")
	nameZh := fs.String("name-zh", "", "its name in Chinese")
	nameEn := fs.String("name-en", "", "its name in English")
	from := fs.String("from", "", "valid from (RFC 3339; default now)")
	years := fs.Int("years", 5, "valid for this many years (at most 10)")
	maxAge := fs.Duration("max-age", 24*time.Hour, "refuse the other region's data older than this")
	outFile := fs.String("out", "", "write the agreement here (default: standard output)")
	var nodes, types, claims multi
	fs.Var(&nodes, "node", "the other region's public ledger endpoint (repeat)")
	fs.Var(&types, "type", "THEIRS=OURS:ITEM[,ITEM…]: their type, our type it counts as, our service items that accept it (repeat)")
	fs.Var(&claims, "claim", "TYPE:THEIRS=OURS: a claim of their TYPE named differently here (repeat)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if *genesis == "" || *region == "" || (*nameZh == "" && *nameEn == "") {
		return errors.New("federation agreement: --genesis, --region and a name are required")
	}
	doc, err := os.ReadFile(*genesis)
	if err != nil {
		return err
	}
	start := now().UTC().Truncate(time.Second)
	if *from != "" {
		if start, err = time.Parse(time.RFC3339, *from); err != nil {
			return fmt.Errorf("federation agreement: --from %q: %w", *from, err)
		}
	}
	r := ledger.Recognition{Region: *region, Name: ledger.Text{Zh: *nameZh, En: *nameEn}, Nodes: nodes,
		ValidFrom: start.UTC().Format(time.RFC3339), ValidUntil: start.UTC().AddDate(*years, 0, 0).Format(time.RFC3339),
		MaxAgeSeconds: int64(maxAge.Seconds())}
	if err := ledgerclient.RecognitionFromGenesis(&r, doc); err != nil {
		return err
	}
	for _, t := range types {
		theirs, rest, ok1 := strings.Cut(t, "=")
		ours, items, ok2 := strings.Cut(rest, ":")
		if !ok1 || !ok2 || items == "" {
			return fmt.Errorf("federation agreement: --type %q: want THEIRS=OURS:ITEM[,ITEM…]", t)
		}
		r.Types = append(r.Types, ledger.RecognisedType{Type: theirs, AcceptedAs: ours, ServiceItems: strings.Split(items, ",")})
	}
	for _, c := range claims {
		typ, rename, ok1 := strings.Cut(c, ":")
		theirs, ours, ok2 := strings.Cut(rename, "=")
		if !ok1 || !ok2 {
			return fmt.Errorf("federation agreement: --claim %q: want TYPE:THEIRS=OURS", c)
		}
		t, ok := r.Type(typ)
		if !ok {
			return fmt.Errorf("federation agreement: --claim %q: no --type %s", c, typ)
		}
		t.Claims = append(t.Claims, ledger.ClaimRename{Theirs: theirs, Ours: ours})
	}
	if err := r.Validate(); err != nil {
		return fmt.Errorf("federation agreement: %w", err)
	}
	b, err := json.MarshalIndent(r, "", "  ")
	if err != nil {
		return err
	}
	b = append(b, '\n')
	if *outFile == "" {
		_, err = out.Write(b)
	} else {
		err = os.WriteFile(*outFile, b, 0o644)
	}
	if err != nil {
		return err
	}
	fmt.Fprintf(os.Stderr, "对方创世文件 SHA-256 / the other region's genesis SHA-256: %s\n链 / chain: %s，%d 个验证者 / validators\n",
		r.GenesisSHA256, r.ChainID, len(r.Validators))
	return nil
}
