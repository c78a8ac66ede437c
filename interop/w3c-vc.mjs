// An outside relying party verifying LianZheng W3C VCs with Digital Bazaar @digitalbazaar/vc
// (DataIntegrityProof + eddsa-rdfc-2022) and @digitalbazaar/vc-bitstring-status-list,
// knowing nothing but the consortium's public base URL.
//
// The document loader serves the W3C contexts from the npm packages' local copies (the
// standard practice: contexts are identified by their w3.org / w3id.org URLs, never fetched)
// and FETCHES everything else from the services:
//   did:lz:<m>        → GET <base>/1.0/identifiers/did%3Alz%3A<m>, Accept application/did → the
//                       DID document (DID Resolution 1.0 HTTP(S) GET binding)
//   did:lz:<m>#key-N  → that document's verification method, with the Multikey context (the
//                       shape Digital Bazaar's loaders give a key)
//   <base>/status/…   → the BitstringStatusListCredential at that URL
// Anything else is refused.
//
// For each case: verifyCredential (proof, purpose assertionMethod, dates; checkStatus given,
// as the library requires for a credential with credentialStatus), then checkStatus alone,
// reading each of the two entries (revocation, suspension): each list credential is fetched,
// its statusPurpose compared with the entry's, its own proof and issuer checked, and the bit
// at statusListIndex read.
//
// Expectations: valid/revoked/suspended → proof verified, both entries checked, the bits
// (revocation, suspension) false/false, true/false, false/true; tampered (the control) → proof
// refused.
//
// stdin: {base, cases: [{name, expect, w3c}]}. stdout: {cases: {name: obs}}. Exits 1 when the
// library disagrees with a case's expectation.
import * as vc from '@digitalbazaar/vc';
import {checkStatus, decodeList} from '@digitalbazaar/vc-bitstring-status-list';
import {DataIntegrityProof} from '@digitalbazaar/data-integrity';
import {cryptosuite as eddsaRdfc2022} from '@digitalbazaar/eddsa-rdfc-2022-cryptosuite';
import {contexts as credentialsContexts} from '@digitalbazaar/credentials-context';
import didContext from 'did-context';
import multikeyContext from '@digitalbazaar/multikey-context';

const input = JSON.parse(await readStdin());
const base = input.base;

async function readStdin() {
  const chunks = [];
  for await (const c of process.stdin) chunks.push(c);
  return Buffer.concat(chunks).toString('utf8');
}

const contexts = new Map([
  ...credentialsContexts,
  ...didContext.contexts,
  ...multikeyContext.contexts,
]);

let loaded = []; // what the loader fetched from the services, per case
let listLengths = {}; // status list credential URL → entries, per case
async function fetchJSON(url, accept, wantType) {
  const res = await fetch(url, {headers: {Accept: accept}});
  if (!res.ok) throw new Error(`GET ${url}: HTTP ${res.status}`);
  if (wantType && res.headers.get('content-type') !== wantType) {
    throw new Error(`GET ${url}: content type ${res.headers.get('content-type')}, want ${wantType}`);
  }
  loaded.push(url);
  return res.json();
}

async function documentLoader(url) {
  if (contexts.has(url)) {
    return {contextUrl: null, documentUrl: url, document: contexts.get(url)};
  }
  if (url.startsWith('did:lz:')) {
    const [d, fragment] = url.split('#');
    // DID Resolution 1.0 HTTP(S) GET binding, asking for the document alone (Accept
    // application/did); the DID percent-encoded, as a client may always send it.
    const doc = await fetchJSON(`${base}/1.0/identifiers/${encodeURIComponent(d)}`, 'application/did', 'application/did+ld+json');
    if (!doc || doc.id !== d) throw new Error(`DID resolution of ${d}: no document for it`);
    if (fragment === undefined) return {contextUrl: null, documentUrl: url, document: doc};
    const vm = (doc.verificationMethod || []).find(v => v.id === url || v.id === `#${fragment}`);
    if (!vm) throw new Error(`${url}: no such verification method`);
    return {
      contextUrl: null, documentUrl: url,
      document: {'@context': multikeyContext.CONTEXT_URL, ...vm, id: url},
    };
  }
  if (url === `${base}/ns/credentials/v1`) {
    // The consortium's claims context: fetched from the services like any other document
    // the credential names (it sets @vocab, so no claim is dropped).
    const document = await fetchJSON(url, 'application/ld+json', 'application/ld+json');
    return {contextUrl: null, documentUrl: url, document};
  }
  if (url.startsWith(`${base}/status/`)) {
    const document = await fetchJSON(url, 'application/vc, application/ld+json', 'application/vc');
    // How many entries the list holds, as the library decodes it (the Recommendation asks
    // for at least 131,072, so a list does not narrow down whose credential is checked).
    listLengths[url] = (await decodeList({encodedList: document.credentialSubject.encodedList})).length;
    return {contextUrl: null, documentUrl: url, document};
  }
  throw new Error(`document loader: refusing to load ${url}`);
}

const suite = new DataIntegrityProof({cryptosuite: eddsaRdfc2022});

const out = {cases: {}};
let disagreements = 0;
for (const c of input.cases) {
  loaded = [];
  listLengths = {};
  const o = {proof_verified: false, status_checked: false, status: {}};
  out.cases[c.name] = o;
  const credential = c.w3c;
  const v = await vc.verifyCredential({credential, suite, documentLoader, checkStatus});
  o.proof_verified = v.verified === true;
  if (!v.verified) o.proof_error = errorText(v);
  const s = await checkStatus({credential, documentLoader, suite});
  o.status_checked = s.verified === true;
  if (!s.verified) o.status_error = s.error ? s.error.message : JSON.stringify(s);
  for (const r of s.results || []) {
    o.status[r.credentialStatus.statusPurpose] = r.status;
  }
  o.loaded = [...new Set(loaded)];
  o.list_lengths = listLengths;

  const want = {revocation: c.expect === 'revoked', suspension: c.expect === 'suspended'};
  const ok = c.expect === 'tampered' ? !o.proof_verified && !!o.proof_error : o.proof_verified && o.status_checked &&
    Object.keys(o.status).length === 2 &&
    Object.values(o.list_lengths).length === 2 && Object.values(o.list_lengths).every(n => n >= 131072) &&
    Object.entries(want).every(([p, b]) => o.status[p] === b);
  if (!ok) {
    disagreements++;
    process.stderr.write(`w3c-vc: ${c.name} (expected ${c.expect}): ${JSON.stringify(o)}\n`);
  }
}
process.stdout.write(JSON.stringify(out) + '\n');
process.exit(disagreements ? 1 : 0);

function errorText(result) {
  const errs = [];
  const walk = e => {
    if (!e) return;
    if (Array.isArray(e)) return e.forEach(walk);
    errs.push(e.message || String(e));
    if (e.errors) walk(e.errors);
    if (e.cause) walk(e.cause);
  };
  walk(result.error);
  for (const r of result.results || []) walk(r.error);
  return [...new Set(errs)].join('; ');
}
