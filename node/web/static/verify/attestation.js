// The log's attestation about one entry (ledger/attestation.py, docs/formats.md "Bundle"):
// the lifecycle statements it checked, and when it logged the entry. A bundle carries it
// under the optional key "attestation"; it is a COSE_Sign1 by a trusted log key:
//
//   18([protected = {1: -8, 3: "application/vnd.credex.attestation+cbor", 4: log kid},
//       unprotected = {}, payload = {"v": 1, "origin", "size", "root", "leaf", "index",
//       "status": [* leaf hash], "logged_after", "logged_by"}, signature])
//
// parseAttestation() is the strict parser (step 1); whether the key is trusted and what it
// must match is verify.js's call (step 2), as in ledger/verify_steps.py.

import { verifyEd25519 } from './bytes.js';
import { Tagged, decode, isBytes, isInt, isMap } from './cbor.js';
import { ALG_ED25519, ALG_EDDSA, COSE_SIGN1_TAG, sigStructure } from './cose.js';
import { CborError, CoseError, FormatError } from './errors.js';

export const ATTESTATION_CONTENT_TYPE = 'application/vnd.credex.attestation+cbor';
export const MAX_ATTESTED_STATUS = 1024;
export const MAX_ATTESTATION_BYTES = 64 * 1024;
const FIELDS = ['v', 'origin', 'size', 'root', 'leaf', 'index', 'status', 'logged_after', 'logged_by'];

const sameKeys = (m, keys) => m.size === keys.length && keys.every((k) => m.has(k));

function uint(v, name) {
  if (!isInt(v) || v < 0) throw new FormatError(`attestation: ${name} must be a uint`);
  return BigInt(v);
}

function hash(v, name) {
  if (!isBytes(v) || v.length !== 32) throw new FormatError(`attestation: ${name} must be a 32-byte bstr`);
  return v;
}

function body(v) {
  if (!isMap(v) || !sameKeys(v, FIELDS)) {
    throw new FormatError(`attestation: payload must be a map with keys ${[...FIELDS].sort().join(', ')}`);
  }
  if (v.get('v') !== 1) throw new FormatError('attestation: unsupported version: expected 1');
  const [origin, status] = [v.get('origin'), v.get('status')];
  if (typeof origin !== 'string' || !origin) throw new FormatError('attestation: origin must be non-empty text');
  if (!Array.isArray(status) || status.length > MAX_ATTESTED_STATUS) {
    throw new FormatError(`attestation: status must be an array of at most ${MAX_ATTESTED_STATUS} leaf hashes`);
  }
  const [size, index] = [uint(v.get('size'), 'size'), uint(v.get('index'), 'index')];
  if (index >= size) throw new FormatError(`attestation: index out of range: expected < ${size}, got ${index}`);
  return {
    origin,
    size,
    root: hash(v.get('root'), 'root'),
    leaf: hash(v.get('leaf'), 'leaf'),
    index,
    status: status.map((h) => hash(h, 'status entry')),
    loggedAfter: uint(v.get('logged_after'), 'logged_after'),
    loggedBy: uint(v.get('logged_by'), 'logged_by'),
  };
}

/** Strictly parse an attestation (signature not checked); sizes, indices and times as BigInt. */
export function parseAttestation(data) {
  const value = decode(data, { what: 'attestation', maxSize: MAX_ATTESTATION_BYTES, tags: [COSE_SIGN1_TAG] });
  if (!(value instanceof Tagged) || value.tag !== COSE_SIGN1_TAG) {
    throw new CoseError('attestation: wrong cose tag: expected 18 (COSE_Sign1)');
  }
  const arr = value.value;
  if (!Array.isArray(arr) || arr.length !== 4) throw new CoseError('attestation: cose_sign1 must be an array of 4 items');
  const [prot, unprotected, payload, signature] = arr;
  if (!isBytes(prot) || !isMap(unprotected) || unprotected.size !== 0) {
    throw new CoseError('attestation: protected must be bstr and unprotected empty');
  }
  if (!isBytes(payload) || !isBytes(signature)) throw new CoseError('attestation: payload and signature must be bstr');
  if (signature.length !== 64) throw new CoseError('attestation: signature must be 64 bytes');
  let hdr;
  try {
    hdr = decode(prot, { what: 'attestation protected header' });
  } catch (e) {
    if (!(e instanceof CborError)) throw e;
    throw new CoseError(`attestation: protected header is not cbor: ${e.message}`);
  }
  if (!isMap(hdr) || !sameKeys(hdr, [1, 3, 4])) throw new CoseError('attestation: protected header labels: expected [1, 3, 4]');
  if ((hdr.get(1) !== ALG_EDDSA && hdr.get(1) !== ALG_ED25519) || hdr.get(3) !== ATTESTATION_CONTENT_TYPE) {
    throw new CoseError(`attestation: expected alg -8 and content type ${ATTESTATION_CONTENT_TYPE}`);
  }
  const kid = hdr.get(4);
  if (!isBytes(kid) || kid.length !== 32) throw new CoseError('attestation: kid must be a 32-byte bstr');
  return { ...body(decode(payload, { what: 'attestation payload' })), kid, protected: prot, payload, signature };
}

/** SignatureError unless `publicKey` signed the attestation. */
export const verifyAttestationSignature = (att, publicKey) =>
  verifyEd25519(publicKey, sigStructure(att.protected, att.payload), att.signature, 'attestation');
