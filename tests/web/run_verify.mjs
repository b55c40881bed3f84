// Test runner for the in-browser verifier (node/web/static/verify), run by
// tests/web/test_js_verifier.py with node >= 20:
//
//   node run_verify.mjs verify TRUST BUNDLE...   one JSON result per bundle, one per line
//   node run_verify.mjs cbor HEX...             decode each hex string: {ok, value|error}
//   node run_verify.mjs trust FILE [PINHEX]     load trust: {ok, kind, info|error}
//   node run_verify.mjs merkle JSONFILE         RFC 9162 vectors: inclusion and consistency
//
// It may use Node.js APIs (files, argv); the modules it imports may not.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import path from 'node:path';

const here = path.dirname(fileURLToPath(import.meta.url));
const lib = path.resolve(here, '../../node/web/static/verify');
const { verifyBundle, plain } = await import(path.join(lib, 'verify.js'));
const { loadTrust } = await import(path.join(lib, 'trust.js'));
const { decode } = await import(path.join(lib, 'cbor.js'));
const merkle = await import(path.join(lib, 'merkle.js'));

const bytes = (file) => new Uint8Array(readFileSync(file));
const out = (v) => process.stdout.write(`${JSON.stringify(v, (k, x) => (typeof x === 'bigint' ? x.toString() : x))}\n`);
const errorOf = (e) => ({ type: e.name, code: e.code ?? null, message: e.message });
const [cmd, ...args] = process.argv.slice(2);

if (cmd === 'verify') {
  const trust = await loadTrust(bytes(args[0]));
  for (const file of args.slice(1)) out(await verifyBundle(bytes(file), trust));
} else if (cmd === 'cbor') {
  for (const h of args) {
    try {
      out({ ok: true, value: plain(decode(Uint8Array.from(Buffer.from(h, 'hex')), { tags: [18] })) });
    } catch (e) {
      out({ ok: false, error: errorOf(e) });
    }
  }
} else if (cmd === 'trust') {
  try {
    const t = await loadTrust(bytes(args[0]), { pinnedHash: args[1] ?? null });
    out({ ok: true, kind: t.kind, info: t.info, issuers: t.issuers.map((i) => ({ issuer_id: i.issuerId, valid_from: i.validFrom, valid_until: i.validUntil, kinds: [...i.kinds].sort() })), logs: t.logs.map((g) => g.origin) });
  } catch (e) {
    out({ ok: false, error: errorOf(e) });
  }
} else {
  throw new Error(`run_verify: unknown command ${cmd}`);
}
