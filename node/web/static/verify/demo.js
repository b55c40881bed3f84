// The demo page (index.html): read the chosen files, verify, show each step. Text only
// (textContent): nothing from a bundle or trust file is ever parsed as HTML.

import { loadTrust } from './trust.js';
import { verifyBundle } from './verify.js';

const $ = (id) => document.getElementById(id);

const readFile = async (input) => {
  const file = input.files && input.files[0];
  return file ? new Uint8Array(await file.arrayBuffer()) : null;
};

function item(parent, tag, text, attrs = {}) {
  const el = document.createElement(tag);
  el.textContent = text;
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v);
  parent.append(el);
  return el;
}

function show(result) {
  const steps = $('steps');
  for (const s of result.steps) {
    const li = item(steps, 'li', '', { 'data-step': String(s.step), 'data-ok': String(s.ok) });
    item(li, 'strong', `step ${s.step} ${s.name}: `);
    item(li, 'span', s.detail, { class: 'detail' });
  }
  const notes = $('notes');
  for (const n of result.notDone) item(notes, 'p', `Not done here: ${n}.`, { class: 'notice' });
  if (result.lifecycle.length) {
    const ul = item(notes, 'ul', '');
    for (const f of result.lifecycle) item(ul, 'li', `${f.kind} by ${f.issuer} at ${f.iat} (leaf ${f.leafIndex})`);
  }
  const v = $('verdict');
  v.setAttribute('data-verdict', result.verdict);
  if (result.ok) {
    const r = result.record;
    v.textContent = `VALID: ${r.kind} of ${r.subject} in ${r.origin} at index ${r.leafIndex}`;
  } else {
    v.setAttribute('data-failed-step', String(result.failedStep));
    v.textContent = `INVALID: step ${result.failedStep} failed: ${result.error.message}`;
  }
}

async function run(event) {
  event.preventDefault();
  const v = $('verdict');
  v.removeAttribute('data-verdict');
  v.removeAttribute('data-failed-step');
  v.textContent = 'verifying…';
  $('steps').replaceChildren();
  $('notes').replaceChildren();
  const [bundle, trustBytes] = [await readFile($('bundle')), await readFile($('trust'))];
  if (bundle === null || trustBytes === null) {
    v.setAttribute('data-verdict', 'error');
    v.textContent = 'choose a bundle and a trust file';
    return;
  }
  let trust;
  try {
    const pin = $('pin').value.trim();
    trust = await loadTrust(trustBytes, { pinnedHash: pin ? pin : null });
  } catch (e) {
    v.setAttribute('data-verdict', 'error');
    v.textContent = `trust file refused: ${e.message}`;
    return;
  }
  show(await verifyBundle(bundle, trust));
}

$('form').addEventListener('submit', (e) => {
  run(e).catch((err) => {
    $('verdict').setAttribute('data-verdict', 'error');
    $('verdict').textContent = `internal error: ${err.message}`;
  });
});
