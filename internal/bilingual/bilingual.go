// Package bilingual holds the one type for text a person reads in both of LianZheng's
// languages: Simplified Chinese first, English beside it. The catalogue (assets), the ledger
// model (names and labels of departments, credential types, windows), reason-code messages
// (credential), verdicts (verifier), the wallet's refusals and the issuer's field errors all
// use it, so a label read from the ledger can be shown, stored or compared without copying
// between look-alike types. Its JSON form is {"zh": …, "en": …}; it carries no personal data
// by itself, but a Text built from a claim value does — treat it like its contents.
package bilingual

// Text is a string in Simplified Chinese and English.
type Text struct {
	Zh string `json:"zh"`
	En string `json:"en"`
}

// In returns the text in lang ("en", else Chinese); an empty English text falls back to
// Chinese, which is always present.
func (t Text) In(lang string) string {
	if lang == "en" && t.En != "" {
		return t.En
	}
	return t.Zh
}

// String is both languages, Chinese first, for logs of non-personal messages and CLI output.
func (t Text) String() string { return t.Zh + " / " + t.En }
