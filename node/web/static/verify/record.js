// The credit record (FORMATS.md "record", docs/records.md, docs/formats.md "Records"):
// validation of a decoded record map, organisation identifiers (USCC, HK CR No., HK BRN)
// and keyed-hash person subjects. Pure: no hashing, no signatures.

import { decode, isBytes, isInt, isMap } from './cbor.js';
import { IdentifierError, RecordError, UnknownKindError } from './errors.js';

export const MAX_RECORD_BYTES = 48 * 1024;
export const SALT_BYTES = 16;
import { KIND_SPECS, ON_LOG_KINDS, STATUS_KINDS, SUBJECTLESS_KINDS } from './kinds.js';

export { KIND_SPECS, ON_LOG_KINDS, STATUS_KINDS, SUBJECTLESS_KINDS };
export const SUBJECTLESS_PREFIX = 'hmac:00000000:';
export const KINDS = [...KIND_SPECS.keys()].sort();

const PERSON_ID_RE = /^hmac:[0-9a-f]{8}:[0-9a-f]{64}$/;
const REGION_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
// Unicode White_Space plus U+001C-U+001F (what Python's str.isspace counts)
const WS_RE = /[\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000]+/gu;

const USCC_CHARSET = '0123456789ABCDEFGHJKLMNPQRTUWXY';
/** The three published Fujian pilot codes whose check character fails GB 32100. */
export const LEGACY_USCCS = ['91350211M0000XUF46', '91350100M0001TGQXM', '91350203M0001FUE2P'];

const squash = (v) => v.replace(WS_RE, '').toUpperCase();

/** The GB 32100 check character of 17 characters from the USCC set. */
export function usccCheckChar(first17) {
  let total = 0;
  let w = 1;
  for (const c of first17) {
    total += USCC_CHARSET.indexOf(c) * w;
    w = (w * 3) % 31;
  }
  return USCC_CHARSET[(31 - (total % 31)) % 31];
}

function validateUscc(code) {
  const chars = [...code];
  for (let i = 1; i <= 17; i++) {
    const c = chars[i - 1];
    if (!USCC_CHARSET.includes(c)) throw new IdentifierError(`uscc: invalid character at position ${i}`);
    if (i >= 3 && i <= 8 && !/^[0-9]$/.test(c)) {
      throw new IdentifierError(`uscc: invalid character at position ${i}: expected a digit (positions 3-8 are the region code)`);
    }
  }
  const expected = usccCheckChar(chars.slice(0, 17));
  if (expected !== chars[17] && !LEGACY_USCCS.includes(code)) {
    throw new IdentifierError(`uscc: check character mismatch at position 18: expected ${expected}, got ${chars[17]}`);
  }
  return code;
}

function validateHkCr(code) {
  const rest = code.slice('HK-CR:'.length * Number(code.startsWith('HK-CR:')));
  if (!/^(?:[0-9]{8}|[FC][0-9]{7}|MF[0-9]{6})$/.test(rest)) {
    throw new IdentifierError('hk cr no.: invalid format: expected 8 digits, F or C + 7 digits, or MF + 6 digits');
  }
  return `HK-CR:${rest}`;
}

function validateHkBrn(code) {
  const rest = code.slice('HK-BR:'.length * Number(code.startsWith('HK-BR:')));
  const m = /^([0-9]{8})(?:-([0-9]{3})(?:-([0-9]{2})-([0-9]{2})-([0-9]))?)?$/.exec(rest);
  if (!m) throw new IdentifierError('hk brn: invalid format: expected 8 digits, optionally -NNN branch and -MM-YY-D certificate suffix');
  if (m[3] !== undefined && !(Number(m[3]) >= 1 && Number(m[3]) <= 12)) {
    throw new IdentifierError(`hk brn: invalid certificate expiry month: expected 01-12, got ${m[3]}`);
  }
  return `HK-BR:${m[1]}-${m[2] ?? '000'}`;
}

/** The canonical form of an organisation id (USCC, HK CR No., HK BRN); IdentifierError. */
export function canonicalOrgId(value) {
  const code = squash(value);
  if (code.startsWith('HK-CR:')) return validateHkCr(code);
  if (code.startsWith('HK-BR:')) return validateHkBrn(code);
  if ([...code].length === 18) return validateUscc(code);
  if (code.includes('-')) return validateHkBrn(code);
  if (code.startsWith('F') || code.startsWith('C') || code.startsWith('MF')) return validateHkCr(code);
  if (/^[0-9]{8}$/.test(code)) throw new IdentifierError('org id: ambiguous 8-digit number: expected a HK-CR: or HK-BR: prefix');
  throw new IdentifierError('org id: unrecognised format: expected an 18-character uscc or a HK-CR:/HK-BR: number');
}

function checkSubject(type, id) {
  if (type === 'org') {
    if (canonicalOrgId(id) !== id) {
      throw new RecordError('record: organisation subject id is not in canonical form (upper case, no spaces)');
    }
  } else if (type === 'person') {
    if (!PERSON_ID_RE.test(id)) {
      throw new RecordError('record: person subject id must be a keyed hash hmac:<keyid>:<hex>; raw identity numbers are never accepted');
    }
  } else {
    throw new RecordError('record: subject type must be org or person');
  }
}

const isType = (v, t) =>
  t === 'text' ? typeof v === 'string'
    : t === 'int' ? isInt(v)
      : t === 'list' ? Array.isArray(v)
        : t === 'map' ? isMap(v)
          : isBytes(v);
const isUint64 = (v) => isInt(v) && BigInt(v) >= 0n && BigInt(v) < 1n << 64n;
const RECORD_KEYS = ['v', 'kind', 'region', 'subject', 'body', 'valid_from', 'valid_until', 'refs', 'salt'];

/**
 * A validated record from its decoded map: {kind, region, subject: {type, id}, body,
 * validFrom, validUntil, refs, salt}. Throws RecordError, UnknownKindError or IdentifierError.
 */
export function recordFromValue(value) {
  if (!isMap(value)) throw new RecordError('record: expected a map');
  if (value.get('v') !== 1) throw new RecordError('record: unsupported version: expected 1');
  const extra = [...value.keys()].filter((k) => !RECORD_KEYS.includes(k)).map(String).sort();
  if (extra.length) throw new RecordError(`record: unexpected fields: ${extra.join(', ')}`);
  for (const name of ['kind', 'region', 'subject', 'body', 'valid_from']) {
    if (!value.has(name)) throw new RecordError(`record: missing required field '${name}'`);
  }
  const kind = value.get('kind');
  const region = value.get('region');
  const subj = value.get('subject');
  const body = value.get('body');
  if (typeof kind !== 'string' || typeof region !== 'string') throw new RecordError('record: kind and region must be text');
  if (!isMap(subj) || subj.size !== 2 || !subj.has('type') || !subj.has('id')) {
    throw new RecordError('record: subject must be a map with exactly type and id');
  }
  const type = subj.get('type');
  const id = subj.get('id');
  if (typeof type !== 'string' || typeof id !== 'string') throw new RecordError('record: subject type and id must be text');
  if (!isMap(body)) throw new RecordError('record: body must be a map');
  const refs = value.has('refs') ? value.get('refs') : [];
  if (!Array.isArray(refs)) throw new RecordError('record: refs must be an array of leaf hashes');
  if (value.has('valid_until') && value.get('valid_until') === null) {
    throw new RecordError('record: valid_until, when present, must be a uint');
  }
  if (value.has('refs') && refs.length === 0) throw new RecordError('record: refs, when present, must not be empty');
  checkSubject(type, id);
  const s = KIND_SPECS.get(kind);
  if (s === undefined) throw new UnknownKindError(`record: unknown kind ${JSON.stringify(kind)}`);
  if (id.startsWith(SUBJECTLESS_PREFIX) !== SUBJECTLESS_KINDS.includes(kind)) {
    throw new RecordError(`record: the reserved subject key id 00000000 is for ${SUBJECTLESS_KINDS.join(', ')} only, and those kinds must use it`);
  }
  if (!REGION_RE.test(region)) throw new RecordError('record: region id invalid');
  for (const name of Object.keys(s.required)) {
    if (!body.has(name)) throw new RecordError(`record: ${kind} body is missing required field '${name}'`);
  }
  for (const [name, v] of body) {
    const t = typeof name !== 'string' ? undefined
      : Object.hasOwn(s.required, name) ? s.required[name]
        : Object.hasOwn(s.optional, name) ? s.optional[name] : undefined;
    if (t === undefined) {
      throw new RecordError(`record: ${kind} body has unknown field ${JSON.stringify(String(name))}`);
    }
    if (!isType(v, t)) throw new RecordError(`record: ${kind} body field '${name}' has wrong type: expected ${t}`);
  }
  const validFrom = value.get('valid_from');
  const validUntil = value.has('valid_until') ? value.get('valid_until') : null;
  if (!isUint64(validFrom)) throw new RecordError('record: valid_from must be a uint (Unix seconds)');
  if (validUntil !== null && !isUint64(validUntil)) throw new RecordError('record: valid_until must be a uint (Unix seconds)');
  if (validUntil !== null && validUntil < validFrom) throw new RecordError('record: valid_until is before valid_from');
  if (s.needsRefs && refs.length === 0) throw new RecordError(`record: ${kind} needs refs (the leaf hashes it depends on)`);
  for (const r of refs) {
    if (!isBytes(r) || r.length !== 32) throw new RecordError('record: every ref must be a 32-byte leaf hash');
  }
  const salt = value.has('salt') ? value.get('salt') : null;
  if (value.has('salt')) {
    if (!isBytes(salt) || salt.length !== SALT_BYTES) throw new RecordError(`record: salt must be ${SALT_BYTES} bytes`);
    if (type !== 'person') throw new RecordError("record: only a person's record carries a salt");
  }
  return { kind, region, subject: { type, id }, body, validFrom, validUntil, refs, salt };
}

/** Decode and validate record bytes (deterministic CBOR, at most 48 KiB). */
export function recordFromBytes(data) {
  return recordFromValue(decode(data, { what: 'record', maxSize: MAX_RECORD_BYTES }));
}
