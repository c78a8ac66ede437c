package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"lianzheng/did"
	"lianzheng/home"
	"lianzheng/home/demonet"
	"lianzheng/issuer"
	"lianzheng/issuer/oid4vci"
	ledgernode "lianzheng/ledger/node"
)

const issuerUsage = `用法 / usage: lz issuer <command> --home DIR [flags]

  init     --home DIR --id DEPT --node ADDR (--ledger-home DIR | --genesis FILE --demo-key FILE) [--issuer-url URL]
           新建部门签发目录，导入并密封部门签名密钥 / create the issuer home, seal the department key
  types    本部门可签发的凭证类型 / credential types this department may issue
  issue    --type T (--claims FILE.json | --claim k=v ...) --holder did:key:… [--out DIR]
  offer    --type T (--claims FILE.json | --claim k=v ...) [--ttl 10m] [--qr FILE.png]
           生成领取二维码与 6 位码 / credential offer (OpenID4VCI) as text, QR and PIN
  suspend | resume | revoke  RECORD_ID | --batch BATCH_ID | --ids FILE
           暂停 / 恢复 / 撤销（写入联盟链）；--batch：该批次全部凭证，--ids：文件中每行一个记录号，
           批量只需极少的链上交易 / one record, every record of a batch, or the record ids in FILE
           (one a line) in as few ledger transactions as their status lists allow
  batch    --type T --csv FILE --out FILE [--ttl 24h]
           批量签发：先全部校验（任何一行有误则不签发），再多核签发、分块提交；中断后以同样命令
           重新运行即可续签（不重复、不遗漏）/ check every row first, then issue on all cores in
           bounded transactions; run the same command again to resume an interrupted batch
  batches  批次列表（批次号、行数、已提交）/ the department's batches
  list     [--search 姓名或证件号码] [--type T] [--state valid|suspended|revoked] [--limit N] [--offset N | --after CURSOR]
           已签发：持证人（脱敏）/ issued credentials with their masked holders, newest first
  rotate   [--keep-old]  新签名密钥（did.add_key，旧密钥 did.revoke_key；已签发凭证仍有效）/ key rotation
  propose  --action A --payload FILE.json  以本部门身份提出治理提案（如 recognition.put）/ propose a governance action
  approve  --id PROPOSAL_ID  批准待定提案，达到法定数即生效 / approve a pending proposal (applied at the consortium's k)

The key store passphrase comes from $LZ_ISSUER_PASSPHRASE or --passphrase-file.
lz serve issuer --home DIR [--addr 127.0.0.1:8470] runs the OpenID4VCI service; while it runs,
these commands run inside it (through DIR/control.sock) / 服务运行期间，上述命令经服务执行，无需停止服务.`

func cmdIssuer(args []string) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(os.Stderr, issuerUsage)
		return nil
	}
	out := os.Stdout
	switch args[0] {
	case "init":
		return issuerInit(args[1:], out)
	case "types":
		return issuerTypes(args[1:], out)
	case "issue":
		return issuerIssue(args[1:], out)
	case "offer":
		return issuerOffer(args[1:], out)
	case "suspend", "resume", "revoke":
		return issuerStatus(args[0], args[1:], out)
	case "batch":
		return issuerBatch(args[1:], out)
	case "batches":
		return issuerBatches(args[1:], out)
	case "list":
		return issuerList(args[1:], out)
	case "rotate":
		return issuerRotate(args[1:], out)
	case "propose":
		return issuerPropose(args[1:], out)
	case "approve":
		return issuerApprove(args[1:], out)
	}
	fmt.Fprintln(os.Stderr, issuerUsage)
	return fmt.Errorf("issuer: unknown command %q", args[0])
}

const serveUsage = "用法 / usage: lz serve issuer --home DIR [--addr 127.0.0.1:8470]   OpenID4VCI 签发服务（及本部门的状态列表）/ the OpenID4VCI issuance service (and the department's status lists)\n       lz serve gateway (--ledger-home DIR | --genesis FILE --node URL) [--addr 127.0.0.1:8480]   公开网关 / the public gateway\n       lz serve portal --home DIR [--portal realestate-portal] [--addr 127.0.0.1:8490] [--base-url URL]   网上服务平台（OpenID4VP）/ the online-service portal (OpenID4VP)"

func cmdServe(args []string) error {
	if len(args) > 0 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help") {
		fmt.Fprintln(os.Stderr, serveUsage)
		return nil
	}
	if len(args) > 0 && args[0] == "gateway" {
		return serveGateway(args[1:])
	}
	if len(args) > 0 && args[0] == "portal" {
		return servePortal(args[1:])
	}
	if len(args) == 0 || args[0] != "issuer" {
		fmt.Fprintln(os.Stderr, serveUsage)
		return errors.New("serve: want `serve issuer`, `serve gateway` or `serve portal`")
	}
	return serveIssuer(args[1:])
}

func passphrase(file string) (string, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return "", err
		}
		return strings.TrimRight(string(b), "\r\n"), nil
	}
	if p := os.Getenv("LZ_ISSUER_PASSPHRASE"); p != "" {
		return p, nil
	}
	return "", errors.New("the key store passphrase is required: set LZ_ISSUER_PASSPHRASE or --passphrase-file")
}

type issuerFlags struct {
	fs       *flag.FlagSet
	home     *string
	passFile *string
	node     *string
}

func newIssuerFlags(name string) *issuerFlags {
	fs := newFlags("issuer " + name)
	return &issuerFlags{fs: fs,
		home:     fs.String("home", "", "issuer home directory (required)"),
		passFile: fs.String("passphrase-file", "", "file holding the key store passphrase (default: $LZ_ISSUER_PASSPHRASE)"),
		node:     fs.String("node", "", "ledger RPC address (default: the one recorded at init)"),
	}
}

// openDesk opens the department home named by the flags for one command: in the service
// running on it, through its control socket, when one answers; else in this process
// (home.OpenDesk). Either way the passphrase is checked by the home's key store.
func openDesk(ctx context.Context, f *issuerFlags) (home.Desk, error) {
	if *f.home == "" {
		return nil, errors.New("--home is required")
	}
	pass, err := passphrase(*f.passFile)
	if err != nil {
		return nil, err
	}
	return home.OpenDesk(ctx, *f.home, home.IssuerOptions{Passphrase: pass, Node: *f.node})
}

// openDepartment opens the department home named by the flags in this process
// (home.OpenIssuer), for the service.
func openDepartment(ctx context.Context, f *issuerFlags, log *slog.Logger) (*home.Department, error) {
	if *f.home == "" {
		return nil, errors.New("--home is required")
	}
	pass, err := passphrase(*f.passFile)
	if err != nil {
		return nil, err
	}
	return home.OpenIssuer(ctx, *f.home, home.IssuerOptions{Passphrase: pass, Node: *f.node, Log: log})
}

func issuerInit(args []string, out io.Writer) error {
	f := newIssuerFlags("init")
	id := f.fs.String("id", "", "department (member) id, e.g. civil-affairs (required)")
	ledgerHome := f.fs.String("ledger-home", "", "demo ledger home: genesis and <home>/demo-keys/<id>.json are taken from it")
	genesis := f.fs.String("genesis", "", "the consortium genesis.json (trust root)")
	demoKey := f.fs.String("demo-key", "", "a demo key file (<ledger home>/demo-keys/<id>.json) to import")
	issuerURL := f.fs.String("issuer-url", "http://127.0.0.1:8470", "credential issuer identifier (the URL wallets reach lz serve issuer at)")
	if err := parseFlags(f.fs, args); err != nil {
		return err
	}
	if *f.home == "" || *id == "" {
		return errors.New("issuer init: --home and --id are required")
	}
	keyDir := ""
	switch {
	case *ledgerHome != "":
		*genesis = ledgernode.GenesisFile(*ledgerHome)
		keyDir = demonet.KeyDir(*ledgerHome)
		if *f.node == "" {
			if c, err := ledgernode.LoadConfig(*ledgerHome); err == nil {
				*f.node = ledgernode.RPCURL(c.RPC.ListenAddress)
			}
		}
	case *genesis != "" && *demoKey != "":
		keyDir = filepath.Dir(*demoKey)
		*id = strings.TrimSuffix(filepath.Base(*demoKey), ".json")
	default:
		return errors.New("issuer init: give --ledger-home, or --genesis and --demo-key")
	}
	if *f.node == "" {
		return errors.New("issuer init: --node is required")
	}
	dk, err := demonet.LoadKey(keyDir, *id)
	if err != nil {
		return err
	}
	pass, err := passphrase(*f.passFile)
	if err != nil {
		return err
	}
	// The key is checked against the ledger at once, so a wrong key or node shows now.
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	d, err := home.InitIssuer(ctx, *f.home, home.IssuerInit{Key: dk, Genesis: *genesis, Node: *f.node,
		IssuerURL: *issuerURL, Passphrase: pass})
	if err != nil {
		return fmt.Errorf("issuer init: %w", err)
	}
	defer d.Close()
	fmt.Fprintf(out, "issuer home %s: %s signing as %s (key sealed in %s)\n", *f.home, d.Core().DID, d.Core().KeyID, filepath.Join(*f.home, "keystore"))
	return nil
}

func issuerTypes(args []string, out io.Writer) error {
	f := newIssuerFlags("types")
	if err := parseFlags(f.fs, args); err != nil {
		return err
	}
	ctx := context.Background()
	d, err := openDesk(ctx, f)
	if err != nil {
		return err
	}
	defer d.Close()
	ts, err := d.Types(ctx)
	if err != nil {
		return err
	}
	for _, t := range ts {
		fmt.Fprintf(out, "%s  %s / %s  (vct %s, ≤ %d days)\n", t.ID, t.Name.Zh, t.Name.En, t.VCT, t.MaxValidityDays)
		for _, c := range t.Claims {
			req := ""
			if c.Required {
				req = " *"
			}
			fmt.Fprintf(out, "    %-20s %-7s %s / %s%s\n", c.Name, c.Type, c.Label.Zh, c.Label.En, req)
		}
	}
	return nil
}

type claimFlags map[string]any

func (c claimFlags) String() string { return "" }
func (c claimFlags) Set(s string) error {
	k, v, ok := strings.Cut(s, "=")
	if !ok || k == "" {
		return fmt.Errorf("--claim wants name=value")
	}
	c[k] = v
	return nil
}

func readClaims(file string, c claimFlags) (map[string]any, error) {
	if file != "" {
		b, err := os.ReadFile(file)
		if err != nil {
			return nil, err
		}
		dec := json.NewDecoder(strings.NewReader(string(b)))
		dec.UseNumber()
		var m map[string]any
		if err := dec.Decode(&m); err != nil {
			return nil, fmt.Errorf("%s: %w", file, err)
		}
		for k, v := range c {
			m[k] = v
		}
		return m, nil
	}
	return c, nil
}

// printErr shows validation problems field by field (zh and en).
func printValidation(w io.Writer, err error) error {
	var ve *issuer.ValidationError
	if errors.As(err, &ve) {
		for _, f := range ve.Fields {
			fmt.Fprintf(w, "  ✘ %s: %s / %s\n", f.Field, f.Zh, f.En)
		}
	}
	var na *issuer.NotAuthorisedError
	if errors.As(err, &na) {
		fmt.Fprintf(w, "  ✘ 本部门无权签发此类凭证（目录授权：%s）\n", strings.Join(na.Issuers, ", "))
	}
	return err
}

func issuerIssue(args []string, out io.Writer) error {
	f := newIssuerFlags("issue")
	typ := f.fs.String("type", "", "credential type id (required)")
	file := f.fs.String("claims", "", "JSON object of claims")
	holder := f.fs.String("holder", "", "the holder's did:key (required)")
	outDir := f.fs.String("out", "", "write <record>.sd-jwt and <record>.w3c.json here (default: print)")
	cl := claimFlags{}
	f.fs.Var(cl, "claim", "name=value (repeatable)")
	if err := parseFlags(f.fs, args); err != nil {
		return err
	}
	claims, err := readClaims(*file, cl)
	if err != nil {
		return err
	}
	hk, err := did.ParseKey(*holder)
	if err != nil {
		return fmt.Errorf("--holder: %w", err)
	}
	ctx := context.Background()
	d, err := openDesk(ctx, f)
	if err != nil {
		return err
	}
	defer d.Close()
	is, err := d.Issue(ctx, issuer.Request{Type: *typ, Claims: claims, Holder: hk})
	if err != nil {
		return printValidation(os.Stderr, err)
	}
	w3c, _ := json.MarshalIndent(is.W3C, "", "  ")
	if *outDir != "" {
		if err := os.MkdirAll(*outDir, 0o700); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(*outDir, is.Record.ID+".sd-jwt"), []byte(is.SDJWT+"\n"), 0o600); err != nil {
			return err
		}
		if err := os.WriteFile(filepath.Join(*outDir, is.Record.ID+".w3c.json"), append(w3c, '\n'), 0o600); err != nil {
			return err
		}
	} else {
		fmt.Fprintln(out, is.SDJWT)
		fmt.Fprintln(out, string(w3c))
	}
	rb, _ := json.Marshal(is.Record)
	fmt.Fprintln(os.Stderr, string(rb))
	return nil
}

func issuerOffer(args []string, out io.Writer) error {
	f := newIssuerFlags("offer")
	typ := f.fs.String("type", "", "credential type id (required)")
	file := f.fs.String("claims", "", "JSON object of claims")
	ttl := f.fs.Duration("ttl", issuer.DefaultOfferTTL, "how long the offer can be redeemed")
	qrFile := f.fs.String("qr", "", "write the offer QR code (PNG) here")
	cl := claimFlags{}
	f.fs.Var(cl, "claim", "name=value (repeatable)")
	if err := parseFlags(f.fs, args); err != nil {
		return err
	}
	claims, err := readClaims(*file, cl)
	if err != nil {
		return err
	}
	ctx := context.Background()
	d, err := openDesk(ctx, f)
	if err != nil {
		return err
	}
	defer d.Close()
	o, err := d.CreateOffer(ctx, issuer.Request{Type: *typ, Claims: claims}, *ttl)
	if err != nil {
		return printValidation(os.Stderr, err)
	}
	uri := oid4vci.OfferURI(d.IssuerURL(), o)
	if *qrFile != "" {
		png, err := oid4vci.OfferQR(d.IssuerURL(), o)
		if err != nil {
			return err
		}
		if err := os.WriteFile(*qrFile, png, 0o600); err != nil {
			return err
		}
	}
	fmt.Fprintf(out, "offer %s  type %s  expires %s\n", o.ID, o.Type, o.Expires.Local().Format(time.DateTime))
	fmt.Fprintf(out, "领取码（请口头或短信告知办事人）/ transaction PIN: %s\n", o.PIN)
	fmt.Fprintln(out, uri)
	return nil
}

func issuerStatus(action string, args []string, out io.Writer) error {
	f := newIssuerFlags(action)
	batch := f.fs.String("batch", "", "every record of this batch (its id: lz issuer batches)")
	idsFile := f.fs.String("ids", "", "the records whose ids this file lists, one a line")
	f.fs.Usage = func() {
		fmt.Fprintf(os.Stderr, "lz issuer %s --home DIR (RECORD_ID | --batch BATCH_ID | --ids FILE)\n", action)
	}
	if err := f.fs.Parse(args); err != nil {
		return err
	}
	id := f.fs.Arg(0)
	if f.fs.NArg() > 0 { // flags may follow the record id
		if err := f.fs.Parse(f.fs.Args()[1:]); err != nil {
			return err
		}
	}
	n := 0
	for _, given := range []bool{id != "", *batch != "", *idsFile != ""} {
		if given {
			n++
		}
	}
	if n != 1 || f.fs.NArg() != 0 {
		return fmt.Errorf("issuer %s: give one RECORD_ID, --batch or --ids", action)
	}
	var ids []string
	if *idsFile != "" {
		var err error
		if ids, err = readIDs(*idsFile); err != nil {
			return err
		}
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d, err := openDesk(ctx, f)
	if err != nil {
		return err
	}
	defer d.Close()
	if id == "" {
		start := time.Now()
		res, err := d.BulkStatus(ctx, home.BulkJob{Action: action, BatchID: *batch, IDs: ids}, func(p issuer.BulkProgress) {
			fmt.Fprintf(os.Stderr, "已写入 %d / 共 %d（%d 笔链上交易）/ %d of %d written (%d ledger transactions)\n", p.Done, p.Total, p.Txs, p.Done, p.Total, p.Txs)
		})
		if err != nil {
			return err
		}
		for _, e := range res.Finished {
			fmt.Fprintf(out, "先完成了中断的批量操作 %d / first completed interrupted bulk operation %d: %s, %d records\n", e.Op, e.Op, e.Action, e.Changed)
		}
		fmt.Fprintf(out, "%s: %d of %d records changed, %d skipped (state does not allow it, or unknown); %d ledger transaction(s) on %d list(s), last block %d, %s\n",
			action, res.Changed, res.Selected, res.Skipped, res.Txs, res.Lists, res.Height, time.Since(start).Round(time.Millisecond))
		return nil
	}
	r, res, err := d.SetStatus(ctx, id, action)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s → %s (status list %d index %d, ledger block %d, tx %s)\n", r.ID, r.State, r.StatusList, r.StatusIndex, res.Height, res.Hash)
	return nil
}

// readIDs reads record ids, one a line (blank lines and surrounding spaces ignored).
func readIDs(path string) ([]string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, l := range strings.Split(string(b), "\n") {
		if l = strings.TrimSpace(l); l != "" {
			ids = append(ids, l)
		}
	}
	if len(ids) == 0 {
		return nil, fmt.Errorf("%s lists no record id", path)
	}
	return ids, nil
}

func issuerBatch(args []string, out io.Writer) error {
	f := newIssuerFlags("batch")
	typ := f.fs.String("type", "", "credential type id (required)")
	csvFile := f.fs.String("csv", "", "CSV file: header of claim names (and optionally holder = did:key) (required)")
	outFile := f.fs.String("out", "", "result CSV, made new (credentials: row,record_id,sd_jwt,w3c_vc; offers: row,offer_id,tx_code,offer_uri) (required); a resumed batch continues the one it started with")
	ttl := f.fs.Duration("ttl", home.BatchOfferTTL, "offer lifetime")
	if err := parseFlags(f.fs, args); err != nil {
		return err
	}
	if *csvFile == "" || *outFile == "" {
		return errors.New("issuer batch: --csv and --out are required")
	}
	// Ctrl-C stops the batch after its last committed chunk; the same command resumes it.
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	d, err := openDesk(ctx, f)
	if err != nil {
		return err
	}
	defer d.Close()
	pr := &batchPrinter{w: os.Stderr}
	res, err := d.Batch(ctx, home.BatchJob{Type: *typ, In: *csvFile, Out: *outFile, OfferTTL: *ttl}, pr.progress)
	switch {
	case errors.Is(err, issuer.ErrBatchInvalid) && res != nil:
		for _, re := range res.Errors {
			for _, fe := range re.Fields {
				fmt.Fprintf(os.Stderr, "第 %d 行 / row %d  %s: %s / %s\n", re.Row, re.Row, fe.Field, fe.Zh, fe.En)
			}
		}
		if res.ErrorRows > len(res.Errors) {
			fmt.Fprintf(os.Stderr, "…另有 %d 行有误 / %d more rows in error\n", res.ErrorRows-len(res.Errors), res.ErrorRows-len(res.Errors))
		}
		return fmt.Errorf("%d of %d rows invalid; nothing issued", res.ErrorRows, res.Rows)
	case errors.Is(err, issuer.ErrBatchDone) && res != nil:
		fmt.Fprintf(out, "本批次已签发完毕 / batch %s was already issued: %d rows → %s\n", res.ID, res.Rows, res.Out)
		return nil
	case err != nil:
		if res != nil && res.ID != "" {
			fmt.Fprintf(os.Stderr, "批次 %s 已中断，以同样命令重新运行即可续签 / batch %s stopped; run the same command again to resume\n", res.ID, res.ID)
		}
		return printValidation(os.Stderr, err)
	}
	if res.Out != *outFile {
		if abs, _ := filepath.Abs(*outFile); abs != res.Out {
			fmt.Fprintf(out, "续签：结果写入原结果文件 / resumed: results continue in the batch's own result file %s\n", res.Out)
		}
	}
	fmt.Fprintf(out, "batch %s: %d %s issued now, %d before, of %d rows → %s\n", res.ID, res.Count, res.Kind, res.Resumed, res.Rows, res.Out)
	return nil
}

// batchPrinter prints a batch's progress on stderr, at most once a second: 已完成 N / 共 M，每秒
// X 行，约剩 Y — with English.
type batchPrinter struct {
	w    io.Writer
	last time.Time
}

func (p *batchPrinter) progress(b issuer.BatchProgress) {
	final := b.Total > 0 && b.Done == b.Total
	if !final && time.Since(p.last) < time.Second {
		return
	}
	p.last = time.Now()
	fmt.Fprintln(p.w, batchLine(b))
}

// batchLine is one progress line.
func batchLine(b issuer.BatchProgress) string {
	if b.Phase == issuer.PhaseChecking {
		if b.Total > 0 {
			return fmt.Sprintf("校验完毕：共 %d 行 / checked: %d rows", b.Total, b.Total)
		}
		return fmt.Sprintf("校验中：已读 %d 行 / checking: %d rows read", b.Done, b.Done)
	}
	s := fmt.Sprintf("已完成 %d / 共 %d", b.Done, b.Total)
	e := fmt.Sprintf("done %d of %d", b.Done, b.Total)
	if b.RowsPerSec > 0 {
		s += fmt.Sprintf("，每秒 %.0f 行，约剩 %s", b.RowsPerSec, b.Left)
		e += fmt.Sprintf(", %.0f rows/s, about %s left", b.RowsPerSec, b.Left)
	}
	return s + " / " + e
}

func issuerBatches(args []string, out io.Writer) error {
	f := newIssuerFlags("batches")
	if err := parseFlags(f.fs, args); err != nil {
		return err
	}
	ctx := context.Background()
	d, err := openDesk(ctx, f)
	if err != nil {
		return err
	}
	defer d.Close()
	bs, err := d.Batches(ctx)
	if err != nil {
		return err
	}
	for _, b := range bs {
		state := "finished " + b.Finished.Local().Format(time.DateTime)
		if b.Finished.IsZero() {
			state = fmt.Sprintf("interrupted at %d (run it again to resume)", b.Committed)
		}
		fmt.Fprintf(out, "%s  %-22s %-11s %8d rows  started %s  %s  → %s\n", b.ID, b.Type, b.Kind, b.Rows, b.Started.Local().Format(time.DateTime), state, b.Out)
	}
	return nil
}

func issuerList(args []string, out io.Writer) error {
	f := newIssuerFlags("list")
	typ := f.fs.String("type", "", "only this type")
	state := f.fs.String("state", "", "only this state (valid, suspended, revoked)")
	search := f.fs.String("search", "", "the holder's full name or full ID number (exact; 姓名或证件号码全文)")
	limit := f.fs.Int("limit", 100, fmt.Sprintf("page size (at most %d)", issuer.MaxPage))
	offset := f.fs.Int("offset", 0, "skip this many records")
	after := f.fs.String("after", "", "continue after this cursor (printed as next: at the end of a page)")
	if err := parseFlags(f.fs, args); err != nil {
		return err
	}
	ctx := context.Background()
	d, err := openDesk(ctx, f)
	if err != nil {
		return err
	}
	defer d.Close()
	p, err := d.Search(ctx, issuer.SearchFilter{Type: *typ, State: *state, Query: *search, Limit: *limit, Offset: *offset, After: *after})
	if err != nil {
		return err
	}
	for _, r := range p.Records {
		exp := "-"
		if !r.ExpiresAt.IsZero() {
			exp = r.ExpiresAt.Format(time.DateOnly)
		}
		fmt.Fprintf(out, "%s  %-22s %-9s %s  idx %-6d issued %s  expires %s\n", r.ID, r.Type, r.State, r.Holder.String(),
			r.StatusIndex, r.IssuedAt.Local().Format(time.DateTime), exp)
	}
	fmt.Fprintf(out, "%d of %d\n", len(p.Records), p.Total)
	if p.Next != "" {
		fmt.Fprintf(out, "next: --after %s\n", p.Next)
	}
	return nil
}

func issuerRotate(args []string, out io.Writer) error {
	f := newIssuerFlags("rotate")
	keep := f.fs.Bool("keep-old", false, "leave the old key valid (default: revoke it once the new one is in use)")
	if err := parseFlags(f.fs, args); err != nil {
		return err
	}
	ctx := context.Background()
	d, err := openDesk(ctx, f)
	if err != nil {
		return err
	}
	defer d.Close()
	rot, err := d.Rotate(ctx, *keep)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "%s → %s (did.add_key block %d, did.revoke_key block %d)\n", rot.OldKeyID, rot.NewKeyID, rot.AddHeight, rot.RevokeHeight)
	return nil
}

func serveIssuer(args []string) error {
	f := newIssuerFlags("serve")
	addr := f.fs.String("addr", "127.0.0.1:8470", "listen address")
	issuerURL := f.fs.String("issuer-url", "", "credential issuer identifier (default: from init)")
	attempts := f.fs.Int("pin-attempts", issuer.DefaultPINAttempts, "wrong PINs that block an offer")
	if err := parseFlags(f.fs, args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	return serveIssuerCtx(ctx, f, *addr, *issuerURL, *attempts, nil)
}

// serveIssuerCtx serves until ctx ends; ready (if set) gets the bound address.
func serveIssuerCtx(ctx context.Context, f *issuerFlags, addr, issuerURL string, attempts int, ready func(string)) error {
	d, err := openDepartment(ctx, f, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err != nil {
		return err
	}
	defer d.Close()
	svc, err := d.Serve(addr, home.ServeOptions{IssuerURL: issuerURL, MaxPINAttempts: attempts})
	if err != nil {
		return err
	}
	if ready != nil {
		ready(svc.Addr())
	}
	select {
	case <-ctx.Done():
	case <-svc.Done():
	}
	return svc.Close()
}
