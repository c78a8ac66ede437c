package app

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/canvas"
	"fyne.io/fyne/v2/test"
	"fyne.io/fyne/v2/widget"

	"lianzheng/credential"
	"lianzheng/home"
	"lianzheng/internal/bilingual"
	"lianzheng/internal/keystore"
	"lianzheng/issuer"
	"lianzheng/ledger"
	"lianzheng/ledgerclient"
	"lianzheng/qr"
	"lianzheng/verifier"
	"lianzheng/wallet"
)

// DescribeOffer of the fake wallet: the demo's household register offer, from public security.
func (f *fakeCitizen) DescribeOffer(_ context.Context, text string) (*wallet.OfferSummary, error) {
	if _, _, err := wallet.ParseOffer(text); err != nil {
		return nil, err
	}
	return &wallet.OfferSummary{CredentialIssuer: "http://127.0.0.1:9",
		Types:       []wallet.OfferedType{{ID: "household-register", Name: bilingual.Text{Zh: "居民户口簿", En: "Household register"}, Known: true}},
		Departments: []ledger.Member{{ID: "public-security", DID: "did:lz:public-security", Name: ledger.Text{Zh: "示例市公安局", En: "Public Security Bureau (demo)"}}},
		NeedsPIN:    true, PINLength: 6}, nil
}

// demoOffer is an offer text as the department's service renders it.
const demoOffer = "openid-credential-offer://?credential_offer=%7B%22credential_issuer%22%3A%22http%3A%2F%2F127.0.0.1%3A9%22%2C%22credential_configuration_ids%22%3A%5B%22household-register%22%5D%2C%22grants%22%3A%7B%22urn%3Aietf%3Aparams%3Aoauth%3Agrant-type%3Apre-authorized_code%22%3A%7B%22pre-authorized_code%22%3A%22abc%22%2C%22tx_code%22%3A%7B%22input_mode%22%3A%22numeric%22%2C%22length%22%3A6%7D%7D%7D%7D"

// Failing cores: every call fails with err (the wallet may be missing or locked).
type failCitizen struct {
	fakeCitizen
	err              error
	exists, unlocked bool
}

func (f *failCitizen) Ready() (bool, bool)                         { return f.exists, f.unlocked }
func (f *failCitizen) Setup(string) error                          { return f.err }
func (f *failCitizen) Unlock(string) error                         { return f.err }
func (f *failCitizen) List(context.Context) ([]wallet.Item, error) { return nil, f.err }
func (f *failCitizen) Detail(context.Context, string) (*wallet.Item, error) {
	return nil, f.err
}
func (f *failCitizen) Receive(context.Context, string, string) ([]*wallet.Credential, error) {
	return nil, f.err
}
func (f *failCitizen) PlanRequest(context.Context, string) (*wallet.Plan, error) { return nil, f.err }
func (f *failCitizen) Present(context.Context, *wallet.Plan) (*wallet.Response, error) {
	return nil, f.err
}
func (f *failCitizen) History() ([]wallet.HistoryEntry, error) { return nil, f.err }
func (f *failCitizen) Restore(string, string) error            { return f.err }
func (f *failCitizen) ImportReceipt(context.Context, string) (*wallet.HistoryEntry, error) {
	return nil, f.err
}
func (f *failCitizen) Backup(string, string) error { return f.err }

type failWindow struct {
	fakeWindow
	err error
}

func (f *failWindow) Items(context.Context) ([]ledger.ServiceItem, error) {
	if f.err == nil {
		return f.fakeWindow.Items(context.Background())
	}
	return nil, f.err
}
func (f *failWindow) NewRequest(context.Context, string) (*verifier.Request, error) {
	return nil, f.err
}
func (f *failWindow) Trust(context.Context, bool) (verifier.TrustInfo, error) {
	return verifier.TrustInfo{}, f.err
}
func (f *failWindow) SaveSnapshot(context.Context) (verifier.TrustInfo, error) {
	return verifier.TrustInfo{}, f.err
}
func (f *failWindow) SetOffline(context.Context, bool) (verifier.TrustInfo, error) {
	return verifier.TrustInfo{}, f.err
}
func (f *failWindow) HandReceipt(context.Context, string) (*home.QRResult, error) { return nil, f.err }

type failDept struct {
	fakeDept
	err       error
	typesFail bool
}

func (f *failDept) Types(ctx context.Context) ([]ledger.CredentialType, error) {
	if f.typesFail {
		return nil, f.err
	}
	return f.fakeDept.Types(ctx)
}
func (f *failDept) Check(context.Context, issuer.Request) error { return nil }
func (f *failDept) Offer(context.Context, issuer.Request) (*home.OfferResult, error) {
	return nil, f.err
}
func (f *failDept) Records(context.Context) ([]issuer.Record, error) {
	return []issuer.Record{{ID: "rec-0123456789", Type: "household-register", IssuedAt: fixedNow, State: issuer.StateValid}}, nil
}
func (f *failDept) Search(ctx context.Context, _ issuer.SearchFilter) (*issuer.Page, error) {
	rs, _ := f.Records(ctx)
	p := &issuer.Page{Total: len(rs)}
	for _, r := range rs {
		p.Records = append(p.Records, issuer.Listed{Record: r})
	}
	return p, nil
}
func (f *failDept) SetStatus(context.Context, string, string) error { return f.err }
func (f *failDept) Batch(context.Context, home.BatchJob, func(issuer.BatchProgress)) (*issuer.BatchResult, error) {
	return nil, f.err
}
func (f *failDept) Batches(context.Context) ([]issuer.BatchInfo, error) { return nil, nil }
func (f *failDept) BatchStates(context.Context, string) (map[string]int, error) {
	return nil, nil
}
func (f *failDept) BulkStatus(context.Context, home.BulkJob, func(issuer.BulkProgress)) (*issuer.BulkResult, error) {
	return nil, f.err
}

// meetable are the errors a person can meet, as the cores return them (wrapped as they wrap
// them), each with words a rule must give.
func meetable() []error {
	var out []error
	for _, e := range meetableByName() {
		out = append(out, e)
	}
	return out
}

// meetableByName are the meetable errors by a short name.
func meetableByName() map[string]error {
	ie := func(status int, code, desc, reason string, left int) error {
		return fmt.Errorf("wallet: token: %w", &wallet.IssuerError{Endpoint: "/token", Status: status, Code: code,
			Description: desc, Reason: reason, AttemptsLeft: left})
	}
	dial := &net.OpError{Op: "dial", Net: "tcp", Err: errors.New("connect: connection refused")}
	return map[string]error{
		"weak":          keystore.ErrWeakSecret,
		"backoff":       &keystore.BackoffError{Wait: 90 * time.Second},
		"locked out":    keystore.ErrLockedOut,
		"wrong pin":     keystore.ErrWrongPIN,
		"exists":        keystore.ErrExists,
		"locked":        fmt.Errorf("app: %w", home.ErrLocked),
		"backup":        wallet.ErrBackup,
		"offer pin":     ie(400, "invalid_grant", "wrong tx_code (4 attempt(s) left)", wallet.ReasonWrongPIN, 4),
		"offer pin 0":   ie(400, "invalid_grant", "wrong tx_code (0 attempt(s) left)", wallet.ReasonWrongPIN, 0),
		"expired":       ie(400, "invalid_grant", "offer expired", wallet.ReasonOfferExpired, -1),
		"used":          ie(400, "invalid_grant", "offer already used", wallet.ReasonOfferUsed, -1),
		"blocked":       ie(400, "invalid_grant", "offer blocked after too many wrong tx_code attempts", wallet.ReasonOfferBlocked, -1),
		"unknown offer": ie(400, "invalid_grant", "unknown pre-authorized_code", wallet.ReasonOfferUnknown, -1),
		"grant":         ie(400, "invalid_grant", "bad", "", -1),
		"server":        ie(500, "server_error", "issuance failed; ask the department for a new offer", "", -1),
		"token":         ie(401, "invalid_token", "access token already used", "", -1),
		"unreachable":   fmt.Errorf("wallet: issuer metadata: %w: %w", wallet.ErrIssuerUnreachable, dial),
		"unsafe":        fmt.Errorf("wallet: issuer: %w: \"http://x\" is not an https URL", wallet.ErrUnsafeEndpoint),
		"not offer":     fmt.Errorf("%w: scheme \"hello\"", wallet.ErrBadOffer),
		"needs pin":     wallet.ErrOfferNeedsPIN,
		"invalid credential": &wallet.Refusal{Code: credential.CodeInvalidCredential, Msg: bilingual.Text{Zh: "凭证校验失败", En: "the credential does not verify"},
			Detail: "sdjwt: bad signature"},
		"bad request": &wallet.Refusal{Code: credential.CodeBadRequest, Msg: bilingual.Text{Zh: "请求二维码格式错误", En: "malformed request QR"}, Detail: "cbor: EOF"},
		"nothing": &wallet.Refusal{Code: credential.CodeNothingToPresent, Msg: bilingual.Text{Zh: "凭证“居民户口簿”状态为已撤销，默认不出示", En: "credential is revoked"},
			Detail: "status list: revoked"},
		"receipt":        fmt.Errorf("wallet: receipt: %w: jws: bad signature", wallet.ErrReceiptInvalid),
		"unmatched":      wallet.ErrReceiptUnmatched,
		"not anchored":   fmt.Errorf("%w: ledgerclient: node RPC failed: dial tcp 127.0.0.1:26657", wallet.ErrReceiptNotAnchored),
		"no receipt":     fmt.Errorf("verifier: %w", verifier.ErrNoReceipt),
		"rpc":            fmt.Errorf("wallet: catalogue: %w: Post \"http://127.0.0.1:26657\": EOF", ledgerclient.ErrRPC),
		"unverified":     fmt.Errorf("%w: bad proof", ledgerclient.ErrUnverified),
		"stale":          fmt.Errorf("%w: snapshot of 2026-05-20 older than 24h0m0s", ledgerclient.ErrSnapshotStale),
		"forged":         ledgerclient.ErrSnapshotForged,
		"no ledger":      fmt.Errorf("home: %w: the window has no node", home.ErrNoLedger),
		"tx rejected":    fmt.Errorf("%w: code 7", ledgerclient.ErrTxRejected),
		"no qr":          fmt.Errorf("qr: image: %w", qr.ErrNoCode),
		"no file":        &fs.PathError{Op: "open", Path: "/tmp/none.png", Err: fs.ErrNotExist},
		"transition":     fmt.Errorf("issuer: revoke: %w", issuer.ErrBadTransition),
		"not authorised": &issuer.NotAuthorisedError{Department: "civil-affairs", Type: "household-register"},
		"invalid": &issuer.ValidationError{Type: "household-register", Fields: []issuer.FieldError{{Field: "name", Code: "required",
			Text: bilingual.Text{Zh: "姓名为必填项", En: "name is required"}}}},
		"timeout": context.DeadlineExceeded,
		"general": errors.New("app: start demo ledger: lock held by another process"),
	}
}

// english finds protocol or programmer English: a run of three or more Latin letters that
// is none of the few Latin words the Chinese screens use on purpose.
var english = regexp.MustCompile(`[A-Za-z][A-Za-z_]{2,}`)

var latinAllowed = map[string]bool{"PIN": true, "CSV": true, "PNG": true, "TEST": true, "English": true, "holder": true,
	"did": true, "key": true}

// englishShown lists the visible texts under o that carry English (see english).
func englishShown(o fyne.CanvasObject) []string {
	var out []string
	var walk func(o fyne.CanvasObject)
	walk = func(o fyne.CanvasObject) {
		if o == nil || !o.Visible() {
			return
		}
		switch x := o.(type) {
		case *widget.Entry, *widget.Select:
			return // what the person typed or chose
		case *canvas.Text:
			if x.TextStyle.Monospace {
				return // machine text shown on purpose (machineText)
			}
			for _, w := range english.FindAllString(x.Text, -1) {
				if !latinAllowed[w] {
					out = append(out, plain(x.Text))
					break
				}
			}
		case *fyne.Container:
			for _, c := range x.Objects {
				walk(c)
			}
		case fyne.Widget:
			for _, c := range test.WidgetRenderer(x).Objects() {
				walk(c)
			}
		}
	}
	walk(o)
	return out
}

// shownEverywhere is every visible object of w: its content and its dialogs.
func shownEverywhere(w fyne.Window) []fyne.CanvasObject {
	return append([]fyne.CanvasObject{w.Canvas().Content()}, w.Canvas().Overlays().List()...)
}

func shows(w fyne.Window, s string) bool {
	for _, o := range shownEverywhere(w) {
		if hasText(o, s) {
			return true
		}
	}
	return false
}

// TestErrorsInWords walks every error path of every screen in zh-Hans with every error a
// person can meet: each is shown in words — the rule's "what happened" is on screen — and no
// English protocol text is shown outside the folded 详情.
func TestErrorsInWords(t *testing.T) {
	SetLanguage(LangZh)
	t.Cleanup(func() { SetLanguage(LangZh) })
	dir := t.TempDir()
	notPNG := filepath.Join(dir, "not.png")
	os.WriteFile(notPNG, []byte("hello"), 0o600)

	type path struct {
		screen string
		errs   string                 // the errors met there (meetableByName), comma-separated
		setup  func(u *UI, err error) // make the screen show the error
	}
	citizen := func(exists, unlocked bool) func(u *UI, err error) *failCitizen {
		return func(u *UI, err error) *failCitizen {
			c := &failCitizen{fakeCitizen: fakeCitizen{items: demoItems()}, err: err, exists: exists, unlocked: unlocked}
			u.Svc.Citizen = c
			u.SetRole(RoleCitizen)
			return c
		}
	}
	paths := []path{
		{"wallet set-up", "exists,no file,general", func(u *UI, err error) {
			citizen(false, false)(u, err)
			u.citizen.PINIn.SetText("135790")
			u.citizen.PINAgain.SetText("135790")
			u.citizen.submitPIN(false)
		}},
		{"wallet unlock", "wrong pin,backoff,locked out,general", func(u *UI, err error) {
			citizen(true, false)(u, err)
			u.citizen.PINIn.SetText("135790")
			u.citizen.submitPIN(true)
		}},
		{"restore", "backup,no file,exists,general", func(u *UI, err error) {
			citizen(false, false)(u, err)
			u.citizen.showRestore()
			u.citizen.RestorePath.SetText(filepath.Join(dir, "wallet.lzbak"))
			u.citizen.RestorePass.SetText("correct horse battery")
			u.citizen.restore()
		}},
		{"cards", "rpc,unverified,locked,general", func(u *UI, err error) {
			c := citizen(true, true)(u, nil)
			c.err = err
			u.citizen.loadCards()
		}},
		{"credential detail", "rpc,locked,general", func(u *UI, err error) { citizen(true, true)(u, err); u.citizen.detail("c1") }},
		{"receive", "offer pin,offer pin 0,expired,used,blocked,unknown offer,grant,server,token,unreachable,unsafe,not offer,needs pin,invalid credential,rpc,locked,timeout,general", func(u *UI, err error) {
			citizen(true, true)(u, err)
			u.citizen.tabs.SelectIndex(1)
			u.citizen.Offer.SetText(demoOffer)
			u.citizen.PIN.SetText("000000")
			u.citizen.receive()
		}},
		{"offer image", "general", func(u *UI, err error) {
			citizen(true, true)(u, err)
			u.citizen.tabs.SelectIndex(1)
			u.readQRImage(notPNG, u.citizen.Offer, nil)
		}},
		{"request", "bad request,rpc,locked,general", func(u *UI, err error) {
			citizen(true, true)(u, err)
			u.citizen.tabs.SelectIndex(2)
			u.citizen.Request.SetText("LZ1Q:ABC")
			u.citizen.plan()
		}},
		{"present", "nothing,rpc,general", func(u *UI, err error) {
			citizen(true, true)(u, err)
			u.citizen.tabs.SelectIndex(2)
			p, vals := overAskPlan()
			u.citizen.consent(p, vals)
			u.citizen.doPresent()
		}},
		{"history", "locked,general", func(u *UI, err error) {
			citizen(true, true)(u, err)
			u.citizen.tabs.SelectIndex(3)
			u.citizen.loadHistory()
		}},
		{"receipt", "receipt,unmatched,not anchored,rpc,general", func(u *UI, err error) {
			citizen(true, true)(u, err)
			u.citizen.tabs.SelectIndex(3)
			u.citizen.ReceiptIn.SetText("LZ1E:ABC")
			u.citizen.importReceipt()
		}},
		{"window items", "rpc,no ledger,unverified,general", func(u *UI, err error) {
			u.Svc.Window = &failWindow{err: err}
			u.SetRole(RoleWindow)
		}},
		{"window trust", "rpc,stale,forged,no ledger,general", func(u *UI, err error) {
			u.Svc.Window = &failWindow{}
			u.SetRole(RoleWindow)
			u.Svc.Window.(*failWindow).err = err
			u.window.updateTrust(true)
		}},
		{"window request", "rpc,stale,timeout,general", func(u *UI, err error) {
			u.Svc.Window = &failWindow{}
			u.SetRole(RoleWindow)
			u.Svc.Window.(*failWindow).err = err
			u.window.item.SetSelectedIndex(0)
		}},
		{"trust snapshot", "no ledger,rpc,no file,general", func(u *UI, err error) {
			u.Svc.Window = &failWindow{}
			u.SetRole(RoleWindow)
			u.Svc.Window.(*failWindow).err = err
			u.window.saveSnapshot()
		}},
		{"offline", "stale,forged,no file,no ledger,general", func(u *UI, err error) {
			u.Svc.Window = &failWindow{}
			u.SetRole(RoleWindow)
			u.Svc.Window.(*failWindow).err = err
			u.window.Offline.SetChecked(true)
		}},
		{"receipt for the citizen", "no receipt,rpc,tx rejected,general", func(u *UI, err error) {
			u.Svc.Window = &failWindow{}
			u.SetRole(RoleWindow)
			u.Svc.Window.(*failWindow).err = err
			v := passVerdict()
			v.ReceiptID = "r1"
			u.window.showVerdict(v)
			u.window.handReceipt(v)
		}},
		{"department types", "rpc,general", func(u *UI, err error) {
			u.Svc.Department = &failDept{err: err, typesFail: true}
			u.SetRole(RoleDepartment)
		}},
		{"department offer", "invalid,not authorised,rpc,general", func(u *UI, err error) {
			u.Svc.Department = &failDept{err: err}
			u.SetRole(RoleDepartment)
			u.dept.submit()
		}},
		{"department status", "transition,tx rejected,rpc,general", func(u *UI, err error) {
			u.Svc.Department = &failDept{err: err}
			u.SetRole(RoleDepartment)
			u.dept.tabs.SelectIndex(2)
			u.dept.loadRecords()
			tap(t, u.Win, T("dept.suspend"))
		}},
		{"department batch", "invalid,not authorised,no file,general", func(u *UI, err error) {
			u.Svc.Department = &failDept{err: err}
			u.SetRole(RoleDepartment)
			u.dept.tabs.SelectIndex(1)
			csv := filepath.Join(t.TempDir(), "batch.csv")
			os.WriteFile(csv, []byte("name\n测试\n"), 0o600)
			u.dept.batch.Path.SetText(csv)
			u.dept.batch.run()
		}},
	}
	all := meetableByName()
	for _, p := range paths {
		u, _ := newTestUI(t, RoleCitizen, LangZh, phone)
		for _, name := range strings.Split(p.errs, ",") {
			err, ok := all[name]
			if !ok {
				t.Fatalf("no error %q", name)
			}
			closeOverlays(u.Win)
			p.setup(u, err)
			want := lzText(explain(err).What)
			var ve *issuer.ValidationError
			if p.screen == "department offer" && errors.As(err, &ve) {
				want = ve.Fields[0].Zh // the form shows it under its field
			}
			if !shows(u.Win, want) {
				t.Errorf("%s: %v: %q not shown", p.screen, err, want)
			}
			for _, o := range shownEverywhere(u.Win) {
				for _, e := range englishShown(o) {
					t.Errorf("%s: %v: English shown: %q", p.screen, err, e)
				}
			}
		}
	}

	// every error through the dialog every screen uses, and on the start screen
	u, _ := newTestUI(t, RoleCitizen, LangZh, phone)
	for name, err := range all {
		closeOverlays(u.Win)
		u.showErr(err)
		if want := lzText(explain(err).What); !shows(u.Win, want) {
			t.Errorf("dialog: %s: %q not shown", name, want)
		}
		for _, o := range u.Win.Canvas().Overlays().List() {
			for _, e := range englishShown(o) {
				t.Errorf("dialog: %s: English shown: %q", name, e)
			}
		}
	}
	for _, err := range meetable() {
		a := test.NewTempApp(t)
		w := test.NewWindow(nil)
		w.Resize(phone)
		s := Starting(a, w)
		s.Failed(err, nil)
		for _, e := range englishShown(w.Canvas().Content()) {
			t.Errorf("start: %v: English shown: %q", err, e)
		}
		w.Close()
	}
}

// TestDetailBehindToggle: an error's technical text is not shown until 详情 is opened.
func TestDetailBehindToggle(t *testing.T) {
	u, _ := newTestUI(t, RoleCitizen, LangZh, phone)
	err := fmt.Errorf("wallet: token: %w", &wallet.IssuerError{Endpoint: "/token", Status: 400, Code: "invalid_grant",
		Description: "wrong tx_code (4 attempt(s) left)", Reason: wallet.ReasonWrongPIN, AttemptsLeft: 4})
	u.showErr(err)
	if !shows(u.Win, "领取密码不正确") || !shows(u.Win, "还可以再试 4 次") {
		t.Fatal("the wrong offer PIN is not said in words, with the tries left")
	}
	if shows(u.Win, "invalid_grant") {
		t.Fatal("the protocol text is shown before 详情 is opened")
	}
	var acc *widget.Accordion
	for _, o := range u.Win.Canvas().Overlays().List() {
		walkVisible(o, func(o fyne.CanvasObject) bool {
			acc, _ = o.(*widget.Accordion)
			return acc != nil
		})
	}
	if acc == nil || acc.Items[0].Title != "详情" {
		t.Fatal("no 详情 toggle")
	}
	acc.Open(0)
	if !shows(u.Win, "invalid_grant") {
		t.Fatal("the technical text is not under 详情")
	}
}

// TestExplain: the words for the errors of the issue, by type — whatever their text.
func TestExplain(t *testing.T) {
	SetLanguage(LangZh)
	for _, tc := range []struct {
		err        error
		what, next string
	}{
		{keystore.ErrWeakSecret, "密码太简单", "6 位数字"},
		{fmt.Errorf("wrapped: %w", &keystore.BackoffError{Wait: 90 * time.Second}), "错误次数过多", "请等 2 分钟后再试"},
		{&keystore.BackoffError{Wait: 1500 * time.Millisecond}, "错误次数过多", "请等 2 秒后再试"},
		{keystore.ErrLockedOut, "钱包已锁定", "备份"},
		{keystore.ErrWrongPIN, "钱包密码不正确", "重新输入"},
		{&wallet.IssuerError{Status: 400, Code: "invalid_grant", Reason: wallet.ReasonWrongPIN, AttemptsLeft: 4}, "领取密码不正确", "还可以再试 4 次"},
		{&wallet.IssuerError{Status: 400, Code: "invalid_grant", Reason: wallet.ReasonWrongPIN, AttemptsLeft: 0}, "领取密码不正确", "不能再试"},
		{&wallet.IssuerError{Status: 400, Code: "invalid_grant", Reason: wallet.ReasonOfferExpired, AttemptsLeft: -1}, "领取码已过期", "重新申请"},
		{&wallet.IssuerError{Status: 400, Code: "invalid_grant", Reason: wallet.ReasonOfferUsed, AttemptsLeft: -1}, "已经用过", "证照"},
		{&wallet.IssuerError{Status: 400, Code: "invalid_grant", Reason: wallet.ReasonOfferBlocked, AttemptsLeft: -1}, "已作废", "重新申请"},
		{&wallet.IssuerError{Status: 503, AttemptsLeft: -1}, "出了故障", "稍后重试"},
		{fmt.Errorf("%w: dial tcp", wallet.ErrIssuerUnreachable), "连不上签发部门", "网络"},
		{fmt.Errorf("x: %w", &net.OpError{Op: "dial", Err: errors.New("refused")}), "网络连接失败", "网络"},
		{errors.New("something else entirely"), "操作没有完成", "详情"},
	} {
		p := explain(tc.err)
		if !strings.Contains(lzText(p.What), tc.what) || !strings.Contains(lzText(p.Next), tc.next) || p.Detail != tc.err.Error() {
			t.Errorf("%v: %q / %q", tc.err, lzText(p.What), lzText(p.Next))
		}
	}
	// the same error in English
	SetLanguage(LangEn)
	defer SetLanguage(LangZh)
	p := explain(&wallet.IssuerError{Status: 400, Code: "invalid_grant", Reason: wallet.ReasonWrongPIN, AttemptsLeft: 2})
	if lzText(p.What) != "Wrong offer PIN" || !strings.Contains(lzText(p.Next), "2 tries left") {
		t.Errorf("en: %q / %q", lzText(p.What), lzText(p.Next))
	}
}

// TestWalletPINSetUp: the PIN rule is on screen before anything is typed; a PIN that breaks
// it, or a confirmation that differs, is refused in words under the fields without calling
// the wallet; a good PIN typed twice creates the wallet.
func TestWalletPINSetUp(t *testing.T) {
	for _, l := range []string{LangZh, LangEn} {
		u, _ := newTestUI(t, "", l, phone)
		c := &setupCitizen{}
		u.Svc.Citizen = c
		u.SetRole(RoleCitizen)
		cs := u.citizen
		if cs.PINAgain == nil || !hasText(u.Win.Canvas().Content(), T("citizen.pin.rule")) {
			t.Fatalf("%s: no confirmation field, or the rule is not shown before typing", l)
		}
		for _, tc := range []struct{ pin, again, want string }{
			{"12345", "12345", lzText(explain(keystore.ErrWeakSecret).What)},
			{"135790", "135791", lzText(explain(errPINMismatch).What)},
		} {
			cs.PINIn.SetText(tc.pin)
			cs.PINAgain.SetText(tc.again)
			tap(t, u.Win, T("common.confirm"))
			if !hasText(u.Win.Canvas().Content(), tc.want) || c.setups != 0 {
				t.Fatalf("%s: %q/%q: %q not shown (set-ups %d)", l, tc.pin, tc.again, tc.want, c.setups)
			}
		}
		cs.PINIn.SetText("135790")
		cs.PINAgain.SetText("135790")
		tap(t, u.Win, T("common.confirm"))
		if c.setups != 1 || c.pin != "135790" || u.citizen.tabs == nil {
			t.Fatalf("%s: wallet not created (%d, %q)", l, c.setups, c.pin)
		}
	}
}

type setupCitizen struct {
	fakeCitizen
	setups int
	pin    string
}

func (c *setupCitizen) Ready() (bool, bool) { return c.setups > 0, c.setups > 0 }
func (c *setupCitizen) Setup(p string) error {
	if err := keystore.ValidSecret(p); err != nil {
		return err
	}
	c.setups, c.pin = c.setups+1, p
	return nil
}

// TestOfferSummary: a scanned offer is shown as what it is — the credential type and the
// department, from the ledger — and not as its URL-encoded text; clearing it brings the
// field back.
func TestOfferSummary(t *testing.T) {
	for _, l := range []string{LangZh, LangEn} {
		u, _ := newTestUI(t, RoleCitizen, l, phone)
		cs := u.citizen
		cs.tabs.SelectIndex(1)
		cs.Offer.SetText(demoOffer[:40]) // half scanned: nothing yet
		if cs.OfferSummary != nil || cs.OfferCard.Visible() {
			t.Fatalf("%s: a partial offer was described", l)
		}
		cs.Offer.SetText(demoOffer)
		c := u.Win.Canvas().Content()
		want := map[string][]string{LangZh: {"居民户口簿", "由示例市公安局签发"}, LangEn: {"Household register", "Issued by Public Security Bureau (demo)"}}[l]
		for _, w := range want {
			if !hasText(c, w) {
				t.Fatalf("%s: %q not shown", l, w)
			}
		}
		if hasText(c, "credential_offer") || hasText(c, "%7B") {
			t.Fatalf("%s: the offer's text is still shown", l)
		}
		tap(t, u.Win, T("citizen.offer.change"))
		if cs.Offer.Text != "" || !cs.Offer.Visible() || cs.OfferCard.Visible() {
			t.Fatalf("%s: the offer field is not back", l)
		}
	}
}

// TestUnusableCredential: a suspended or revoked credential says what to do — contact its
// issuing department, named — on its card and on the consent screen.
func TestUnusableCredential(t *testing.T) {
	u, _ := newTestUI(t, RoleCitizen, LangZh, phone)
	c := u.Win.Canvas().Content()
	if !hasText(c, "不能使用，请联系示例市民政局") { // demoItems: the marriage certificate is suspended
		t.Fatal("the suspended card does not say whom to contact")
	}
	u.citizen.tabs.SelectIndex(2)
	p, vals := overAskPlan()
	revoked := demoItems()[0]
	revoked.Status = wallet.StatusRevoked
	p.Asks[0].Candidates, p.Asks[0].Chosen = []wallet.Item{revoked}, ""
	u.citizen.consent(p, vals)
	if !hasText(c, "这张证照已撤销，不能使用。请联系示例市公安局。") {
		t.Fatal("the consent screen does not say what to do with the revoked credential")
	}
	if !hasText(c, "示例市不动产登记中心") || hasText(c, "realestate") {
		t.Fatal("the consent screen does not name the window's department")
	}
}

// TestVerdictHeadlineOnce: the verdict's word is on screen once — a pass's message, the
// same word, is not repeated under it, nor a refusal's reason on the credential it came from.
func TestVerdictHeadlineOnce(t *testing.T) {
	u, _ := newTestUI(t, RoleWindow, LangZh, phone)
	count := func(s string) int {
		n := 0
		walkVisible(u.Win.Canvas().Content(), func(o fyne.CanvasObject) bool {
			if t, ok := o.(*canvas.Text); ok && strings.Contains(plain(t.Text), s) {
				n++
			}
			return false
		})
		return n
	}
	v := passVerdict()
	v.Message = bilingual.Text{Zh: "核验通过", En: "Verified"} // as the verifier says it
	for i := range v.Credentials {
		v.Credentials[i].Message = bilingual.Text{Zh: "核验通过", En: "Valid"}
	}
	u.window.showVerdict(v)
	if n := count("核验通过"); n != 1 {
		t.Fatalf("核验通过 shown %d times", n)
	}
	u.window.clearVerdict()
	v = failVerdict()
	v.Message = credential.Text(credential.CodeRevoked)
	v.Credentials[0].Code, v.Credentials[0].Message = credential.CodeRevoked, credential.Text(credential.CodeRevoked)
	u.window.showVerdict(v)
	if n := count(credential.Text(credential.CodeRevoked).Zh); n != 1 {
		t.Fatalf("the reason shown %d times", n)
	}
}

// TestRevokeConfirm: revoking asks 取消 / 确认撤销, naming the credential and whose it is
// (masked, as the department keeps it); 取消 revokes nothing, 确认撤销 revokes it.
func TestRevokeConfirm(t *testing.T) {
	u, _ := newTestUI(t, RoleDepartment, LangZh, phone)
	d := &countingDept{fakeDept: fakeDept{records: []issuer.Record{{ID: "rec-0123456789abcdef", Type: "household-register",
		IssuedAt: fixedNow, State: issuer.StateValid}}}}
	u.Svc.Department = d
	u.SetRole(RoleDepartment)
	u.dept.tabs.SelectIndex(2)
	u.dept.loadRecords()
	for _, answer := range []string{"取消", "确认撤销"} {
		tap(t, u.Win, T("dept.revoke"))
		dlg := u.Win.Canvas().Overlays().Top()
		if dlg == nil || !hasText(dlg, "张* 1101**********002X的居民户口簿（签发于 "+clock(fixedNow)+"，记录号 rec-012345…）") {
			t.Fatal("the confirmation does not name the credential and its holder")
		}
		b := findButton(dlg, answer)
		if b == nil {
			t.Fatalf("no %q button", answer)
		}
		test.Tap(b)
		closeOverlays(u.Win)
	}
	if len(d.actions) != 1 || d.actions[0] != issuer.ActionRevoke {
		t.Fatalf("actions: %v", d.actions)
	}
}

type countingDept struct {
	fakeDept
	actions []string
}

// Search lists the records with a masked holder, as the issuer's index gives them.
func (d *countingDept) Search(context.Context, issuer.SearchFilter) (*issuer.Page, error) {
	p := &issuer.Page{Total: len(d.records)}
	for _, r := range d.records {
		p.Records = append(p.Records, issuer.Listed{Record: r, Holder: &issuer.Holder{Name: "张*", Number: "1101**********002X"}})
	}
	return p, nil
}

func (d *countingDept) SetStatus(_ context.Context, _ string, action string) error {
	d.actions = append(d.actions, action)
	return nil
}

// TestErrorWordsHaveGlyphs: every character of the error words (errors.go) has a glyph in
// the bundled faces (TestGlyphCoverage covers the translations).
func TestErrorWordsHaveGlyphs(t *testing.T) {
	var texts []bilingual.Text
	for _, s := range sentinels {
		texts = append(texts, s.w.what, s.w.next)
	}
	for _, n := range refusalNext {
		texts = append(texts, n)
	}
	texts = append(texts, general.what, general.next)
	for _, err := range meetable() {
		p := explain(err)
		texts = append(texts, p.What, p.Next)
	}
	bold := parseFace(t, fontBold.Content())
	for _, tx := range texts {
		for _, s := range []string{tx.Zh, tx.En} {
			for _, r := range s {
				if _, ok := bold.NominalGlyph(r); !ok || !covered(string(r)) {
					t.Errorf("%q: no glyph for %q", s, r)
				}
			}
		}
	}
}
