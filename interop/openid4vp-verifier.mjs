// OWF @openid4vc/openid4vp as a verifier that is not ours, asking LianZheng's wallet core for
// credentials. It runs as a session (internal/rig/interop.Session): the Go test sends one JSON
// command per line on stdin, the script answers one JSON line on stdout, and serves its
// request_uri and response_uri on 127.0.0.1 meanwhile.
//
// - Its key: an Ed25519 key made here (jose). LianZheng's wallet answers only services
//   registered on the consortium ledger (the threat it exists for: an unregistered site
//   harvesting credentials), so the Go test registers this key, test-only, as
//   did:lz:<id>#key-1 of an online service item on the test ledger; the script then speaks
//   as decentralized_identifier:did:lz:<id> and carries the registration in verifier_info
//   (format lz_ledger_registration), which the wallet compares with the ledger.
// - createOpenId4vpAuthorizationRequest with a JAR by reference (jwtSigner method "did",
//   header kid the DID URL, typ oauth-authz-req+jwt), response_mode direct_post.jwt, a DCQL
//   query (validated with OWF dcql), a P-256 ECDH-ES key of its own in client_metadata.jwks.
//   Workaround: the library sets the request object's aud to the request_uri unless told
//   otherwise; OpenID4VP 1.0 §5.8 wants "https://self-issued.me/v2" when the verifier does
//   not know the wallet's metadata (static discovery), so the script passes that aud.
// - The response: parseOpenid4vpAuthorizationResponse decrypts it (decryptJwe callback: jose,
//   with the key client_metadata named) and checks state and the vp_token's shape against
//   the DCQL query; what the library leaves to the verifier is done here: each presentation
//   verified with @sd-jwt/sd-jwt-vc (issuer key from the gateway's DID Resolution endpoint at
//   the credential's iat, the status list token the library fetches by default, KB-JWT with
//   the request's nonce and the holder key of cnf.jwk), the KB-JWT's aud equal to the full
//   client id, the JWE's apv equal to the nonce, and OWF dcql's DcqlPresentationResult over
//   what was disclosed. It answers 200 {redirect_uri} when all hold, 400 otherwise.
//
// Commands: {cmd:"configure", base, did, kid, registration} → {ok};
//   {cmd:"request", case, queries:[{id, vct, claims}], sign:"registered"|"unregistered",
//     omit_state, library_default_aud, expect:"accepted"|"refused"|"unanswered"}
//     → {link, client_id, nonce, state};
//   {cmd:"result", case} → the observations of the response posted for that case (waits for
//     it up to 30 s: {received:false} when none came).
// First line printed: {event:"ready", jwk, origin}. When stdin closes: exit 1 if a case
// expected "accepted" was not, or one expected otherwise was.
import {createHash, createPublicKey, randomBytes, verify} from 'node:crypto';
import http from 'node:http';
import readline from 'node:readline';
import * as jose from 'jose';
import {Openid4vpVerifier} from '@openid4vc/openid4vp';
import {setGlobalConfig} from '@openid4vc/oauth2';
import {DcqlPresentationResult, DcqlQuery} from 'dcql';
import {SDJwtVcInstance} from '@sd-jwt/sd-jwt-vc';
import {digest, generateSalt} from '@sd-jwt/crypto-nodejs';
import {b64json, resolveKey} from './lz-did.mjs';

setGlobalConfig({allowInsecureUrls: true}); // request_uri and response_uri are http://127.0.0.1 in tests

const gen = () => jose.generateKeyPair('EdDSA', {crv: 'Ed25519', extractable: true});
const signing = {registered: await gen(), unregistered: await gen()};
let conf; // from "configure"
let signWith = 'registered'; // which key signs the next request object (a case's "sign")
const cases = new Map(); // case → {req, encPriv, encJwk, obs, waiters}

const callbacks = {
  fetch: (...a) => fetch(...a),
  hash: (data, alg) => createHash(alg.replace('-', '').toLowerCase()).update(data).digest(),
  signJwt: async (signer, {header, payload}) => {
    if (signer.method !== 'did' || signer.didUrl !== conf.kid) throw new Error(`signer ${JSON.stringify(signer)}`);
    const key = signing[signWith].privateKey;
    const jwt = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(payload))).setProtectedHeader(header).sign(key);
    return {jwt, signerJwk: await jose.exportJWK(signing.registered.publicKey)};
  },
  decryptJwe: async (jwe, options) => {
    const kid = options?.jwk?.kid;
    const c = [...cases.values()].find(x => x.encJwk.kid === kid);
    if (!c) return {decrypted: false};
    try {
      const {plaintext} = await jose.compactDecrypt(jwe, c.encPriv, {keyManagementAlgorithms: ['ECDH-ES'], contentEncryptionAlgorithms: ['A128GCM', 'A256GCM']});
      return {decrypted: true, decryptionJwk: c.encJwk, payload: new TextDecoder().decode(plaintext)};
    } catch {
      return {decrypted: false};
    }
  },
  verifyJwt: () => { throw new Error('not used'); },
  encryptJwe: () => { throw new Error('not used'); },
};
const verifier = new Openid4vpVerifier({callbacks});

// @sd-jwt/sd-jwt-vc: the credential's issuer key from the DID resolution endpoint, its status
// list token (fetched by the library's default) signed by the same issuer.
let statusURI;
const sdjwt = new SDJwtVcInstance({
  hasher: digest,
  saltGenerator: generateSalt,
  verifier: async (data, sig) => {
    const [h, p] = data.split('.');
    const header = b64json(h);
    const payload = b64json(p);
    if (header.alg !== 'EdDSA' || typeof header.kid !== 'string') return false;
    let at;
    if (header.typ === 'dc+sd-jwt') {
      if (typeof payload.iat !== 'number') return false;
      at = new Date(payload.iat * 1000);
    } else if (header.typ !== 'statuslist+jwt' || payload.sub !== statusURI) {
      return false;
    }
    if (payload.iss !== undefined && header.kid.split('#')[0] !== payload.iss) return false;
    const {key} = await resolveKey(conf.base, header.kid, at);
    return verify(null, Buffer.from(data), key, Buffer.from(sig, 'base64url'));
  },
  kbVerifier: async (data, sig, payload) => {
    const jwk = payload?.cnf?.jwk;
    if (!jwk || jwk.kty !== 'OKP' || jwk.crv !== 'Ed25519') return false;
    return verify(null, Buffer.from(data), createPublicKey({key: jwk, format: 'jwk'}), Buffer.from(sig, 'base64url'));
  },
});

const server = http.createServer((req, res) => {
  handle(req, res).catch(e => {
    res.writeHead(500, {'content-type': 'application/json'});
    res.end(JSON.stringify({error: 'server_error', error_description: e.message}));
  });
});
await new Promise(r => server.listen(0, '127.0.0.1', r));
const origin = `http://127.0.0.1:${server.address().port}`;

async function handle(req, res) {
  const url = new URL(req.url, origin);
  const [, kind, name] = url.pathname.split('/');
  const c = cases.get(decodeURIComponent(name ?? ''));
  if (!c) {
    res.writeHead(404).end();
    return;
  }
  if (req.method === 'GET' && kind === 'request') {
    c.obs.fetched = true;
    res.writeHead(200, {'content-type': 'application/oauth-authz-req+jwt'}).end(c.jar);
    return;
  }
  if (req.method !== 'POST' || kind !== 'response') {
    res.writeHead(405).end();
    return;
  }
  let body = '';
  for await (const chunk of req) body += chunk;
  const form = new URLSearchParams(body);
  const o = c.obs;
  o.received = true;
  o.content_type = req.headers['content-type'];
  const fail = [];
  try {
    const jwe = form.get('response');
    const jh = b64json(jwe.split('.')[0]);
    o.jwe = {alg: jh.alg, enc: jh.enc, kid: jh.kid, apv_is_nonce: Buffer.from(jh.apv ?? '', 'base64url').toString() === c.req.nonce};
    if (!o.jwe.apv_is_nonce) fail.push('JWE apv is not base64url(nonce)');
    const parsed = await verifier.parseOpenid4vpAuthorizationResponse({
      authorizationResponse: {response: jwe},
      authorizationRequestPayload: c.req,
      callbacks,
    });
    o.library = {type: parsed.type, state_ok: parsed.authorizationResponsePayload.state === c.req.state, state: parsed.authorizationResponsePayload.state ?? null, expected_nonce: parsed.expectedNonce === c.req.nonce};
    if (parsed.type !== 'dcql') fail.push(`response type ${parsed.type}`);
    o.presentations = {};
    const forDcql = {};
    for (const [id, list] of Object.entries(parsed.dcql.presentations)) {
      for (const text of list) {
        const p = {};
        o.presentations[id] = p;
        const issuerPayload = b64json(text.split('~')[0].split('.')[1]);
        statusURI = issuerPayload.status?.status_list?.uri;
        try {
          const v = await sdjwt.verify(text, {keyBindingNonce: c.req.nonce});
          p.verified = true;
          p.iss = v.payload.iss;
          p.vct = v.payload.vct;
          p.kb_aud = v.kb?.payload?.aud;
          p.kb_nonce_ok = v.kb?.payload?.nonce === c.req.nonce;
          const reserved = new Set(['iss', 'iat', 'exp', 'nbf', 'vct', 'cnf', 'status', '_sd_alg', 'sub', 'vct#integrity']);
          p.disclosed = Object.keys(v.payload).filter(k => !reserved.has(k)).sort();
          if (p.kb_aud !== c.req.client_id) fail.push(`${id}: KB-JWT aud ${p.kb_aud}, not the client id ${c.req.client_id}`);
          forDcql[id] = {credential_format: 'dc+sd-jwt', vct: v.payload.vct, claims: v.payload, cryptographic_holder_binding: true};
        } catch (e) {
          p.verified = false;
          p.error = `${e.name}: ${e.message}`;
          fail.push(`${id}: ${p.error}`);
        }
      }
    }
    const dr = DcqlPresentationResult.fromDcqlPresentation(forDcql, {dcqlQuery: c.query});
    o.dcql_satisfied = dr.can_be_satisfied;
    if (!dr.can_be_satisfied) fail.push('the presentations do not satisfy the DCQL query (OWF dcql)');
  } catch (e) {
    o.exception = `${e.name}: ${e.message}`;
    fail.push(o.exception);
  }
  o.failures = fail;
  o.accepted = fail.length === 0;
  if (o.accepted) {
    res.writeHead(200, {'content-type': 'application/json'}).end(JSON.stringify({redirect_uri: `${origin}/done/${encodeURIComponent(c.name)}`}));
  } else {
    res.writeHead(400, {'content-type': 'application/json'}).end(JSON.stringify({error: 'invalid_request', error_description: fail.join('; ')}));
  }
  for (const w of c.waiters.splice(0)) w();
}

async function request(cmd) {
  const name = cmd.case;
  const encPair = await jose.generateKeyPair('ECDH-ES', {crv: 'P-256', extractable: true});
  const encJwk = {...await jose.exportJWK(encPair.publicKey), kid: `enc-${randomBytes(6).toString('base64url')}`, use: 'enc', alg: 'ECDH-ES'};
  const query = DcqlQuery.parse({
    credentials: cmd.queries.map(q => ({id: q.id, format: 'dc+sd-jwt', meta: {vct_values: [q.vct]}, claims: q.claims.map(n => ({path: [n]}))})),
  });
  DcqlQuery.validate(query);
  const clientId = `decentralized_identifier:${conf.did}`;
  signWith = cmd.sign ?? 'registered';
  const {authorizationRequest, authorizationRequestPayload, jar} = await verifier.createOpenId4vpAuthorizationRequest({
    authorizationRequestPayload: {
      response_type: 'vp_token',
      client_id: clientId,
      response_uri: `${origin}/response/${encodeURIComponent(name)}`,
      response_mode: 'direct_post.jwt',
      nonce: randomBytes(16).toString('base64url'),
      // OpenID4VP 1.0 §5.2: state is optional when holder binding is asked (DCQL's default)
      ...(cmd.omit_state ? {} : {state: randomBytes(16).toString('base64url')}),
      dcql_query: query,
      client_metadata: {
        jwks: {keys: [encJwk]},
        vp_formats_supported: {'dc+sd-jwt': {'sd-jwt_alg_values': ['EdDSA', 'ES256'], 'kb-jwt_alg_values': ['EdDSA', 'ES256']}},
        encrypted_response_enc_values_supported: ['A128GCM'],
      },
      verifier_info: [{format: 'lz_ledger_registration', data: conf.registration}],
    },
    jar: {
      requestUri: `${origin}/request/${encodeURIComponent(name)}`,
      jwtSigner: {method: 'did', didUrl: conf.kid, alg: 'EdDSA'},
      expiresInSeconds: 180,
      // OpenID4VP 1.0 §5.8 (static discovery); the library's default would be the request_uri
      // (kept when a case asks for library_default_aud, to show the wallet refuses it).
      additionalJwtPayload: cmd.library_default_aud ? {} : {aud: 'https://self-issued.me/v2'},
    },
  });
  const c = {name, expect: cmd.expect, req: authorizationRequestPayload, jar: jar.authorizationRequestJwt, query, encPriv: encPair.privateKey, encJwk,
    obs: {received: false, fetched: false}, waiters: []};
  cases.set(name, c);
  const hdr = b64json(c.jar.split('.')[0]);
  const pl = b64json(c.jar.split('.')[1]);
  return {link: authorizationRequest, client_id: clientId, nonce: c.req.nonce, state: c.req.state,
    jar: {typ: hdr.typ, kid: hdr.kid, alg: hdr.alg, aud: pl.aud, iss: pl.iss, exp_minus_iat: pl.exp - pl.iat}};
}

async function result(cmd) {
  const c = cases.get(cmd.case);
  if (!c) return {error: `no case ${cmd.case}`};
  if (!c.obs.received) {
    await new Promise(resolve => {
      const t = setTimeout(resolve, 30000);
      c.waiters.push(() => { clearTimeout(t); resolve(); });
    });
  }
  return c.obs;
}

const print = v => process.stdout.write(JSON.stringify(v) + '\n');
print({event: 'ready', jwk: await jose.exportJWK(signing.registered.publicKey), origin});

const rl = readline.createInterface({input: process.stdin, crlfDelay: Infinity});
for await (const line of rl) {
  if (!line.trim()) continue;
  const cmd = JSON.parse(line);
  try {
    if (cmd.cmd === 'configure') {
      conf = cmd;
      print({ok: true});
    } else if (cmd.cmd === 'request') {
      print(await request(cmd));
    } else if (cmd.cmd === 'result') {
      print(await result(cmd));
    } else {
      print({error: `unknown command ${cmd.cmd}`});
    }
  } catch (e) {
    print({error: `${e.name}: ${e.message}`});
  }
}
server.close();
// The end: a case expected to be accepted must have been; one expected refused or unanswered
// must not have been accepted.
const disagreements = [];
for (const c of cases.values()) {
  if (c.expect === 'accepted' && !c.obs.accepted) disagreements.push(`${c.name}: not accepted: ${(c.obs.failures ?? ['no response']).join('; ')}`);
  if (c.expect !== 'accepted' && c.obs.accepted) disagreements.push(`${c.name}: accepted, expected ${c.expect}`);
}
if (disagreements.length > 0) {
  process.stderr.write('the library disagrees:\n' + disagreements.map(d => '  - ' + d).join('\n') + '\n');
  process.exit(1);
}
