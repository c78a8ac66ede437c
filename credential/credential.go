// Package credential holds what every credential format in LianZheng shares: the typed
// verification error with its stable reason code, and the bilingual messages a window clerk
// sees. The formats live in sub-packages, one job each:
//
//   - sdjwt:          RFC 9901 SD-JWT (issue, present, key binding, verify)
//   - sdjwtvc:        the SD-JWT VC profile (typ dc+sd-jwt, vct, cnf, status)
//   - dataintegrity:  W3C VC 2.0 with Data Integrity proofs (eddsa-rdfc-2022, eddsa-jcs-2022)
//   - statuslist:     revocation/suspension bitstrings (W3C Bitstring Status List, IETF Token Status List)
//
// Verification is strict by construction: every path that does not positively establish a
// valid signature by the right key returns an *Error; nothing is accepted by default.
package credential

import (
	"errors"
	"fmt"

	"lianzheng/internal/bilingual"
)

// Code is a stable, machine-readable reason for rejecting a credential or presentation.
// Codes never change meaning once released; the UI and logs key on them.
type Code string

// Reason codes. Keep in sync with docs/wire-formats.md and the message table below.
const (
	CodeMalformed         Code = "malformed"            // cannot be parsed at all
	CodeOversized         Code = "oversized"            // input exceeds a size/depth limit
	CodeUnsigned          Code = "unsigned"             // no signature present
	CodeAlgNone           Code = "alg_none"             // alg "none" or an algorithm we refuse
	CodeUnsupportedAlg    Code = "unsupported_alg"      // algorithm not in the allow-list
	CodeBadSignature      Code = "bad_signature"        // signature does not verify
	CodeUnknownCrit       Code = "unknown_crit"         // a critical header we do not understand
	CodeWrongType         Code = "wrong_type"           // typ header is not what the format requires
	CodeIssuerKeyMismatch Code = "issuer_key_mismatch"  // signing key is not the claimed issuer's
	CodeExpired           Code = "expired"              // exp in the past
	CodeNotYetValid       Code = "not_yet_valid"        // nbf/iat in the future
	CodeDisclosureUnbound Code = "disclosure_not_in_sd" // disclosure digest not committed in _sd
	CodeDuplicateDisc     Code = "duplicate_disclosure" // same disclosure or claim twice
	CodeMissingKB         Code = "missing_kb_jwt"       // holder binding required but absent
	CodeBadKB             Code = "bad_kb_jwt"           // KB-JWT signature/typ/format wrong
	CodeNonceMismatch     Code = "nonce_mismatch"       // KB-JWT nonce is not ours
	CodeAudienceMismatch  Code = "audience_mismatch"    // KB-JWT aud is not us
	CodeSDHashMismatch    Code = "sd_hash_mismatch"     // KB-JWT sd_hash does not cover what was presented
	CodeMissingClaim      Code = "missing_claim"        // a required claim is absent
	CodeRevoked           Code = "revoked"              // status list says revoked
	CodeSuspended         Code = "suspended"            // status list says suspended
	CodeBadProof          Code = "bad_proof"            // Data Integrity proof invalid

	// Window-level reasons (verifier package).
	CodeUnknownType         Code = "unknown_type"          // vct not in the ledger catalogue
	CodeIssuerNotAuthorised Code = "issuer_not_authorised" // issuer not listed for the credential type
	CodeOverDisclosure      Code = "over_disclosure"       // disclosed fields beyond the request or registration
	CodeOverRequest         Code = "over_request"          // request asks beyond the service item's registration
	CodeReplayed            Code = "replayed"              // presentation or nonce already used
	CodeRequestExpired      Code = "request_expired"       // the window request the answer is bound to has expired
	CodeNoRequest           Code = "no_open_request"       // the answer matches no request of this window
	CodeStaleSnapshot       Code = "stale_snapshot"        // trust data older than the policy's maximum age
	CodeForgedSnapshot      Code = "forged_snapshot"       // trust snapshot fails verification
	CodeTrustUnavailable    Code = "trust_unavailable"     // ledger unreachable and no valid snapshot
	CodeClockSkew           Code = "clock_skew"            // presentation time too far from the window clock
	CodeStatusUnknown       Code = "status_unknown"        // status list reference not the issuer's or out of range
	CodeMissingCredential   Code = "missing_credential"    // a credential type the request asks for was not presented
	CodePresentationExpired Code = "presentation_expired"  // the holder's KB-JWT (or one-way answer) is older than allowed
	CodeFieldMissing        Code = "field_missing"         // a field the service item requires was not in the presentation

	// Cross-region recognition (跨区域互认, docs/federation.md): a credential of another
	// region recognised by an agreement on our ledger.
	CodeForeignStale         Code = "foreign_stale"          // the issuing region's verified ledger data is older than the agreement allows (or none could be read)
	CodeForeignUntrusted     Code = "foreign_untrusted"      // the issuing region's ledger data does not verify against the agreement's root
	CodeForeignNotRecognised Code = "foreign_not_recognised" // the other region's credential type is not recognised (for this service item)
	CodeAgreementInactive    Code = "agreement_inactive"     // the agreement with the issuing region is withdrawn or outside its validity

	// Online-service reasons (an OpenID4VP response to a portal, docs/portal.md).
	CodeStateMismatch    Code = "state_mismatch"    // the response's state is not the session's
	CodeWrongSession     Code = "wrong_session"     // the response was encrypted for another session's request
	CodeResponseTampered Code = "response_tampered" // the encrypted response does not decrypt (altered, or not for this request)

	// Wallet-side reasons (the citizen's wallet refuses to receive or to present).
	CodeInvalidCredential  Code = "invalid_credential"   // a received credential does not verify
	CodeWrongHolderKey     Code = "wrong_holder_key"     // a received credential is not bound to the key the wallet proved
	CodeBadRequest         Code = "bad_request"          // the scanned window request cannot be read or does not verify
	CodeWindowUnregistered Code = "window_unregistered"  // the requesting window is not registered on the ledger
	CodeItemUnknown        Code = "service_item_unknown" // the window has no such registered service item
	CodeNothingToPresent   Code = "nothing_to_present"   // no valid credential or field to present
)

// messages gives each code a message in Simplified Chinese and English that a clerk can act on.
var messages = map[Code][2]string{
	CodeMalformed:         {"凭证格式无法识别，请让办事人重新出示", "The credential could not be read; ask the citizen to show it again"},
	CodeOversized:         {"数据过大或层级过深，已拒绝", "The data is too large or too deeply nested and was refused"},
	CodeUnsigned:          {"凭证没有签名，不可信", "The credential is not signed and cannot be trusted"},
	CodeAlgNone:           {"凭证使用了不允许的“无签名”算法", "The credential claims to need no signature (alg none)"},
	CodeUnsupportedAlg:    {"凭证的签名算法不被接受", "The credential's signature algorithm is not accepted"},
	CodeBadSignature:      {"签名校验失败，凭证可能被篡改", "The signature does not match; the credential may have been altered"},
	CodeUnknownCrit:       {"凭证含有无法理解的关键扩展", "The credential has a critical extension we do not understand"},
	CodeWrongType:         {"凭证类型标记不正确", "The credential's type marker is wrong"},
	CodeIssuerKeyMismatch: {"签名密钥不属于声称的签发部门", "The signing key does not belong to the stated issuing department"},
	CodeExpired:           {"凭证已过有效期", "The credential has expired"},
	CodeNotYetValid:       {"凭证尚未生效", "The credential is not valid yet"},
	CodeDisclosureUnbound: {"披露的信息不在签发内容中，可能被伪造", "A disclosed field was not part of what the department signed"},
	CodeDuplicateDisc:     {"同一信息被重复披露", "The same field was disclosed twice"},
	CodeMissingKB:         {"缺少持有人确认签名，无法确认是本人出示", "The holder's confirmation signature is missing"},
	CodeBadKB:             {"持有人确认签名无效", "The holder's confirmation signature is invalid"},
	CodeNonceMismatch:     {"出示内容不是针对本次请求生成的", "The presentation was not made for this request (nonce)"},
	CodeAudienceMismatch:  {"出示内容是给其他窗口的", "The presentation was made for a different window"},
	CodeSDHashMismatch:    {"持有人签名与出示内容不一致", "The holder's signature does not cover what was shown"},
	CodeMissingClaim:      {"凭证缺少必要字段", "The credential lacks a required field"},
	CodeRevoked:           {"凭证已被签发部门撤销", "The issuing department has revoked this credential"},
	CodeSuspended:         {"凭证已被签发部门暂停使用", "The issuing department has suspended this credential"},
	CodeBadProof:          {"数据完整性证明校验失败", "The data integrity proof does not verify"},

	CodeUnknownType:         {"凭证类型不在联盟链目录中", "This credential type is not in the ledger catalogue"},
	CodeIssuerNotAuthorised: {"签发部门无权签发此类凭证", "The issuing department is not authorised for this credential type"},
	CodeOverDisclosure:      {"出示了本事项不需要的信息，已拒绝", "More fields were shown than this service item may see; refused"},
	CodeOverRequest:         {"本窗口请求的信息超出其登记范围", "The window's request exceeds what its service item is registered for"},
	CodeReplayed:            {"该出示内容已被使用过，请让办事人重新出示", "This presentation was already used; ask the citizen to present again"},
	CodeRequestExpired:      {"本次请求已过期，请重新生成请求二维码", "The request has expired; show a new request QR code"},
	CodeNoRequest:           {"出示内容与本窗口的请求不匹配，请重新扫码", "The answer does not match any request of this window; scan again"},
	CodeStaleSnapshot:       {"信任数据过旧，请联网或更新信任快照后再核验", "Trust data is too old; go online or refresh the trust snapshot"},
	CodeForgedSnapshot:      {"信任快照校验失败，可能被篡改，已停止核验", "The trust snapshot failed verification and may be forged; verification stopped"},
	CodeTrustUnavailable:    {"无法获取联盟链信任数据，暂不能核验", "Ledger trust data is unavailable; cannot verify now"},
	CodeClockSkew:           {"本机时间与出示时间相差过大，请检查窗口电脑时间", "The presentation time is far from this computer's clock; check the clock"},
	CodeStatusUnknown:       {"无法确认凭证状态（状态列表不符）", "The credential's status could not be established"},
	CodeMissingCredential:   {"缺少本事项所需的凭证", "A credential this service item needs was not presented"},
	CodePresentationExpired: {"出示码已过期，请群众重新生成", "The answer code has expired; ask the citizen to make a new one"},
	CodeFieldMissing:        {"凭证未提供本事项必需的信息（所缺项目见下方）", "The credential does not provide a field this service item requires (listed below)"},

	CodeForeignStale:         {"签发地区的联盟链数据过旧或无法读取，暂不能核验该地区的凭证", "The issuing region's ledger data is too old or cannot be read; its credentials cannot be verified now"},
	CodeForeignUntrusted:     {"签发地区的联盟链数据校验失败（可能被伪造），已拒绝", "The issuing region's ledger data failed verification (possibly forged); refused"},
	CodeForeignNotRecognised: {"该地区的此类凭证不在互认清单中，或本事项不接受", "This region's credential type is not on the mutual-recognition list, or not accepted for this service item"},
	CodeAgreementInactive:    {"与签发地区的互认协议已撤销或不在有效期内", "The mutual-recognition agreement with the issuing region is withdrawn or not in force"},

	CodeStateMismatch:    {"钱包的回应与本次网上申请不符（state 不一致），请重新扫码", "The wallet's answer does not belong to this online application (state differs); scan again"},
	CodeWrongSession:     {"钱包的回应是给另一个网上申请的，已拒绝，请重新扫码", "The wallet's answer was made for another online application and was refused; scan again"},
	CodeResponseTampered: {"加密回应无法解密或已被篡改，已拒绝，请重新扫码", "The encrypted answer cannot be decrypted or was altered and was refused; scan again"},

	CodeInvalidCredential:  {"收到的凭证校验失败，已拒收，请联系签发部门", "The credential received does not verify and was refused; contact the issuing department"},
	CodeWrongHolderKey:     {"收到的凭证未绑定到本钱包，已拒收，请联系签发部门", "The credential received is not bound to this wallet and was refused; contact the issuing department"},
	CodeBadRequest:         {"无法读取或核实窗口的请求二维码，请让窗口重新出示", "The window's request QR cannot be read or verified; ask the window to show it again"},
	CodeWindowUnregistered: {"该窗口未在联盟链登记，请勿出示", "This window is not registered on the ledger; do not present"},
	CodeItemUnknown:        {"该窗口没有登记此事项，请勿出示", "The window has not registered this service item; do not present"},
	CodeNothingToPresent:   {"没有可出示的有效凭证或字段", "There is no valid credential or field to present"},
}

// Message returns the clerk-facing message for a code in "zh" (default) or "en".
func Message(c Code, lang string) string {
	m, ok := messages[c]
	if !ok {
		if lang == "en" {
			return "Verification failed (" + string(c) + ")"
		}
		return "核验未通过（" + string(c) + "）"
	}
	if lang == "en" {
		return m[1]
	}
	return m[0]
}

// Text is the message for a code in both languages.
func Text(c Code) bilingual.Text {
	return bilingual.Text{Zh: Message(c, "zh"), En: Message(c, "en")}
}

// Codes lists every defined code, for tests that check each has a message and a test.
func Codes() []Code {
	out := make([]Code, 0, len(messages))
	for c := range messages {
		out = append(out, c)
	}
	return out
}

// Error is a verification failure with a stable code. Detail is for engineers (English, no
// personal data); Message(Code, lang) is for people.
type Error struct {
	Code   Code
	Detail string
	Err    error
}

func (e *Error) Error() string {
	s := string(e.Code)
	switch {
	case e.Detail != "": // Errorf's detail already includes any wrapped error's text
		s += ": " + e.Detail
	case e.Err != nil:
		s += ": " + e.Err.Error()
	}
	return s
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf builds an *Error with a formatted detail. A %w verb wraps as usual.
func Errorf(c Code, format string, args ...any) *Error {
	err := fmt.Errorf(format, args...)
	return &Error{Code: c, Detail: err.Error(), Err: errors.Unwrap(err)}
}

// CodeOf returns the code of the first *Error in err's chain, or "" if there is none.
func CodeOf(err error) Code {
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ""
}
