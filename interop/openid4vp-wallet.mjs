// OWF @openid4vc/openid4vp as a wallet that is not ours, answering LianZheng's online-service
// portal (a live portal service on 127.0.0.1) with real LianZheng SD-JWT VCs:
//
// - parseOpenid4vpAuthorizationRequest on the openid4vp:// link (a JAR by reference), then
//   resolveOpenId4vpAuthorizationRequest: the library fetches request_uri, checks typ, the
//   client identifier prefix (decentralized_identifier: — signer method "did", the kid's DID
//   equal to the client id's), exp/nbf, and the version (1.0: verifier_info). Its verifyJwt
//   callback gets the portal's key ONLY from the gateway's DID Resolution endpoint, as of the
//   request's iat (lz-did.mjs), and verifies with node:crypto.
// - The DCQL query is parsed and validated by OWF dcql (DcqlQuery.parse/validate) and run
//   against the credentials held (DcqlQuery.query): it must be satisfiable.
// - vp_token: per credential query, the credential it matched presented with @sd-jwt/sd-jwt-vc:
//   exactly the claims the query asks, a KB-JWT with aud = the FULL client id (with its
//   prefix; OpenID4VP 1.0 §B.3.6) and nonce = the request's nonce, signed with the holder key.
// - createOpenid4vpAuthorizationResponse with jarm encryption: the library picks the
//   encryption key from client_metadata.jwks, alg, enc and apv = base64url(nonce); its
//   encryptJwe callback does the JOSE work with jose (ECDH-ES with that apv). Then
//   submitOpenid4vpAuthorizationResponse posts response=<JWE> to response_uri.
//
// Cases change one thing to be refused: "nonce" (KB-JWT nonce not the request's), "aud" (KB-JWT
// aud the bare DID, without the client id prefix), "overdisclose" (a claim the query does not
// ask is disclosed too).
//
// stdin: {base, holder_jwk, credentials: [sdjwt], cases: [{name, link, mutate, expect: {status,
// lz_code}}]}. stdout: {cases: {name: observations}}. Exit 1 when the library disagrees with
// a case's expectation.
import {createHash, createPrivateKey, randomBytes, sign, verify} from 'node:crypto';
import * as jose from 'jose';
import {Openid4vpClient} from '@openid4vc/openid4vp';
import {setGlobalConfig} from '@openid4vc/oauth2';
import {DcqlQuery} from 'dcql';
import {SDJwtVcInstance} from '@sd-jwt/sd-jwt-vc';
import {digest, generateSalt} from '@sd-jwt/crypto-nodejs';
import {b64json, readStdin, resolveKey} from './lz-did.mjs';

setGlobalConfig({allowInsecureUrls: true}); // the portal runs on http://127.0.0.1 in tests

const input = JSON.parse(await readStdin());
const failures = [];
const check = (cond, what) => {
  if (!cond) failures.push(what);
  return cond;
};

let resolvedFrom; // where the request object's key came from (per case)
const callbacks = {
  fetch: (...a) => fetch(...a),
  hash: (data, alg) => createHash(alg.replace('-', '').toLowerCase()).update(data).digest(),
  generateRandom: n => randomBytes(n),
  verifyJwt: async (signer, {header, payload, compact}) => {
    if (signer.method !== 'did' || header.alg !== 'EdDSA') return {verified: false};
    const iat = typeof payload.iat === 'number' ? new Date(payload.iat * 1000) : undefined;
    const {key, jwk, url} = await resolveKey(input.base, signer.didUrl, iat);
    resolvedFrom = url;
    const [h, p, s] = compact.split('.');
    const ok = verify(null, Buffer.from(`${h}.${p}`), key, Buffer.from(s, 'base64url'));
    return ok ? {verified: true, signerJwk: jwk} : {verified: false};
  },
  encryptJwe: async (encryptor, data) => {
    if (encryptor.method !== 'jwk') throw new Error(`encryptor method ${encryptor.method}`);
    const key = await jose.importJWK(encryptor.publicJwk, encryptor.alg);
    const kmp = {};
    if (encryptor.apu) kmp.apu = Buffer.from(encryptor.apu, 'base64url');
    if (encryptor.apv) kmp.apv = Buffer.from(encryptor.apv, 'base64url');
    const jwe = await new jose.CompactEncrypt(new TextEncoder().encode(data))
      .setProtectedHeader({alg: encryptor.alg, enc: encryptor.enc, kid: encryptor.publicJwk.kid})
      .setKeyManagementParameters(kmp)
      .encrypt(key);
    return {jwe, encryptionJwk: encryptor.publicJwk};
  },
  signJwt: () => { throw new Error('not used: the response is encrypted, not signed'); },
  decryptJwe: () => { throw new Error('not used'); },
};
const client = new Openid4vpClient({callbacks});

const holderKey = createPrivateKey({key: input.holder_jwk, format: 'jwk'});
const sdjwt = new SDJwtVcInstance({
  hasher: digest,
  saltGenerator: generateSalt,
  kbSigner: async data => sign(null, Buffer.from(data), holderKey).toString('base64url'),
  kbSignAlg: 'EdDSA',
});

// The credentials held, as DCQL sees them.
const held = [];
for (const text of input.credentials) {
  const claims = await sdjwt.getClaims(text);
  held.push({text, dcql: {credential_format: 'dc+sd-jwt', vct: claims.vct, claims, cryptographic_holder_binding: true}});
}

const out = {cases: {}};
for (const c of input.cases) {
  const o = {};
  out.cases[c.name] = o;
  resolvedFrom = undefined;
  try {
    const parsed = client.parseOpenid4vpAuthorizationRequest({authorizationRequest: c.link});
    o.parsed = {type: parsed.type, provided: parsed.provided};
    check(parsed.type === 'jar' && parsed.provided === 'uri', `${c.name}: link parsed as ${parsed.type}/${parsed.provided}`);
    const resolved = await client.resolveOpenId4vpAuthorizationRequest({authorizationRequestPayload: parsed.params});
    const req = resolved.authorizationRequestPayload;
    o.request = {
      version: resolved.version, prefix: resolved.client.prefix, identifier: resolved.client.identifier,
      effective: resolved.client.effective, didUrl: resolved.client.didUrl, typ: resolved.jar?.jwt?.header?.typ,
      kid: resolved.jar?.jwt?.header?.kid, aud: resolved.jar?.jwt?.payload?.aud, key_from: resolvedFrom,
      response_mode: req.response_mode, verifier_info: (req.verifier_info ?? []).map(v => v.format),
      enc_key: resolved.client.clientMetadata?.jwks?.keys?.[0]?.kid,
    };
    check(resolved.version === 100, `${c.name}: request classified as version ${resolved.version}, not 1.0 (100)`);
    check(resolved.client.prefix === 'decentralized_identifier', `${c.name}: client id prefix ${resolved.client.prefix}`);
    check(req.response_mode === 'direct_post.jwt', `${c.name}: response_mode ${req.response_mode}`);
    check(resolvedFrom?.startsWith(`${input.base}/1.0/identifiers/`), `${c.name}: request key from ${resolvedFrom}`);

    // DCQL with OWF dcql
    const query = DcqlQuery.parse(resolved.dcql.query);
    DcqlQuery.validate(query);
    const result = DcqlQuery.query(query, held.map(h => h.dcql));
    o.dcql = {
      can_be_satisfied: result.can_be_satisfied,
      queries: Object.fromEntries(query.credentials.map(q => [q.id, q.claims.map(cl => cl.path.join('.'))])),
    };
    check(result.can_be_satisfied, `${c.name}: OWF dcql finds the query not satisfiable by the credentials held`);

    // vp_token: per credential query, the held credential of its vct, the asked claims only
    const vpToken = {};
    const nonce = c.mutate === 'nonce' ? randomBytes(16).toString('base64url') : req.nonce;
    const aud = c.mutate === 'aud' ? resolved.client.identifier : resolved.client.effective;
    o.kb = {aud, nonce_is_request: nonce === req.nonce};
    for (const q of query.credentials) {
      const h = held.find(x => q.meta.vct_values.includes(x.dcql.vct));
      check(h, `${c.name}: no credential for ${q.id}`);
      if (!h) continue;
      const frame = {};
      for (const cl of q.claims) if (cl.path[0] in h.dcql.claims) frame[cl.path[0]] = true;
      if (c.mutate === 'overdisclose' && q === query.credentials[0]) {
        const extra = Object.keys(h.dcql.claims).find(k => !(k in frame) && !['vct', 'iss', 'iat', 'exp', 'cnf', 'status', 'nbf', 'sub'].includes(k));
        frame[extra] = true;
        o.overdisclosed = extra;
      }
      vpToken[q.id] = [await sdjwt.present(h.text, frame, {kb: {payload: {iat: Math.floor(Date.now() / 1000), aud, nonce}}})];
    }
    o.vp_token_ids = Object.keys(vpToken);

    const created = await client.createOpenid4vpAuthorizationResponse({
      authorizationRequestPayload: req,
      authorizationResponsePayload: {vp_token: vpToken},
      jarm: {
        encryption: {},
        serverMetadata: {
          authorization_encryption_alg_values_supported: ['ECDH-ES'],
          authorization_encryption_enc_values_supported: ['A128GCM', 'A256GCM'],
        },
      },
    });
    const jwe = created.jarm.responseJwt;
    const jh = b64json(jwe.split('.')[0]);
    o.jwe = {alg: jh.alg, enc: jh.enc, kid: jh.kid, apv_is_nonce: Buffer.from(jh.apv ?? '', 'base64url').toString() === req.nonce};
    check(jh.alg === 'ECDH-ES' && o.jwe.apv_is_nonce && jh.kid === o.request.enc_key, `${c.name}: JWE header ${JSON.stringify(jh)}`);

    const {response} = await client.submitOpenid4vpAuthorizationResponse({authorizationRequestPayload: req, jarm: {responseJwt: jwe}});
    o.status = response.status;
    o.content_type = response.headers.get('content-type');
    const body = await response.json().catch(() => ({}));
    o.error = body.error;
    o.lz_code = body.lz_code;
    o.redirect_uri = body.redirect_uri;
    o.receipt = typeof body.lz_receipt === 'string' && body.lz_receipt.length > 0;
  } catch (e) {
    o.exception = `${e.name}: ${e.message}`;
  }
  const want = c.expect;
  check(o.status === want.status && (o.lz_code ?? '') === (want.lz_code ?? ''),
    `${c.name}: the portal answered ${o.status} ${o.lz_code ?? ''}${o.exception ? ` (${o.exception})` : ''}, want ${want.status} ${want.lz_code ?? ''}`);
  if (want.status === 200) check(o.receipt && o.redirect_uri, `${c.name}: accepted without redirect_uri or receipt`);
}

process.stdout.write(JSON.stringify(out));
if (failures.length > 0) {
  process.stderr.write('the library disagrees:\n' + failures.map(f => '  - ' + f).join('\n') + '\n');
  process.exit(1);
}
