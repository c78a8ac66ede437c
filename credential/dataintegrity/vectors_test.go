package dataintegrity

import (
	"bytes"
	"crypto/ed25519"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/multiformats/go-multibase"

	"lianzheng/credential"
	"lianzheng/internal/testvectors"
)

// vectorKey decodes keyPair.json: publicKeyMultibase is multicodec ed25519-pub (0xed) and
// privateKeyMultibase multicodec ed25519-priv (0x1300) followed by the 32-byte seed.
func vectorKey(t testing.TB) (ed25519.PrivateKey, ed25519.PublicKey, string) {
	t.Helper()
	var kp struct {
		PublicKeyMultibase  string `json:"publicKeyMultibase"`
		PrivateKeyMultibase string `json:"privateKeyMultibase"`
	}
	if err := json.Unmarshal(testvectors.Read(t, "w3c-di-eddsa/keyPair.json"), &kp); err != nil {
		t.Fatal(err)
	}
	codec := func(s string, want uint64, n int) []byte {
		enc, b, err := multibase.Decode(s)
		if err != nil || enc != multibase.Base58BTC {
			t.Fatalf("multibase %q: %v", s, err)
		}
		c, l := binary.Uvarint(b)
		if l <= 0 || c != want || len(b)-l != n {
			t.Fatalf("multicodec 0x%x len %d, want 0x%x len %d", c, len(b)-l, want, n)
		}
		return b[l:]
	}
	seed := codec(kp.PrivateKeyMultibase, 0x1300, 32)
	pub := codec(kp.PublicKeyMultibase, 0xed, 32)
	priv := ed25519.NewKeyFromSeed(seed)
	if !bytes.Equal(priv.Public().(ed25519.PublicKey), pub) {
		t.Fatal("keyPair.json: public key does not match the seed")
	}
	return priv, pub, kp.PublicKeyMultibase
}

// didKeyResolver resolves did:key:<mb>#<mb> for the vector key only.
func didKeyResolver(mb string, pub ed25519.PublicKey) KeyResolver {
	want := "did:key:" + mb + "#" + mb
	return func(vm string) (ed25519.PublicKey, error) {
		if vm != want {
			return nil, errors.New("unknown verification method")
		}
		return pub, nil
	}
}

type suiteVector struct {
	suite, dir, suffix string
}

var suiteVectors = []suiteVector{
	{CryptosuiteRDFC, "w3c-di-eddsa/eddsa-rdfc-2022/", "DataInt"},
	{CryptosuiteJCS, "w3c-di-eddsa/eddsa-jcs-2022/", "JCS"},
}

func readJSON(t testing.TB, rel string) map[string]any {
	t.Helper()
	m, err := toDocument(testvectors.Read(t, rel))
	if err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
	return m
}

// hexFile reads a vector file that holds lowercase hex with no trailing newline.
func hexFile(t testing.TB, rel string) string {
	t.Helper()
	b := testvectors.Read(t, rel)
	if bytes.ContainsAny(b, "\r\n \t") {
		t.Fatalf("%s: unexpected whitespace in hex vector", rel)
	}
	return string(b)
}

func TestW3CVectors(t *testing.T) {
	priv, pub, mb := vectorKey(t)
	for _, v := range suiteVectors {
		t.Run(v.suite, func(t *testing.T) {
			f := func(name string) string { return v.dir + name + v.suffix }
			signed := readJSON(t, f("signed")+".json")
			unsigned := copyMap(signed)
			delete(unsigned, "proof")
			proofConfig := readJSON(t, f("proofConfig")+".json")

			in, err := ComputeSigningInput(v.suite, unsigned, proofConfig)
			if err != nil {
				t.Fatal(err)
			}
			// Text files: compared byte for byte, trailing newline (or its absence) included.
			if want := testvectors.Read(t, f("canonDoc")+".txt"); !bytes.Equal(in.CanonicalDocument, want) {
				t.Errorf("canonical document:\n got %q\nwant %q", in.CanonicalDocument, want)
			}
			if want := testvectors.Read(t, f("proofCanon")+".txt"); !bytes.Equal(in.CanonicalProofConfig, want) {
				t.Errorf("canonical proof config:\n got %q\nwant %q", in.CanonicalProofConfig, want)
			}
			if got, want := hex.EncodeToString(in.DocumentHash[:]), hexFile(t, f("docHash")+".txt"); got != want {
				t.Errorf("document hash %s, want %s", got, want)
			}
			if got, want := hex.EncodeToString(in.ProofConfigHash[:]), hexFile(t, f("proofHash")+".txt"); got != want {
				t.Errorf("proof hash %s, want %s", got, want)
			}
			if got, want := hex.EncodeToString(in.Combined()), hexFile(t, f("combinedHash")+".txt"); got != want {
				t.Errorf("combined hash %s, want %s", got, want)
			}
			sig := ed25519.Sign(priv, in.Combined())
			if got, want := hex.EncodeToString(sig), hexFile(t, f("sigHex")+".txt"); got != want {
				t.Errorf("signature %s, want %s", got, want)
			}
			wantPV := string(testvectors.Read(t, f("sigBTC58")+".txt"))

			// The whole Sign path from the unsigned document and the key.
			out, err := Sign(unsigned, ProofConfig{
				Cryptosuite:        v.suite,
				VerificationMethod: proofConfig["verificationMethod"].(string),
				ProofPurpose:       proofConfig["proofPurpose"].(string),
				Created:            mustTime(t, proofConfig["created"].(string)),
			}, priv)
			if err != nil {
				t.Fatal(err)
			}
			gotProof := out["proof"].(map[string]any)
			if gotProof["proofValue"] != wantPV {
				t.Errorf("proofValue %v, want %s", gotProof["proofValue"], wantPV)
			}
			if want := signed["proof"].(map[string]any)["proofValue"]; want != wantPV {
				t.Errorf("vector files disagree: signed proofValue %v, sigBTC58 %s", want, wantPV)
			}
			// The signed document we produce is the vector's signed document, member for member.
			gj, _ := JCS(out)
			wj, _ := JCS(signed)
			if !bytes.Equal(gj, wj) {
				t.Errorf("signed document differs:\n got %s\nwant %s", gj, wj)
			}

			// The vector's signed document verifies, as JSON text and as a map.
			res, err := Verify(testvectors.Read(t, f("signed")+".json"), didKeyResolver(mb, pub))
			if err != nil {
				t.Fatalf("vector does not verify: %v", err)
			}
			if res.Cryptosuite != v.suite || res.ProofPurpose != PurposeAssertion || res.Created.IsZero() {
				t.Errorf("verified proof %+v", res)
			}
			if _, err := Verify(out, didKeyResolver(mb, pub)); err != nil {
				t.Fatalf("our signed document does not verify: %v", err)
			}
		})
	}
}

func TestW3CVectorTamperings(t *testing.T) {
	_, pub, mb := vectorKey(t)
	otherPub, _, _ := ed25519.GenerateKey(nil)
	for _, v := range suiteVectors {
		raw := testvectors.Read(t, v.dir+"signed"+v.suffix+".json")
		cases := []struct {
			name    string
			mutate  func(d map[string]any)
			resolve KeyResolver
			code    credential.Code
		}{
			{"untouched", func(map[string]any) {}, nil, ""},
			{"claim value", func(d map[string]any) {
				d["credentialSubject"].(map[string]any)["alumniOf"] = "The School of Forgeries"
			}, nil, credential.CodeBadProof},
			{"subject id", func(d map[string]any) { d["credentialSubject"].(map[string]any)["id"] = "did:example:mallory" }, nil, credential.CodeBadProof},
			{"issuer", func(d map[string]any) { d["issuer"] = "https://vc.example/issuers/666" }, nil, credential.CodeBadProof},
			{"validFrom", func(d map[string]any) { d["validFrom"] = "2023-01-02T00:00:00Z" }, nil, credential.CodeBadProof},
			{"added claim", func(d map[string]any) { d["credentialSubject"].(map[string]any)["degree"] = "PhD" }, nil, credential.CodeBadProof},
			{"removed name", func(d map[string]any) { delete(d, "name") }, nil, credential.CodeBadProof},
			{"type", func(d map[string]any) { d["type"] = []any{"VerifiableCredential"} }, nil, credential.CodeBadProof},
			{"proofValue one char", func(d map[string]any) {
				p := proofOf(d)
				s := p["proofValue"].(string)
				c := byte('2')
				if s[10] == '2' {
					c = '3'
				}
				p["proofValue"] = s[:10] + string(c) + s[11:]
			}, nil, credential.CodeBadProof},
			{"proofValue not multibase", func(d map[string]any) { proofOf(d)["proofValue"] = "not-base58!" }, nil, credential.CodeBadProof},
			{"proofValue base64url", func(d map[string]any) { proofOf(d)["proofValue"] = "u" + strings.Repeat("A", 86) }, nil, credential.CodeBadProof},
			{"proofValue missing", func(d map[string]any) { delete(proofOf(d), "proofValue") }, nil, credential.CodeBadProof},
			{"created", func(d map[string]any) { proofOf(d)["created"] = "2023-02-24T23:36:39Z" }, nil, credential.CodeBadProof},
			{"proofPurpose", func(d map[string]any) { proofOf(d)["proofPurpose"] = "authentication" }, nil, credential.CodeBadProof},
			{"cryptosuite unknown", func(d map[string]any) { proofOf(d)["cryptosuite"] = "eddsa-2099" }, nil, credential.CodeUnsupportedAlg},
			{"cryptosuite swapped", func(d map[string]any) {
				p := proofOf(d)
				if p["cryptosuite"] == CryptosuiteRDFC {
					p["cryptosuite"] = CryptosuiteJCS
				} else {
					p["cryptosuite"] = CryptosuiteRDFC
				}
			}, nil, credential.CodeBadProof},
			{"proof type", func(d map[string]any) { proofOf(d)["type"] = "Ed25519Signature2020" }, nil, credential.CodeUnsupportedAlg},
			{"verificationMethod other DID", func(d map[string]any) {
				proofOf(d)["verificationMethod"] = "did:key:z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK#z6MkhaXgBZDvotDkL5257faiztiGiC2QtKLGpbnnEGta2doK"
			}, nil, credential.CodeBadProof},
			{"verificationMethod resolves to another key", func(d map[string]any) {}, func(string) (ed25519.PublicKey, error) { return otherPub, nil }, credential.CodeBadProof},
			{"verificationMethod resolves to a short key", func(d map[string]any) {}, func(string) (ed25519.PublicKey, error) { return otherPub[:31], nil }, credential.CodeBadProof},
			{"no proof", func(d map[string]any) { delete(d, "proof") }, nil, credential.CodeUnsigned},
			{"proof not object", func(d map[string]any) { d["proof"] = "x" }, nil, credential.CodeBadProof},
			{"two proofs", func(d map[string]any) { d["proof"] = []any{d["proof"], d["proof"]} }, nil, credential.CodeBadProof},
			{"expired proof", func(d map[string]any) { proofOf(d)["expires"] = "2000-01-01T00:00:00Z" }, nil, credential.CodeExpired},
			{"context", func(d map[string]any) { d["@context"] = []any{"https://www.w3.org/ns/credentials/v2"} }, nil, ""},
		}
		for _, c := range cases {
			t.Run(v.suite+"/"+c.name, func(t *testing.T) {
				d, err := toDocument(raw)
				if err != nil {
					t.Fatal(err)
				}
				c.mutate(d)
				r := c.resolve
				if r == nil {
					r = didKeyResolver(mb, pub)
				}
				_, err = Verify(d, r)
				if c.name == "untouched" {
					if err != nil {
						t.Fatal(err)
					}
					return
				}
				if err == nil {
					t.Fatal("tampered document verified")
				}
				var ce *credential.Error
				if !errors.As(err, &ce) {
					t.Fatalf("error %v (%T) is not a *credential.Error", err, err)
				}
				if c.code != "" && ce.Code != c.code {
					t.Fatalf("code %s (%v), want %s", ce.Code, err, c.code)
				}
			})
		}
	}
}

func proofOf(d map[string]any) map[string]any { return d["proof"].(map[string]any) }
