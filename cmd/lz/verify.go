package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"lianzheng/internal/bilingual"
	"os"
	"path/filepath"
	"strings"
	"time"

	"lianzheng/credential"
	"lianzheng/home"
	"lianzheng/home/demonet"
	"lianzheng/qr"
	"lianzheng/verifier"
)

const verifyUsage = `用法 / usage: lz verify <command> [flags]

  request   生成请求二维码 / make the signed request QR for a service item
            --home H [--node ADDR | --snapshot FILE] [--window ID] [--item ID] [--png FILE]
  check     核验市民出示的二维码 / verify an answer: --text T | --file F | --png F | stdin
            --home H [--node ADDR | --snapshot FILE] [--json] [--lang zh|en]
  snapshot  导出信任快照 / export a trust snapshot: --home H [--node ADDR] --out FILE
  anchor    将待锚定的核验回执上链 / anchor pending receipts: --home H [--node ADDR]
  receipt   导出回执与包含证明 / a receipt bundle for the citizen: --home H --id ID [--png FILE]

--home is a ledger home (genesis.json is the trust root; demo-keys/<window>.json the window
key); the window's records live in <home>/verifier-<window>/. Without --node the RPC address
is read from the home's config.toml.`

func cmdVerify(args []string) error {
	if len(args) == 0 {
		fmt.Fprintln(os.Stderr, verifyUsage)
		return errors.New("verify: a command is required")
	}
	switch args[0] {
	case "request":
		return verifyRequest(args[1:], os.Stdout)
	case "check":
		return verifyCheck(args[1:], os.Stdin, os.Stdout)
	case "snapshot":
		return verifySnapshot(args[1:], os.Stdout)
	case "anchor":
		return verifyAnchor(args[1:], os.Stdout)
	case "receipt":
		return verifyReceipt(args[1:], os.Stdout)
	case "help", "-h", "--help":
		fmt.Fprintln(os.Stdout, verifyUsage)
		return nil
	}
	fmt.Fprintln(os.Stderr, verifyUsage)
	return fmt.Errorf("verify: unknown command %q", args[0])
}

type windowFlags struct {
	home, node, snapshot, window string
	maxAge                       time.Duration
}

func (w *windowFlags) register(fs interface {
	StringVar(*string, string, string, string)
	DurationVar(*time.Duration, string, time.Duration, string)
}) {
	fs.StringVar(&w.home, "home", "", "ledger home (trust root genesis.json, demo-keys/)")
	fs.StringVar(&w.node, "node", "", "RPC address of a ledger node (default: from the home's config.toml)")
	fs.StringVar(&w.snapshot, "snapshot", "", "verify offline with this trust snapshot file")
	fs.StringVar(&w.window, "window", "realestate-window-01", "window id (did:lz:<id>)")
	fs.DurationVar(&w.maxAge, "max-age", verifier.DefaultMaxTrustAge, "policy: maximum trust age")
}

// ledger is where the window reads the ledger: the ledger home's genesis and, unless --node
// names another, its node.
func (w *windowFlags) ledger() home.Ledger { return home.Ledger{NodeHome: w.home, Node: w.node} }

// open opens the window (home.OpenWindow): online, or offline on --snapshot.
func (w *windowFlags) open() (*home.Window, error) {
	if w.home == "" {
		return nil, errors.New("verify: --home is required")
	}
	k, err := demonet.LoadKey(demonet.KeyDir(w.home), w.window)
	if err != nil {
		return nil, err
	}
	return home.OpenWindow(home.WindowConfig{Key: k, Dir: filepath.Join(w.home, "verifier-"+w.window),
		Ledger: w.ledger(), Snapshot: w.snapshot, Offline: w.snapshot != "", MaxTrustAge: w.maxAge})
}

func verifyRequest(args []string, out io.Writer) error {
	fs := newFlags("verify request")
	var w windowFlags
	w.register(fs)
	item := fs.String("item", "", "service item id (default: the window's first)")
	png := fs.String("png", "", "also write the request QR as a PNG file")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	v, err := w.open()
	if err != nil {
		return err
	}
	defer v.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	r, err := v.NewRequest(ctx, *item)
	if err != nil {
		return err
	}
	if *png != "" {
		b, err := r.PNG()
		if err != nil {
			return err
		}
		if err := os.WriteFile(*png, b, 0o644); err != nil {
			return err
		}
	}
	fmt.Fprintln(out, r.Text)
	fmt.Fprintf(os.Stderr, "事项 / item: %s — %s; 有效至 / expires %s; nonce %s\n", r.Item.ID, r.Item.Name.Zh,
		time.Unix(r.Request.Expires, 0).Format(time.RFC3339), r.Request.NonceString())
	return nil
}

func verifyCheck(args []string, in io.Reader, out io.Writer) error {
	fs := newFlags("verify check")
	var w windowFlags
	w.register(fs)
	text := fs.String("text", "", "the scanned text")
	file := fs.String("file", "", "read the scanned text from this file")
	png := fs.String("png", "", "read the answer from this QR image")
	asJSON := fs.Bool("json", false, "print the verdict as JSON")
	lang := fs.String("lang", "zh", "zh or en")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	v, err := w.open()
	if err != nil {
		if c := credential.CodeOf(err); c != "" {
			fmt.Fprintf(out, "✘ [%s] %s\n", c, credential.Message(c, *lang))
		}
		return err
	}
	defer v.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	var vd *verifier.Verdict
	switch {
	case *png != "":
		b, err := readLimited(*png, nil, qr.MaxPNGLen)
		if err != nil {
			return err
		}
		vd = v.VerifyPNG(ctx, b)
	default:
		s := *text
		if s == "" {
			// At most one byte past the verifier's limit is read, so a huge file costs
			// nothing and is still refused as oversized.
			b, err := readLimited(*file, in, qr.MaxScannedLen)
			if err != nil {
				return err
			}
			s = string(b)
		}
		vd = v.Verify(ctx, s)
	}
	if *asJSON {
		e := json.NewEncoder(out)
		e.SetIndent("", "  ")
		err = e.Encode(vd)
	} else {
		printVerdict(out, vd, *lang)
	}
	v.CloseSession()
	if err == nil && !vd.OK {
		return fmt.Errorf("verify: rejected (%s)", vd.Code)
	}
	return err
}

func printVerdict(out io.Writer, vd *verifier.Verdict, lang string) {
	t := func(x bilingual.Text) string {
		if lang == "en" {
			return x.En
		}
		return x.Zh
	}
	mark := "✔"
	if !vd.OK {
		mark = "✘"
	}
	fmt.Fprintf(out, "%s %s", mark, t(vd.Message))
	if vd.Code != "" {
		fmt.Fprintf(out, " [%s]", vd.Code)
	}
	fmt.Fprintln(out)
	if vd.Item != "" {
		fmt.Fprintf(out, "  事项 / item: %s（%s）\n", t(vd.ItemName), t(vd.Purpose))
	}
	if vd.Mode == verifier.ModeOneWay {
		fmt.Fprintln(out, "  ⚠ 单向出示（无请求二维码，安全性较弱） / one-way presentation (weaker)")
	}
	for _, c := range vd.Credentials {
		m := "✔"
		if !c.OK {
			m = "✘"
		}
		fmt.Fprintf(out, "  %s %s — %s", m, t(c.TypeName), t(c.Message))
		if c.Code != "" {
			fmt.Fprintf(out, " [%s]", c.Code)
		}
		fmt.Fprintln(out)
		for _, f := range c.Fields {
			fmt.Fprintf(out, "      %s：%s\n", t(f.Label), f.Value)
		}
		for _, m := range c.Missing {
			if m.Required {
				fmt.Fprintf(out, "      ✘ 缺少本事项必需的 / lacks, required: %s\n", t(m.Label))
			} else {
				fmt.Fprintf(out, "      凭证中没有（本事项可不提供） / not in the credential (not required): %s\n", t(m.Label))
			}
		}
		if c.OK {
			fmt.Fprintf(out, "      （未披露 / undisclosed: %d）\n", c.Hidden)
		}
	}
	fmt.Fprintf(out, "  信任 / trust: %s, height %d, age %s (max %s)\n", vd.Trust.Source, vd.Trust.Height,
		vd.Trust.Age.Round(time.Second), vd.Trust.MaxAge)
	if vd.SkewNote != "" {
		fmt.Fprintf(out, "  ⚠ 时钟 / clock: %s\n", vd.SkewNote)
	}
	if vd.ReceiptID != "" {
		fmt.Fprintf(out, "  回执 / receipt: %s\n", vd.ReceiptID)
	} else {
		fmt.Fprintln(out, "  无回执（未查看任何人的信息） / no receipt (no one's data was seen)")
	}
}

func verifySnapshot(args []string, out io.Writer) error {
	fs := newFlags("verify snapshot")
	var w windowFlags
	w.register(fs)
	path := fs.String("out", "", "write the snapshot here")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	if w.home == "" || *path == "" {
		return errors.New("verify snapshot: --home and --out are required")
	}
	cl, err := w.ledger().Dial()
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	s, err := cl.ExportFile(ctx, *path, 0)
	if err != nil {
		return err
	}
	fmt.Fprintf(out, "snapshot %s: height %d, signed %s, %d bytes\n", *path, s.Height(), s.Time().UTC().Format(time.RFC3339), s.Size())
	return nil
}

func verifyAnchor(args []string, out io.Writer) error {
	fs := newFlags("verify anchor")
	var w windowFlags
	w.register(fs)
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	w.snapshot = ""
	v, err := w.open()
	if err != nil {
		return err
	}
	defer v.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	a, err := v.Anchor(ctx)
	if err != nil {
		return err
	}
	if a == nil {
		fmt.Fprintln(out, "nothing to anchor")
		return nil
	}
	fmt.Fprintf(out, "anchored %d receipts: root %s, height %d, seq %d\n", a.Count, a.Root, a.Height, a.Seq)
	return nil
}

func verifyReceipt(args []string, out io.Writer) error {
	fs := newFlags("verify receipt")
	var w windowFlags
	w.register(fs)
	id := fs.String("id", "", "receipt id")
	png := fs.String("png", "", "also write the bundle as a QR PNG")
	if err := parseFlags(fs, args); err != nil {
		return err
	}
	// only the window's records are read: no ledger
	k, err := demonet.LoadKey(demonet.KeyDir(w.home), w.window)
	if err != nil {
		return err
	}
	v, err := home.OpenWindow(home.WindowConfig{Key: k, Dir: filepath.Join(w.home, "verifier-"+w.window)})
	if err != nil {
		return err
	}
	defer v.Close()
	b, err := v.Core().Receipt(strings.TrimSpace(*id))
	if err != nil {
		return err
	}
	text, err := b.Text()
	if err != nil {
		return err
	}
	if *png != "" {
		if err := writeQRPNG(*png, text); err != nil {
			return err
		}
	}
	j, _ := json.MarshalIndent(b, "", "  ")
	fmt.Fprintln(out, string(j))
	fmt.Fprintln(out, text)
	return nil
}

func writeQRPNG(path, text string) error {
	b, err := qr.RenderPNG(text, 0)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}

// readLimited reads at most limit+1 bytes of the file (or of in when path is ""): enough for
// the reader's own limit to refuse an oversized input, without reading all of it.
func readLimited(path string, in io.Reader, limit int) ([]byte, error) {
	if path != "" {
		f, err := os.Open(path)
		if err != nil {
			return nil, err
		}
		defer f.Close()
		in = f
	}
	return io.ReadAll(io.LimitReader(in, int64(limit)+1))
}
