package app

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"time"

	"fyne.io/fyne/v2"
	"fyne.io/fyne/v2/container"
	"fyne.io/fyne/v2/dialog"
	"fyne.io/fyne/v2/theme"
	"fyne.io/fyne/v2/widget"

	"lianzheng/credential"
	"lianzheng/home"
	"lianzheng/internal/bilingual"
	"lianzheng/internal/keystore"
	"lianzheng/issuer"
	"lianzheng/ledgerclient"
	"lianzheng/qr"
	"lianzheng/verifier"
	"lianzheng/wallet"
)

// Errors as people read them. explain is the one place where an error becomes words: what
// happened and what to do next, in the UI's language, chosen by the error's type
// (errors.Is / errors.As on the cores' typed errors) — never by its text. The text is the
// engineer's detail, shown only behind 详情.

// problem is an error in words.
type problem struct {
	What, Next bilingual.Text
	Detail     string // the error's text (engineers; behind 详情)
	// Known is false for an error no rule below recognises (the general words).
	Known bool
}

// words is a rule's two texts.
type words struct{ what, next bilingual.Text }

func t2(zh, en string) bilingual.Text { return bilingual.Text{Zh: zh, En: en} }

var (
	newOffer = t2("请到签发部门重新申请领取码。", "Ask the issuing department for a new offer.")
	retryNet = t2("请检查网络连接后重试。", "Check the network connection and try again.")
)

// errPINMismatch: the wallet PIN and its confirmation differ (the set-up screen's own check).
var errPINMismatch = errors.New("app: the PIN and its confirmation differ")

// sentinels maps the cores' error values to words; the first that errors.Is matches wins,
// so the more specific come first.
var sentinels = []struct {
	err error
	w   words
}{
	// the wallet's PIN (the key store)
	{errPINMismatch, words{t2("两次输入的密码不一致", "The two PINs differ"),
		t2("请在两个输入框里输入同一个密码。", "Type the same PIN in both fields.")}},
	{keystore.ErrWeakSecret, words{t2("密码太简单", "This PIN is too simple"),
		t2("请使用 6 位数字，或不少于 8 个字符的口令（空格不计）。", "Use 6 digits, or a passphrase of at least 8 characters (spaces not counted).")}},
	{keystore.ErrLockedOut, words{t2("钱包已锁定：密码错误次数过多", "The wallet is locked after too many wrong PINs"),
		t2("钱包不能再用密码打开。请在新设备或重新安装后，用备份文件恢复钱包。", "It can no longer be opened with the PIN. Restore it from your backup file on a new installation.")}},
	{keystore.ErrWrongPIN, words{t2("钱包密码不正确", "Wrong wallet PIN"),
		t2("请重新输入。连续输错几次后，需要等待一段时间才能再试。", "Try again. After a few wrong PINs you will have to wait before trying again.")}},
	{keystore.ErrLocked, words{t2("钱包已锁定", "The wallet is locked"), t2("请输入钱包密码解锁。", "Unlock it with the wallet PIN.")}},
	{home.ErrLocked, words{t2("钱包已锁定", "The wallet is locked"), t2("请输入钱包密码解锁。", "Unlock it with the wallet PIN.")}},
	{keystore.ErrExists, words{t2("这里已经有一个钱包", "A wallet already exists here"), t2("请直接用钱包密码解锁。", "Unlock it with its PIN.")}},
	{wallet.ErrBackup, words{t2("备份文件损坏，或备份口令不正确", "The backup file is damaged or the passphrase is wrong"),
		t2("请核对备份口令后重试。钱包没有任何改动。", "Check the passphrase and try again. Nothing was changed.")}},

	// receiving a credential
	{wallet.ErrBadOffer, words{t2("这不是证照领取码", "This is not a credential offer"),
		t2("请扫描或粘贴签发部门出示的领取码。", "Scan or paste the offer code the issuing department showed you.")}},
	{wallet.ErrOfferNeedsPIN, words{t2("请输入领取密码", "Enter the offer PIN"),
		t2("领取密码是签发部门另外告诉您的 6 位数字。", "The PIN is the 6-digit number the issuing department told you separately.")}},
	{wallet.ErrOfferBlocked, words{t2("领取码已作废：领取密码输错次数过多", "This offer is blocked after too many wrong PINs"), newOffer}},
	{wallet.ErrOfferExpired, words{t2("领取码已过期", "This offer has expired"), newOffer}},
	{wallet.ErrOfferUsed, words{t2("这个领取码已经用过", "This offer was already used"),
		t2("证照如已在“证照”页中，就不用再领取；否则请到签发部门重新申请领取码。", "If the credential is on the Cards page you have it; otherwise ask the issuing department for a new offer.")}},
	{wallet.ErrOfferUnknown, words{t2("签发部门查不到这个领取码", "The issuing department does not know this offer"),
		t2("请核对领取码，或到签发部门重新申请。", "Check the offer code, or ask the issuing department for a new one.")}},
	{wallet.ErrOfferRefused, words{t2("领取码或领取密码无效", "The offer or its PIN was refused"),
		t2("请核对领取密码后重试；仍不行请到签发部门重新申请领取码。", "Check the PIN and try again; if it still fails, ask the issuing department for a new offer.")}},
	{wallet.ErrUnsafeEndpoint, words{t2("这个领取码指向不安全的地址，已停止领取", "This offer points to an unsafe address; nothing was sent"),
		t2("请只扫描签发部门当面出示的领取码。", "Only scan offers the issuing department shows you in person.")}},
	{wallet.ErrIssuerUnreachable, words{t2("连不上签发部门的服务", "The issuing department's service cannot be reached"), retryNet}},
	{wallet.ErrIssuerFailed, words{t2("签发部门的服务出了故障", "The issuing department's service failed"),
		t2("请稍后重试；仍不行请到签发部门重新申请领取码。", "Try again later; if it still fails, ask the issuing department for a new offer.")}},
	{wallet.ErrIssuerRefused, words{t2("签发部门的服务拒绝了本次领取", "The issuing department's service refused"),
		t2("请向签发部门咨询。", "Ask the issuing department.")}},
	{wallet.ErrNoCredential, words{t2("钱包里没有这张证照", "This credential is not in the wallet"), t2("请刷新证照列表。", "Refresh the list.")}},

	// receipts
	{wallet.ErrReceiptInvalid, words{t2("无法核对这张回执", "This receipt cannot be checked"),
		t2("请让窗口重新出示回执二维码，再扫描一次。", "Ask the window to show the receipt code again and scan it once more.")}},
	{wallet.ErrReceiptUnmatched, words{t2("这张回执不属于您的出示记录", "This receipt matches none of your presentations"),
		t2("请确认扫描的是刚才办事窗口给您的回执。", "Make sure it is the receipt the window just gave you.")}},
	{wallet.ErrReceiptNotAnchored, words{t2("回执已保存，但还没在联盟链上找到", "The receipt was kept, but is not on the ledger yet"),
		t2("窗口上链存证后，请再导入一次核实。", "Import it again once the window has anchored it.")}},
	{verifier.ErrNoReceipt, words{t2("这次核验没有回执", "This verdict has no receipt"), t2("请为下一位群众重新核验。", "Verify again for the next citizen.")}},

	// the ledger and the trust data
	{ledgerclient.ErrSnapshotStale, words{t2("信任快照太旧，不能用来核验", "The trust snapshot is too old to verify with"),
		t2("请联网后点“保存信任快照”。", "Go online and press Save trust snapshot.")}},
	{ledgerclient.ErrSnapshotForged, words{t2("信任快照没有通过校验，可能被篡改", "The trust snapshot failed verification and may be forged"),
		t2("请联网后重新保存信任快照。", "Go online and save a new trust snapshot.")}},
	{home.ErrNoLedger, words{t2("没有连接联盟链", "There is no ledger connection"),
		t2("请检查网络或节点设置后重试。", "Check the network or the node setting and try again.")}},
	{ledgerclient.ErrRPC, words{t2("连不上联盟链节点", "The ledger node cannot be reached"),
		t2("请检查网络，确认节点在运行，然后重试。", "Check the network and that the node is running, then try again.")}},
	{ledgerclient.ErrUnverified, words{t2("联盟链节点返回的数据没有通过校验", "The ledger node's answer failed verification"),
		t2("请换一个节点，或联系系统管理员。", "Use another node, or contact the system administrator.")}},
	{ledgerclient.ErrTxNotConfirmed, words{t2("联盟链暂未确认这次操作", "The ledger has not confirmed this yet"),
		t2("请稍后刷新查看结果，不要重复操作。", "Refresh later to see the result; do not repeat it.")}},
	{ledgerclient.ErrTxRejected, words{t2("联盟链拒绝了这次操作", "The ledger refused this"),
		t2("请刷新后重试；仍不行请联系系统管理员。", "Refresh and try again; if it still fails, contact the system administrator.")}},
	{ledgerclient.ErrNotFound, words{t2("联盟链上没有所需的记录", "The ledger has no such record"),
		t2("请联系系统管理员。", "Contact the system administrator.")}},

	// the department
	{issuer.ErrBatchInvalid, words{t2("有的行填写有误，没有签发任何证照", "Some rows are wrong; nothing was issued"),
		t2("请改正后重新导入。", "Correct them and import the file again.")}},
	{issuer.ErrNotAuthorised, words{t2("本部门未获授权签发这类证照", "This department may not issue this type"),
		t2("请联系联盟管理员。", "Contact the consortium administrator.")}},
	{issuer.ErrUnknownType, words{t2("这类证照不在联盟链目录中", "This credential type is not in the ledger catalogue"),
		t2("请联系联盟管理员。", "Contact the consortium administrator.")}},
	{issuer.ErrBadTransition, words{t2("这张证照当前的状态不能这样改", "The credential's current state does not allow this"),
		t2("请刷新列表后再看。", "Refresh the list and look again.")}},
	{issuer.ErrRecordNotFound, words{t2("找不到这条签发记录", "No such issuance record"), t2("请刷新列表。", "Refresh the list.")}},
	{home.ErrNoKeyStore, words{t2("本部门没有签名密钥", "This department has no signing key"),
		t2("请联系系统管理员。", "Contact the system administrator.")}},

	// files, images, the network
	{qr.ErrNoCode, words{t2("图片里没有能识别的二维码", "No readable QR code in the image"),
		t2("请换一张清晰、完整的二维码图片。", "Use a sharp picture showing the whole QR code.")}},
	{qr.ErrMalformed, words{t2("无法读取这张图片或二维码", "This image or QR code cannot be read"),
		t2("请换一张 PNG 图片，或重新扫描。", "Use another PNG image, or scan again.")}},
	{qr.ErrTooLarge, words{t2("图片或二维码太大", "The image or QR code is too large"),
		t2("请换一张较小的图片。", "Use a smaller image.")}},
	{os.ErrNotExist, words{t2("找不到这个文件", "File not found"), t2("请检查文件路径，或点“选择文件”。", "Check the path, or choose the file.")}},
	{os.ErrPermission, words{t2("没有权限读写这个文件", "No permission for this file"), t2("请换一个位置或文件。", "Choose another place or file.")}},
	{context.DeadlineExceeded, words{t2("等待超时", "It took too long"), retryNet}},
	{context.Canceled, words{t2("已取消", "Cancelled"), bilingual.Text{}}},
}

// refusalNext is what to do after a wallet refusal, by its reason code (its own words say
// what happened).
var refusalNext = map[credential.Code]bilingual.Text{
	credential.CodeInvalidCredential:   t2("没有收下这张证照。请联系签发部门。", "The credential was not kept. Contact the issuing department."),
	credential.CodeWrongHolderKey:      t2("没有收下这张证照。请联系签发部门。", "The credential was not kept. Contact the issuing department."),
	credential.CodeUnknownType:         t2("没有收下这张证照。请联系签发部门。", "The credential was not kept. Contact the issuing department."),
	credential.CodeIssuerNotAuthorised: t2("没有收下这张证照。请只领取有权签发的部门的证照。", "It was not kept. Only receive credentials from the department entitled to issue them."),
	credential.CodeBadRequest:          t2("请让窗口重新出示请求码，再扫描一次。", "Ask the window to show its request code again, and scan it once more."),
	credential.CodeWindowUnregistered:  t2("请不要出示，并告诉工作人员。", "Do not present; tell the staff."),
	credential.CodeItemUnknown:         t2("请不要出示，并告诉工作人员。", "Do not present; tell the staff."),
	credential.CodeNothingToPresent:    t2("请在“证照”页查看证照状态；证照被暂停或撤销时，请联系签发部门。", "Check the credentials' status on the Cards page; if one is suspended or revoked, contact its issuing department."),
}

// general is the words for an error no rule knows.
var general = words{t2("操作没有完成", "That did not work"),
	t2("请重试；仍不行时，请把“详情”里的内容告诉技术支持。", "Try again; if it still fails, give the Details to technical support.")}

// explain turns an error into words (see problem).
func explain(err error) problem {
	if err == nil {
		return problem{}
	}
	p := problem{Detail: err.Error(), Known: true}
	var (
		backoff  *keystore.BackoffError
		ie       *wallet.IssuerError
		refusal  *wallet.Refusal
		invalid  *issuer.ValidationError
		netError net.Error
	)
	switch {
	case errors.As(err, &backoff):
		w := waitWords(backoff.Wait)
		p.What = t2("钱包密码错误次数过多", "Too many wrong wallet PINs")
		p.Next = t2("请等"+w.Zh+"后再试。", "Wait "+w.En+", then try again.")
		return p
	case errors.Is(err, wallet.ErrWrongOfferPIN):
		p.What = t2("领取密码不正确", "Wrong offer PIN")
		left := -1
		if errors.As(err, &ie) {
			left = ie.AttemptsLeft
		}
		switch {
		case left > 0:
			p.Next = t2(fmt.Sprintf("还可以再试 %d 次。请核对签发部门告诉您的 6 位数字。", left),
				fmt.Sprintf("%d tries left. Check the 6-digit number the issuing department told you.", left))
		case left == 0:
			p.Next = t2("这个领取码不能再试了。"+newOffer.Zh, "No tries are left. "+newOffer.En)
		default:
			p.Next = t2("请核对签发部门告诉您的 6 位数字后重试。", "Check the 6-digit number the issuing department told you and try again.")
		}
		return p
	case errors.As(err, &refusal):
		p.What, p.Next = refusal.Msg, refusalNext[refusal.Code]
		if next, ok := refusalNextOnline[refusal.Code]; ok && errors.As(err, new(*onlineError)) {
			p.Next = next
		}
		if refusal.Detail != "" {
			p.Detail = refusal.Detail
		}
		return p
	case errors.As(err, &invalid):
		p.What = t2("填写的信息有误", "Some fields are not right")
		if len(invalid.Fields) > 0 {
			p.Next = invalid.Fields[0].Text
		}
		return p
	}
	for _, s := range sentinels {
		if errors.Is(err, s.err) {
			p.What, p.Next = s.w.what, s.w.next
			return p
		}
	}
	if errors.As(err, &netError) {
		p.What, p.Next = t2("网络连接失败", "The network connection failed"), retryNet
		return p
	}
	p.What, p.Next, p.Known = general.what, general.next, false
	return p
}

// waitWords is a back-off wait in words, rounded up (never "0 秒").
func waitWords(d time.Duration) bilingual.Text {
	switch {
	case d <= time.Minute:
		s := max(1, int((d+time.Second-1)/time.Second))
		return t2(fmt.Sprintf(" %d 秒", s), fmt.Sprintf("%d s", s))
	case d <= time.Hour:
		m := int((d + time.Minute - 1) / time.Minute)
		return t2(fmt.Sprintf(" %d 分钟", m), fmt.Sprintf("%d min", m))
	}
	h := int((d + time.Hour - 1) / time.Hour)
	return t2(fmt.Sprintf(" %d 小时", h), fmt.Sprintf("%d h", h))
}

// problemView shows a problem: what happened (bold), what to do next, and the technical
// detail folded under 详情.
func problemView(p problem) *fyne.Container {
	what := wrapLabelStyled(lzText(p.What), fyne.TextAlignLeading, fyne.TextStyle{Bold: true})
	what.Importance = widget.DangerImportance
	box := container.NewVBox(what)
	if next := lzText(p.Next); next != "" {
		box.Add(wrapLabel(next))
	}
	if p.Detail != "" {
		box.Add(detailText(p.Detail))
	}
	return box
}

// detailText is technical detail folded under 详情 (selectable, small).
func detailText(s string) *widget.Accordion {
	d := widget.NewLabel(s)
	d.Wrapping = fyne.TextWrapBreak
	d.Selectable = true
	d.SizeName = theme.SizeNameCaptionText
	return widget.NewAccordion(widget.NewAccordionItem(T("error.detail"), d))
}

// lzText is a bilingual text in the current language.
func lzText(t bilingual.Text) string { return lz(t.Zh, t.En) }

// showErr shows an error in words in a dialog (explain).
func (u *UI) showErr(err error) {
	if err == nil {
		return
	}
	d := dialog.NewCustom(T("common.error"), T("common.close"), problemView(explain(err)), u.Win)
	d.Resize(dialogSize(u.Win, 420, 220))
	d.Show()
}

// dialogSize is w×h, narrowed to the window (a dialog must not force a phone wider).
func dialogSize(win fyne.Window, w, h float32) fyne.Size {
	if win != nil {
		if cw := win.Canvas().Size().Width - 40; cw > 0 && cw < w {
			w = cw
		}
	}
	return fyne.NewSize(w, h)
}
