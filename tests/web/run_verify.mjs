// Test runner for the in-browser verifier (node/web/static/verify), run by tests/web/*.py
// with node >= 20. One command, one JSON request file, one JSON answer on stdout:
//
//   node run_verify.mjs verify REQ   {"cases": [{"trust": FILE, "bundle": FILE, "pin"?: HEX}]}
//                                    -> [{trust_error} | verifyBundle(...) result]
//   node run_verify.mjs report REQ   {"cases": [{"trust": FILE, "report": FILE, "pin"?: HEX, "subject"?: TEXT}]}
//                                    -> [{trust_error} | verifyReport(...) result]
//   node run_verify.mjs cbor REQ     {"items": [HEX], "tags": [18]} -> [{ok, value} | {ok, error}]
//   node run_verify.mjs trust REQ    {"cases": [{"trust": FILE, "pin"?: HEX}]} -> [{ok, kind, ...}]
//   node run_verify.mjs merkle REQ   {"inclusion": [...], "consistency": [...]} (hex) -> {...}
//
// The runner may use Node.js APIs (files, argv); the modules it imports may not.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const lib = path.resolve(here, '../../node/web/static/verify');
const { verifyBundle, plain } = await import(path.join(lib, 'verify.js'));
const { loadTrust } = await import(path.join(lib, 'trust.js'));
const { verifyReport } = await import(path.join(lib, 'report.js'));
const { decode } = await import(path.join(lib, 'cbor.js'));
const { verifyInclusion, verifyConsistency } = await import(path.join(lib, 'merkle.js'));

const bytes = (file) => new Uint8Array(readFileSync(file));
const unhex = (h) => Uint8Array.from(Buffer.from(h, 'hex'));
const errorOf = (e) => ({ type: e.name, code: e.code ?? null, message: e.message, step: e.step ?? null });
const [cmd, reqFile] = process.argv.slice(2);
const req = JSON.parse(readFileSync(reqFile, 'utf8'));

async function attempt(fn) {
  try {
    return { ok: true, ...(await fn()) };
  } catch (e) {
    return { ok: false, error: errorOf(e) };
  }
}

async function run() {
  if (cmd === 'verify') {
    const trusts = new Map();
    const out = [];
    for (const c of req.cases) {
      const key = `${c.trust}\u0000${c.pin ?? ''}`;
      if (!trusts.has(key)) trusts.set(key, await attempt(async () => ({ policy: await loadTrust(bytes(c.trust), { pinnedHash: c.pin ?? null }) })));
      const t = trusts.get(key);
      out.push(t.ok ? await verifyBundle(bytes(c.bundle), t.policy) : { trust_error: t.error });
    }
    return out;
  }
  if (cmd === 'report') {
    const trusts = new Map();
    const out = [];
    for (const c of req.cases) {
      const key = `${c.trust}\u0000${c.pin ?? ''}`;
      if (!trusts.has(key)) trusts.set(key, await attempt(async () => ({ policy: await loadTrust(bytes(c.trust), { pinnedHash: c.pin ?? null }) })));
      const t = trusts.get(key);
      out.push(t.ok ? await verifyReport(bytes(c.report), t.policy, { subject: c.subject ?? null }) : { trust_error: t.error });
    }
    return out;
  }
  if (cmd === 'cbor') {
    return Promise.all(req.items.map((h) => attempt(async () => ({ value: plain(decode(unhex(h), { tags: req.tags ?? [] })) }))));
  }
  if (cmd === 'trust') {
    const out = [];
    for (const c of req.cases) {
      out.push(await attempt(async () => {
        const t = await loadTrust(bytes(c.trust), { pinnedHash: c.pin ?? null });
        return {
          kind: t.kind,
          info: t.info,
          logs: t.logs.map((g) => ({ origin: g.origin, note_key_name: g.noteKeyName, kid: Buffer.from(g.kid).toString('hex') })),
          issuers: t.issuers.map((i) => ({
            issuer_id: i.issuerId, region: i.region, kid: Buffer.from(i.kid).toString('hex'),
            valid_from: plain(i.validFrom), valid_until: plain(i.validUntil), kinds: [...i.kinds].sort(),
          })),
          witnesses: Object.fromEntries((c.origins ?? []).map((o) => [o, { quorum: t.quorumFor(o), names: t.witnessesFor(o).map((w) => w.name) }])),
        };
      }));
    }
    return out;
  }
  if (cmd === 'merkle') {
    const inclusion = [];
    for (const c of req.inclusion) {
      inclusion.push(await attempt(() => verifyInclusion(unhex(c.leaf_hash), BigInt(c.leaf_index), BigInt(c.tree_size), c.proof.map(unhex), unhex(c.root))));
    }
    const consistency = [];
    for (const c of req.consistency) {
      consistency.push(await attempt(() => verifyConsistency(BigInt(c.size1), BigInt(c.size2), unhex(c.root1), unhex(c.root2), c.proof.map(unhex))));
    }
    return { inclusion, consistency };
  }
  throw new Error(`run_verify: unknown command ${cmd}`);
}

process.stdout.write(JSON.stringify(await run(), (k, x) => (typeof x === 'bigint' ? x.toString() : x)));
