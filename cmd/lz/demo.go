package main

import (
	"flag"
	"fmt"
	"io"
	"os"
	"time"

	"lianzheng/credential"
	"lianzheng/internal/coredemo"
)

func cmdDemo(args []string) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	out := fs.String("out", "", "write the artefacts (presentations, W3C VCs, QR text and PNG) to this directory")
	lang := fs.String("lang", "zh", "zh or en")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rep, err := coredemo.Run(*out, time.Now())
	if err != nil {
		return fmt.Errorf("demo: %w", err)
	}
	printReport(os.Stdout, rep, *lang)
	return nil
}

func printReport(w io.Writer, rep *coredemo.Report, lang string) {
	t := func(zh, en string) string {
		if lang == "en" {
			return en
		}
		return zh
	}
	fmt.Fprintln(w, t("链证通 · 不动产登记演示（凭证核心）", "LianZheng · real-estate registration demo (credential core)"))
	fmt.Fprintln(w, t("公安局签发户口簿，民政局签发结婚证；市民一次出示，窗口一次扫码核验。",
		"Public security issues a household register, civil affairs a marriage certificate; the citizen shows both in one QR."))
	fmt.Fprintf(w, t("应答二维码：%d 个字符，QR 版本 %d-M（原始 SD-JWT 文本需 %d 个字符）；从图片识读：%v\n",
		"Response QR: %d characters, QR version %d-M (the plain SD-JWT text would need %d); read back from the PNG: %v\n"),
		len(rep.ResponseQR), rep.QRVersion, rep.PlainChars, rep.DecodedFromPNG)
	fmt.Fprintf(w, t("W3C VC（eddsa-rdfc-2022）验证通过：%d 份\n", "W3C VCs (eddsa-rdfc-2022) verified: %d\n"), rep.W3CVerified)
	show := func(title string, vs []coredemo.Verdict) {
		fmt.Fprintln(w, "\n"+title)
		for _, v := range vs {
			if v.OK {
				fmt.Fprintf(w, "  ✔ %s — %s（%s%d%s）\n", v.TypeZh, t("核验通过", "valid"), t("未披露 ", "undisclosed: "), v.Hidden, t(" 项", ""))
				for _, f := range v.Fields {
					fmt.Fprintf(w, "      %s：%s\n", f[0], f[1])
				}
			} else {
				fmt.Fprintf(w, "  ✘ %s — [%s] %s\n", v.TypeZh, v.Code, credential.Message(v.Code, lang))
			}
		}
	}
	show(t("窗口核验结果：", "Window verdict:"), rep.Verdicts)
	show(t("民政局撤销结婚证后，同一应答再次核验：", "After civil affairs revokes the certificate, the same answer again:"), rep.AfterRevoke)
	fmt.Fprintln(w, t("\n（演示数据均为虚构。信任来源目前为内存登记表，联盟链接入后由账本提供。）",
		"\n(All data is invented. Trust currently comes from an in-memory registry; the consortium ledger replaces it.)"))
}
