// Checkpoints as C2SP signed notes (signed-note, tlog-checkpoint, tlog-cosignature/v1).
//
//   <origin>\n<tree size>\n<base64 root>\n[<extension line>\n ...]
//   \n
//   — <key name> <base64(4-byte key id || signature)>\n ...
//
// The grammar is strict and, apart from the origin, the key names and the em dash (U+2014)
// that opens each signature line, ASCII: the tree size is ASCII decimal without leading
// zeros, base64 is RFC 4648 §4 in its canonical form, and no control character other than
// newline appears anywhere (docs/formats.md "Checkpoints"). Key ids are
// SHA-256(name || 0x0A || type || public key)[:4]: type 0x01 for the log's Ed25519
// signature, 0x04 for a witness's timestamped cosignature.

import { base64, concat, equal, fromBase64, fromHex, hex, sha256, utf8, verifyEd25519 } from './bytes.js';
import { NoteError, OversizeError, SignatureError } from './errors.js';

export const ED25519_TYPE = 0x01;
export const COSIGNATURE_TYPE = 0x04;
export const MAX_NOTE_BYTES = 64 * 1024;
const DASH = '\u2014 ';
// a key name: no Unicode white space (as Python's str.isspace counts it), no '+'
const NAME_RE = /^[^\t\n\v\f\r\x1c-\x1f \x85\xa0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000+]+$/u;
const U64_LIMIT = 1n << 64n;
const I64_LIMIT = 1n << 63n;

/** The 4-byte signed-note key id. */
export async function noteKeyId(name, publicKey, type = ED25519_TYPE) {
  return (await sha256(concat(utf8(name), Uint8Array.of(0x0a, type), publicKey))).slice(0, 4);
}

/** The signed-note verifier key string <name>+<hex key id>+<base64(type || key)>. */
export async function noteVerifierKey(name, publicKey, type = ED25519_TYPE) {
  const id = hex(await noteKeyId(name, publicKey, type));
  return `${name}+${id}+${base64(concat(Uint8Array.of(type), publicKey))}`;
}

/** Parse a verifier key: {name, keyId, type, publicKey}; NoteError when malformed. */
export async function parseVerifierKey(text) {
  const parts = typeof text === 'string' ? text.split('+') : [];
  const blob = parts.length === 3 ? fromBase64(parts[2]) : null;
  const keyId = parts.length === 3 && /^[0-9a-f]{8}$/.test(parts[1]) ? fromHex(parts[1]) : null;
  if (blob === null || keyId === null || !NAME_RE.test(parts[0]) || blob.length !== 33) {
    throw new NoteError('note: verifier key must be <name>+<8 hex>+<base64(type || 32-byte key)>');
  }
  const [name, type, publicKey] = [parts[0], blob[0], blob.slice(1)];
  if (!equal(keyId, await noteKeyId(name, publicKey, type))) {
    throw new NoteError('note: verifier key id does not match its name and key');
  }
  return { name, keyId, type, publicKey };
}

function b64(text, what) {
  const out = fromBase64(text);
  if (out === null) throw new NoteError(`checkpoint: ${what} is not valid base64`);
  return out;
}

/** The checkpoint in a note body: {origin, size (BigInt), root, extensions}. */
export function parseCheckpoint(body) {
  if (!body.endsWith('\n')) throw new NoteError('checkpoint: body must end with a newline');
  const lines = body.slice(0, -1).split('\n');
  if (lines.length < 3) throw new NoteError(`checkpoint: expected at least 3 lines, got ${lines.length}`);
  const [origin, sizeText, rootText, ...extensions] = lines;
  if (!/^(0|[1-9][0-9]*)$/.test(sizeText)) {
    throw new NoteError('checkpoint: tree size must be an ascii decimal without leading zeros');
  }
  if (extensions.some((e) => !e)) throw new NoteError('checkpoint: empty extension line');
  const root = b64(rootText, 'root');
  if (!origin) throw new NoteError('checkpoint: origin must be one non-empty line');
  const size = BigInt(sizeText);
  if (size >= U64_LIMIT) throw new NoteError('checkpoint: tree size out of uint64 range');
  if (root.length !== 32) throw new NoteError(`checkpoint: root has wrong length: expected 32, got ${root.length}`);
  return { origin, size, root, extensions };
}

/** Parse a signed note: {body, signatures: [{name, keyId, signature}], checkpoint}. */
export function parseSignedNote(text) {
  if (typeof text !== 'string') throw new NoteError('checkpoint: expected text');
  if (utf8(text).length > MAX_NOTE_BYTES) throw new OversizeError(`checkpoint: note too large: expected <= ${MAX_NOTE_BYTES} bytes`);
  // eslint-disable-next-line no-control-regex
  if (/[\x00-\x09\x0b-\x1f]/.test(text)) {
    throw new NoteError('checkpoint: note must not contain control characters other than newline');
  }
  const sep = text.indexOf('\n\n');
  if (sep < 0) throw new NoteError('checkpoint: missing blank line before signatures');
  const body = text.slice(0, sep + 1);
  const sigText = text.slice(sep + 2);
  const checkpoint = parseCheckpoint(body);
  if (!sigText.endsWith('\n')) throw new NoteError('checkpoint: signature block must end with a newline');
  const signatures = [];
  for (const line of sigText.slice(0, -1).split('\n')) {
    if (!line.startsWith(DASH)) throw new NoteError('checkpoint: signature line must start with an em dash');
    const parts = line.slice(DASH.length).split(' ');
    if (parts.length !== 2 || !NAME_RE.test(parts[0])) throw new NoteError('checkpoint: malformed signature line');
    const blob = b64(parts[1], 'signature');
    if (blob.length < 5) throw new NoteError('checkpoint: signature too short');
    signatures.push({ name: parts[0], keyId: blob.slice(0, 4), signature: blob.slice(4) });
  }
  if (!signatures.length) throw new NoteError('checkpoint: note has no signatures');
  return { body, signatures, checkpoint };
}

function find(note, name, keyId, what) {
  const s = note.signatures.find((x) => x.name === name && equal(x.keyId, keyId));
  if (s === undefined) throw new SignatureError(`checkpoint: no ${what} signature by key ${name}+${hex(keyId)}`);
  return s;
}

/** The log's Ed25519 signature on the note: the first line of its name and key id. */
export async function verifyNoteSignature(note, name, publicKey) {
  const s = find(note, name, await noteKeyId(name, publicKey), 'log');
  await verifyEd25519(publicKey, utf8(note.body), s.signature, 'checkpoint');
}

/** A witness's tlog-cosignature/v1 on the note; resolves to its timestamp (BigInt). */
export async function verifyCosignature(note, name, publicKey) {
  const s = find(note, name, await noteKeyId(name, publicKey, COSIGNATURE_TYPE), 'witness');
  if (s.signature.length !== 72) throw new SignatureError('checkpoint: cosignature has wrong length: expected 72');
  let t = 0n;
  for (const b of s.signature.slice(0, 8)) t = (t << 8n) | BigInt(b);
  if (t >= I64_LIMIT) throw new SignatureError('checkpoint: cosignature timestamp above 2^63 - 1');
  const message = utf8(`cosignature/v1\ntime ${t}\n${note.body}`);
  await verifyEd25519(publicKey, message, s.signature.slice(8), 'cosignature');
  return t;
}
