package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"lianzheng/internal/bilingual"
	"log/slog"
	"os"
	"time"

	"lianzheng/internal/rig/federation"
	"lianzheng/internal/rig/realestate"
	"lianzheng/verifier"
)

func cmdDemo(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	out := fs.String("out", "", "write what an outside auditor needs (credentials, issuer keys and DID documents, QR texts and PNGs, presentations, status list token, trust snapshot, receipt, manifest.json) to this directory")
	lang := fs.String("lang", "zh", "zh or en")
	fed := fs.Bool("federation", false, "the cross-region scenario instead (跨区域互认): two consortia on loopback, region B with three validators; --out gets both genesis files, the agreements, the snapshots and manifest.json's federation object")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	// the demo's in-process services log their failures (warnings and errors) to stderr
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
	if *fed {
		return demoFederation(ctx, *out, *lang, log)
	}
	rep, err := realestate.Run(ctx, *out, log)
	if rep != nil {
		printReport(os.Stdout, rep, *out, *lang)
	}
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	return nil
}

func printReport(w io.Writer, rep *realestate.Report, out, lang string) {
	t := func(zh, en string) string {
		if lang == "en" {
			return en
		}
		return zh
	}
	tx := func(x bilingual.Text) string { return t(x.Zh, x.En) }
	fmt.Fprintln(w, t("链证通 · 不动产登记演示（嵌入式联盟链 + 窗口核验）", "LianZheng · real-estate registration demo (embedded consortium ledger + window verifier)"))
	fmt.Fprintln(w, t("公安局签发户口簿，民政局签发结婚证（状态登记在联盟链上）；窗口出示签名请求码；市民一次出示，窗口一次扫码核验。",
		"Public security issues a household register, civil affairs a marriage certificate (status on the ledger); the window shows a signed request; the citizen shows both in one QR."))
	fmt.Fprintf(w, t("请求二维码：%d 个字符；应答二维码：%d 个字符，QR 版本 %d-M；从图片识读：%v\n",
		"Request QR: %d characters; response QR: %d characters, QR version %d-M; read back from the PNG: %v\n"),
		len(rep.RequestQR), len(rep.ResponseQR), rep.QRVersion, rep.DecodedFromPNG)
	fmt.Fprintf(w, t("W3C VC（eddsa-rdfc-2022）验证通过：%d 份\n", "W3C VCs (eddsa-rdfc-2022) verified: %d\n"), rep.W3CVerified)
	show := func(title string, vd *verifier.Verdict) {
		if vd == nil {
			return
		}
		fmt.Fprintln(w, "\n"+title)
		mark := "✔"
		if !vd.OK {
			mark = "✘"
		}
		fmt.Fprintf(w, "  %s %s", mark, tx(vd.Message))
		if vd.Code != "" {
			fmt.Fprintf(w, " [%s]", vd.Code)
		}
		fmt.Fprintf(w, t("（信任：%s，高度 %d，%s 前）\n", " (trust: %s, height %d, %s old)\n"), vd.Trust.Source, vd.Trust.Height, vd.Trust.Age.Round(time.Millisecond))
		for _, c := range vd.Credentials {
			m := "✔"
			if !c.OK {
				m = "✘"
			}
			fmt.Fprintf(w, "  %s %s — %s", m, tx(c.TypeName), tx(c.Message))
			if c.Code != "" {
				fmt.Fprintf(w, " [%s]", c.Code)
			}
			if c.OK {
				fmt.Fprintf(w, t("（披露 %d 项，未披露 %d 项）", " (%d shown, %d undisclosed)"), c.Shown, c.Hidden)
			}
			fmt.Fprintln(w)
		}
	}
	show(t("窗口核验结果（核验后会话结束，披露内容已清除）：", "Window verdict (session closed afterwards; disclosed values dropped):"), rep.Verdict)
	if rep.Anchor != nil {
		fmt.Fprintf(w, t("  回执 %s 已上链锚定：%d 条回执，Merkle 根 %s…，区块 %d；包含证明校验：%v\n",
			"  Receipt %s anchored: %d receipts, Merkle root %s…, block %d; inclusion proof checked: %v\n"),
			rep.Verdict.ReceiptID, rep.Anchor.Count, rep.Anchor.Root[:16], rep.Anchor.Height, rep.ReceiptOK)
	}
	fmt.Fprintf(w, t("  市民钱包导入回执并在链上核对锚定：%v %s\n", "  The citizen's wallet imported the receipt and found its anchor on the ledger: %v %s\n"), rep.WalletHistory, rep.WalletHistoryErr)
	show(t("民政局在联盟链上撤销结婚证后，新的出示（在线）：", "After civil affairs revokes the certificate on the ledger, a new answer (online):"), rep.AfterRevoke)
	show(t("同上，离线窗口使用更新后的信任快照：", "The same, offline window with a refreshed trust snapshot:"), rep.OfflineRevoked)
	if out != "" {
		fmt.Fprintf(w, t("\n审计材料已写入 %s（%d 个文件，见 manifest.json）\n", "\nAuditor's files written to %s (%d files, see manifest.json)\n"), out, len(rep.Files))
	}
	fmt.Fprintln(w, t("（演示数据均为虚构。）", "(All data is invented.)"))
}

// demoFederation runs internal/rig/federation and prints each step and what was observed.
func demoFederation(ctx context.Context, out, lang string, log *slog.Logger) error {
	t := func(zh, en string) string {
		if lang == "en" {
			return en
		}
		return zh
	}
	res, err := federation.Run(ctx, federation.Options{Out: out, Log: log,
		Step: func(zh, en string) { fmt.Println("· " + t(zh, en)) }})
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	yes := func(b bool) string {
		if b {
			return t("是", "yes")
		}
		return t("否", "no")
	}
	fmt.Printf(t("\n乙地证照在甲地窗口在线核验通过：%s\n离线（两地快照）核验通过：%s\n乙地撤销后甲地离线拒绝：%s\n甲地撤回协议后拒绝（%s）：%s\n",
		"\nB's credentials verified at A's window online: %s\noffline (both regions' snapshots): %s\nrevoked in B, refused at A offline: %s\nrefused after A withdrew its agreement (%s): %s\n"),
		yes(res.CrossRegionVerifiedOnline), yes(res.CrossRegionVerifiedOffline), yes(res.ForeignRevokedRefusedOffline), res.WithdrawnCode, yes(res.WithdrawnRefused))
	if out != "" {
		fmt.Printf(t("审计材料已写入 %s（%d 个文件，见 manifest.json）\n", "Auditor's files written to %s (%d files, see manifest.json)\n"), out, len(res.Files)+1)
	}
	if !res.CrossRegionVerifiedOnline || !res.CrossRegionVerifiedOffline || !res.ForeignRevokedRefusedOffline || !res.WithdrawnRefused {
		return fmt.Errorf("demo: the federation scenario did not behave as it must (see above)")
	}
	return nil
}
