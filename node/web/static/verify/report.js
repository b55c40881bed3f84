// Offline verification of a subject report (.credex-report) in the browser, written from
// docs/spec.md §5.4 and docs/formats.md "Subject report", with nothing trusted but the
// trust material passed in. The steps are the spec's:
//
//   1 signature     the file is a COSE_Sign1 (tag 18) with exactly the protected labels
//                   1, 3, 4 (EdDSA, "application/vnd.credex.report+cbor", a 32-byte kid),
//                   an empty unprotected map, a payload {"v": 1, "subject", "as_of",
//                   "parts": [1..64]} of parts {"origin", "checkpoint", "proof", "entries",
//                   "bundles"} with distinct origins; signed by a trusted log key
//   2 checkpoint    per part: its note is signed by its trusted log and cosigned by the
//                   witness quorum; it commits to an index root (credex-index/v1 line)
//   3 proof         the index lookup proof is for the subject's key and verifies against
//                   that root (docs/index.md §4)
//   4 completeness  entries strictly increasing and below the size; their subject chain
//                   (docs/spec.md §5.1) equals the proven value (none: an absence proof)
//   5 bundles       each bundle passes verify.js (steps 1-8 as the browser does them) on
//                   this part's checkpoint, about this subject, and is an in-force entry
//                   listed (same index, leaf, kind); one bundle per in-force entry
//   version 2 ("Reasons"), per row [i, status proof, statements] of a part's "reasons":
//   6 reason entry  i is a withheld entry of the part, with evidence once
//   7 reason statements  each statement bundle passes steps 1-6 and names the entry
//                   (refs[0])
//   8 reason proof  the status proof (statusproof.js, spec §5.3) for the entry's leaf lists
//                   exactly the statements carried from the part's log below its size
//   9 reason        the statements signed by as_of, folded in (iat, index, leaf) order,
//                   make the entry the reason it is withheld for (expired: no terminal
//                   state); such a reason is shown proven, any other as a claim
//
// verifyReport() never throws for bad input: the result names the failing step, the part
// (its origin) and, for a missing bundle, the index. Browser-compatible: WebCrypto only.

import { concat, equal, hex, sha256, utf8, verifyEd25519 } from './bytes.js';
import { Tagged, decode, isBytes, isInt, isMap } from './cbor.js';
import { ALG_ED25519, ALG_EDDSA, COSE_SIGN1_TAG, parseStatement, sigStructure } from './cose.js';
import {
  CborError,
  CheckpointError,
  CoseError,
  CredexError,
  FormatError,
  IndexFormatError,
  IndexProofError,
  ReportIncompleteError,
  ReportReasonError,
  ReportSubjectError,
  SignatureError,
  StatusNotProvenError,
  WrongLogError,
} from './errors.js';
import { parseSignedNote, verifyCosignature, verifyNoteSignature } from './note.js';
import { checkStatusProof, parseIndexExtension, parseLookupProof, u64be, verifyLookup } from './statusproof.js';
import { parseBundle, verifyBundle } from './verify.js';

export const REPORT_CONTENT_TYPE = 'application/vnd.credex.report+cbor';
export const MAX_REPORT_BYTES = 64 * 1024 * 1024;
export const MAX_ENTRIES = 100000;
export const MAX_PARTS = 64;
export const MAX_STATEMENTS = 64;
/** Terminal states, in the order a fold's findings are read (ledger/lifecycle/model.py). */
export const TERMINAL_STATES = ['withdrawn', 'repaired', 'superseded', 'corrected'];
export const IN_FORCE = 'in-force';
export const STATEMENT = 'statement';
export const NOT_HELD = 'not-held';
export const WITHHELD_REASONS = ['repaired', 'expired', 'erased', 'withdrawn', 'corrected', 'superseded', NOT_HELD];
const STATES = [IN_FORCE, STATEMENT, ...WITHHELD_REASONS];
const FIELDS = ['as_of', 'parts', 'subject', 'v'];
const PART_FIELDS = ['bundles', 'checkpoint', 'entries', 'origin', 'proof'];
const PART_FIELDS_V2 = [...PART_FIELDS, 'reasons'].sort();
export const REPORT_STEPS = [
  [1, 'signature'], [2, 'checkpoint'], [3, 'proof'], [4, 'completeness'], [5, 'bundles'],
  [6, 'reason entry'], [7, 'reason statements'], [8, 'reason proof'], [9, 'reason'],
];
const NAMES = new Map(REPORT_STEPS);
const U64_LIMIT = 1n << 64n;
const SUBJECT_KEY_TAG = concat(utf8('credex-index/v1 subject key'), new Uint8Array([0]));
const SUBJECT_VALUE_TAG = concat(utf8('credex-index/v1 subject value'), new Uint8Array([0]));

const short = (bytes) => `${hex(bytes).slice(0, 16)}…`;
const sameKeys = (m, keys) => m.size === keys.length && keys.every((k) => m.has(k));

function uint(v, name) {
  if (!isInt(v) || BigInt(v) < 0n || BigInt(v) >= U64_LIMIT) throw new FormatError(`report: ${name} must be a uint`);
  return BigInt(v);
}

function text(v, name, max = 4096) {
  if (typeof v !== 'string' || !v || v.length > max) throw new FormatError(`report: ${name} must be non-empty text`);
  return v;
}

function entryOf(v, n) {
  if (!Array.isArray(v) || v.length !== 4) throw new FormatError(`report: entry ${n} must be [index, leaf, kind, state]`);
  const index = uint(v[0], `entry ${n} index`);
  if (!isBytes(v[1]) || v[1].length !== 32) throw new FormatError(`report: entry ${n} leaf must be a 32-byte bstr`);
  const kind = text(v[2], `entry ${n} kind`);
  // the index chains it as u8 length || ASCII (spec §5.1)
  if (!/^[!-~]{1,255}$/.test(kind)) throw new FormatError(`report: entry ${n} kind must be 1..255 printable ascii characters`);
  if (!STATES.includes(v[3])) throw new FormatError(`report: entry ${n} state must be one of ${[...STATES].sort().join(', ')}`);
  return { index, leaf: v[1], kind, state: v[3] };
}

function reasonOf(v, n, i) {
  if (!Array.isArray(v) || v.length !== 3) throw new FormatError(`report: part ${n} reason ${i} must be [index, status proof, statements]`);
  const [proof, statements] = [v[1], v[2]];
  if (!isBytes(proof) || proof.length === 0) throw new FormatError(`report: part ${n} reason ${i} status proof must be a non-empty bstr`);
  if (!Array.isArray(statements) || statements.length > MAX_STATEMENTS || !statements.every((b) => isBytes(b) && b.length > 0)) {
    throw new FormatError(`report: part ${n} reason ${i} statements must be an array of at most ${MAX_STATEMENTS} non-empty bstr`);
  }
  return { index: uint(v[0], `part ${n} reason ${i} index`), proof, statements };
}

function partOf(v, n, version) {
  const fields = version === 1 ? PART_FIELDS : PART_FIELDS_V2;
  if (!isMap(v) || !sameKeys(v, fields)) throw new FormatError(`report: part ${n} must be a map with keys ${fields.join(', ')}`);
  const reasons = version === 1 ? [] : v.get('reasons');
  if (!Array.isArray(reasons) || reasons.length > MAX_ENTRIES) throw new FormatError(`report: part ${n} reasons must be an array of at most ${MAX_ENTRIES}`);
  const [entries, bundles, proof] = [v.get('entries'), v.get('bundles'), v.get('proof')];
  if (!Array.isArray(entries) || entries.length > MAX_ENTRIES) {
    throw new FormatError(`report: part ${n} entries must be an array of at most ${MAX_ENTRIES}`);
  }
  if (!Array.isArray(bundles) || !bundles.every((b) => isBytes(b) && b.length > 0)) {
    throw new FormatError(`report: part ${n} bundles must be an array of non-empty bstr`);
  }
  if (!isBytes(proof) || proof.length === 0) throw new FormatError(`report: part ${n} proof must be a non-empty bstr`);
  const checkpoint = v.get('checkpoint');
  if (typeof checkpoint !== 'string' || !checkpoint || checkpoint.length > 64 * 1024) {
    throw new FormatError(`report: part ${n} checkpoint must be a signed note (text)`);
  }
  return {
    origin: text(v.get('origin'), `part ${n} origin`),
    checkpoint,
    proof,
    entries: entries.map((e, i) => entryOf(e, i)),
    bundles,
    reasons: reasons.map((r, i) => reasonOf(r, n, i)),
  };
}

/** Strictly parse a report (signature not checked): {kid, protected, payload, signature,
 * subject, asOf (BigInt), parts}. FormatError (CborError, CoseError, OversizeError) when not. */
export function parseReport(data) {
  const value = decode(data, { what: 'report', maxSize: MAX_REPORT_BYTES, tags: [COSE_SIGN1_TAG] });
  if (!(value instanceof Tagged) || value.tag !== COSE_SIGN1_TAG) throw new CoseError('report: wrong cose tag: expected 18 (COSE_Sign1)');
  const arr = value.value;
  if (!Array.isArray(arr) || arr.length !== 4) throw new CoseError('report: cose_sign1 must be an array of 4 items');
  const [prot, unprotected, payload, signature] = arr;
  if (!isBytes(prot) || !isMap(unprotected) || unprotected.size !== 0) throw new CoseError('report: protected must be bstr and unprotected empty');
  if (!isBytes(payload) || !isBytes(signature) || signature.length !== 64) throw new CoseError('report: payload must be bstr and signature 64 bytes');
  let hdr;
  try {
    hdr = decode(prot, { what: 'report protected header' });
  } catch (e) {
    if (!(e instanceof CborError)) throw e;
    throw new CoseError(`report: protected header is not cbor: ${e.message}`);
  }
  if (!isMap(hdr) || !sameKeys(hdr, [1, 3, 4])) throw new CoseError('report: protected header labels: expected [1, 3, 4]');
  if ((hdr.get(1) !== ALG_EDDSA && hdr.get(1) !== ALG_ED25519) || hdr.get(3) !== REPORT_CONTENT_TYPE) {
    throw new CoseError(`report: expected alg -8 and content type ${REPORT_CONTENT_TYPE}`);
  }
  const kid = hdr.get(4);
  if (!isBytes(kid) || kid.length !== 32) throw new CoseError('report: kid must be a 32-byte bstr');
  const body = decode(payload, { what: 'report payload', maxSize: MAX_REPORT_BYTES });
  if (!isMap(body) || !sameKeys(body, FIELDS)) throw new FormatError(`report: payload must be a map with keys ${FIELDS.join(', ')}`);
  const version = body.get('v');
  if (version !== 1 && version !== 2) throw new FormatError(`report: unsupported version: expected 1 or 2, got ${typeof version === 'number' ? version : typeof version}`);
  const parts = body.get('parts');
  if (!Array.isArray(parts) || parts.length < 1 || parts.length > MAX_PARTS) {
    throw new FormatError(`report: parts must be an array of 1..${MAX_PARTS} parts`);
  }
  const out = parts.map((p, n) => partOf(p, n, version));
  if (new Set(out.map((p) => p.origin)).size !== out.length) throw new FormatError('report: two parts for the same log');
  return {
    kid, protected: prot, payload, signature, version,
    subject: text(body.get('subject'), 'subject'),
    asOf: uint(body.get('as_of'), 'as_of'),
    parts: out,
  };
}

/** The subject's index key: SHA-256("credex-index/v1 subject key" 0x00 || UTF-8(sub)). */
export const subjectKey = (subject) => sha256(concat(SUBJECT_KEY_TAG, utf8(subject)));

/** The subject value over [index (BigInt), leaf, kind] items in log order (spec §5.1). */
export async function subjectValue(items) {
  let acc = new Uint8Array(32);
  for (const [index, leaf, kind] of items) {
    if (!/^[\x20-\x7e]{1,255}$/.test(kind)) throw new IndexFormatError('index map: kind: expected 1..255 ascii bytes');
    const k = utf8(kind);
    acc = await sha256(concat(SUBJECT_VALUE_TAG, acc, u64be(index), leaf, Uint8Array.of(k.length), k));
  }
  return acc;
}

/** The trusted log of an origin (a current key first), or null. */
function logForOrigin(trust, origin) {
  const logs = (trust.logs ?? []).filter((g) => g.origin === origin);
  return logs.find((g) => g.validUntil === undefined || g.validUntil === null) ?? logs[0] ?? null;
}

/** (2) A part's note: signed by its trusted log, with the witness quorum; {note, root}. */
async function checkedNote(part, trust) {
  const note = parseSignedNote(part.checkpoint);
  const cp = note.checkpoint;
  if (cp.origin !== part.origin) throw new WrongLogError(`report: part ${part.origin}: checkpoint is of log ${cp.origin}`);
  const log = logForOrigin(trust, cp.origin);
  if (log === null) throw new WrongLogError(`report: checkpoint of ${JSON.stringify(cp.origin)}, which is not a trusted log`);
  await verifyNoteSignature(note, log.noteKeyName, log.publicKey);
  const counted = new Set();
  for (const w of trust.witnessesFor(cp.origin)) {
    if (counted.has(hex(w.publicKey))) continue;
    try {
      await verifyCosignature(note, w.name, w.publicKey);
    } catch (e) {
      if (!(e instanceof SignatureError)) throw e;
      continue;
    }
    counted.add(hex(w.publicKey));
  }
  const quorum = trust.quorumFor(cp.origin);
  if (counted.size < quorum) {
    throw new CheckpointError(`report: checkpoint ${cp.origin} size ${cp.size}: witness quorum not met: expected ${quorum}, got ${counted.size}`);
  }
  const root = parseIndexExtension(cp.extensions);
  if (root === null) {
    throw new IndexProofError(`report: ${cp.origin} size ${cp.size}: the checkpoint commits to no index root (no credex-index/v1 line)`);
  }
  return { note, cp, root, cosigned: counted.size, quorum };
}

/** The terminal state lifecycle statements make a record (ledger/lifecycle/rules.py Fold,
 * spec §3 step 7): those signed after as_of left out, in (iat, index, leaf hash) order. */
export function reasonState(statements, asOf) {
  const ordered = statements
    .filter((c) => asOf === null || c.iat <= asOf)
    .sort((a, b) => (a.iat !== b.iat ? (a.iat < b.iat ? -1 : 1) : a.index !== b.index ? (a.index < b.index ? -1 : 1) : a.leafHex < b.leafHex ? -1 : a.leafHex > b.leafHex ? 1 : 0));
  const objections = new Set();
  const found = new Set();
  for (const c of ordered) {
    const { kind, body, refs } = c.record;
    if (kind === 'lifecycle.objection') {
      objections.add(c.leafHex);
    } else if (kind === 'lifecycle.objection-resolved') {
      const decided = found.has('corrected') || found.has('superseded');
      if (body.get('outcome') === 'CORRECTED' && !decided) {
        const extra = refs.slice(1).some((r) => !objections.has(hex(r)));
        found.add(extra ? 'superseded' : 'corrected');
      }
    } else if (kind === 'lifecycle.repair') {
      found.add('repaired');
    } else if (kind === 'lifecycle.withdrawal') {
      found.add('withdrawn');
    } else if (kind === 'lifecycle.supersession') {
      found.add('superseded');
    }
  }
  return TERMINAL_STATES.find((t) => found.has(t)) ?? null;
}

/** A lifecycle statement's bundle: steps 1-6 (it has no status of its own, so its step 7
 * does not apply); {origin, index, iat, leaf, leafHex, record}. */
async function statusStatement(data, trust, where) {
  const r = await verifyBundle(data, trust);
  const sixOk = r.steps.filter((x) => x.step <= 6 && x.ok).length === 6;
  if (!r.ok && !(r.failedStep === 7 && sixOk)) {
    const e = new CredexError(`report: ${where}: a lifecycle statement fails its step ${r.failedStep} (${r.error.type}): ${r.error.message}`);
    e.code = r.error.code;
    e.name = r.error.type;
    throw e;
  }
  const st = await parseStatement(parseBundle(data).statement);
  return {
    origin: r.record.origin, index: BigInt(r.record.leafIndex), iat: BigInt(st.claims.iat),
    leaf: st.leafHash, leafHex: hex(st.leafHash), record: st.record,
  };
}

/** Steps 6-9 for a part's reasons (version 2); the indices whose reason is proven. */
async function checkReasons(report, part, cp, trust, run) {
  const where = `${part.origin} size ${cp.size}`;
  const withheld = new Map(part.entries.filter((e) => WITHHELD_REASONS.includes(e.state)).map((e) => [e.index, e]));
  const seen = new Set();
  const proven = new Set();
  const at = async (step, fn) => {
    try {
      return await fn();
    } catch (e) {
      run.fail(step, e, part.origin);
      throw e;
    }
  };
  for (const ev of part.reasons) {
    const entry = await at(6, async () => {
      const en = withheld.get(ev.index);
      if (en === undefined || seen.has(ev.index)) {
        throw new ReportReasonError(`report: ${where}: evidence for index ${ev.index}, which is not a withheld entry listed (or has evidence twice)`);
      }
      seen.add(ev.index);
      return en;
    });
    const checked = await at(7, async () => {
      const out = [];
      for (const data of ev.statements) {
        const c = await statusStatement(data, trust, where);
        if (c.record === null || !c.record.refs.length || !equal(c.record.refs[0], entry.leaf)) {
          throw new ReportReasonError(`report: ${where}: a lifecycle statement given as evidence for index ${ev.index} is about another record (refs[0])`);
        }
        out.push(c);
      }
      return out;
    });
    await at(8, async () => {
      const carried = checked.map((c) => ({ origin: c.origin, index: c.index, leaf: c.leaf }));
      try {
        await checkStatusProof(entry.leaf, cp, carried, ev.proof, `report: ${where}: index ${ev.index}: status`);
      } catch (e) {
        if (!(e instanceof StatusNotProvenError)) throw e;
        throw new ReportReasonError(`${e.message} (so its reason, ${entry.state}, is not proven)`);
      }
    });
    await at(9, async () => {
      const state = reasonState(checked, report.asOf);
      if (TERMINAL_STATES.includes(entry.state) && state !== entry.state) {
        throw new ReportReasonError(`report: ${where}: index ${ev.index} is withheld as ${entry.state}, but the lifecycle statements its status proof lists make it ${state ?? 'neither repaired, withdrawn, superseded nor corrected'}`);
      }
      if (entry.state === 'expired' && state !== null) {
        throw new ReportReasonError(`report: ${where}: index ${ev.index} is withheld as expired, but its lifecycle statements make it ${state}`);
      }
      if (TERMINAL_STATES.includes(entry.state)) proven.add(ev.index);
    });
  }
  if (part.reasons.length) {
    run.ok(9, `${part.reasons.length} withheld reason(s) with evidence checked (steps 6-9): ${proven.size} proven by the log (lifecycle statements and status proof)`, part.origin, 'reasons');
  }
  return proven;
}

class Run {
  constructor() {
    this.steps = [];
    this.error = null;
    this.failedStep = null;
    this.part = null;
  }

  ok(step, detail, part = null, name = null) {
    this.steps.push({ step, name: name ?? NAMES.get(step), ok: true, detail, part });
  }

  fail(step, err, part = null) {
    const e = err instanceof CredexError ? err : new CredexError(`internal: ${err?.message ?? err}`);
    this.steps.push({ step, name: NAMES.get(step), ok: false, detail: e.message, part });
    this.error = e;
    this.failedStep = step;
    this.part = part;
  }
}

/** Steps 2-5 for one part; resolves to what the part shows. */
async function checkPart(report, part, trust, run, options) {
  const at = async (step, fn) => {
    try {
      return await fn();
    } catch (e) {
      run.fail(step, e, part.origin);
      throw e;
    }
  };
  // (2) checkpoint
  const { cp, root, cosigned, quorum } = await at(2, () => checkedNote(part, trust));
  const where = `${part.origin} size ${cp.size}`;
  run.ok(2, `checkpoint ${where} signed by the log; ${cosigned} of ${quorum} required witness cosignatures; index root ${short(root)}`, part.origin);
  // (3) the subject proof
  const proof = await at(3, async () => {
    const key = await subjectKey(report.subject);
    const p = parseLookupProof(part.proof);
    if (!equal(p.key, key)) {
      throw new IndexProofError(`report: ${where}: proof for another key: expected the subject key ${short(key)} of ${report.subject}, got ${short(p.key)}`);
    }
    try {
      await verifyLookup(root, key, p.value, p);
    } catch (e) {
      if (!(e instanceof IndexProofError)) throw e;
      throw new IndexProofError(`report: ${where}: subject proof does not verify against the index root: ${e.message}`);
    }
    return p;
  });
  run.ok(3, proof.value === null ? `the index holds no entry about ${report.subject} (absence proven)` : `subject key proven under the index root: value ${short(proof.value)}`, part.origin);
  // (4) completeness: the listed entries are exactly the index's
  await at(4, async () => {
    let previous = -1n;
    for (const e of part.entries) {
      if (e.index <= previous) throw new ReportIncompleteError(`report: ${where}: entry ${e.index} is repeated or out of index order`);
      if (e.index >= cp.size) throw new ReportIncompleteError(`report: ${where}: entry ${e.index} is past the checkpoint size ${cp.size}`);
      previous = e.index;
    }
    if (proof.value === null) {
      if (part.entries.length) {
        throw new ReportIncompleteError(`report: ${where}: the index holds no entry about ${report.subject}, but the report lists ${part.entries.length} (first: index ${part.entries[0].index})`);
      }
    } else if (!equal(await subjectValue(part.entries.map((e) => [e.index, e.leaf, e.kind])), proof.value)) {
      throw new ReportIncompleteError(`report: ${where}: the ${part.entries.length} entries listed are not the ones the index lists for ${report.subject} (an entry is missing, added or from another subject)`);
    }
  });
  run.ok(4, `complete as of ${where}: the ${part.entries.length} entries listed are all the index holds about the subject`, part.origin);
  // (5) bundles
  const records = await at(5, async () => {
    const inForce = new Map(part.entries.filter((e) => e.state === IN_FORCE).map((e) => [e.index, e]));
    const seen = new Set();
    const out = [];
    for (const [n, data] of part.bundles.entries()) {
      const r = await verifyBundle(data, trust, options);
      if (!r.ok) {
        const e = new CredexError(`report: ${where}: bundle ${n} fails its step ${r.failedStep} (${r.error.type}): ${r.error.message}`);
        e.code = r.error.code;
        e.name = r.error.type;
        e.bundleStep = r.failedStep;
        throw e;
      }
      const rec = r.record;
      const index = BigInt(rec.leafIndex);
      if (rec.subject !== report.subject) throw new ReportSubjectError(`report: ${where}: a bundle (index ${index}) is about another subject`);
      if (rec.origin !== part.origin || BigInt(rec.treeSize) !== cp.size) {
        throw new ReportSubjectError(`report: ${where}: bundle of index ${index} is on ${rec.origin} size ${rec.treeSize}, not this part's checkpoint`);
      }
      const entry = inForce.get(index);
      if (entry === undefined || hex(entry.leaf) !== rec.leafHash || entry.kind !== rec.kind) {
        throw new ReportSubjectError(`report: ${where}: bundle of index ${index} is not an in-force entry listed`);
      }
      if (seen.has(index)) throw new ReportIncompleteError(`report: ${where}: bundle of index ${index} repeated`);
      seen.add(index);
      out.push({
        index: index.toString(), leafHash: rec.leafHash, kind: rec.kind, issuer: rec.issuer,
        validFrom: rec.validFrom, iat: rec.iat, lifecycle: r.lifecycle.length, steps: r.steps.length,
        record: rec, notDone: r.notDone,
      });
    }
    const missing = [...inForce.keys()].filter((i) => !seen.has(i)).sort((a, b) => (a < b ? -1 : 1));
    if (missing.length) {
      const e = new ReportIncompleteError(`report: ${where}: record at index ${missing[0]} is listed in force but its bundle is missing (${missing.length} missing)`);
      e.missingIndex = missing[0].toString();
      throw e;
    }
    return out;
  });
  run.ok(5, `${records.length} in-force record(s): each bundle verified (steps 1-8 as this browser does them) on this checkpoint`, part.origin);
  const proven = await checkReasons(report, part, cp, trust, run);
  return {
    origin: part.origin,
    size: cp.size.toString(),
    records,
    withheld: part.entries.filter((e) => WITHHELD_REASONS.includes(e.state)).map((e) => ({
      index: e.index.toString(), kind: e.kind, reason: e.state, leafHash: hex(e.leaf), proven: proven.has(e.index),
    })),
    statements: part.entries.filter((e) => e.state === STATEMENT).length,
  };
}

/** The origins of every current log the trust names, sorted. */
function trustedOrigins(trust) {
  return [...new Set((trust.logs ?? []).filter((g) => g.validUntil === undefined || g.validUntil === null).map((g) => g.origin))].sort();
}

/**
 * Verify a report's bytes against trust (trust.js). Options: {subject}: the subject the
 * reader expects (a page's, a scanned code's); another one fails step 1. Resolves to
 * {ok, verdict, steps, failedStep, part, error, subject, asOf, signedBy, parts, notCovered,
 * notDone}; never rejects for bad input.
 */
export async function verifyReport(data, trust, options = {}) {
  const run = new Run();
  const out = { subject: null, asOf: null, signedBy: null, parts: [], notCovered: [], notDone: [] };
  let report = null;
  try {
    try {
      report = parseReport(data);
      out.subject = report.subject;
      out.asOf = report.asOf.toString();
      if (options.subject !== undefined && options.subject !== null && options.subject !== report.subject) {
        throw new ReportSubjectError(`report: about ${report.subject}, not the subject asked for (${options.subject})`);
      }
      const signer = trust.logForKid(report.kid);
      if (signer === null) throw new WrongLogError(`report: signed by log key ${short(report.kid)}, which is not a trusted log`);
      await verifyEd25519(signer.publicKey, sigStructure(report.protected, report.payload), report.signature, 'report');
      out.signedBy = signer.origin;
    } catch (e) {
      run.fail(1, e);
      throw e;
    }
    run.ok(1, `report on ${report.subject}, ${report.parts.length} part(s), signed by the log ${out.signedBy}`);
    for (const part of report.parts) out.parts.push(await checkPart(report, part, trust, run, options));
    const covered = new Set(out.parts.map((p) => p.origin));
    out.notCovered = trustedOrigins(trust).filter((o) => !covered.has(o));
    const notDone = new Set(out.parts.flatMap((p) => p.records.flatMap((r) => r.notDone)));
    out.notDone = [...notDone];
  } catch (e) {
    if (run.error === null) run.fail(1, e);
  }
  const error = run.error === null ? null : {
    step: run.failedStep, code: run.error.code, type: run.error.name, message: run.error.message,
    part: run.part, missingIndex: run.error.missingIndex ?? null, bundleStep: run.error.bundleStep ?? null,
  };
  return {
    ok: run.error === null, verdict: run.error === null ? 'valid' : 'invalid', version: report?.version ?? null,
    steps: run.steps, failedStep: run.failedStep, part: run.part, error, ...out,
  };
}
