// Shared by the OpenID4VP scripts: a did:lz key, as an outside party gets it — ONLY from the
// consortium's DID Resolution 1.0 HTTP(S) GET binding on the public gateway (Accept
// application/did-resolution; with versionTime, the DID percent-encoded), the verification
// method whose id is the DID URL, which must be an assertionMethod and an Ed25519 Multikey.
import {createPublicKey} from 'node:crypto';

const ALPHABET = '123456789ABCDEFGHJKLMNPQRSTUVWXYZabcdefghijkmnopqrstuvwxyz';
function base58Decode(s) {
  let n = 0n;
  for (const ch of s) {
    const v = ALPHABET.indexOf(ch);
    if (v < 0) throw new Error(`not base58btc: ${ch}`);
    n = n * 58n + BigInt(v);
  }
  const bytes = [];
  while (n > 0n) {
    bytes.unshift(Number(n % 256n));
    n /= 256n;
  }
  for (const ch of s) {
    if (ch !== '1') break;
    bytes.unshift(0);
  }
  return Buffer.from(bytes);
}

// resolveKey returns {key: KeyObject, jwk, url} for the DID URL kid as of versionTime (a
// Date, or undefined for now).
export async function resolveKey(base, kid, versionTime) {
  const d = kid.split('#')[0];
  if (!d.startsWith('did:') || !kid.includes('#')) throw new Error(`kid ${kid} is not an absolute DID URL`);
  let url = `${base}/1.0/identifiers/${d}`;
  if (versionTime !== undefined) {
    const vt = versionTime.toISOString().replace('.000Z', 'Z');
    url = `${base}/1.0/identifiers/${encodeURIComponent(d)}?versionTime=${encodeURIComponent(vt)}`;
  }
  const res = await fetch(url, {headers: {Accept: 'application/did-resolution'}});
  if (!res.ok) throw new Error(`DID resolution of ${d}: HTTP ${res.status}`);
  if (res.headers.get('content-type') !== 'application/did-resolution') {
    throw new Error(`DID resolution of ${d}: content type ${res.headers.get('content-type')}`);
  }
  const rr = await res.json();
  const doc = rr.didDocument;
  if (!doc || doc.id !== d || rr.didResolutionMetadata?.error) throw new Error(`DID resolution of ${d}: no document for it`);
  const abs = id => (id.startsWith('#') ? d + id : id);
  const vm = (doc.verificationMethod || []).find(v => abs(v.id) === kid);
  if (!vm) throw new Error(`DID document of ${d} has no verification method ${kid}`);
  if (!(doc.assertionMethod || []).some(a => abs(typeof a === 'string' ? a : a.id) === kid)) {
    throw new Error(`${kid} is not an assertionMethod of ${d}`);
  }
  if (vm.type !== 'Multikey' || typeof vm.publicKeyMultibase !== 'string' || vm.publicKeyMultibase[0] !== 'z') {
    throw new Error(`${kid}: not a base58btc Multikey`);
  }
  const raw = base58Decode(vm.publicKeyMultibase.slice(1));
  if (raw.length !== 34 || raw[0] !== 0xed || raw[1] !== 0x01) throw new Error(`${kid}: not an Ed25519 Multikey`);
  const jwk = {kty: 'OKP', crv: 'Ed25519', x: raw.subarray(2).toString('base64url')};
  return {key: createPublicKey({key: jwk, format: 'jwk'}), jwk, url};
}

// readStdin reads all of stdin.
export async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

export const b64json = s => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));
