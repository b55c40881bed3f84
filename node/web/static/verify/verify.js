// Offline verification of a .credex bundle in the browser, step by step as docs/spec.md §3
// numbers them, with nothing trusted but the trust material passed in.
//
//   1 decode      bundle, statement, record (or envelope + preimage), receipt, checkpoint
//   2 issuer      the statement's kid is a trusted issuer key of `iss`, valid at iat, for the
//                 kind, of the record's region; the log's attestation (if carried) is a
//                 trusted log's, about this entry; the key was valid when the entry was
//                 logged (the attested window narrowed by the witnesses: logtime.js)
//   3 signature   the issuer's Ed25519 signature over the COSE Sig_structure
//   4 inclusion   the receipt's log kid is a trusted log; leaf + path give a root
//   5 receipt     the log signed that root
//   6 checkpoint  origin, log note signature, same size and root, witness quorum
//   7 status      an envelope without its body stops here (BodyNotHeldError); each status
//                 bundle passes 1-6, holds its record and names this record (refs[0]); the
//                 log's attestation, when carried, lists exactly the statements carried of
//                 its log and range (StatusNotProvenError); the status proof, when carried,
//                 proves them against the checkpoint's index root (statusproof.js:
//                 "status proven as of checkpoint N"); each is of the same subject and
//                 a status kind. The lifecycle statements found are REPORTED, not
//                 evaluated: no lifecycle engine runs in the browser.
//   8 derivation  a derived record's sources and policy pass 1-6 (each source's status
//                 bundles as in 7), refs are the source leaf hashes then the policy's, the
//                 policy is a policy.conversion (a policy.rule for an evaluation: a
//                 derived.grade or derived.decision, which may rest on no evidence); the
//                 replay (and recognition) is NOT done in the browser, and the result says so.
//
// verifyBundle() never throws for bad input: the result names the first failing step and
// its error (step number, class, code, one-line message). Browser-compatible: WebCrypto only.

import { parseAttestation, verifyAttestationSignature } from './attestation.js';
import { equal, hex } from './bytes.js';
import { Tagged, decode, isBytes, isMap } from './cbor.js';
import { parseStatement, verifyStatementSignature } from './cose.js';
import {
  BodyNotHeldError,
  CheckpointError,
  CredexError,
  DerivationMismatchError,
  FormatError,
  KeyValidityError,
  KindNotAuthorisedError,
  OversizeError,
  RegionMismatchError,
  SignatureError,
  StatusNotProvenError,
  UntrustedKeyError,
  VerificationError,
  WrongLogError,
} from './errors.js';
import { loggedWindow, narrowed, requireKeyValidWhenLogged } from './logtime.js';
import { parseSignedNote, verifyCosignature, verifyNoteSignature } from './note.js';
import { parseReceipt, receiptRoot, verifyReceiptSignature } from './receipt.js';
import { STATUS_KINDS } from './record.js';
import { checkStatusProof } from './statusproof.js';

export const STEPS = [
  [1, 'decode'], [2, 'issuer'], [3, 'signature'], [4, 'inclusion'],
  [5, 'receipt'], [6, 'checkpoint'], [7, 'status'], [8, 'derivation'],
];
const NAMES = new Map(STEPS);
export const MAX_BUNDLE_BYTES = 4 * 1024 * 1024;
export const MAX_BUNDLE_DEPTH = 4;
/** Bundles in one file, the outer one and every nested one. */
export const MAX_BUNDLE_COUNT = 1024;
const BUNDLE_FIELDS = ['v', 'statement', 'checkpoint', 'status', 'sources', 'policy', 'preimage', 'attestation', 'status_proof'];
/** Kinds made by a rule policy (ledger/verify.py _EVALUATION_KINDS). */
const EVALUATION_KINDS = ['derived.decision', 'derived.grade'];
export const NOT_DONE_STATUS = 'lifecycle status evaluation (docs/spec.md step 7) is not done in the browser';
export const NOT_DONE_REPLAY = 'the conversion replay and recognition check (docs/spec.md step 8) are not done in the browser';
export const NOT_DONE_RULE = 'the rule replay of an evaluation (docs/spec.md step 8) is not done in the browser';

const short = (bytes) => `${hex(bytes).slice(0, 16)}…`;

/** A JSON-friendly copy of a decoded value: maps as objects, bytes as hex, big ints as text. */
export function plain(v) {
  if (v instanceof Map) return Object.fromEntries([...v].map(([k, x]) => [String(k), plain(x)]));
  if (Array.isArray(v)) return v.map(plain);
  if (isBytes(v)) return hex(v);
  if (typeof v === 'bigint') return v.toString();
  if (v instanceof Tagged) return { tag: v.tag, value: plain(v.value) };
  return v;
}

/** A bundle from its decoded map (docs/formats.md "Bundle"); FormatError when malformed. */
export function bundleFromValue(value, depth = 0, count = { n: 0 }) {
  if (depth > MAX_BUNDLE_DEPTH) throw new FormatError(`bundle: nested too deep: expected <= ${MAX_BUNDLE_DEPTH} levels`);
  count.n += 1;
  if (count.n > MAX_BUNDLE_COUNT) {
    throw new OversizeError(`bundle: too many nested bundles: expected <= ${MAX_BUNDLE_COUNT} in one file`);
  }
  if (!isMap(value)) throw new FormatError('bundle: expected a map');
  if (value.get('v') !== 1) throw new FormatError('bundle: unsupported version: expected 1');
  const extra = [...value.keys()].filter((k) => !BUNDLE_FIELDS.includes(k)).map(String).sort();
  if (extra.length) throw new FormatError(`bundle: unexpected fields: ${extra.join(', ')}`);
  const [statement, checkpoint] = [value.get('statement'), value.get('checkpoint')];
  if (!isBytes(statement) || typeof checkpoint !== 'string') {
    throw new FormatError('bundle: needs statement (bstr) and checkpoint (tstr)');
  }
  const out = {
    statement, checkpoint, status: [], sources: [], policy: null, preimage: null, attestation: null, statusProof: null,
  };
  for (const name of ['status', 'sources']) {
    const items = value.has(name) ? value.get(name) : [];
    if (!Array.isArray(items)) throw new FormatError(`bundle: ${name} must be an array of bundles`);
    out[name] = items.map((b) => bundleFromValue(b, depth + 1, count));
  }
  if (value.has('preimage')) {
    const p = value.get('preimage');
    if (!isBytes(p) || p.length === 0) throw new FormatError('bundle: preimage must be a non-empty bstr (the record body)');
    out.preimage = p;
  }
  if (value.has('attestation')) {
    const a = value.get('attestation');
    if (!isBytes(a) || a.length === 0) throw new FormatError('bundle: attestation must be a non-empty bstr (a cose_sign1)');
    out.attestation = a;
  }
  if (value.has('status_proof')) {
    const p = value.get('status_proof');
    if (!isBytes(p) || p.length === 0) throw new FormatError('bundle: status_proof must be a non-empty bstr (an index lookup proof)');
    out.statusProof = p;
  }
  if (value.has('policy')) {
    if (!isMap(value.get('policy'))) throw new FormatError('bundle: policy, when present, must be a bundle (a map)');
    out.policy = bundleFromValue(value.get('policy'), depth + 1, count);
  }
  return out;
}

/** Strictly decode a bundle file (deterministic CBOR, <= 4 MiB, <= 4 nested levels). */
export const parseBundle = (data) =>
  bundleFromValue(decode(data, { what: 'bundle', maxSize: MAX_BUNDLE_BYTES }));

function pickIssuer(trust, st) {
  const candidates = trust.issuersForKid(st.kid);
  if (!candidates.length) throw new UntrustedKeyError(`issuer: key ${short(st.kid)} is not in the trust material`);
  const named = candidates.filter((c) => c.issuerId === st.claims.iss);
  if (!named.length) throw new UntrustedKeyError(`issuer: key ${short(st.kid)} is not registered to issuer ${JSON.stringify(st.claims.iss)}`);
  const iat = st.claims.iat;
  const valid = named.filter((c) => c.validFrom <= iat && (c.validUntil === null || iat < c.validUntil));
  if (!valid.length) {
    const windows = named.map((c) => `[${c.validFrom}, ${c.validUntil ?? '∞'})`).join(', ');
    throw new KeyValidityError(`issuer: key of ${JSON.stringify(st.claims.iss)} used outside its validity window: iat ${iat} not in ${windows}`);
  }
  const authorised = valid.filter((c) => c.kinds.has(st.kind));
  if (!authorised.length) throw new KindNotAuthorisedError(`issuer: ${JSON.stringify(st.claims.iss)} is not authorised for kind ${JSON.stringify(st.kind)}`);
  if (st.record === null) return authorised[0]; // an envelope's region is in its body
  const bound = authorised.filter((c) => c.region === st.record.region); // the record's region is its issuer's
  if (!bound.length) {
    const i = authorised[0];
    throw new RegionMismatchError(`issuer: record region is not its issuer's: expected ${i.region} (the region of ${i.issuerId}), got ${st.record.region}`);
  }
  return bound[0];
}

/** (2) The attestation is a trusted log's, about this entry in this checkpoint; its log's origin. */
async function attested(att, st, receipt, cp, trust) {
  const log = trust.logForKid(att.kid);
  if (log === null) throw new WrongLogError(`attestation: signed by key ${short(att.kid)}, which is not a trusted log`);
  await verifyAttestationSignature(att, log.publicKey);
  const fits = att.origin === cp.origin && att.size === cp.size && equal(att.root, cp.root)
    && equal(att.leaf, st.leafHash) && att.index === BigInt(receipt.leafIndex);
  if (!fits) {
    throw new VerificationError(`attestation: about ${att.origin} entry ${att.index} at size ${att.size}, not this bundle's (${cp.origin} entry ${receipt.leafIndex} at size ${cp.size})`);
  }
  return log.origin;
}

/** The timestamps (BigInt) of the trusted witnesses' valid cosignatures on the note. */
async function cosignatureTimes(bundle, note, trust, run) {
  const out = [];
  const counted = new Set(); // a witness key counts once, however often it is listed
  for (const w of trust.witnessesFor(note.checkpoint.origin)) {
    if (counted.has(hex(w.publicKey))) continue;
    counted.add(hex(w.publicKey));
    const wk = `${bundle.checkpoint}\u0000${w.name}\u0000${hex(w.publicKey)}`;
    if (!run.cache.cosigned.has(wk)) {
      try {
        run.cache.cosigned.set(wk, await verifyCosignature(note, w.name, w.publicKey));
      } catch (e) {
        if (!(e instanceof SignatureError)) throw e;
        run.cache.cosigned.set(wk, null);
      }
    }
    const t = run.cache.cosigned.get(wk);
    if (t !== null) out.push(t);
  }
  return out;
}

/** When the entry was logged, as attested: the attestation's window narrowed by the
 * quorum-th earliest witness cosignature. */
function windowOf(att, attestedBy, times, quorum) {
  let window = loggedWindow(null, null, '');
  if (att !== null) window = loggedWindow(att.loggedAfter === 0n ? null : att.loggedAfter, att.loggedBy, `the log ${attestedBy}`);
  if (quorum > 0 && times.length >= quorum) {
    const sorted = [...times].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
    window = narrowed(window, sorted[quorum - 1], `${quorum} witness(es)`);
  }
  return window;
}

/** The record of a statement, or BodyNotHeldError for an envelope whose body is absent. */
function recordOf(st) {
  if (st.record === null) {
    throw new BodyNotHeldError(`statement: the record body of ${st.kind} ${short(st.leafHash)} is not held here: it is kept off-log by ${st.claims.iss}; ask the issuing node`);
  }
  return st.record;
}

class Run {
  constructor() {
    this.steps = [];
    this.error = null;
    this.failedStep = null;
    this.where = null;
    this.cache = { receipts: new Set(), notes: new Map(), logSigs: new Set(), cosigned: new Map() };
  }

  ok(step, detail, extra = {}) {
    this.steps.push({ step, name: NAMES.get(step), ok: true, detail, ...extra });
  }

  fail(step, err, where = null) {
    if (this.failedStep !== null) return;
    const e = err instanceof CredexError ? err : new CredexError(`internal: ${err?.message ?? err}`);
    e.step = step;
    this.steps.push({ step, name: NAMES.get(step), ok: false, detail: e.message });
    this.error = e;
    this.failedStep = step;
    this.where = where;
  }
}

/** Steps 1-6 for one bundle; a nested bundle (depth > 0) fails as its parent's step. */
async function verifyOne(bundle, trust, run, depth, where) {
  const at = async (step, fn) => {
    try {
      return await fn();
    } catch (e) {
      if (depth === 0) run.fail(step, e);
      else if (e instanceof CredexError || e instanceof Error) e.where = e.where ?? where;
      throw e;
    }
  };
  const top = depth === 0;
  // (1) decode
  const { st, receipt, note, att } = await at(1, async () => {
    const s = await parseStatement(bundle.statement, bundle.preimage);
    if (s.receipts.length !== 1) {
      throw new VerificationError(`decode: expected exactly one receipt under label 394, got ${s.receipts.length}`);
    }
    const r = parseReceipt(s.receipts[0]);
    let n = run.cache.notes.get(bundle.checkpoint);
    if (n === undefined) {
      n = parseSignedNote(bundle.checkpoint);
      if (run.cache.notes.size < 64) run.cache.notes.set(bundle.checkpoint, n);
    }
    const a = bundle.attestation === null ? null : parseAttestation(bundle.attestation);
    return { st: s, receipt: r, note: n, att: a };
  });
  const cp = note.checkpoint;
  if (top) {
    let shape = st.isEnvelope ? ' (hash envelope, body attached)' : '';
    if (st.isEnvelope && st.record === null) shape = ' (hash envelope, no body)';
    run.ok(1, `${st.kind} statement${shape} by ${st.claims.iss}, leaf ${short(st.leafHash)}`);
  }
  // (2) issuer key, kind, region; and the key valid when the log logged the entry
  const { issuer, attestedBy, times, window } = await at(2, async () => {
    const i = pickIssuer(trust, st);
    const by = att === null ? '' : await attested(att, st, receipt, cp, trust);
    const ts = await cosignatureTimes(bundle, note, trust, run);
    const w = windowOf(att, by, ts, trust.quorumFor(cp.origin));
    requireKeyValidWhenLogged(i, w, 'issuer');
    return { issuer: i, attestedBy: by, times: ts, window: w };
  });
  if (top) {
    const span = `[${issuer.validFrom}, ${issuer.validUntil ?? '∞'})`;
    const logged = window.after !== null || window.by !== null
      ? `; logged after ${window.after ?? '-'} and by ${window.by ?? '-'} (attested)` : '';
    run.ok(2, `issuer ${issuer.issuerId} key valid at iat ${st.claims.iat} in ${span}, authorised for ${st.kind}${logged}`);
  }
  // (3) statement signature
  await at(3, () => verifyStatementSignature(st, issuer.publicKey));
  if (top) run.ok(3, 'Ed25519 signature over the COSE Sig_structure verifies');
  // (4) inclusion
  const { log, root } = await at(4, async () => {
    const g = trust.logForKid(receipt.logKid);
    if (g === null) {
      throw new WrongLogError(`receipt: signed by log key ${short(receipt.logKid)}, which is not a trusted log (a bundle for a different log?)`);
    }
    return { log: g, root: await receiptRoot(receipt, st.leafHash) };
  });
  if (top) run.ok(4, `leaf ${receipt.leafIndex} of ${receipt.treeSize}: path of ${receipt.path.length} hashes gives root ${short(root)}`);
  // (5) receipt signature
  await at(5, async () => {
    const k = [hex(log.publicKey), hex(receipt.protected), hex(root), hex(receipt.signature)].join(':');
    if (!run.cache.receipts.has(k)) {
      await verifyReceiptSignature(receipt, log.publicKey, root);
      run.cache.receipts.add(k);
    }
  });
  if (top) run.ok(5, `receipt signed by log ${log.origin}`);
  // (6) checkpoint
  const { cosigned, quorum } = await at(6, async () => {
    if (cp.origin !== log.origin) {
      throw new WrongLogError(`checkpoint: origin ${JSON.stringify(cp.origin)} is not the receipt's log ${JSON.stringify(log.origin)}`);
    }
    const nk = `${bundle.checkpoint}\u0000${log.noteKeyName}\u0000${hex(log.publicKey)}`;
    if (!run.cache.logSigs.has(nk)) {
      await verifyNoteSignature(note, log.noteKeyName, log.publicKey);
      run.cache.logSigs.add(nk);
    }
    if (cp.size !== BigInt(receipt.treeSize)) {
      throw new CheckpointError(`checkpoint: tree size differs from the receipt's: expected ${receipt.treeSize}, got ${cp.size}`);
    }
    if (!equal(cp.root, root)) {
      throw new CheckpointError(`checkpoint: root differs from the receipt's: expected ${hex(root)}, got ${hex(cp.root)}`);
    }
    const q = trust.quorumFor(cp.origin);
    // a log key that left the trust material (retired, or its member removed) vouches
    // only for what witnesses cosigned before it left: at least one cosignature
    const until = log.validUntil ?? null;
    const required = until === null ? q : Math.max(q, 1);
    const n = times.filter((t) => until === null || t < BigInt(until)).length;
    if (n < required && until !== null) {
      throw new KeyValidityError(
        `checkpoint: log key ${hex(log.kid).slice(0, 16)}… of ${log.origin} left the trust material at ${until}: expected ${required} witness cosignatures from before then, got ${n}`,
      );
    }
    if (n < q) throw new CheckpointError(`checkpoint: witness quorum not met: expected ${q}, got ${n}`);
    return { cosigned: n, quorum: q };
  });
  if (top) {
    run.ok(6, `checkpoint ${cp.origin} size ${cp.size} signed by the log; ${cosigned} of ${quorum} required witness cosignatures`);
  }
  return { st, receipt, checkpoint: cp, attestation: att, attestedBy };
}

/** (7) Whether the bundle carries every lifecycle statement about the record in its log
 * as of its checkpoint (ledger/verify.py _proven): the log's attestation, when carried,
 * must agree with the statements; the status proof (docs/spec.md §5.3), when carried,
 * proves it against the index root the checkpoint commits to. How it is known. */
async function proven(checked, subs, what, statusProof) {
  const att = checked.attestation;
  if (att !== null) {
    const carried = new Set(subs.map((c) => hex(c.st.leafHash)));
    const listed = new Set(att.status.map(hex));
    const missing = att.status.filter((h) => !carried.has(hex(h))).length;
    const unlisted = subs.filter((c) => c.checkpoint.origin === att.origin && BigInt(c.receipt.leafIndex) < att.size
      && !listed.has(hex(c.st.leafHash))).length;
    if (missing || unlisted) {
      throw new StatusNotProvenError(`${what}: not proven: the log's attestation lists ${att.status.length} lifecycle statements as of size ${att.size}; the bundle lacks ${missing} of them and carries ${unlisted} it does not list`);
    }
  }
  if (statusProof !== null) {
    const carried = subs.map((c) => ({ origin: c.checkpoint.origin, index: BigInt(c.receipt.leafIndex), leaf: c.st.leafHash }));
    return checkStatusProof(checked.st.leafHash, checked.checkpoint, carried, statusProof, what);
  }
  if (att === null) return 'status not proven (no status_proof): the statements carried';
  return `status not proven (no status_proof); attested complete in ${att.origin} as of size ${att.size} by ${checked.attestedBy}`;
}

/** Step 7's checks that need no lifecycle engine, for `checked` (a verified bundle's
 * statement and attestation); resolves to {found: the statements, proof: how complete}. */
async function lifecycleOf(bundle, checked, trust, run, depth, where, what) {
  const target = checked.st;
  const subs = [];
  for (const [i, sub] of bundle.status.entries()) {
    subs.push(await verifyOne(sub, trust, run, depth + 1, `${where}status[${i}]`));
  }
  const found = [];
  for (const { st, receipt } of subs) {
    const rec = recordOf(st);
    if (!rec.refs.length || !equal(rec.refs[0], target.leafHash)) {
      throw new VerificationError(`status: lifecycle statement ${short(st.leafHash)} does not reference this record (refs[0])`);
    }
    found.push({ st, rec, receipt });
  }
  const proof = await proven(checked, subs, what, bundle.statusProof);
  // a status statement has no status (no publication window) of its own
  if (STATUS_KINDS.includes(target.kind)) throw new VerificationError(`status: lifecycle: ${target.kind} has no publication window`);
  for (const { st, rec } of found) {
    const what = `lifecycle: statement ${short(st.leafHash)}`;
    if (!STATUS_KINDS.includes(rec.kind)) throw new VerificationError(`status: ${what} is a ${rec.kind}, not a lifecycle statement`);
    if (rec.subject.id !== target.claims.sub) throw new VerificationError(`status: ${what} is about another subject than its target`);
    if (rec.kind === 'commitment.outcome' && target.kind !== 'commitment') {
      throw new VerificationError(`status: lifecycle: commitment.outcome ${short(st.leafHash)} targets a ${target.kind}`);
    }
  }
  return {
    proof,
    found: found.map(({ st, rec, receipt }) => ({
      kind: rec.kind, issuer: st.claims.iss, iat: plain(st.claims.iat), leafHash: hex(st.leafHash),
      leafIndex: plain(receipt.leafIndex), body: plain(rec.body),
    })),
  };
}

function describeLifecycle(found, proof) {
  if (!found.length) return `0 lifecycle statements (${proof}; the publication window is not computed here)`;
  const list = found.map((f) => `${f.kind} by ${f.issuer} at ${f.iat}`).join('; ');
  return `${found.length} lifecycle statement(s) verified (steps 1-6, refs[0]; ${proof}): ${list}; their effect is not evaluated here`;
}

/**
 * Verify a bundle's bytes against trust (trust.js). Options: none yet (purpose and as_of
 * need the lifecycle engine). Resolves to {ok, verdict, steps, failedStep, error, record,
 * lifecycle, sources, notDone}; never rejects for bad input.
 */
export async function verifyBundle(bundleBytes, trust, options = {}) {
  void options;
  const run = new Run();
  const result = { record: null, lifecycle: [], attested: null, sources: [], notDone: [] };
  let step = 1;
  try {
    let bundle;
    try {
      bundle = parseBundle(bundleBytes);
    } catch (e) {
      run.fail(1, e);
      throw e;
    }
    const checked = await verifyOne(bundle, trust, run, 0, '');
    const { st, receipt, checkpoint } = checked;
    result.record = {
      kind: st.kind, issuer: st.claims.iss, subject: st.claims.sub, iat: plain(st.claims.iat),
      leafHash: hex(st.leafHash), leafIndex: plain(receipt.leafIndex), treeSize: plain(receipt.treeSize),
      origin: checkpoint.origin, envelope: st.isEnvelope, bodyHeld: st.record !== null,
      body: st.record === null ? null : plain(st.record.body),
      validFrom: st.record === null ? null : plain(st.record.validFrom),
      validUntil: st.record === null ? null : plain(st.record.validUntil),
    };
    step = 7;
    if (st.record === null) {
      throw new BodyNotHeldError(`status: the record body is not in this bundle: it is kept off-log by ${st.claims.iss}; ask the issuing node`);
    }
    const { found, proof } = await lifecycleOf(bundle, checked, trust, run, 0, '', 'status');
    result.lifecycle = found;
    result.attested = checked.attestation === null ? null : proof;
    if (found.length) result.notDone.push(NOT_DONE_STATUS);
    run.ok(7, describeLifecycle(found, proof), { evaluated: found.length === 0 });
    step = 8;
    const derived = st.kind.startsWith('derived.');
    if (!derived && (bundle.sources.length || bundle.policy !== null)) {
      throw new VerificationError('derivation: sources or policy given for a record that is not derived');
    }
    if (!derived) {
      run.ok(8, 'not a derived record', { evaluated: true });
    } else {
      // an evaluation (a rule's code, grade or decision) may rest on no evidence
      const evaluation = EVALUATION_KINDS.includes(st.kind);
      if (bundle.policy === null || !(bundle.sources.length || evaluation)) {
        throw new VerificationError("derivation: a derived record's bundle must carry its sources and its policy");
      }
      const sources = [];
      for (const [i, sub] of bundle.sources.entries()) sources.push(await verifyOne(sub, trust, run, 1, `sources[${i}]`));
      for (const [i, sub] of bundle.sources.entries()) {
        const what = `source ${i} (${sources[i].st.kind} ${short(sources[i].st.leafHash)})`;
        const { found } = await lifecycleOf(sub, sources[i], trust, run, 1, `sources[${i}].`, what);
        recordOf(sources[i].st); // the replay needs every source's body
        result.sources.push({ kind: sources[i].st.kind, leafHash: hex(sources[i].st.leafHash), lifecycle: found });
      }
      const policy = await verifyOne(bundle.policy, trust, run, 1, 'policy');
      const rec = st.record;
      const [want, names] = evaluation ? ['policy.rule', ['rule', 'evidence']] : ['policy.conversion', ['policy', 'source']];
      if (recordOf(policy.st).kind !== want) {
        throw new DerivationMismatchError(`derivation: ${names[0]} statement kind: expected '${want}', got ${JSON.stringify(policy.st.kind)}`);
      }
      const expected = [...sources.map((s) => s.st.leafHash), policy.st.leafHash];
      if (rec.refs.length !== expected.length) {
        throw new DerivationMismatchError(`derivation: refs count: expected ${expected.length} (${names[1]} then ${names[0]}), got ${rec.refs.length}`);
      }
      expected.forEach((h, i) => {
        if (!equal(h, rec.refs[i])) {
          const what = i === expected.length - 1 ? names[0] : `${names[1]} ${i}`;
          throw new DerivationMismatchError(`derivation: ref ${i} (${what}) does not match the bundle: expected ${short(h)}, got ${short(rec.refs[i])}`);
        }
      });
      const notDone = evaluation ? NOT_DONE_RULE : NOT_DONE_REPLAY;
      result.notDone.push(notDone);
      if (result.sources.some((s) => s.lifecycle.length)) result.notDone.push(`sources: ${NOT_DONE_STATUS}`);
      run.ok(8, `${sources.length} source(s) and ${names[0]} ${short(policy.st.leafHash)} verified (steps 1-6, refs); ${notDone}`, { evaluated: false });
    }
  } catch (e) {
    run.fail(step, e, e?.where ?? null);
  }
  const error = run.error === null ? null : {
    step: run.failedStep, code: run.error.code, type: run.error.name, message: run.error.message, where: run.where,
  };
  return {
    ok: run.error === null,
    verdict: run.error === null ? 'valid' : 'invalid',
    steps: run.steps,
    failedStep: run.failedStep,
    error,
    ...result,
  };
}
