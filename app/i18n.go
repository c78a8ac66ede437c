package app

import (
	"encoding/json"
	"fmt"
	"os"
	"sync"

	"fyne.io/fyne/v2/lang"

	"lianzheng/assets"
)

// Languages: Simplified Chinese (default) and English. Translations are registered with
// Fyne's lang package under zh-Hans and en (Fyne never selects a plain "zh" file). Fyne
// picks its language from the environment, so choosing one sets LANGUAGE and reloads.
const (
	LangZh = "zh-Hans"
	LangEn = "en"
)

var (
	langMu  sync.Mutex
	curLang = LangZh
	loaded  bool
	// own copy of the messages, for the glyph-coverage test and for fallback
	messages = map[string]map[string]string{}
)

// SetLanguage selects the UI language (LangZh or LangEn).
func SetLanguage(l string) {
	if l != LangEn {
		l = LangZh
	}
	langMu.Lock()
	defer langMu.Unlock()
	curLang = l
	os.Setenv("LANGUAGE", l)
	if v := os.Getenv("LANG"); v == "" || v == "C" || v == "POSIX" {
		os.Setenv("LANG", "C.UTF-8")
	}
	os.Unsetenv("LC_ALL")
	os.Unsetenv("LC_MESSAGES")
	if !loaded {
		loaded = true
		if err := lang.AddTranslationsFS(assets.I18n, "i18n"); err != nil {
			panic("app: translations: " + err.Error())
		}
		for _, n := range []string{LangZh, LangEn} {
			messages[n] = readMessages(n)
		}
		return
	}
	// re-adding a file makes Fyne re-read the environment and pick the language again
	b, _ := assets.I18n.ReadFile("i18n/" + l + ".json")
	_ = lang.AddTranslations(&staticRes{name: l + ".json", data: b})
}

// Language is the current UI language.
func Language() string {
	langMu.Lock()
	defer langMu.Unlock()
	return curLang
}

// T translates a key; with args it is a fmt format.
func T(key string, args ...any) string {
	s := lang.X(key, "")
	if s == "" || s == key {
		langMu.Lock()
		s = messages[curLang][key]
		langMu.Unlock()
		if s == "" {
			s = key
		}
	}
	if len(args) > 0 {
		return fmt.Sprintf(s, args...)
	}
	return s
}

// lz returns a bilingual text in the current language.
func lz(zh, en string) string {
	if Language() == LangEn && en != "" {
		return en
	}
	return zh
}

func readMessages(l string) map[string]string {
	b, err := assets.I18n.ReadFile("i18n/" + l + ".json")
	if err != nil {
		panic("app: translations: " + err.Error())
	}
	m := map[string]string{}
	if err := json.Unmarshal(b, &m); err != nil {
		panic("app: translations " + l + ": " + err.Error())
	}
	return m
}

type staticRes struct {
	name string
	data []byte
}

func (r *staticRes) Name() string    { return r.name }
func (r *staticRes) Content() []byte { return r.data }
