// The federation manifest chain as trust (docs/manifest.md): parse each version (a tagged
// COSE_Sign, 98; its body through manifest-body.js), verify the chain from version 1 (an
// optional pinned hash of version 1, each version signed by admin_threshold of its own
// admins and, from version 2, of the previous version's admins; prev hashes; one
// federation name; issued_at never going back), then reduce it to the verifier's policy:
// issuer keys with their windows (a key a later version drops keeps its window closed at
// that version's issued_at), every current and retired log key of every version, and for
// an origin the latest version's other members' witnesses with quorum k. Agreements and
// delegations are parsed and checked but not used: the browser replays no derivation and
// evaluates no lifecycle.

import { compare, equal, hex, sha256, verifyEd25519 } from './bytes.js';
import { Tagged, decode, encode, isBytes, isMap } from './cbor.js';
import { CoseError, PolicyError, VerificationError } from './errors.js';
import { MANIFEST_CONTENT_TYPE, MAX_MANIFEST_BYTES, exact, fail, list, parseBody } from './manifest-body.js';
import { makePolicy } from './policy.js';

export { parseBody };
export const COSE_SIGN_TAG = 98;
export const CHAIN_FORMAT = 'credex-manifest-chain/1';
export const MAX_CHAIN_BYTES = 64 * 1024 * 1024;
const BODY_PROTECTED = encode(new Map([[3, MANIFEST_CONTENT_TYPE]]));

// --- one signed version ------------------------------------------------------------------
/** Parse a COSE_Sign version: {payload, hash, signatures: [{kid, protected, signature}]}. */
export async function parseSignedManifest(data) {
  const v = decode(data, { what: 'manifest', maxSize: MAX_MANIFEST_BYTES, tags: [COSE_SIGN_TAG] });
  if (!(v instanceof Tagged) || v.tag !== COSE_SIGN_TAG) throw new CoseError('manifest: wrong cose tag: expected 98 (COSE_Sign)');
  const arr = v.value;
  if (!Array.isArray(arr) || arr.length !== 4) throw new CoseError('manifest: cose_sign must be an array of 4 items');
  const [prot, unprotected, payload, sigs] = arr;
  if (!isBytes(prot) || !equal(prot, BODY_PROTECTED) || !isMap(unprotected) || unprotected.size) {
    throw new CoseError(`manifest: headers must be {3: '${MANIFEST_CONTENT_TYPE}'} and {}`);
  }
  if (!isBytes(payload) || !Array.isArray(sigs)) throw new CoseError('manifest: payload must be a bstr and signatures an array');
  const signatures = [];
  for (const s of sigs) {
    if (!Array.isArray(s) || s.length !== 3 || !isMap(s[1]) || s[1].size) throw new CoseError('manifest: each signature must be [protected, {}, signature]');
    if (!isBytes(s[0]) || !isBytes(s[2]) || s[2].length !== 64) throw new CoseError('manifest: signature must be a 64-byte bstr');
    const hdr = decode(s[0], { what: 'manifest signature header' });
    if (!isMap(hdr) || hdr.size !== 2 || hdr.get(1) !== -8 || !hdr.has(4)) throw new CoseError('manifest: signature header must be {1: -8 (EdDSA), 4: kid}');
    if (!isBytes(hdr.get(4)) || hdr.get(4).length !== 32) throw new CoseError('manifest: signature kid must be a 32-byte bstr');
    signatures.push({ kid: hdr.get(4), protected: s[0], signature: s[2] });
  }
  const sorted = [...signatures].sort((a, b) => compare(a.kid, b.kid));
  for (let i = 1; i < sorted.length; i++) if (equal(sorted[i - 1].kid, sorted[i].kid)) throw fail('duplicate admin signature');
  const again = encode(new Tagged(COSE_SIGN_TAG, [BODY_PROTECTED, new Map(), payload,
    sorted.map((s) => [encode(new Map([[1, -8], [4, s.kid]])), new Map(), s.signature])]));
  if (!equal(again, data)) throw new CoseError('manifest: signatures are not sorted by kid');
  return { payload, hash: await sha256(payload), signatures: sorted };
}

/** The admins among `admins` whose signature is on `signed` (a bad one: SignatureError). */
async function validSigners(signed, admins) {
  let n = 0;
  for (const a of admins) {
    const kid = await sha256(a);
    const s = signed.signatures.find((x) => equal(x.kid, kid));
    if (s === undefined) continue;
    const sig = encode(['Signature', BODY_PROTECTED, s.protected, new Uint8Array(0), signed.payload]);
    await verifyEd25519(a, sig, s.signature, `manifest: signature by admin ${hex(kid).slice(0, 16)}…`);
    n++;
  }
  return n;
}

async function requireSigners(signed, admins, threshold, whose) {
  const n = await validSigners(signed, admins);
  if (n < threshold) throw new PolicyError(`manifest: not enough admin signatures: expected ${threshold} of ${whose}, got ${n}`);
}

/** Parse a chain file ({"format": "credex-manifest-chain/1", "versions": [+ bstr]}) or one version. */
export async function decodeChain(data) {
  const v = decode(data, { what: 'manifest chain', maxSize: MAX_CHAIN_BYTES, tags: [COSE_SIGN_TAG] });
  if (v instanceof Tagged) return [await parseSignedManifest(data)];
  const m = exact(v, ['format', 'versions'], [], 'chain file');
  if (m.get('format') !== CHAIN_FORMAT) throw fail(`chain file format: expected '${CHAIN_FORMAT}'`);
  const items = list(m.get('versions'), 'chain versions');
  if (!items.length || !items.every(isBytes)) throw fail('chain versions must be one or more bstr');
  const out = [];
  for (const x of items) out.push(await parseSignedManifest(x));
  return out;
}

/** Verify versions 1..n (docs/manifest.md "The chain"); resolves to the parsed bodies. */
export async function verifyManifestChain(versions, { pinnedHash = null } = {}) {
  if (!versions.length) throw new VerificationError('manifest: the chain is empty');
  const first = versions[0];
  if (pinnedHash !== null && !equal(first.hash, pinnedHash)) {
    throw new VerificationError(`manifest: version 1 is not the pinned one: expected ${hex(pinnedHash)}, got ${hex(first.hash)}`);
  }
  let prev = await parseBody(first.payload);
  if (prev.version !== 1) throw new VerificationError(`manifest: the chain must start at version 1, got ${prev.version}`);
  await requireSigners(first, prev.admins, prev.adminThreshold, "version 1's admins");
  const bodies = [prev];
  let prevHash = first.hash;
  for (const signed of versions.slice(1)) {
    const n = prev.version + 1;
    try {
      await requireSigners(signed, prev.admins, prev.adminThreshold, `version ${prev.version}'s admins`);
    } catch (e) {
      if (e instanceof PolicyError) throw new PolicyError(`${e.message} (version ${n})`);
      throw e;
    }
    const body = await parseBody(signed.payload);
    if (body.version !== n) throw new VerificationError(`manifest: versions do not follow: expected ${n}, got ${body.version}`);
    if (body.prev === null || !equal(body.prev, prevHash)) {
      throw new VerificationError(`manifest: version ${n} does not chain: prev expected ${hex(prevHash)}`);
    }
    if (body.federation !== prev.federation) throw new VerificationError(`manifest: version ${n} renames the federation`);
    if (body.issuedAt < prev.issuedAt) throw new VerificationError(`manifest: version ${n} is issued before version ${n - 1}`);
    await requireSigners(signed, body.admins, body.adminThreshold, `version ${n}'s own admins`);
    bodies.push(body);
    prev = body;
    prevHash = signed.hash;
  }
  return bodies;
}

/** The verifier's policy from verified bodies (docs/manifest.md "As trust policy"). */
export async function manifestPolicy(bodies, hash) {
  const latest = bodies[bodies.length - 1];
  const issuers = new Map();
  let current = new Map();
  const logs = new Map();
  for (const body of bodies) {
    const listed = new Map();
    const listedLogs = new Map();
    for (const m of body.members) {
      for (const i of m.issuers) {
        listed.set(`${i.issuerId}\u0000${hex(i.key)}`, {
          issuerId: i.issuerId, region: m.region, publicKey: i.key, kid: await sha256(i.key),
          validFrom: i.validFrom, validUntil: i.validUntil, kinds: new Set(i.kinds),
        });
      }
      // the current log key is open-ended; a retired one is closed at its retired_at
      const kid = await sha256(m.logKey);
      listedLogs.set(hex(kid), { origin: m.origin, noteKeyName: m.logNoteName, publicKey: m.logKey, kid, validUntil: null });
      for (const r of m.retired) {
        const rkid = await sha256(r.key);
        listedLogs.set(hex(rkid), { origin: m.origin, noteKeyName: r.noteName, publicKey: r.key, kid: rkid, validUntil: r.retiredAt });
      }
    }
    // a log key this version no longer lists (its member removed or replaced) is closed
    // at this version's issued_at (docs/manifest.md "As trust policy")
    for (const [k, log] of logs) {
      if (!listedLogs.has(k) && (log.validUntil === null || log.validUntil > body.issuedAt)) {
        logs.set(k, { ...log, validUntil: body.issuedAt });
      }
    }
    for (const [k, v] of listedLogs) logs.set(k, v);
    for (const [k, old] of issuers) {
      if (!listed.has(k) && current.has(k)) {
        let until = body.issuedAt;
        if (old.validUntil !== null && old.validUntil < until) until = old.validUntil;
        issuers.set(k, { ...old, validUntil: until > old.validFrom ? until : old.validFrom });
      }
    }
    for (const [k, v] of listed) issuers.set(k, v);
    current = listed;
  }
  const witnesses = latest.members.map((m) => [m.origin, { name: m.witnessName, publicKey: m.witnessKey }]);
  return makePolicy({
    kind: 'credex-manifest',
    logs: [...logs.values()],
    issuers: [...issuers.values()],
    witnessesFor: (origin) => witnesses.filter(([o]) => o !== origin).map(([, w]) => w),
    quorumFor: () => latest.quorum,
    info: {
      federation: latest.federation,
      version: latest.version,
      hash: hex(hash),
      quorum: latest.quorum,
      members: latest.members.map((m) => m.region),
      recognitions: latest.recognitions.length,
      delegations: latest.delegations.length,
    },
  });
}

/** A chain file's bytes -> verified policy (pin: version 1's 32-byte hash, or null). */
export async function loadManifestChain(data, { pinnedHash = null } = {}) {
  const versions = await decodeChain(data);
  const bodies = await verifyManifestChain(versions, { pinnedHash });
  return manifestPolicy(bodies, versions[versions.length - 1].hash);
}
