// Trust material: the credex-trust/1 JSON file (docs/formats.md "Trust file") and, through
// manifest.js, the federation manifest chain (docs/manifest.md). Both become one policy
// object the verifier asks (docs/spec.md §3 steps 2, 4, 6):
//
//   issuersForKid(kid) -> [{issuerId, region, publicKey, kid, validFrom, validUntil, kinds}]
//   logForKid(kid)     -> {origin, noteKeyName, publicKey, kid} | null
//   witnessesFor(origin) -> [{name, publicKey}]
//   quorumFor(origin)  -> integer
//
// loadTrust() tells the two apart as `credex verify --trust` does: a file whose first byte
// after ASCII white space is "{" is JSON, anything else a manifest chain (CBOR).

import { equal, fromHex, fromUtf8, sha256 } from './bytes.js';
import { FormatError } from './errors.js';
import { loadManifestChain } from './manifest.js';
import { makePolicy } from './policy.js';
import { noteVerifierKey } from './note.js';

export const TRUST_FORMAT = 'credex-trust/1';
export const MAX_TRUST_BYTES = 1024 * 1024;

const fail = (msg) => new FormatError(`trust: ${msg}`);

/** Refuse JSON numbers that are not integers (1.0, 1e3): JSON.parse would hide them. */
function checkIntegerNumbers(text) {
  const tokens = text.replace(/"(?:[^"\\]|\\.)*"/g, '""').match(/-?[0-9][0-9.eE+-]*/g) ?? [];
  if (tokens.some((t) => /[.eE]/.test(t))) throw fail('numbers must be integers');
}

function exactKeys(obj, required, optional, what) {
  if (typeof obj !== 'object' || obj === null || Array.isArray(obj)) throw fail(`${what} must be an object`);
  for (const k of required) if (!Object.hasOwn(obj, k)) throw fail(`${what} is missing ${JSON.stringify(k)}`);
  const extra = Object.keys(obj).filter((k) => !required.includes(k) && !optional.includes(k));
  if (extra.length) throw fail(`${what} has unexpected keys: ${extra.sort().join(', ')}`);
  return obj;
}

function text(obj, key, what) {
  const v = obj[key];
  if (typeof v !== 'string' || !v) throw fail(`${what} needs a non-empty text ${JSON.stringify(key)}`);
  return v;
}

function hex32(value, what) {
  const out = typeof value === 'string' && value.length === 64 ? fromHex(value) : null;
  if (out === null) throw fail(`${what} must be 64 hex characters`);
  return out;
}

const list = (v, what) => {
  if (!Array.isArray(v)) throw fail(`${what} must be an array`);
  return v;
};

async function keyWithKid(obj, what) {
  const publicKey = hex32(obj.public_key, `${what} public_key`);
  const kid = await sha256(publicKey);
  if (Object.hasOwn(obj, 'kid') && !equal(hex32(obj.kid, `${what} kid`), kid)) {
    throw fail(`${what} kid does not match its public key`);
  }
  return { publicKey, kid };
}

/** Parse a credex-trust/1 document (text) into a policy; FormatError when malformed. */
export async function parseTrustFile(textValue) {
  let doc;
  try {
    checkIntegerNumbers(textValue);
    doc = JSON.parse(textValue);
  } catch (e) {
    if (e instanceof FormatError) throw e;
    throw fail('not a json document');
  }
  exactKeys(doc, ['format', 'logs', 'issuers'], ['witnesses', 'quorum'], 'document');
  if (doc.format !== TRUST_FORMAT) throw fail(`expected format ${JSON.stringify(TRUST_FORMAT)}`);
  const logs = [];
  for (const g of list(doc.logs, 'logs')) {
    exactKeys(g, ['origin', 'note_key_name', 'public_key'], ['kid', 'note_verifier_key'], 'log');
    const { publicKey, kid } = await keyWithKid(g, 'log');
    const log = { origin: text(g, 'origin', 'log'), noteKeyName: text(g, 'note_key_name', 'log'), publicKey, kid };
    if (Object.hasOwn(g, 'note_verifier_key') && g.note_verifier_key !== await noteVerifierKey(log.noteKeyName, publicKey)) {
      throw fail('log note_verifier_key does not match its note_key_name and public_key');
    }
    if (logs.some((o) => equal(o.kid, kid))) throw fail('a log key is listed twice');
    logs.push(log);
  }
  const issuers = [];
  for (const i of list(doc.issuers, 'issuers')) {
    exactKeys(i, ['issuer_id', 'region', 'public_key', 'valid_from', 'valid_until', 'kinds'], ['kid'], 'issuer');
    const { publicKey, kid } = await keyWithKid(i, 'issuer');
    const [vf, vu, kinds] = [i.valid_from, i.valid_until, i.kinds];
    if (!Number.isSafeInteger(vf) || (vu !== null && !Number.isSafeInteger(vu))) {
      throw fail('issuer valid_from/valid_until must be integers');
    }
    if (!Array.isArray(kinds) || !kinds.every((k) => typeof k === 'string')) throw fail('issuer kinds must be a list of text');
    issuers.push({
      issuerId: text(i, 'issuer_id', 'issuer'),
      region: text(i, 'region', 'issuer'),
      publicKey,
      kid,
      validFrom: vf,
      validUntil: vu,
      kinds: new Set(kinds),
    });
  }
  const witnesses = [];
  for (const w of list(Object.hasOwn(doc, 'witnesses') ? doc.witnesses : [], 'witnesses')) {
    exactKeys(w, ['name', 'public_key'], [], 'witness');
    const wit = { name: text(w, 'name', 'witness'), publicKey: hex32(w.public_key, 'witness key') };
    if (witnesses.some((o) => o.name === wit.name || equal(o.publicKey, wit.publicKey))) {
      throw fail('a witness name or key is listed twice (it would count twice toward the quorum)');
    }
    witnesses.push(wit);
  }
  const quorum = Object.hasOwn(doc, 'quorum') ? doc.quorum : 0;
  if (!Number.isSafeInteger(quorum) || quorum < 0 || quorum > witnesses.length) {
    throw fail('quorum must be an integer between 0 and the witness count');
  }
  return makePolicy({
    kind: TRUST_FORMAT,
    logs,
    issuers,
    witnessesFor: () => witnesses,
    quorumFor: () => quorum,
    info: { witnesses: witnesses.length, quorum },
  });
}

/**
 * Trust from a file's bytes: credex-trust/1 JSON, or a manifest chain (CBOR) verified
 * from version 1 (`pinnedHash`, 32 bytes or 64 hex, checks version 1's hash).
 */
export async function loadTrust(data, { pinnedHash = null } = {}) {
  if (data.length > MAX_TRUST_BYTES * 64) throw fail('file too large');
  let at = 0;
  while (at < data.length && [0x20, 0x09, 0x0a, 0x0b, 0x0c, 0x0d].includes(data[at])) at++;
  if (data[at] === 0x7b) {
    if (data.length > MAX_TRUST_BYTES) throw fail(`file too large: expected <= ${MAX_TRUST_BYTES} bytes`);
    const t = fromUtf8(data);
    if (t === null) throw fail('trust file is not utf-8 json');
    return parseTrustFile(t);
  }
  const pin = typeof pinnedHash === 'string' ? fromHex(pinnedHash) : pinnedHash;
  if (pinnedHash !== null && (pin === null || pin.length !== 32)) throw fail('pinned hash must be 32 bytes (64 hex)');
  return loadManifestChain(data, { pinnedHash: pin });
}
