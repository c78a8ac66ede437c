// OWF @openid4vc/openid4vci as a wallet that is not ours, receiving LianZheng credentials
// from a department's issuance service through its OpenID4VCI 1.0 flow: resolve the offer,
// fetch the metadata (the library must classify the issuer as 1.0, "V1"), redeem the
// pre-authorised code with the tx_code, requestNonce(), a jwt key proof, the credential —
// for every configuration of the offer (the SD-JWT VC and the ldp_vc W3C VC), then the
// notification. Keys and signatures are jose's.
//
// Input (stdin, JSON): {issuerJwk, issuerDid, vct, w3cType,
//   receive: [{alg: "EdDSA"|"ES256", offer, pin}], wrongPin: {offer, pin}, badNonce: {offer, pin}}
// Output (stdout, JSON): what the library saw. Exit 1 on any disagreement.
import { createHash, randomBytes } from 'node:crypto'
import * as jose from 'jose'
import { Openid4vciClient, Openid4vciRetrieveCredentialsError, setGlobalConfig } from '@openid4vc/openid4vci'
import { clientAuthenticationAnonymous, Oauth2ClientErrorResponseError } from '@openid4vc/oauth2'

setGlobalConfig({ allowInsecureUrls: true }) // the services run on http://127.0.0.1 in tests

const input = JSON.parse(await new Promise((resolve) => {
  let s = ''
  process.stdin.on('data', (d) => { s += d })
  process.stdin.on('end', () => resolve(s))
}))

const failures = []
function check (cond, what) {
  if (!cond) failures.push(what)
  return cond
}

const keys = new Map() // public JWK thumbprint → private key
const callbacks = {
  fetch: (...a) => fetch(...a),
  hash: (data, alg) => createHash(alg.replace('-', '').toLowerCase()).update(data).digest(),
  generateRandom: (n) => randomBytes(n),
  clientAuthentication: clientAuthenticationAnonymous(),
  signJwt: async (signer, { header, payload }) => {
    if (signer.method !== 'jwk') throw new Error(`signer method ${signer.method}`)
    const priv = keys.get(await jose.calculateJwkThumbprint(signer.publicJwk))
    const jwt = await new jose.CompactSign(new TextEncoder().encode(JSON.stringify(payload)))
      .setProtectedHeader(header).sign(priv)
    return { jwt, signerJwk: signer.publicJwk }
  },
  verifyJwt: () => { throw new Error('not used') },
  encryptJwe: () => { throw new Error('not used') },
  decryptJwe: () => { throw new Error('not used') }
}
const client = new Openid4vciClient({ callbacks })

async function holderKey (alg) {
  const { publicKey, privateKey } = alg === 'EdDSA'
    ? await jose.generateKeyPair('EdDSA', { crv: 'Ed25519', extractable: true })
    : await jose.generateKeyPair('ES256', { extractable: true })
  const publicJwk = await jose.exportJWK(publicKey)
  keys.set(await jose.calculateJwkThumbprint(publicJwk), privateKey)
  return { method: 'jwk', alg, publicJwk }
}

async function start ({ offer, pin }) {
  const credentialOffer = await client.resolveCredentialOffer(offer)
  const issuerMetadata = await client.resolveIssuerMetadata(credentialOffer.credential_issuer)
  const { accessTokenResponse } = await client.retrievePreAuthorizedCodeAccessTokenFromOffer({
    credentialOffer, issuerMetadata, txCode: pin
  })
  return { credentialOffer, issuerMetadata, accessTokenResponse }
}

async function request ({ issuerMetadata, accessTokenResponse }, signer, credentialConfigurationId, nonce) {
  const { jwt } = await client.createCredentialRequestJwtProof({
    issuerMetadata, signer, nonce, credentialConfigurationId, issuedAt: new Date()
  })
  return client.retrieveCredentials({
    issuerMetadata, accessToken: accessTokenResponse.access_token, credentialConfigurationId, proofs: { jwt: [jwt] }
  })
}

const b64 = (s) => Buffer.from(s, 'base64url')
const digests = (v, out = new Set()) => {
  if (Array.isArray(v)) v.forEach((x) => digests(x, out))
  else if (v && typeof v === 'object') {
    for (const [k, x] of Object.entries(v)) {
      if (k === '_sd' && Array.isArray(x)) x.forEach((d) => out.add(d))
      else if (k === '...' && typeof x === 'string') out.add(x)
      else digests(x, out)
    }
  }
  return out
}

// checkSdJwt decodes an SD-JWT VC, verifies the issuer's signature with the department's
// key, and checks holder binding, vct and every disclosure's digest.
async function checkSdJwt (text, holderJwk, label) {
  const [jwt, ...rest] = text.split('~')
  const disclosures = rest.filter((d) => d !== '')
  const issuerKey = await jose.importJWK(input.issuerJwk, 'EdDSA')
  const { payload: raw, protectedHeader } = await jose.compactVerify(jwt, issuerKey)
  const payload = JSON.parse(new TextDecoder().decode(raw))
  check(protectedHeader.typ === 'dc+sd-jwt', `${label}: typ ${protectedHeader.typ}`)
  check(payload.iss === input.issuerDid, `${label}: iss ${payload.iss}`)
  check(payload.vct === input.vct, `${label}: vct ${payload.vct}`)
  const cnf = payload.cnf?.jwk ?? {}
  check(await jose.calculateJwkThumbprint(cnf).catch(() => '') === await jose.calculateJwkThumbprint(holderJwk),
    `${label}: cnf.jwk is not the holder key`)
  check(payload._sd_alg === 'sha-256', `${label}: _sd_alg ${payload._sd_alg}`)
  const known = digests(payload)
  const claims = {}
  for (const d of disclosures) {
    const digest = createHash('sha256').update(d).digest('base64url')
    check(known.has(digest), `${label}: a disclosure without its digest`)
    const [, name, value] = JSON.parse(b64(d).toString('utf8'))
    claims[name] = value
  }
  return { iss: payload.iss, vct: payload.vct, kid: protectedHeader.kid, claims, status: payload.status }
}

const out = { received: [] }

for (const r of input.receive) {
  const label = `${r.alg} holder`
  const signer = await holderKey(r.alg)
  const s = await start(r)
  out.version = s.issuerMetadata.originalDraftVersion
  check(s.issuerMetadata.originalDraftVersion === 'V1', `metadata classified as ${s.issuerMetadata.originalDraftVersion}, not V1`)
  const details = s.accessTokenResponse.authorization_details ?? []
  const identifiers = {}
  for (const id of s.credentialOffer.credential_configuration_ids) {
    const d = details.find((x) => x.type === 'openid_credential' && x.credential_configuration_id === id)
    check(Array.isArray(d?.credential_identifiers) && d.credential_identifiers.length > 0,
      `${label}: token response without credential_identifiers for ${id}`)
    identifiers[id] = d?.credential_identifiers
  }
  const got = { alg: r.alg, holderJwk: signer.publicJwk, identifiers, configurations: {} }
  let notificationId
  for (const id of s.credentialOffer.credential_configuration_ids) {
    const conf = s.issuerMetadata.credentialIssuer.credential_configurations_supported[id]
    const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata: s.issuerMetadata })
    const res = await request(s, signer, id, nonce)
    const cred = res.credentialResponse.credentials?.[0]?.credential
    notificationId = res.credentialResponse.notification_id
    if (conf.format === 'dc+sd-jwt') {
      check(typeof cred === 'string', `${label}: ${id}: not a string`)
      got.configurations[id] = { format: conf.format, sdjwt: await checkSdJwt(cred, signer.publicJwk, `${label} ${id}`) }
    } else {
      check(conf.format === 'ldp_vc', `${label}: ${id}: format ${conf.format}`)
      check(cred && typeof cred === 'object', `${label}: ${id}: not an object`)
      const def = conf.credential_definition ?? {}
      check(JSON.stringify(cred['@context']) === JSON.stringify(def['@context']), `${label}: ${id}: @context differs from the metadata's`)
      check(JSON.stringify(cred.type) === JSON.stringify(def.type), `${label}: ${id}: type differs from the metadata's`)
      check(cred.type?.includes(input.w3cType), `${label}: ${id}: type ${cred.type}`)
      check(cred.proof?.cryptosuite === 'eddsa-rdfc-2022', `${label}: ${id}: proof ${JSON.stringify(cred.proof)}`)
      got.configurations[id] = {
        format: conf.format,
        ldp: { issuer: cred.issuer, subjectId: cred.credentialSubject?.id, type: cred.type, cryptosuite: cred.proof?.cryptosuite }
      }
    }
  }
  await client.sendNotification({
    issuerMetadata: s.issuerMetadata, accessToken: s.accessTokenResponse.access_token,
    notification: { notificationId, event: 'credential_accepted' }
  })
  got.notified = true
  out.received.push(got)
}

// A wrong tx_code: the library surfaces the token error invalid_grant.
try {
  await start(input.wrongPin)
  check(false, 'a wrong tx_code was accepted')
} catch (e) {
  check(e instanceof Oauth2ClientErrorResponseError, `wrong tx_code: ${e}`)
  out.wrongPin = e.errorResponse
  check(e.errorResponse?.error === 'invalid_grant', `wrong tx_code: ${JSON.stringify(e.errorResponse)}`)
}

// A proof whose nonce the issuer never gave: invalid_nonce; a nonce from the nonce endpoint
// then works.
{
  const signer = await holderKey('EdDSA')
  const s = await start(input.badNonce)
  const id = s.credentialOffer.credential_configuration_ids[0]
  try {
    await request(s, signer, id, 'not-a-nonce-the-issuer-gave')
    check(false, 'a proof with a bad nonce was accepted')
  } catch (e) {
    check(e instanceof Openid4vciRetrieveCredentialsError, `bad nonce: ${e}`)
    out.badNonce = e.response?.credentialErrorResponseResult?.data
    check(out.badNonce?.error === 'invalid_nonce', `bad nonce: ${JSON.stringify(out.badNonce)}`)
  }
  const { c_nonce: nonce } = await client.requestNonce({ issuerMetadata: s.issuerMetadata })
  const res = await request(s, signer, id, nonce)
  check(typeof res.credentialResponse.credentials?.[0]?.credential === 'string', 'after a bad nonce: no credential')
  out.afterBadNonce = true
}

process.stdout.write(JSON.stringify(out))
if (failures.length > 0) {
  process.stderr.write('the library disagrees:\n' + failures.map((f) => '  - ' + f).join('\n') + '\n')
  process.exit(1)
}
