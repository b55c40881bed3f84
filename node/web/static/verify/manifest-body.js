// The federation manifest body (docs/manifest.md "The body"), parsed strictly: exact key
// sets, the field rules (regions, names, endpoints, 32-byte keys, windows, the TLS chain's
// first certificate), uniqueness, and canonical order, checked by re-encoding the parsed
// body and comparing it with the signed bytes. Pure; manifest.js verifies the chain.

import { compare, equal, hex, sha256 } from './bytes.js';
import { decode, encode, isBytes, isInt, isMap } from './cbor.js';
import { FormatError } from './errors.js';

export const MANIFEST_CONTENT_TYPE = 'application/vnd.credex.manifest+cbor';
export const MAX_MANIFEST_BYTES = 1024 * 1024;
const MAX_CHAIN_PEM_BYTES = 16 * 1024;
const REGION_RE = /^[a-z0-9][a-z0-9-]{0,62}$/;
const NAME_RE = /^[^\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000+]+$/u;
const ENDPOINT_RE = /^(\[[0-9a-fA-F:.]+\]|[A-Za-z0-9.-]+):([0-9]{1,5})$/;

export const fail = (msg) => new FormatError(`manifest: ${msg}`);

// --- ordering (Python's: strings by code point, bytes bytewise, tuples element-wise) -------
export function cmpStr(a, b) {
  const ia = a[Symbol.iterator]();
  const ib = b[Symbol.iterator]();
  for (;;) {
    const x = ia.next();
    const y = ib.next();
    if (x.done || y.done) return (x.done ? 0 : 1) - (y.done ? 0 : 1);
    const d = x.value.codePointAt(0) - y.value.codePointAt(0);
    if (d) return d;
  }
}
const cmpNum = (a, b) => (a < b ? -1 : a > b ? 1 : 0);
const cmpSeq = (cmp) => (a, b) => {
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const d = cmp(a[i], b[i]);
    if (d) return d;
  }
  return a.length - b.length;
};
const cmpStrs = cmpSeq(cmpStr);
const cmpBytesSeq = cmpSeq(compare);
const by = (...parts) => (a, b) => {
  for (const [get, cmp] of parts) {
    const d = cmp(get(a), get(b));
    if (d) return d;
  }
  return 0;
};
const sortedUnique = (values, cmp) => {
  const out = [...values].sort(cmp);
  return out.filter((v, i) => i === 0 || cmp(out[i - 1], v) !== 0);
};

// --- field checks ------------------------------------------------------------------------
const uint = (v, what) => {
  if (!isInt(v) || v < 0 || BigInt(v) >= 1n << 64n) throw fail(`${what} must be a uint`);
  return v;
};
const key32 = (v, what) => {
  if (!isBytes(v) || v.length !== 32) throw fail(`${what} must be a 32-byte bstr`);
  return v;
};
const text = (v, what, re = null) => {
  if (typeof v !== 'string' || !v) throw fail(`${what} must be non-empty text`);
  if (re !== null && !re.test(v)) throw fail(`${what} is malformed`);
  return v;
};
export const list = (v, what) => {
  if (!Array.isArray(v)) throw fail(`${what} must be an array`);
  return v;
};
export function exact(v, keys, optional, what) {
  if (!isMap(v)) throw fail(`${what} must be a map`);
  const required = keys.filter((k) => !optional.includes(k));
  const extra = [...v.keys()].filter((k) => !keys.includes(k));
  if (extra.length || required.some((k) => !v.has(k))) {
    throw fail(`${what} must be a map with keys ${required.join(', ')}`);
  }
  return v;
}
const kinds = (v, what) => {
  const out = list(v, `${what} kinds`).map((k) => text(k, `${what} kind`));
  if (!out.length) throw fail(`${what} kinds must not be empty`);
  return sortedUnique(out, cmpStr);
};
function endpoint(v, what) {
  const m = ENDPOINT_RE.exec(text(v, what));
  if (!m) throw fail(`${what} is malformed`);
  if (!(Number(m[2]) > 0 && Number(m[2]) < 65536)) throw fail(`${what} port out of range`);
  return v;
}
function window(m, what) {
  const from = m.has('valid_from') ? uint(m.get('valid_from'), `${what} valid_from`) : 0;
  const until = m.has('valid_until') && m.get('valid_until') !== null ? uint(m.get('valid_until'), `${what} valid_until`) : null;
  if (until !== null && until <= from) throw fail(`${what}: valid_until must be after valid_from`);
  return [from, until];
}

async function checkTlsChain(pem, certSha256, region) {
  if (pem.length > MAX_CHAIN_PEM_BYTES) throw fail(`member ${region} tls_chain_pem too large`);
  const latin1 = Array.from(pem, (b) => String.fromCharCode(b)).join('');
  const blocks = [...latin1.matchAll(/-----BEGIN CERTIFICATE-----\r?\n([\s\S]+?)-----END CERTIFICATE-----/g)];
  if (blocks.length < 2) throw fail(`member ${region} tls_chain_pem must hold the certificate and its ca`);
  const b64 = blocks[0][1].replace(/[ \t\n\r\v\f]/g, '');
  if (!/^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/.test(b64)) {
    throw fail(`member ${region} tls_chain_pem is not pem`);
  }
  const der = Uint8Array.from(atob(b64), (c) => c.charCodeAt(0));
  if (!equal(await sha256(der), certSha256)) throw fail(`member ${region} tls_chain_pem does not match tls_cert_sha256`);
}

// --- the body ----------------------------------------------------------------------------
function issuerFrom(v) {
  const m = exact(v, ['issuer_id', 'key', 'valid_from', 'valid_until', 'kinds'], [], 'issuer');
  const issuerId = text(m.get('issuer_id'), 'issuer_id', NAME_RE);
  const out = { issuerId, key: key32(m.get('key'), 'issuer key'), validFrom: uint(m.get('valid_from'), 'issuer valid_from') };
  const until = m.get('valid_until');
  out.validUntil = until === null ? null : uint(until, 'issuer valid_until');
  out.kinds = kinds(m.get('kinds'), 'issuer');
  if (out.validUntil !== null && out.validUntil <= out.validFrom) throw fail(`issuer ${issuerId}: valid_until must be after valid_from`);
  return out;
}

async function memberFrom(v) {
  const keys = ['region', 'origin', 'endpoint', 'tls_cert_sha256', 'log_key', 'log_note_name',
    'retired_log_keys', 'witness_name', 'witness_key', 'issuers', 'mtls_endpoint', 'tls_chain_pem'];
  const m = exact(v, keys, ['mtls_endpoint', 'tls_chain_pem'], 'member');
  const region = text(m.get('region'), 'member region', REGION_RE);
  const out = {
    region,
    origin: text(m.get('origin'), `member ${region} origin`, NAME_RE),
    endpoint: endpoint(m.get('endpoint'), `member ${region} endpoint`),
    mtlsEndpoint: m.has('mtls_endpoint') ? endpoint(m.get('mtls_endpoint'), `member ${region} mtls_endpoint`) : null,
    tlsCertSha256: key32(m.get('tls_cert_sha256'), `member ${region} tls_cert_sha256`),
    tlsChainPem: m.has('tls_chain_pem') ? m.get('tls_chain_pem') : null,
    logKey: key32(m.get('log_key'), `member ${region} log_key`),
    logNoteName: text(m.get('log_note_name'), `member ${region} log_note_name`, NAME_RE),
    witnessName: text(m.get('witness_name'), `member ${region} witness_name`, NAME_RE),
    witnessKey: key32(m.get('witness_key'), `member ${region} witness_key`),
  };
  if (out.tlsChainPem !== null) {
    if (!isBytes(out.tlsChainPem)) throw fail('member tls_chain_pem must be a bstr');
    await checkTlsChain(out.tlsChainPem, out.tlsCertSha256, region);
  }
  out.issuers = list(m.get('issuers'), 'issuers').map(issuerFrom)
    .sort(by([(i) => i.issuerId, cmpStr], [(i) => i.validFrom, cmpNum], [(i) => i.key, compare]));
  out.retired = list(m.get('retired_log_keys'), 'retired_log_keys').map((r) => {
    const rm = exact(r, ['key', 'note_name', 'retired_at'], [], 'retired log key');
    return {
      key: key32(rm.get('key'), 'retired log key'),
      noteName: text(rm.get('note_name'), 'retired log key note_name', NAME_RE),
      retiredAt: uint(rm.get('retired_at'), 'retired log key retired_at'),
    };
  }).sort((a, b) => compare(a.key, b.key));
  const seen = new Set();
  for (const i of out.issuers) {
    const id = `${i.issuerId}\u0000${hex(i.key)}`;
    if (seen.has(id)) throw fail(`member ${region}: issuer ${i.issuerId} lists one key twice`);
    seen.add(id);
  }
  out.logKeys = [[out.logKey, out.logNoteName], ...out.retired.map((r) => [r.key, r.noteName])];
  return out;
}

function agreementFrom(v, delegation) {
  const what = delegation ? 'delegation' : 'recognition';
  const keys = delegation ? ['region', 'issuer', 'kinds', 'valid_from', 'valid_until']
    : ['region', 'recognises', 'kinds', 'issuers', 'policies', 'valid_from', 'valid_until'];
  const m = exact(v, keys, keys.slice(3), what);
  const out = { region: text(m.get('region'), `${what} region`, REGION_RE), kinds: kinds(m.get('kinds'), what) };
  if (delegation) {
    out.issuer = text(m.get('issuer'), 'delegation issuer', NAME_RE);
  } else {
    out.recognises = text(m.get('recognises'), 'recognition recognises', REGION_RE);
    if (out.region === out.recognises) throw fail(`recognition: ${out.region} cannot recognise its own region`);
    out.issuers = sortedUnique(list(m.has('issuers') ? m.get('issuers') : [], 'recognition issuers')
      .map((i) => text(i, 'recognition issuer', NAME_RE)), cmpStr);
    out.policies = sortedUnique(list(m.has('policies') ? m.get('policies') : [], 'recognition policies')
      .map((h) => key32(h, 'recognition policy')), compare);
  }
  [out.validFrom, out.validUntil] = window(m, what);
  return out;
}
const untilKey = (x) => (x.validUntil === null ? -1 : x.validUntil);
const recognitionOrder = by([(r) => r.region, cmpStr], [(r) => r.recognises, cmpStr], [(r) => r.validFrom, cmpNum],
  [(r) => r.kinds, cmpStrs], [(r) => r.issuers, cmpStrs], [(r) => r.policies, cmpBytesSeq], [untilKey, cmpNum]);
const delegationOrder = by([(d) => d.region, cmpStr], [(d) => d.issuer, cmpStr], [(d) => d.validFrom, cmpNum],
  [(d) => d.kinds, cmpStrs], [untilKey, cmpNum]);

function unique(values, what) {
  const seen = new Set();
  for (const v of values) {
    const id = typeof v === 'string' ? `s:${v}` : `b:${hex(v)}`;
    if (seen.has(id)) throw fail(`duplicate ${what}`);
    seen.add(id);
  }
}

const withWindow = (m, x) => {
  if (x.validFrom !== 0) m.set('valid_from', x.validFrom);
  if (x.validUntil !== null) m.set('valid_until', x.validUntil);
  return m;
};

/** The canonical CBOR value of a parsed body (to compare with the signed bytes). */
function bodyValue(b) {
  const member = (m) => {
    const out = new Map([
      ['region', m.region], ['origin', m.origin], ['endpoint', m.endpoint], ['tls_cert_sha256', m.tlsCertSha256],
      ['log_key', m.logKey], ['log_note_name', m.logNoteName], ['witness_name', m.witnessName],
      ['witness_key', m.witnessKey],
      ['retired_log_keys', m.retired.map((r) => new Map([['key', r.key], ['note_name', r.noteName], ['retired_at', r.retiredAt]]))],
      ['issuers', m.issuers.map((i) => new Map([['issuer_id', i.issuerId], ['key', i.key], ['valid_from', i.validFrom],
        ['valid_until', i.validUntil], ['kinds', i.kinds]]))],
    ]);
    if (m.mtlsEndpoint !== null) out.set('mtls_endpoint', m.mtlsEndpoint);
    if (m.tlsChainPem !== null) out.set('tls_chain_pem', m.tlsChainPem);
    return out;
  };
  const recognition = (r) => {
    const out = new Map([['region', r.region], ['recognises', r.recognises], ['kinds', r.kinds]]);
    if (r.issuers.length) out.set('issuers', r.issuers);
    if (r.policies.length) out.set('policies', r.policies);
    return withWindow(out, r);
  };
  const out = new Map([
    ['v', 1], ['federation', b.federation], ['version', b.version], ['prev', b.prev], ['issued_at', b.issuedAt],
    ['members', b.members.map(member)], ['quorum', new Map([['k', b.quorum], ['n', b.members.length - 1]])],
    ['admins', b.admins], ['admin_threshold', b.adminThreshold], ['recognitions', b.recognitions.map(recognition)],
  ]);
  if (b.delegations.length) {
    out.set('delegations', b.delegations.map((d) => withWindow(new Map([['region', d.region], ['issuer', d.issuer], ['kinds', d.kinds]]), d)));
  }
  return out;
}

/** Strictly parse a manifest body (exact keys, canonical order, the rules of docs/manifest.md). */
export async function parseBody(data) {
  const v = decode(data, { what: 'manifest', maxSize: MAX_MANIFEST_BYTES });
  if (isMap(v) && v.get('v') !== 1) throw fail('unsupported version: expected 1');
  const keys = ['v', 'federation', 'version', 'prev', 'issued_at', 'members', 'quorum', 'admins', 'admin_threshold', 'recognitions', 'delegations'];
  const m = exact(v, keys, ['delegations'], 'body');
  if (m.has('delegations') && !list(m.get('delegations'), 'delegations').length) throw fail('delegations must be absent, not empty');
  const q = exact(m.get('quorum'), ['k', 'n'], [], 'quorum');
  const prev = m.get('prev');
  const b = {
    federation: text(m.get('federation'), 'federation', NAME_RE),
    version: uint(m.get('version'), 'version'),
    prev: prev === null ? null : key32(prev, 'prev'),
    issuedAt: uint(m.get('issued_at'), 'issued_at'),
    members: [],
    quorum: uint(q.get('k'), 'quorum k'),
    admins: list(m.get('admins'), 'admins').map((a) => key32(a, 'admin key')),
    adminThreshold: uint(m.get('admin_threshold'), 'admin_threshold'),
    recognitions: list(m.get('recognitions'), 'recognitions').map((r) => agreementFrom(r, false)),
    delegations: (m.has('delegations') ? m.get('delegations') : []).map((d) => agreementFrom(d, true)),
  };
  for (const x of list(m.get('members'), 'members')) b.members.push(await memberFrom(x));
  if (b.version < 1) throw fail('version must be at least 1');
  if ((b.version === 1) !== (b.prev === null)) throw fail('prev must be null exactly in version 1');
  b.members.sort((x, y) => cmpStr(x.region, y.region));
  if (!b.members.length) throw fail('at least one member is required');
  unique(b.members.map((x) => x.region), 'member region');
  unique(b.members.map((x) => x.origin), 'member origin');
  unique(b.members.flatMap((x) => x.logKeys.map(([k]) => k)), 'log key');
  unique(b.members.map((x) => x.witnessKey), 'witness key');
  unique(b.members.map((x) => x.witnessName), 'witness name');
  const owner = new Map();
  const ids = new Map();
  for (const x of b.members) {
    for (const i of x.issuers) {
      if ((owner.get(hex(i.key)) ?? i.issuerId) !== i.issuerId) throw fail('one issuer key is listed under two issuer ids');
      owner.set(hex(i.key), i.issuerId);
      if ((ids.get(i.issuerId) ?? x.region) !== x.region) throw fail(`issuer ${i.issuerId} is listed under two members`);
      ids.set(i.issuerId, x.region);
    }
  }
  const admins = sortedUnique(b.admins, compare);
  if (admins.length !== b.admins.length || !admins.length) throw fail('admins must be one or more distinct keys');
  b.admins = admins;
  if (!(b.adminThreshold >= 1 && b.adminThreshold <= admins.length)) throw fail('admin_threshold out of range');
  const regions = new Set(b.members.map((x) => x.region));
  for (const r of b.recognitions) {
    if (!regions.has(r.region) || !regions.has(r.recognises)) throw fail('recognition names a region that is not a member');
  }
  const issuerIds = new Set(b.members.flatMap((x) => x.issuers.map((i) => i.issuerId)));
  for (const d of b.delegations) {
    if (!regions.has(d.region)) throw fail('delegation names a region that is not a member');
    if (!issuerIds.has(d.issuer)) throw fail('delegation names an issuer no member lists');
  }
  for (const [items, order, what] of [[b.recognitions, recognitionOrder, 'recognition'], [b.delegations, delegationOrder, 'delegation']]) {
    items.sort(order);
    for (let i = 1; i < items.length; i++) if (order(items[i - 1], items[i]) === 0) throw fail(`duplicate ${what}`);
  }
  if (uint(q.get('n'), 'quorum n') !== b.members.length - 1) throw fail('quorum n must be the member count - 1');
  if (!equal(encode(bodyValue(b)), data)) throw fail('members, issuers, admins or kinds are not in canonical order');
  return b;
}
