package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"sort"
	"strings"
	"time"

	"lianzheng/credential/wire"
	"lianzheng/home"
	"lianzheng/ledgerclient"
	"lianzheng/qr"
	"lianzheng/wallet"
)

const walletUsage = `用法 / usage: lz wallet <command> --home DIR [flags]

  init      新建钱包（PIN 为 6 位数字或 8 位以上口令） / create a wallet sealed with a PIN
  receive   --offer TEXT | --offer-png FILE [--tx-code PIN]  领取凭证 (OpenID4VCI) / receive a credential
  list      凭证列表及链上状态 / credentials with their ledger status
  show      --id ID  凭证详情 / one credential's claims
  status    --id ID  查询链上状态 / check one credential's status on the ledger
  present   --request TEXT | --request-png FILE [--yes] [--allow-invalid] [--out-png FILE]
            --one-way --id ID --fields a,b   出示凭证 / answer a window's request (or one-way)
  history   [--receipt TEXT|FILE]  访问记录；导入窗口回执 / access history; import a window receipt
  backup    --out FILE  加密备份 / encrypted backup (passphrase: --passphrase or LZ_BACKUP_PASSPHRASE)
  restore   --in FILE   恢复到新目录 / restore into an empty --home

PIN: --pin or the environment variable LZ_PIN. Ledger: --ledger-home DIR (genesis.json and
the node's RPC address from its config) or --genesis FILE --node ADDR; offline at a window:
--snapshot FILE (a trust snapshot, checked against the genesis; --max-age, default 7 days).`

type walletFlags struct {
	home, pin, ledgerHome, genesis, node, snapshot string
	maxAge                                         time.Duration
}

func (f *walletFlags) register(fs *flag.FlagSet) {
	fs.StringVar(&f.home, "home", "", "wallet directory")
	fs.StringVar(&f.pin, "pin", "", "PIN or passphrase (default: $LZ_PIN)")
	fs.StringVar(&f.ledgerHome, "ledger-home", "", "a ledger node home (trust root and RPC address)")
	fs.StringVar(&f.genesis, "genesis", "", "consortium genesis.json (trust root)")
	fs.StringVar(&f.node, "node", "", "ledger node RPC address")
	fs.StringVar(&f.snapshot, "snapshot", "", "offline: a trust snapshot file (verified against --genesis or --ledger-home)")
	fs.DurationVar(&f.maxAge, "max-age", 7*24*time.Hour, "offline: maximum trust snapshot age")
}

func (f *walletFlags) secret() string {
	if f.pin != "" {
		return f.pin
	}
	return os.Getenv("LZ_PIN")
}

// ledgerClient connects to the ledger (home.Ledger), or returns nil if no ledger flag was
// given.
func (f *walletFlags) ledgerClient() (*ledgerclient.Client, error) {
	if f.ledgerHome == "" && f.genesis == "" && f.node == "" {
		return nil, nil
	}
	if f.ledgerHome == "" && (f.genesis == "" || f.node == "") {
		return nil, errors.New("wallet: the ledger needs both a trust root (--genesis or --ledger-home) and a node (--node or --ledger-home)")
	}
	return home.Ledger{NodeHome: f.ledgerHome, Genesis: f.genesis, Node: f.node}.Dial()
}

// open connects the ledger if asked (online, or offline from a verified trust snapshot) and
// opens and unlocks the wallet over it (home.Citizen).
func (f *walletFlags) open(needLedger bool) (*wallet.Wallet, *ledgerclient.Client, error) {
	if f.home == "" {
		return nil, nil, errors.New("wallet: --home is required")
	}
	var view wallet.Ledger
	var cl *ledgerclient.Client
	switch {
	case f.snapshot != "":
		root, err := home.Ledger{NodeHome: f.ledgerHome, Genesis: f.genesis}.Root()
		if err != nil {
			return nil, nil, err
		}
		snap, err := ledgerclient.VerifySnapshotFile(f.snapshot, root, time.Now(), f.maxAge)
		if err != nil {
			return nil, nil, err
		}
		fmt.Fprintf(os.Stderr, "离线：链上信任快照，高度 %d，%s 前 / offline: trust snapshot at height %d, %s old\n",
			snap.Height(), snap.Age(time.Now()).Round(time.Minute), snap.Height(), snap.Age(time.Now()).Round(time.Minute))
		view = snap
	default:
		var err error
		if cl, err = f.ledgerClient(); err != nil {
			return nil, nil, err
		}
		if cl != nil {
			view = cl
		} else if needLedger {
			return nil, nil, errors.New("wallet: this command checks the ledger: give --ledger-home, or --genesis and --node, or --snapshot")
		}
	}
	c := home.NewCitizen(f.home, view, nil)
	if err := c.Unlock(f.secret()); err != nil {
		return nil, nil, err
	}
	w, err := c.Core()
	if err != nil {
		return nil, nil, err
	}
	if w.HasPending() { // a receive was interrupted (the wallet was killed): finish it first
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		rep, err := c.ResumePending(ctx)
		cancel()
		reportResume(os.Stderr, rep, err)
	}
	return w, cl, nil
}

// reportResume tells what resuming interrupted receives did.
func reportResume(out io.Writer, rep *wallet.ResumeReport, err error) {
	if err != nil {
		fmt.Fprintf(out, "未能继续中断的领取 / could not resume interrupted receives: %v\n", err)
		return
	}
	if rep == nil {
		return
	}
	for _, c := range rep.Received {
		fmt.Fprintf(out, "已完成中断的领取 / interrupted receive completed: %s  %s  from %s\n", c.ID, c.Type, c.Issuer)
	}
	for _, f := range rep.Abandoned {
		fmt.Fprintf(out, "中断的领取已放弃 / interrupted receive given up: %s from %s: %s\n", strings.Join(f.Types, ","), f.Issuer, refusalText(f.Err))
	}
	for _, f := range rep.Waiting {
		fmt.Fprintf(out, "中断的领取仍待继续 / interrupted receive still pending: %s from %s: %v\n", strings.Join(f.Types, ","), f.Issuer, f.Err)
	}
}

// refusalText is a refusal's two messages, or the error.
func refusalText(err error) string {
	var ref *wallet.Refusal
	if errors.As(err, &ref) {
		return ref.Msg.Zh + " / " + ref.Msg.En
	}
	return err.Error()
}

func cmdWallet(args []string) error { return runWallet(args, os.Stdout) }

func runWallet(args []string, out io.Writer) error {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		fmt.Fprintln(os.Stderr, walletUsage)
		if len(args) == 0 {
			return errors.New("wallet: missing command")
		}
		return nil
	}
	fs := newFlags("wallet " + args[0])
	var f walletFlags
	f.register(fs)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	switch args[0] {
	case "init":
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if f.home == "" {
			return errors.New("wallet init: --home is required")
		}
		c := home.NewCitizen(f.home, nil, nil)
		if err := c.Setup(f.secret()); err != nil {
			return err
		}
		defer c.Close()
		w, err := c.Core()
		if err != nil {
			return err
		}
		p, _ := w.Keys.Params()
		fmt.Fprintf(out, "钱包已创建 / wallet created: %s (Argon2id t=%d, %d MiB)\n", f.home, p.Time, p.Memory/1024)
		return nil
	case "receive":
		offer := fs.String("offer", "", "the scanned credential offer (openid-credential-offer://…)")
		offerPNG := fs.String("offer-png", "", "read the offer from this QR image")
		tx := fs.String("tx-code", "", "the transaction PIN the department gave (default: $LZ_TX_CODE)")
		insecure := fs.Bool("insecure-http", false, "allow an http:// issuer (loopback demos only)")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		text := *offer
		if *offerPNG != "" {
			b, err := os.ReadFile(*offerPNG)
			if err != nil {
				return err
			}
			if text, err = qr.DecodePNG(b); err != nil {
				return err
			}
		}
		if *tx == "" {
			*tx = os.Getenv("LZ_TX_CODE")
		}
		w, _, err := f.open(true)
		if err != nil {
			return err
		}
		defer w.Close()
		cs, err := w.Receive(ctx, text, *tx, &wallet.ReceiveOptions{InsecureHTTP: *insecure})
		for _, c := range cs {
			fmt.Fprintf(out, "已领取 / received %s  %s  from %s\n", c.ID, c.Type, c.Issuer)
		}
		if errors.Is(err, wallet.ErrReceivePending) {
			return fmt.Errorf("领取中断，已保存进度：再次运行本命令或下次打开钱包时继续\nreceiving was interrupted and its progress kept: run this command again, or it continues when the wallet next opens\n(%w)", err)
		}
		if errors.Is(err, wallet.ErrCredentialUnrecoverable) {
			return fmt.Errorf("部门已签发凭证，但已无法再次领取（令牌过期或服务重启），请向部门申请新的领取码\n%w", err)
		}
		var ref *wallet.Refusal
		if errors.As(err, &ref) {
			return fmt.Errorf("%s\n%s", ref.Msg.Zh, ref.Msg.En)
		}
		return err
	case "list":
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		w, _, err := f.open(false)
		if err != nil {
			return err
		}
		defer w.Close()
		items, err := w.List(ctx)
		if err != nil {
			return err
		}
		for _, it := range items {
			fmt.Fprintf(out, "%s  %s / %s  [%s]  %s  received %s\n", it.ID, it.Name.Zh, it.Name.En, it.Status.Label(),
				it.Issuer, it.Received.Local().Format("2006-01-02 15:04"))
		}
		if len(items) == 0 {
			fmt.Fprintln(out, "（无凭证 / no credentials）")
		}
		return nil
	case "show", "status":
		id := fs.String("id", "", "credential id (from lz wallet list)")
		regions := fs.Bool("regions", false, "show: also where else it is recognised (跨区域互认; reads the ledgers online)")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		w, _, err := f.open(args[0] == "status" || *regions)
		if err != nil {
			return err
		}
		defer w.Close()
		if args[0] == "status" {
			c, err := w.Store.Credential(*id)
			if err != nil {
				return err
			}
			st, err := w.CheckStatus(ctx, c)
			fmt.Fprintf(out, "%s  %s\n", c.ID, st.Label())
			return err
		}
		it, err := w.Detail(ctx, *id)
		if err != nil {
			return err
		}
		fmt.Fprintf(out, "%s / %s  [%s]\n签发 / issuer: %s\n签发时间 / issued: %s\n有效期至 / expires: %s\n", it.Name.Zh, it.Name.En,
			it.Status.Label(), it.Issuer, it.IssuedAt.Format(time.DateOnly), it.Expires.Format(time.DateOnly))
		for _, c := range it.Claims {
			fmt.Fprintf(out, "  %s / %s: %v\n", c.Label.Zh, c.Label.En, c.Value)
		}
		if *regions {
			rs, err := w.RecognisedIn(ctx, *id, nil)
			for _, r := range rs {
				fmt.Fprintf(out, "跨区域互认 / also recognised in: %s / %s (%s; until %s)\n", r.Name.Zh, r.Name.En, strings.Join(r.ServiceItems, ", "), r.ValidUntil)
			}
			if len(rs) == 0 && err == nil {
				fmt.Fprintln(out, "跨区域互认 / also recognised in: （暂无其他地区 / no other region yet）")
			}
			return err
		}
		return nil
	case "present":
		return walletPresent(ctx, fs, &f, args[1:], out)
	case "history":
		rc := fs.String("receipt", "", "import a window receipt (LZ1E text, JSON, or a file holding either)")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		w, cl, err := f.open(*rc != "")
		if err != nil {
			return err
		}
		defer w.Close()
		if *rc != "" {
			data := []byte(*rc)
			if b, err := os.ReadFile(*rc); err == nil {
				data = b
			}
			b, err := wire.ParseReceiptBundle(data)
			if err != nil {
				return err
			}
			h, err := w.ImportReceipt(ctx, b, cl)
			if h != nil {
				fmt.Fprintf(out, "回执已导入 / receipt imported: %s, 链上已验证 / verified on ledger: %v\n", h.ReceiptID, h.VerifiedLedger)
			}
			if err != nil {
				return err
			}
		}
		hist, err := w.Store.History()
		if err != nil {
			return err
		}
		for _, h := range hist {
			mark := ""
			if h.VerifiedLedger {
				mark = fmt.Sprintf("  ✓ 链上已验证 / verified on ledger (anchor %d, height %d)", h.AnchorSeq, h.AnchorHeight)
			}
			var types []string
			for t, fs := range h.Fields {
				types = append(types, t+": "+strings.Join(fs, ","))
			}
			sort.Strings(types)
			fmt.Fprintf(out, "%s  %s  %s %s  %s  用途 / purpose: %s  [%s]%s\n    %s\n", h.Time.Local().Format("2006-01-02 15:04:05"),
				h.Mode, h.WindowName, h.Window, h.ItemName, h.Purpose, h.Result, mark, strings.Join(types, "; "))
		}
		return nil
	case "backup":
		outFile := fs.String("out", "", "backup file to write")
		pass := fs.String("passphrase", "", "backup passphrase (default: $LZ_BACKUP_PASSPHRASE)")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if *pass == "" {
			*pass = os.Getenv("LZ_BACKUP_PASSPHRASE")
		}
		w, _, err := f.open(false)
		if err != nil {
			return err
		}
		defer w.Close()
		if err := w.Backup(*outFile, *pass); err != nil {
			return err
		}
		fmt.Fprintf(out, "备份已写入 / backup written: %s\n", *outFile)
		return nil
	case "restore":
		in := fs.String("in", "", "backup file")
		pass := fs.String("passphrase", "", "backup passphrase (default: $LZ_BACKUP_PASSPHRASE)")
		if err := parseFlags(fs, args[1:]); err != nil {
			return err
		}
		if *pass == "" {
			*pass = os.Getenv("LZ_BACKUP_PASSPHRASE")
		}
		if f.home == "" {
			return errors.New("wallet restore: --home is required")
		}
		if err := home.NewCitizen(f.home, nil, nil).Restore(*in, *pass); err != nil {
			return err
		}
		fmt.Fprintf(out, "已恢复到 / restored into %s (unlock with the wallet's PIN)\n", f.home)
		return nil
	}
	fmt.Fprintln(os.Stderr, walletUsage)
	return fmt.Errorf("wallet: unknown command %q", args[0])
}

func walletPresent(ctx context.Context, fs *flag.FlagSet, f *walletFlags, args []string, out io.Writer) error {
	reqText := fs.String("request", "", "the scanned request QR text (LZ1Q:…), or a file holding it")
	reqPNG := fs.String("request-png", "", "read the request from this QR image")
	yes := fs.Bool("yes", false, "consent: build the response (without it, only show what is asked)")
	allowInvalid := fs.Bool("allow-invalid", false, "present a revoked/suspended/expired credential anyway")
	oneWay := fs.Bool("one-way", false, "one-way mode without a request (weaker, valid 60 s)")
	ids := fs.String("id", "", "one-way: credential ids, comma-separated")
	fields := fs.String("fields", "", "one-way: field names to disclose, comma-separated")
	png := fs.String("out-png", "", "also write the response QR as a PNG")
	textOut := fs.String("out", "", "also write the response QR text to this file")
	online := fs.String("openid4vp", "", "answer an online service: its openid4vp:// link (or a file holding it, or a QR image of it)")
	insecureLoopback := fs.Bool("insecure-loopback", false, "openid4vp: allow http:// on a loopback host (local demos and tests only)")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	w, _, err := f.open(true)
	if err != nil {
		return err
	}
	defer w.Close()
	var resp *wallet.Response
	if *online != "" {
		return presentOnline(ctx, w, *online, *insecureLoopback, *yes, *allowInvalid, out)
	}
	if *oneWay {
		picks := map[string][]string{}
		for _, id := range strings.Split(*ids, ",") {
			if id = strings.TrimSpace(id); id != "" {
				picks[id] = splitList(*fields)
			}
		}
		fmt.Fprintln(out, "注意：单向出示未经窗口请求，安全性较弱，60 秒内有效 / note: one-way mode is weaker (no window request), valid 60 s")
		if resp, err = w.PresentOneWay(ctx, picks); err != nil {
			return err
		}
	} else {
		text := *reqText
		if b, err := os.ReadFile(text); err == nil && text != "" {
			text = string(b)
		}
		if *reqPNG != "" {
			b, err := os.ReadFile(*reqPNG)
			if err != nil {
				return err
			}
			if text, err = wallet.ParseRequestPNG(b); err != nil {
				return err
			}
		}
		plan, err := w.PlanRequest(ctx, text)
		if err != nil {
			var ref *wallet.Refusal
			if errors.As(err, &ref) {
				return fmt.Errorf("%s\n%s", ref.Msg.Zh, ref.Msg.En)
			}
			return err
		}
		showPlan(out, plan)
		if !*yes {
			fmt.Fprintln(out, "未出示：确认请加 --yes / not presented: add --yes to consent")
			return nil
		}
		if resp, err = w.Present(ctx, plan, &wallet.PresentOptions{AllowInvalid: *allowInvalid}); err != nil {
			return err
		}
	}
	if *png != "" {
		b, err := qr.RenderPNG(resp.QR, 0)
		if err != nil {
			return err
		}
		if err := os.WriteFile(*png, b, 0o600); err != nil {
			return err
		}
	}
	if *textOut != "" {
		if err := os.WriteFile(*textOut, []byte(resp.QR), 0o600); err != nil {
			return err
		}
	}
	j, _ := json.Marshal(resp.Fields)
	fmt.Fprintf(out, "已出示字段 / disclosed fields: %s\n%s\n", j, resp.QR)
	return nil
}

// showPlan prints the consent data of a request (window or online service).
func showPlan(out io.Writer, plan *wallet.Plan) {
	fmt.Fprintf(out, "窗口 / window: %s / %s (%s)\n事项 / service: %s / %s\n用途 / purpose: %s / %s\n", plan.WindowName.Zh,
		plan.WindowName.En, plan.Request.Window, plan.ItemName.Zh, plan.ItemName.En, plan.Purpose.Zh, plan.Purpose.En)
	for _, a := range plan.Asks {
		var labels []string
		for _, fl := range a.Allowed {
			labels = append(labels, a.Labels[fl].Zh+"("+fl+")")
		}
		pick := "（无有效凭证 / no valid credential）"
		if a.Chosen != "" {
			pick = a.Chosen
		}
		fmt.Fprintf(out, "  %s / %s: %s  → %s\n", a.TypeName.Zh, a.TypeName.En, strings.Join(labels, "、"), pick)
	}
	if plan.OverAsk {
		fmt.Fprintf(out, "⚠ %s\n⚠ %s\n", plan.Warning.Zh, plan.Warning.En)
	}
}

// presentOnline answers an online service's OpenID4VP request (wallet.PlanOpenID4VP,
// PresentOpenID4VP).
func presentOnline(ctx context.Context, w *wallet.Wallet, link string, loopback, yes, allowInvalid bool, out io.Writer) error {
	if b, err := os.ReadFile(link); err == nil {
		if strings.HasSuffix(strings.ToLower(link), ".png") {
			if link, err = wallet.ParseRequestPNG(b); err != nil {
				return err
			}
		} else {
			link = strings.TrimSpace(string(b))
		}
	}
	o := &wallet.OpenID4VPOptions{InsecureLoopback: loopback}
	plan, err := w.PlanOpenID4VP(ctx, link, o)
	if err != nil {
		var ref *wallet.Refusal
		if errors.As(err, &ref) {
			return fmt.Errorf("%s\n%s", ref.Msg.Zh, ref.Msg.En)
		}
		return err
	}
	fmt.Fprintln(out, "网上服务平台 / online service (OpenID4VP)")
	showPlan(out, plan)
	if !yes {
		fmt.Fprintln(out, "未出示：确认请加 --yes / not presented: add --yes to consent")
		return nil
	}
	res, err := w.PresentOpenID4VP(ctx, plan, &wallet.PresentOptions{AllowInvalid: allowInvalid})
	if err != nil {
		return err
	}
	j, _ := json.Marshal(res.Fields)
	fmt.Fprintf(out, "已出示字段 / disclosed fields: %s\n", j)
	if !res.Accepted {
		return fmt.Errorf("平台拒绝 / the portal refused: %s — %s / %s", res.Code, res.Message.Zh, res.Message.En)
	}
	fmt.Fprintf(out, "平台核验通过 / verified by the portal; 继续办理 / continue at: %s\n", res.RedirectURI)
	if res.History != nil && res.History.ReceiptID != "" {
		fmt.Fprintf(out, "访问凭据 / receipt: %s\n", res.History.ReceiptID)
	}
	return nil
}

func splitList(s string) []string {
	var out []string
	for _, x := range strings.Split(s, ",") {
		if x = strings.TrimSpace(x); x != "" {
			out = append(out, x)
		}
	}
	return out
}
