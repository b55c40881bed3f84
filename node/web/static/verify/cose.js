// COSE_Sign1 statements (RFC 9052, FORMATS.md "Statement"), their Sig_structure and leaf,
// and the RFC 9995 hash envelope a person's record is signed as (docs/spec.md §4).
//
//   18([protected: bstr, unprotected: {? 394: [* receipt bstr]}, payload: bstr, signature])
//   protected = {1: -8 / -19, 3: "application/vnd.credex.record+cbor", 4: kid(32),
//                15: {1: iss, 2: sub, 6: iat}}                            ; a record
//             / {1, 4, 15, 258: -16, 259: "application/vnd.credex.record+cbor;kind=<kind>"}
//                                                                          ; a hash envelope
// parseStatement() is the strict parser (step 1); it does not check trust or signatures.

import { equal, hex, sha256, verifyEd25519 } from './bytes.js';
import { Tagged, decode, encode, isBytes, isInt, isMap } from './cbor.js';
import { CoseError, FormatError, NotEnvelopedError, OversizeError, PreimageMismatchError } from './errors.js';
import { leafHash } from './merkle.js';
import { KINDS, ON_LOG_KINDS, recordFromBytes } from './record.js';

export const COSE_SIGN1_TAG = 18;
export const ALG_EDDSA = -8;
export const ALG_ED25519 = -19;
export const CONTENT_TYPE = 'application/vnd.credex.record+cbor';
export const LABEL_RECEIPTS = 394;
export const LABEL_PAYLOAD_HASH_ALG = 258;
export const LABEL_PREIMAGE_CONTENT_TYPE = 259;
export const HASH_ALG_SHA256 = -16;
export const MAX_STATEMENT_BYTES = 64 * 1024;
const KIND_PARAM = ';kind=';

/** RFC 9052 §4.4 Sig_structure for COSE_Sign1 without external AAD. */
export const sigStructure = (protectedBytes, payload) =>
  encode(['Signature1', protectedBytes, new Uint8Array(0), payload]);

/** The logged bytes: 18([protected, {}, payload, signature]). */
export const leafBytes = (protectedBytes, payload, signature) =>
  encode(new Tagged(COSE_SIGN1_TAG, [protectedBytes, new Map(), payload, signature]));

const sameKeys = (m, keys) => m.size === keys.length && keys.every((k) => m.has(k));

/** A person-record kind named by a label-259 value; CoseError otherwise. */
export function kindFromContentType(value) {
  const prefix = CONTENT_TYPE + KIND_PARAM;
  if (typeof value !== 'string' || !value.startsWith(prefix)) {
    throw new CoseError(`envelope: wrong preimage content type (259): expected ${prefix}<kind>`);
  }
  const kind = value.slice(prefix.length);
  if (!KINDS.includes(kind)) throw new CoseError(`envelope: unknown record kind in content type: ${JSON.stringify(kind)}`);
  if (ON_LOG_KINDS.includes(kind)) throw new CoseError(`envelope: ${kind} records are never enveloped (they stay on-log)`);
  return kind;
}

/** True when a record is logged as a hash envelope: a person's, except ON_LOG_KINDS. */
export const shouldEnvelope = (record) =>
  record.subject.type === 'person' && !ON_LOG_KINDS.includes(record.kind);

function parseProtected(bytes) {
  let hdr;
  try {
    hdr = decode(bytes, { what: 'statement protected header' });
  } catch (e) {
    if (e.code === 'cbor_nondeterministic') throw e;
    throw new CoseError(`statement: protected header is not cbor: ${e.message}`);
  }
  if (!isMap(hdr)) throw new CoseError('statement: protected header must be a map');
  let kind = null;
  if (sameKeys(hdr, [1, 4, 15, LABEL_PAYLOAD_HASH_ALG, LABEL_PREIMAGE_CONTENT_TYPE])) {
    if (hdr.get(LABEL_PAYLOAD_HASH_ALG) !== HASH_ALG_SHA256) {
      throw new CoseError('envelope: unsupported payload hash algorithm (258): expected -16 (SHA-256)');
    }
    kind = kindFromContentType(hdr.get(LABEL_PREIMAGE_CONTENT_TYPE));
  } else if (!sameKeys(hdr, [1, 3, 4, 15])) {
    const got = [...hdr.keys()].map(String).sort().join(', ');
    throw new CoseError(`statement: protected header labels: expected [1, 3, 4, 15] (or [1, 4, 15, 258, 259] for a hash envelope), got [${got}]`);
  } else if (hdr.get(3) !== CONTENT_TYPE) {
    throw new CoseError(`statement: wrong content type: expected ${CONTENT_TYPE}`);
  }
  const alg = hdr.get(1);
  if (alg !== ALG_EDDSA && alg !== ALG_ED25519) throw new CoseError('statement: unsupported algorithm: expected -8 (EdDSA)');
  const kid = hdr.get(4);
  if (!isBytes(kid) || kid.length !== 32) throw new CoseError('statement: kid must be a 32-byte bstr (SHA-256 of the public key)');
  const cwt = hdr.get(15);
  if (!isMap(cwt) || !sameKeys(cwt, [1, 2, 6])) {
    throw new CoseError('statement: cwt claims (15) must hold exactly iss (1), sub (2), iat (6)');
  }
  const [iss, sub, iat] = [cwt.get(1), cwt.get(2), cwt.get(6)];
  if (typeof iss !== 'string' || typeof sub !== 'string') throw new CoseError('statement: cwt iss and sub must be text');
  if (!isInt(iat) || iat < 0) throw new CoseError('statement: cwt iat must be a uint (Unix seconds)');
  return { alg, kid, claims: { iss, sub, iat }, kind };
}

function parseUnprotected(unprotected) {
  const extra = [...unprotected.keys()].filter((k) => k !== LABEL_RECEIPTS);
  if (extra.length) throw new CoseError(`statement: unexpected unprotected header labels: ${extra.join(', ')}`);
  const receipts = unprotected.has(LABEL_RECEIPTS) ? unprotected.get(LABEL_RECEIPTS) : [];
  if (!Array.isArray(receipts) || !receipts.every(isBytes)) {
    throw new CoseError('statement: receipts (label 394) must be an array of bstr');
  }
  return receipts;
}

/** Attach a hash envelope's body: it must hash to the payload and be a record of its kind. */
async function withPreimage(st, preimage) {
  const got = await sha256(preimage);
  if (!equal(got, st.payload)) {
    throw new PreimageMismatchError(`envelope: record body does not match the signed hash: expected sha-256 ${hex(st.payload)}, got ${hex(got)}`);
  }
  const record = recordFromBytes(preimage);
  if (record.kind !== st.kind) {
    throw new CoseError(`envelope: body kind differs from the content type: expected ${st.kind}, got ${record.kind}`);
  }
  if (record.subject.id !== st.claims.sub) throw new CoseError('envelope: cwt sub claim does not match the record subject');
  if (!shouldEnvelope(record)) throw new CoseError(`envelope: a ${record.kind} record of this subject is not enveloped`);
  return { ...st, record };
}

/**
 * Strictly parse a statement (docs/spec.md step 1); `preimage` is a hash envelope's body
 * (a bundle's "preimage"). Returns {protected, payload, signature, alg, kid, claims,
 * record (null for an envelope without its body), receipts, kind, isEnvelope, leaf,
 * leafHash}.
 */
export async function parseStatement(data, preimage = null) {
  if (data.length > MAX_STATEMENT_BYTES) {
    throw new OversizeError(`statement: too large: expected <= ${MAX_STATEMENT_BYTES} bytes, got ${data.length}`);
  }
  const value = decode(data, { what: 'statement', tags: [COSE_SIGN1_TAG] });
  if (!(value instanceof Tagged) || value.tag !== COSE_SIGN1_TAG) {
    throw new CoseError('statement: wrong cose tag: expected 18 (COSE_Sign1)');
  }
  const arr = value.value;
  if (!Array.isArray(arr) || arr.length !== 4) throw new CoseError('statement: cose_sign1 must be an array of 4 items');
  const [prot, unprotected, payload, signature] = arr;
  if (!isBytes(prot) || !isMap(unprotected)) throw new CoseError('statement: protected must be bstr and unprotected a map');
  if (!isBytes(payload)) throw new CoseError('statement: payload must be an attached bstr');
  if (!isBytes(signature) || signature.length !== 64) throw new CoseError('statement: signature must be a 64-byte bstr');
  const receipts = parseUnprotected(unprotected);
  const { alg, kid, claims, kind } = parseProtected(prot);
  const leaf = leafBytes(prot, payload, signature);
  const base = { protected: prot, payload, signature, alg, kid, claims, receipts, leaf, leafHash: await leafHash(leaf) };
  if (kind !== null) {
    if (payload.length !== 32) throw new CoseError(`envelope: payload must be a 32-byte SHA-256, got ${payload.length} bytes`);
    const st = { ...base, record: null, kind, isEnvelope: true };
    return preimage === null ? st : withPreimage(st, preimage);
  }
  if (preimage !== null) throw new FormatError('statement: a record body is given only for a hash envelope');
  const record = recordFromBytes(payload);
  if (claims.sub !== record.subject.id) throw new CoseError('statement: cwt sub claim does not match the record subject');
  if (shouldEnvelope(record)) { // a person's record is never in the clear (ledger/envelope.py)
    throw new NotEnvelopedError(`statement: a ${record.kind} record about a person must be an rfc 9995 hash envelope (its body is kept off the log), got an ordinary cose_sign1 carrying it`);
  }
  return { ...base, record, kind: record.kind, isEnvelope: false };
}

/** The issuer's Ed25519 signature over the statement's Sig_structure (SignatureError). */
export const verifyStatementSignature = (st, publicKey) =>
  verifyEd25519(publicKey, sigStructure(st.protected, st.payload), st.signature, 'statement');
