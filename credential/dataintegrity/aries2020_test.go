package dataintegrity

import (
	"encoding/json"
	"testing"
	"time"

	"lianzheng/credential"
	"lianzheng/internal/testvectors"
)

// The W3C vc-di-eddsa Ed25519Signature2020 vector, reproduced and verified with aries' suite.
func TestAriesEd25519Signature2020Vector(t *testing.T) {
	priv, pub, mb := vectorKey(t)
	dir := "w3c-di-eddsa/Ed25519Signature2020/"
	signedRaw := testvectors.Read(t, dir+"signedEdSig.json")
	signed, err := toDocument(signedRaw)
	if err != nil {
		t.Fatal(err)
	}
	wantPV := string(testvectors.Read(t, dir+"sigBTC58EdSig.txt"))
	proof := signed["proof"].(map[string]any)
	if proof["proofValue"] != wantPV {
		t.Fatal("vector files disagree")
	}
	unsigned := copyMap(signed)
	delete(unsigned, "proof")
	ub, _ := json.Marshal(unsigned)
	out, err := SignEd25519Signature2020(ub, proof["verificationMethod"].(string), mustTime(t, proof["created"].(string)), priv)
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(out, &got); err != nil {
		t.Fatal(err)
	}
	gp, ok := got["proof"].(map[string]any)
	if !ok {
		t.Fatalf("aries output proof: %s", out)
	}
	if gp["proofValue"] != wantPV {
		t.Errorf("aries proofValue %v, want %s", gp["proofValue"], wantPV)
	}
	if gp["created"] != "2023-02-24T23:36:38Z" || gp["type"] != Ed25519Signature2020 {
		t.Errorf("aries proof %v", gp)
	}
	r := didKeyResolver(mb, pub)
	if err := VerifyEd25519Signature2020(signedRaw, r); err != nil {
		t.Fatalf("vector does not verify with aries: %v", err)
	}
	if err := VerifyEd25519Signature2020(out, r); err != nil {
		t.Fatal(err)
	}
	// Tampering is caught.
	d, _ := toDocument(signedRaw)
	d["credentialSubject"].(map[string]any)["alumniOf"] = "Elsewhere"
	b, _ := json.Marshal(d)
	if err := VerifyEd25519Signature2020(b, r); credential.CodeOf(err) != credential.CodeBadProof {
		t.Errorf("tampered: %v", err)
	}
	d, _ = toDocument(signedRaw)
	d["proof"].(map[string]any)["proofPurpose"] = "authentication"
	b, _ = json.Marshal(d)
	if err := VerifyEd25519Signature2020(b, r); credential.CodeOf(err) != credential.CodeBadProof {
		t.Errorf("purpose: %v", err)
	}
	// The same signature is not an eddsa-rdfc-2022 proof.
	if _, err := Verify(signedRaw, r); credential.CodeOf(err) != credential.CodeUnsupportedAlg {
		t.Errorf("Ed25519Signature2020 accepted by Verify: %v", err)
	}
	_ = time.Second
}
