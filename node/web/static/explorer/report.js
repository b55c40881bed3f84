// The report pages verify a subject report (.credex-report) in this browser with the
// verifier of ../verify/report.js (docs/spec.md §5.4: the report's signature, each part's
// checkpoint and witness quorum, the subject's index proof, completeness, every in-force
// record's bundle), against the keys of the federation manifest (pinned by the hash of
// its version 1) or of this node's trust file, and then show the verified table:
//
//   /subject/<org>   the report this node compiles on the organisation (fetched)
//   /report/<sha256> a report the node published: the bytes whose hash the URL names
//                    (checked here before anything else)
//   /report          a report file the reader opens: it never leaves the browser; the
//                    reader may choose their own trust file or manifest chain (and pin)
//
// The verdict goes on #verdict as data-verdict (with data-ms: fetch, keys and verification;
// data-verify-ms: the verification alone): "valid", "invalid" (data-failed-step: the
// spec's step 1-5, data-failed-part: the log, data-missing-index: a record listed in force
// without its bundle, data-error: the error's class), or "error" (no trust material,
// nothing fetched). Nothing from the server or the file is ever parsed as HTML
// (textContent only).

import { hex, sha256 } from '../verify/bytes.js';
import { REPORT_STEPS, verifyReport } from '../verify/report.js';
import { loadTrust } from '../verify/trust.js';
import { pinFor as pinOf } from './pin.js';

const $ = (id) => document.getElementById(id);
const { page, kinds, states, labels: L } = JSON.parse($('page-data').textContent);
const NAMES = new Map(REPORT_STEPS);
const REASONS = {
  repaired: '已完成信用修复 · repaired',
  expired: '公示期满 · expired',
  withdrawn: '已撤销 · withdrawn',
  corrected: '已更正 · corrected',
  superseded: '已被取代 · superseded',
  erased: '内容已删除 · body erased',
  'not-held': '由其所属节点提供 · held by its own node (ask it)',
};

async function fetchBytes(url) {
  const r = await fetch(url, { headers: { Accept: 'application/octet-stream, application/vnd.credex.report+cbor, application/json' } });
  if (!r.ok) {
    let message = `${r.status} ${r.statusText}`;
    try {
      message = (await r.json()).error.message;
    } catch {
      // not a JSON error body
    }
    throw new Error(message);
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

function verdict(kind, text, attrs = {}) {
  const v = $('verdict');
  for (const a of ['data-failed-step', 'data-failed-part', 'data-missing-index', 'data-error']) v.removeAttribute(a);
  v.setAttribute('data-verdict', kind);
  for (const [k, x] of Object.entries(attrs)) if (x !== null && x !== undefined) v.setAttribute(k, String(x));
  v.textContent = text;
}

const pinFor = () => pinOf(page.pin);

const cstDay = (t) => (t === null || t === undefined ? '—' : new Date((Number(t) + 8 * 3600) * 1000).toISOString().slice(0, 10));
const kindName = (k) => (kinds[k] ? `${kinds[k]} · ${k}` : k);

function showSteps(result) {
  $('steps').replaceChildren();
  $('notes').replaceChildren();
  for (const s of result.steps) {
    const li = item($('steps'), 'li', '', { 'data-step': String(s.step), 'data-ok': String(s.ok) });
    item(li, 'strong', `step ${s.step} ${s.name}${s.part ? ` (${s.part})` : ''}: `);
    item(li, 'span', s.detail);
  }
  for (const n of result.notDone) item($('notes'), 'p', `Not done here · 未在浏览器内完成: ${n}.`, { class: 'notice' });
}

function showTable(result) {
  $('report').hidden = false;
  $('report-meta').textContent = `${L.subject[0]} · ${L.subject[1]}: ${result.subject} · as of ${cstDay(result.asOf)} · signed by · 签发日志 ${result.signedBy}`;
  const parts = $('parts');
  parts.replaceChildren();
  for (const p of result.parts) {
    const node = $('part-template').content.cloneNode(true);
    const section = node.querySelector('section');
    section.setAttribute('data-origin', p.origin);
    section.querySelector('.part-origin').textContent = `${L.log[0]} · ${L.log[1]}: ${p.origin}`;
    const complete = section.querySelector('.complete');
    complete.textContent = `完整：截至 ${p.origin} 第 ${p.size} 条，无遗漏 · complete as of ${p.origin} size ${p.size}`;
    complete.setAttribute('data-complete', `${p.origin} ${p.size}`);
    const body = section.querySelector('tbody');
    for (const r of p.records) {
      const tr = item(body, 'tr', '', { 'data-index': r.index });
      item(tr, 'td', r.index);
      const kindCell = item(tr, 'td', '');
      const a = item(kindCell, 'a', kindName(r.kind), { href: `/record/${r.leafHash}` });
      a.setAttribute('rel', 'noopener');
      item(tr, 'td', r.issuer);
      item(tr, 'td', cstDay(r.validFrom));
      const words = states.active ?? ['有效', 'in force'];
      item(tr, 'td', `${words[0]} · in force${r.lifecycle ? ` (${r.lifecycle} lifecycle statement(s) verified, not evaluated here)` : ''}`);
    }
    const counts = new Map();
    for (const w of p.withheld) counts.set(w.reason, (counts.get(w.reason) ?? 0) + 1);
    const summary = [...counts].map(([k, n]) => `${REASONS[k] ?? k}: ${n}`).join('; ');
    section.querySelector('.withheld-summary').textContent = `${L.withheld[0]} · ${L.withheld[1]}: ${p.withheld.length}${summary ? ` (${summary})` : ''} · ${L.statements[0]} · ${L.statements[1]}: ${p.statements}`;
    section.querySelector('.withheld-summary').setAttribute('data-withheld', String(p.withheld.length));
    const list = section.querySelector('.withheld');
    for (const w of p.withheld) {
      const how = w.proven
        ? '已由日志证明 · proven by the log (lifecycle statements and status proof)'
        : w.reason === 'erased' ? '签发方声明，无法证明 · claimed by the issuer, not provable' : '节点声明，未证明 · claimed by the node, not proven';
      item(list, 'li', `#${w.index} ${kindName(w.kind)}: ${REASONS[w.reason] ?? w.reason} (${how})`, {
        'data-index': w.index, 'data-reason': w.reason, 'data-proven': String(w.proven),
      });
    }
    parts.append(node);
  }
  const nc = $('not-covered');
  nc.hidden = !result.notCovered.length;
  nc.textContent = result.notCovered.length
    ? `${L.not_covered_logs[0]} · ${L.not_covered_logs[1]}: ${result.notCovered.join(', ')} (nothing is proven about them · 对其不作任何证明)`
    : '';
}

let trustPromise = null;

/** Local mode: the reader's own trust file (and pin), when chosen; else null. */
async function ownTrust() {
  const input = $('trust-file');
  const file = input && input.files && input.files[0];
  if (!file) return null;
  const pin = $('trust-pin').value.trim() || null;
  const t = await loadTrust(new Uint8Array(await file.arrayBuffer()), { pinnedHash: pin });
  $('trust-source').textContent = `keys · 密钥: your file ${file.name}${pin ? ` pinned at version 1 hash ${pin}` : ''}`;
  return t;
}

async function trust() {
  if (page.mode === 'local') {
    const own = await ownTrust();
    if (own !== null) return own;
  }
  if (trustPromise === null) {
    trustPromise = (async () => {
      const pin = page.trust_kind === 'manifest' ? pinFor() : null;
      const t = await loadTrust(await fetchBytes(page.trust_url), { pinnedHash: pin });
      $('trust-source').textContent = page.trust_kind === 'manifest'
        ? `keys · 密钥: federation manifest pinned at version 1 hash ${pin}`
        : 'keys · 密钥: this node\'s trust file (/api/v1/trust)';
      return t;
    })();
  }
  return trustPromise;
}

async function check(bytes, t0) {
  const tBytes = performance.now();
  let policy;
  try {
    policy = await trust();
  } catch (e) {
    verdict('error', `无法加载密钥 · trust material refused: ${e.message}`);
    return;
  }
  if (page.mode === 'published') {
    const got = hex(await sha256(bytes));
    if (got !== page.report_hash) {
      verdict('invalid', `无效 · INVALID: the file's SHA-256 is not the one the link names (expected ${page.report_hash.slice(0, 16)}…, got ${got.slice(0, 16)}…)`, { 'data-failed-step': 1 });
      return;
    }
  }
  const tKeys = performance.now();
  const result = await verifyReport(bytes, policy, { subject: page.subject ?? null });
  const t1 = performance.now();
  showSteps(result);
  $('timing').textContent = `verified in ${(t1 - tKeys).toFixed(0)} ms (${bytes.length} bytes; fetched in ${(tBytes - t0).toFixed(0)} ms, keys ${(tKeys - tBytes).toFixed(0)} ms)`;
  $('verdict').setAttribute('data-ms', (t1 - t0).toFixed(1));
  $('verdict').setAttribute('data-verify-ms', (t1 - tKeys).toFixed(1));
  if (!result.ok) {
    $('report').hidden = true;
    const e = result.error;
    const where = e.part ? ` in ${e.part}` : '';
    const missing = e.missingIndex !== null ? ` (missing: index ${e.missingIndex})` : '';
    verdict('invalid', `无效 · INVALID: invalid at step ${e.step} (${NAMES.get(e.step)})${where}${missing}: ${e.message}`, {
      'data-failed-step': e.step, 'data-failed-part': e.part, 'data-missing-index': e.missingIndex, 'data-error': e.type,
    });
    return;
  }
  showTable(result);
  if ($('subject') === null) item(document.querySelector('h1'), 'code', result.subject, { id: 'subject' });
  const complete = result.parts.map((p) => `${p.origin} size ${p.size}`).join('; ');
  const n = result.parts.reduce((a, p) => a + p.records.length, 0);
  verdict('valid', `有效 · VALID: report on ${result.subject}, ${n} record(s) in force, complete as of ${complete}`);
}

async function run() {
  if (page.mode === 'local') {
    $('report-file').addEventListener('change', async (ev) => {
      const file = ev.target.files[0];
      if (!file) return;
      $('verdict').removeAttribute('data-verdict');
      $('verdict').textContent = '验证中… verifying…';
      const t0 = performance.now();
      await check(new Uint8Array(await file.arrayBuffer()), t0).catch((e) => verdict('error', `internal error: ${e.message}`));
    });
    return;
  }
  const t0 = performance.now();
  let bytes;
  try {
    bytes = await fetchBytes(page.report_url);
  } catch (e) {
    verdict('error', `无法获取报告 · could not fetch the report: ${e.message}`);
    return;
  }
  await check(bytes, t0);
}

run().catch((err) => verdict('error', `internal error: ${err.message}`));
