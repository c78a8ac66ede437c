package wallet

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"

	"lianzheng/ledgerclient"
)

// unusedLedger satisfies Ledger for tests that must stop before any ledger read.
type unusedLedger struct{ ledgerclient.TrustView }

// TestEveryIssuerEndpointHeldToHTTPS: an https issuer whose metadata (which nobody signs)
// names an http:// or foreign token, nonce or credential endpoint, or whose endpoint
// redirects, never receives the PIN: the wallet refuses before sending it (issue 16.4).
func TestEveryIssuerEndpointHeldToHTTPS(t *testing.T) {
	cases := []struct {
		name string
		md   func(base string) map[string]any
		// redirect: the token endpoint answers 307 to this URL
		redirect func(base string) string
	}{
		{name: "http token endpoint", md: func(b string) map[string]any {
			return map[string]any{"token_endpoint": strings.Replace(b, "https://", "http://", 1) + "/token"}
		}},
		{name: "token endpoint on another origin", md: func(b string) map[string]any {
			return map[string]any{"token_endpoint": "https://elsewhere.invalid/token"}
		}},
		{name: "authorisation server on another origin", md: func(b string) map[string]any {
			return map[string]any{"authorization_servers": []string{"https://elsewhere.invalid"}}
		}},
		{name: "http credential endpoint", md: func(b string) map[string]any {
			return map[string]any{"credential_endpoint": strings.Replace(b, "https://", "http://", 1) + "/credential"}
		}},
		{name: "http nonce endpoint", md: func(b string) map[string]any {
			return map[string]any{"nonce_endpoint": strings.Replace(b, "https://", "http://", 1) + "/nonce"}
		}},
		{name: "notification endpoint on another origin", md: func(b string) map[string]any {
			return map[string]any{"notification_endpoint": "https://elsewhere.invalid/notification"}
		}},
		{name: "token endpoint redirects to http", md: func(b string) map[string]any { return nil },
			redirect: func(b string) string { return strings.Replace(b, "https://", "http://", 1) + "/token2" }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			var pinSeen atomic.Bool
			mux := http.NewServeMux()
			srv := httptest.NewTLSServer(mux)
			defer srv.Close()
			mux.HandleFunc("/.well-known/openid-credential-issuer", func(w http.ResponseWriter, r *http.Request) {
				md := map[string]any{"credential_issuer": srv.URL, "credential_endpoint": srv.URL + "/credential",
					"credential_configurations_supported": map[string]any{"x": map[string]any{}}}
				for k, v := range c.md(srv.URL) {
					md[k] = v
				}
				_ = json.NewEncoder(w).Encode(md)
			})
			mux.HandleFunc("/.well-known/oauth-authorization-server", func(w http.ResponseWriter, r *http.Request) {
				_ = json.NewEncoder(w).Encode(map[string]any{"token_endpoint": srv.URL + "/token"})
			})
			mux.HandleFunc("/token", func(w http.ResponseWriter, r *http.Request) {
				if c.redirect != nil {
					http.Redirect(w, r, c.redirect(srv.URL), http.StatusTemporaryRedirect)
					return
				}
				pinSeen.Store(true)
				http.Error(w, "{}", 400)
			})
			mux.HandleFunc("/token2", func(w http.ResponseWriter, r *http.Request) { pinSeen.Store(true) })
			w := newTestWallet(t, unusedLedger{})
			offer, _ := json.Marshal(map[string]any{"credential_issuer": srv.URL, "credential_configuration_ids": []string{"x"},
				"grants": map[string]any{GrantPreAuthCode: map[string]any{"pre-authorized_code": "c", "tx_code": map[string]any{"length": 6}}}})
			_, err := w.Receive(context.Background(), OfferScheme+"?credential_offer="+url.QueryEscape(string(offer)), "123456",
				&ReceiveOptions{HTTP: srv.Client()})
			if !errors.Is(err, ErrUnsafeEndpoint) {
				t.Fatalf("want ErrUnsafeEndpoint, got %v", err)
			}
			if c.redirect == nil && pinSeen.Load() {
				t.Fatal("the PIN reached the issuer although its metadata was refused")
			}
		})
	}
}
