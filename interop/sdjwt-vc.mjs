// An outside relying party verifying LianZheng SD-JWT VCs with OWF @sd-jwt/sd-jwt-vc,
// knowing nothing but the consortium's public base URL.
//
// - Status: the library's DEFAULT status list fetching (it GETs status.status_list.uri, which
//   must answer application/statuslist+jwt, verifies the token with the same verifier callback
//   as the credential, and refuses any status other than 0).
// - Issuer key: ONLY from the DID Resolution 1.0 HTTP(S) GET binding: the credential's key as
//   of its iat (GET <base>/1.0/identifiers/did%3Alz%3A<m>?versionTime=<iat>), the status list
//   token's as of now (GET <base>/1.0/identifiers/did:lz:<m>), Accept application/did-resolution
//   → didDocument → the verification method whose id is the JWT header's kid (and an
//   assertionMethod) → its publicKeyMultibase (Multikey: base58btc 'z', multicodec 0xed01 =
//   Ed25519) → node:crypto.
// - Type metadata: loadTypeMetadataFormat, with a vctFetcher that only maps the vct (a URN) to
//   <base>/vct/<vct> and fetches it with the library's own fetchWithIntegrity.
// - Holder binding: one valid credential is presented with two claims and a KB-JWT signed with
//   the holder key the Go test gives, and verified with the key in cnf.jwk.
//
// The verifier callback also checks what the library leaves to it: typ (dc+sd-jwt for the
// credential, statuslist+jwt for the token, whose sub must be the credential's status uri), and
// that the signing key belongs to iss. The KB-JWT's aud is checked after (the library does not).
//
// Expectations: valid → verified, type metadata with a zh-CN name, a KB-JWT presentation of
// two claims verified; revoked/suspended → refused with the library's status error
// ("Status is not valid"), the value read being 1/2; tampered (the control) → refused for its
// signature.
//
// stdin: {base, cases: [{name, expect, sdjwt}], holder_jwk}. stdout: {cases: {name: obs}}.
// Exits 1 when the library disagrees with a case's expectation.
import {createPrivateKey, createPublicKey, sign, verify} from 'node:crypto';
import {SDJwtVcInstance} from '@sd-jwt/sd-jwt-vc';
import {digest, generateSalt} from '@sd-jwt/crypto-nodejs';

const input = JSON.parse(await readStdin());
const base = input.base;

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

const b64json = s => JSON.parse(Buffer.from(s, 'base64url').toString('utf8'));

// base58btc (the multibase 'z' alphabet).
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

// resolveKey: the Ed25519 public key a DID URL (kid) names, from the DID resolution endpoint,
// as DID Resolution 1.0's HTTP(S) GET binding has a client ask: Accept
// application/did-resolution, and — with a versionTime option — the DID percent-encoded.
const resolvedFrom = {credential: new Map(), status: new Map()}; // DID → the URL its key came from
async function resolveKey(kid, versionTime) {
  const d = kid.split('#')[0];
  if (!d.startsWith('did:')) throw new Error(`kid ${kid} is not a DID URL`);
  let url = `${base}/1.0/identifiers/${d}`;
  if (versionTime !== undefined) {
    url = `${base}/1.0/identifiers/${encodeURIComponent(d)}?versionTime=${encodeURIComponent(versionTime)}`;
  }
  const res = await fetch(url, {headers: {Accept: 'application/did-resolution'}});
  if (!res.ok) throw new Error(`DID resolution of ${d}: HTTP ${res.status}`);
  if (res.headers.get('content-type') !== 'application/did-resolution') {
    throw new Error(`DID resolution of ${d}: content type ${res.headers.get('content-type')}, not a resolution result`);
  }
  const rr = await res.json();
  const doc = rr.didDocument;
  if (!doc || doc.id !== d || rr.didResolutionMetadata?.error) throw new Error(`DID resolution of ${d}: no document for it`);
  const abs = id => (id.startsWith('#') ? d + id : id);
  const vm = (doc.verificationMethod || []).find(v => abs(v.id) === kid);
  if (!vm) throw new Error(`DID document of ${d} has no verification method ${kid}`);
  const asserts = (doc.assertionMethod || []).some(a => abs(typeof a === 'string' ? a : a.id) === kid);
  if (!asserts) throw new Error(`${kid} is not an assertionMethod of ${d}`);
  if (vm.type !== 'Multikey' || typeof vm.publicKeyMultibase !== 'string' || vm.publicKeyMultibase[0] !== 'z') {
    throw new Error(`${kid}: not a base58btc Multikey`);
  }
  const raw = base58Decode(vm.publicKeyMultibase.slice(1));
  if (raw.length !== 34 || raw[0] !== 0xed || raw[1] !== 0x01) throw new Error(`${kid}: not an Ed25519 Multikey`);
  resolvedFrom[versionTime === undefined ? 'status' : 'credential'].set(d, url);
  return createPublicKey({key: {kty: 'OKP', crv: 'Ed25519', x: raw.subarray(2).toString('base64url')}, format: 'jwk'});
}

// verifier: the callback for the credential and (by the library's default) its status list
// token. The key comes from the kid; a JWT that names an iss must be signed by a key of it.
async function verifier(data, sig) {
  const [h, p] = data.split('.');
  const header = b64json(h);
  const payload = b64json(p);
  if (header.alg !== 'EdDSA' || typeof header.kid !== 'string') return false;
  // What each JWT is (the library checks neither typ): the credential, or its status list
  // token, whose sub must be the URL it was fetched from.
  let versionTime;
  if (header.typ === 'statuslist+jwt') {
    if (!statusURIs.has(payload.sub)) return false;
  } else if (header.typ === 'dc+sd-jwt') {
    // The credential: the key as it stood when it was issued (a key rotated since still
    // verifies what it signed; one not yet valid then does not).
    if (typeof payload.iat !== 'number') return false;
    versionTime = new Date(payload.iat * 1000).toISOString().replace('.000Z', 'Z');
  } else {
    return false;
  }
  if (payload.iss !== undefined && header.kid.split('#')[0] !== payload.iss) return false;
  const key = await resolveKey(header.kid, versionTime);
  return verify(null, Buffer.from(data), key, Buffer.from(sig, 'base64url'));
}

// kbVerifier: the KB-JWT against the holder key in the credential's cnf.jwk.
async function kbVerifier(data, sig, payload) {
  const jwk = payload?.cnf?.jwk;
  if (!jwk || jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') return false;
  const key = createPublicKey({key: jwk, format: 'jwk'});
  return verify(null, Buffer.from(data), key, Buffer.from(sig, 'base64url'));
}

const holderKey = createPrivateKey({key: input.holder_jwk, format: 'jwk'});
const kbSigner = async data => sign(null, Buffer.from(data), holderKey).toString('base64url');

const config = {
  hasher: digest,
  saltGenerator: generateSalt,
  verifier,
  kbVerifier,
  kbSigner,
  kbSignAlg: 'EdDSA',
  loadTypeMetadataFormat: true,
};
// The relying party: default status handling, type metadata from the services.
const rp = new SDJwtVcInstance({
  ...config,
  vctFetcher: (vct, integrity) => rp.fetchWithIntegrity(`${base}/vct/${vct}`, integrity),
});
// The same, recording which status value the library read before its own check decides.
let lastStatus;
const recorder = new SDJwtVcInstance({
  ...config,
  loadTypeMetadataFormat: false,
  statusValidator: async status => {
    lastStatus = status;
    return SDJwtVcInstance.prototype.statusValidator.call(recorder, status);
  },
});

const statusURIs = new Set(); // status.status_list.uri of the credentials being verified
const out = {cases: {}};
let disagreements = 0;
for (const c of input.cases) {
  const o = {verified: false};
  out.cases[c.name] = o;
  resolvedFrom.credential.clear();
  resolvedFrom.status.clear();
  const payload = b64json(c.sdjwt.split('~')[0].split('.')[1]);
  o.status_list_uri = payload.status?.status_list?.uri;
  statusURIs.clear();
  statusURIs.add(o.status_list_uri);
  o.type_metadata_url = `${base}/vct/${payload.vct}`;
  try {
    const r = await rp.verify(c.sdjwt);
    o.verified = true;
    const tm = r.typeMetadata?.mergedTypeMetadata;
    if (tm?.vct !== payload.vct) throw new Error(`type metadata is for ${tm?.vct}, not ${payload.vct}`);
    o.type_name_zh = (tm.display || []).find(d => (d.locale || d.lang) === 'zh-CN')?.name;
    o.claim_label_zh = (tm.claims?.[0]?.display || []).find(d => (d.locale || d.lang) === 'zh-CN')?.label;
  } catch (e) {
    o.verified = false;
    o.error = e.message;
    o.error_name = e.name;
  }
  o.issuer_key_from = resolvedFrom.credential.get(payload.iss);
  o.status_key_from = resolvedFrom.status.get(payload.iss);
  lastStatus = undefined;
  await recorder.verify(c.sdjwt).catch(() => {});
  o.status_read = lastStatus;

  if (c.expect === 'valid') {
    // Present two claims with a KB-JWT, as a holder's wallet would, and verify it.
    const claims = Object.keys((await rp.verify(c.sdjwt).catch(() => ({payload: {}}))).payload)
      .filter(k => !(k in payload) && k !== '_sd');
    const frame = Object.fromEntries(claims.slice(0, 2).map(k => [k, true]));
    const nonce = Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64url');
    const aud = 'https://relying-party.example';
    try {
      const presented = await rp.present(c.sdjwt, frame, {
        kb: {payload: {iat: Math.floor(Date.now() / 1000), aud, nonce}},
      });
      const r = await rp.verify(presented, {keyBindingNonce: nonce});
      // The library leaves aud to the verifier.
      o.kb_verified = r.kb?.payload?.aud === aud && r.kb?.payload?.nonce === nonce;
      o.kb_disclosed = Object.keys(r.payload).filter(k => !(k in payload) && k !== '_sd').length;
    } catch (e) {
      o.kb_verified = false;
      o.kb_error = `${e.name}: ${e.message}`;
    }
  }

  const wantStatus = {valid: 0, revoked: 1, suspended: 2}[c.expect];
  let ok;
  switch (c.expect) {
    case 'valid':
      ok = o.verified && o.type_name_zh && o.kb_verified && o.kb_disclosed === 2 && o.status_read === 0;
      break;
    case 'tampered': // the control: refused for its signature, before any status is read
      ok = !o.verified && /Signature/.test(o.error) && o.status_read === undefined;
      break;
    default:
      ok = !o.verified && o.error === 'Status is not valid' && o.status_read === wantStatus;
  }
  if (!ok) {
    disagreements++;
    process.stderr.write(`sdjwt-vc: ${c.name} (expected ${c.expect}): ${JSON.stringify(o)}\n`);
  }
}
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(disagreements ? 1 : 0);
