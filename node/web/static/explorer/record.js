// The record page verifies, in this browser, what the page shows: the record's .credex
// bundle from this node's public API, with the verifier of ../verify (docs/spec.md §3:
// decode, issuer key, COSE signature, inclusion, receipt, checkpoint and witness quorum,
// the structural status checks, the derivation references), against the keys of the
// federation manifest (pinned by the hash of its version 1) or of this node's trust file.
//
// The verdict goes on #verdict as data-verdict:
//   valid           every step passed (for a lifecycle statement: steps 1-6; it has no
//                   status of its own, so step 7 does not apply)
//   valid-envelope  a person's record: steps 1-6 pass on its hash envelope; its body is
//                   never on the public side, so step 7 is for whoever holds it
//   repaired / withdrawn / corrected / superseded
//                   the node says so, and the lifecycle statements that say so (its
//                   evidence) verify here (steps 1-6) and name this record (refs[0])
//   expired         the record verifies (or is withheld) and the node computed that its
//                   publication period has ended (the window is not evaluated here)
//   invalid         a step failed: data-failed-step names it
//   error           the trust material could not be loaded: no verdict
// Nothing from the server is ever parsed as HTML (textContent only).

import { hex } from '../verify/bytes.js';
import { parseStatement } from '../verify/cose.js';
import { STATUS_KINDS } from '../verify/record.js';
import { loadTrust } from '../verify/trust.js';
import { parseBundle, verifyBundle } from '../verify/verify.js';
import { pinFor as pinOf } from './pin.js';

const $ = (id) => document.getElementById(id);
const data = JSON.parse($('page-data').textContent);
const TERMINAL = ['repaired', 'withdrawn', 'corrected', 'superseded'];
const WORDS = {
  repaired: '已完成信用修复 · REPAIRED: no longer published or shared',
  withdrawn: '已撤销 · WITHDRAWN: no longer published or shared',
  corrected: '已更正 · CORRECTED: this version is no longer published',
  superseded: '已被取代 · SUPERSEDED by a newer record',
  expired: '公示期满 · EXPIRED: its publication period has ended',
};

class FetchError extends Error {}

async function fetchBytes(url) {
  const r = await fetch(url, { headers: { Accept: 'application/octet-stream, application/json' } });
  if (!r.ok) {
    let message = `${r.status} ${r.statusText}`;
    try {
      message = (await r.json()).error.message;
    } catch {
      // not a JSON error body
    }
    const e = new FetchError(message);
    e.status = r.status;
    throw e;
  }
  return new Uint8Array(await r.arrayBuffer());
}

function item(parent, tag, text, attrs = {}) {
  const el = document.createElement(tag);
  el.textContent = text;
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  parent.append(el);
  return el;
}

/** The steps of ``result``; ``statusKind``: the bundle is of a lifecycle statement, whose
 * step 7 does not apply (it has no status of its own), shown as such, not as a failure. */
function showSteps(result, prefix = '', statusKind = false) {
  for (const s of result.steps) {
    const na = statusKind && s.step === 7 && !s.ok;
    const li = item($('steps'), 'li', '', { 'data-step': String(s.step), 'data-ok': na ? 'n/a' : String(s.ok) });
    item(li, 'strong', `${prefix}step ${s.step} ${s.name}: `);
    item(li, 'span', na ? 'does not apply: a lifecycle statement has no status of its own' : s.detail);
  }
  for (const n of result.notDone) item($('notes'), 'p', `Not done here · 未在浏览器内完成: ${n}.`, { class: 'notice' });
}

function verdict(kind, text, failedStep = null) {
  const v = $('verdict');
  v.setAttribute('data-verdict', kind);
  if (failedStep !== null) v.setAttribute('data-failed-step', String(failedStep));
  v.textContent = text;
}

function invalid(result, what = '') {
  verdict('invalid', `无效 · INVALID${what}: step ${result.failedStep} failed: ${result.error.message}`, result.failedStep);
}

const pinFor = () => pinOf(data.pin);

/** A lifecycle statement's bundle: steps 1-6 pass, and it names this record. */
async function verifyEvidence(leaf, trust) {
  const bytes = await fetchBytes(`${data.evidence_url}${leaf}`);
  const result = await verifyBundle(bytes, trust);
  const onlyNoWindow = result.failedStep === 7 && result.steps.filter((s) => s.step <= 6 && s.ok).length === 6;
  if (!result.ok && !onlyNoWindow) return { ok: false, result };
  const st = await parseStatement(parseBundle(bytes).statement);
  const refs = st.record ? st.record.refs : [];
  const names = STATUS_KINDS.includes(st.kind) && refs.length > 0 && hex(refs[0]) === data.leaf_hash;
  return { ok: names, result, kind: st.kind, noWindow: onlyNoWindow && names };
}

async function run() {
  const t0 = performance.now();
  let trust;
  try {
    const pin = data.trust_kind === 'manifest' ? pinFor() : null;
    trust = await loadTrust(await fetchBytes(data.trust_url), { pinnedHash: pin });
    $('trust-source').textContent = data.trust_kind === 'manifest'
      ? `keys · 密钥: federation manifest pinned at version 1 hash ${pin}`
      : 'keys · 密钥: this node\'s trust file (/api/v1/trust)';
  } catch (e) {
    verdict('error', `无法加载密钥 · trust material refused: ${e.message}`);
    return;
  }
  const tLoaded = performance.now();
  let main = null;
  if (data.shared && data.covered) {
    try {
      main = await verifyBundle(await fetchBytes(data.bundle_url), trust);
    } catch (e) {
      verdict('error', `无法获取 · could not fetch the bundle: ${e.message}`);
      return;
    }
    const firstSix = main.steps.filter((s) => s.step <= 6 && s.ok).length === 6;
    const sealed = data.envelope && main.failedStep === 7 && main.error.code === 'body_not_held';
    // a lifecycle statement has no status of its own: step 7 does not apply to it
    const statusKind = STATUS_KINDS.includes(data.kind) && main.failedStep === 7 && firstSix;
    showSteps(main, '', statusKind);
    if (!main.ok && !sealed && !statusKind) {
      invalid(main);
      return;
    }
    if (sealed) main.sealed = true;
    if (statusKind) main.statusKind = true;
  } else if (!data.covered) {
    verdict('error', '尚无检查点 · no signed checkpoint covers this entry yet');
    return;
  }
  for (const leaf of data.evidence) {
    let ev;
    try {
      ev = await verifyEvidence(leaf, trust);
    } catch (e) {
      verdict('error', `无法获取依据 · could not fetch evidence ${leaf.slice(0, 16)}…: ${e.message}`);
      return;
    }
    showSteps(ev.result, `evidence ${leaf.slice(0, 12)}… `, Boolean(ev.noWindow));
    if (!ev.ok) {
      if (!ev.result.ok && ev.result.failedStep !== 7) invalid(ev.result, ' (evidence)');
      else verdict('invalid', `无效 · INVALID: evidence ${leaf.slice(0, 16)}… does not name this record`, 7);
      return;
    }
  }
  const t1 = performance.now();
  $('timing').textContent = `verified in ${(t1 - t0).toFixed(0)} ms (keys ${(tLoaded - t0).toFixed(0)} ms)`;
  $('verdict').setAttribute('data-ms', (t1 - t0).toFixed(1));
  if (TERMINAL.includes(data.state) || data.state === 'expired') {
    verdict(data.state, WORDS[data.state]);
  } else if (main !== null && main.statusKind) {
    verdict('valid', `有效 · VALID (steps 1-6): a ${data.kind} statement, signed, logged and witnessed; it has no status of its own (step 7 does not apply)`);
  } else if (main !== null && main.sealed) {
    verdict('valid-envelope', '有效 · VALID (steps 1-6): signature, inclusion, receipt, checkpoint and witnesses verify; a person\'s record: its content is not public');
  } else if (main !== null) {
    verdict('valid', `有效 · VALID: ${main.record.kind} in ${main.record.origin} at index ${main.record.leafIndex}`);
  } else {
    verdict('error', '无法验证 · nothing to verify: the record is withheld and no evidence was given');
  }
}

run().catch((err) => verdict('error', `internal error: ${err.message}`));
