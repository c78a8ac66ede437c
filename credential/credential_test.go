package credential

import (
	"errors"
	"os"
	"strings"
	"testing"
)

// Every code has a message in both languages and a row in docs/reason-codes.md.
func TestEveryCodeDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/reason-codes.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range Codes() {
		if Message(c, "zh") == "" || Message(c, "en") == "" || strings.Contains(Message(c, "zh"), string(c)) {
			t.Errorf("%s: missing message", c)
		}
		if !strings.Contains(string(doc), "| `"+string(c)+"` |") {
			t.Errorf("%s: not in docs/reason-codes.md", c)
		}
	}
}

func TestErrorWrapping(t *testing.T) {
	inner := errors.New("inner")
	e := Errorf(CodeBadKB, "kb: %w", inner)
	if !errors.Is(e, inner) || CodeOf(e) != CodeBadKB || e.Error() != "bad_kb_jwt: kb: inner" {
		t.Fatalf("%v", e)
	}
	if CodeOf(errors.New("x")) != "" {
		t.Fatal("plain error has a code")
	}
}
