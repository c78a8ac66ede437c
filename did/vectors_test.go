package did

import (
	"bufio"
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/multiformats/go-multibase"

	"lianzheng/internal/testvectors"
)

type didKeyVectors struct {
	Ed25519 []struct {
		SeedHex         string `json:"seedHex"`
		DID             string `json:"did"`
		PublicKeyBase58 string `json:"publicKeyBase58"`
	} `json:"ed25519"`
	P256 []struct {
		DID string `json:"did"`
		JWK struct {
			Kty string `json:"kty"`
			Crv string `json:"crv"`
			X   string `json:"x"`
			Y   string `json:"y"`
			D   string `json:"d"`
		} `json:"jwk"`
	} `json:"p256"`
}

func readDIDKeyVectors(t testing.TB) didKeyVectors {
	t.Helper()
	var v didKeyVectors
	if err := json.Unmarshal(testvectors.Read(t, "did-key/vectors.json"), &v); err != nil {
		t.Fatalf("did-key vectors: %v", err)
	}
	if len(v.Ed25519) == 0 || len(v.P256) == 0 {
		t.Fatalf("did-key vectors: empty (%d Ed25519, %d P-256)", len(v.Ed25519), len(v.P256))
	}
	return v
}

func TestDIDKeyVectorsEd25519(t *testing.T) {
	for _, v := range readDIDKeyVectors(t).Ed25519 {
		t.Run(v.SeedHex, func(t *testing.T) {
			seed, err := hex.DecodeString(v.SeedHex)
			if err != nil {
				t.Fatal(err)
			}
			pub := ed25519.NewKeyFromSeed(seed).Public().(ed25519.PublicKey)
			if got := KeyFromEd25519(pub); got != v.DID {
				t.Errorf("KeyFromEd25519 = %s, want %s", got, v.DID)
			}
			b58, err := multibase.Encode(multibase.Base58BTC, pub)
			if err != nil {
				t.Fatal(err)
			}
			if b58[1:] != v.PublicKeyBase58 {
				t.Errorf("publicKeyBase58 = %s, want %s", b58[1:], v.PublicKeyBase58)
			}
			k, err := ParseKey(v.DID)
			if err != nil {
				t.Fatalf("ParseKey: %v", err)
			}
			if k.Alg != Ed25519 || !bytes.Equal(k.Key.(ed25519.PublicKey), pub) || !k.Equal(pub) {
				t.Errorf("ParseKey = %v %x, want Ed25519 %x", k.Alg, k.Bytes(), pub)
			}
			if k.JWSAlg() != "EdDSA" {
				t.Errorf("JWSAlg = %s", k.JWSAlg())
			}
			doc, err := ResolveKey(v.DID)
			if err != nil {
				t.Fatalf("ResolveKey: %v", err)
			}
			mb := strings.TrimPrefix(v.DID, "did:key:")
			if len(doc.VerificationMethod) != 1 || doc.VerificationMethod[0].ID != v.DID+"#"+mb ||
				doc.VerificationMethod[0].PublicKeyMultibase != mb || doc.VerificationMethod[0].Controller != v.DID {
				t.Errorf("ResolveKey verification methods = %+v", doc.VerificationMethod)
			}
		})
	}
}

func TestDIDKeyVectorsP256(t *testing.T) {
	for _, v := range readDIDKeyVectors(t).P256 {
		t.Run(v.DID, func(t *testing.T) {
			jwk := JWK{Kty: v.JWK.Kty, Crv: v.JWK.Crv, X: v.JWK.X, Y: v.JWK.Y}
			k, err := jwk.PublicKey()
			if err != nil {
				t.Fatalf("JWK.PublicKey: %v", err)
			}
			if got := k.DIDKey(); got != v.DID {
				t.Errorf("DIDKey from JWK = %s, want %s", got, v.DID)
			}
			// The private scalar gives the same public key.
			d, err := base64.RawURLEncoding.DecodeString(v.JWK.D)
			if err != nil {
				t.Fatal(err)
			}
			priv, err := ecdsa.ParseRawPrivateKey(elliptic.P256(), d)
			if err != nil {
				t.Fatal(err)
			}
			if got := KeyFromP256(&priv.PublicKey); got != v.DID {
				t.Errorf("KeyFromP256 = %s, want %s", got, v.DID)
			}
			p, err := ParseKey(v.DID)
			if err != nil {
				t.Fatalf("ParseKey: %v", err)
			}
			if p.Alg != P256 || !p.Equal(&priv.PublicKey) || !p.Equal(jwk) || p.JWK() != jwk {
				t.Errorf("ParseKey = %v %+v, want %+v", p.Alg, p.JWK(), jwk)
			}
			if p.JWSAlg() != "ES256" {
				t.Errorf("JWSAlg = %s", p.JWSAlg())
			}
			if len(p.Bytes()) != 33 {
				t.Errorf("compressed point is %d bytes", len(p.Bytes()))
			}
			if _, err := ResolveKey(v.DID); err != nil {
				t.Errorf("ResolveKey: %v", err)
			}
		})
	}
}

// multibaseRow is one row of a multiformats/multibase test CSV: the header row gives the
// input ("encoding, <input>"), every other row an encoding name and the encoded text.
type multibaseRow struct {
	file, encoding, encoded string
	input                   []byte
}

func readMultibaseCSV(t testing.TB) []multibaseRow {
	t.Helper()
	files, err := filepath.Glob(filepath.Join(testvectors.Dir(t), "multibase", "*.csv"))
	if err != nil || len(files) == 0 {
		t.Fatalf("multibase vectors: none found (%v)", err)
	}
	var rows []multibaseRow
	for _, f := range files {
		name := filepath.Base(f)
		sc := bufio.NewScanner(bytes.NewReader(testvectors.Read(t, "multibase/"+name)))
		var input []byte
		line := 0
		for sc.Scan() {
			text := strings.TrimSpace(sc.Text())
			if text == "" {
				continue
			}
			line++
			enc, val, ok := strings.Cut(text, ",")
			if !ok {
				t.Fatalf("%s:%d: no comma in %q", name, line, text)
			}
			// Values are double-quoted with Go-compatible escapes ("\x00yes mani !").
			s, err := strconv.Unquote(strings.TrimSpace(val))
			if err != nil {
				t.Fatalf("%s:%d: %q: %v", name, line, val, err)
			}
			enc = strings.TrimSpace(enc)
			if line == 1 {
				if enc != "encoding" {
					t.Fatalf("%s: header is %q, want encoding", name, enc)
				}
				input = []byte(s)
				continue
			}
			rows = append(rows, multibaseRow{file: name, encoding: enc, encoded: s, input: input})
		}
		if err := sc.Err(); err != nil {
			t.Fatal(err)
		}
		if input == nil || line < 2 {
			t.Fatalf("%s: no rows", name)
		}
	}
	return rows
}

func TestMultibaseVectors(t *testing.T) {
	rows := readMultibaseCSV(t)
	for _, r := range rows {
		t.Run(r.file+"/"+r.encoding, func(t *testing.T) {
			enc, ok := multibase.Encodings[r.encoding]
			if !ok {
				// Every encoding in the vectors is supported by go-multibase v0.3.0; a new
				// row with an unsupported one must be looked at, not silently skipped.
				t.Fatalf("encoding %q not supported by go-multibase", r.encoding)
			}
			got, err := multibase.Encode(enc, r.input)
			if err != nil {
				t.Fatalf("Encode: %v", err)
			}
			if got != r.encoded {
				t.Errorf("Encode(%q) = %q, want %q", r.input, got, r.encoded)
			}
			denc, data, err := multibase.Decode(r.encoded)
			if err != nil {
				t.Fatalf("Decode: %v", err)
			}
			if denc != enc || !bytes.Equal(data, r.input) {
				t.Errorf("Decode(%q) = %c %q, want %c %q", r.encoded, denc, data, enc, r.input)
			}
		})
	}
}
