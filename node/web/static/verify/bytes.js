// Byte helpers for the verifier: hex, strict base64, UTF-8, SHA-256 and Ed25519 through
// WebCrypto (crypto.subtle), nothing else. Browser-compatible: no Node.js APIs.

import { SignatureError } from './errors.js';

const subtle = () => {
  const c = globalThis.crypto;
  if (!c || !c.subtle) {
    throw new Error('verify: WebCrypto (crypto.subtle) is not available in this context');
  }
  return c.subtle;
};

export function hex(bytes) {
  let out = '';
  for (const b of bytes) out += b.toString(16).padStart(2, '0');
  return out;
}

/** Lowercase or uppercase hex of an even length; null when malformed. */
export function fromHex(text) {
  if (typeof text !== 'string' || text.length % 2 !== 0 || !/^[0-9a-fA-F]*$/.test(text)) {
    return null;
  }
  const out = new Uint8Array(text.length / 2);
  for (let i = 0; i < out.length; i++) out[i] = parseInt(text.slice(2 * i, 2 * i + 2), 16);
  return out;
}

export function concat(...parts) {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

export function equal(a, b) {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i] ^ b[i];
  return diff === 0;
}

/** Bytewise lexicographic order: negative, zero or positive. */
export function compare(a, b) {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return a[i] - b[i];
  return a.length - b.length;
}

const B64 = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/';
const B64_VALUE = new Map([...B64].map((c, i) => [c, i]));

export function base64(bytes) {
  let out = '';
  for (let i = 0; i < bytes.length; i += 3) {
    const n = (bytes[i] << 16) | ((bytes[i + 1] ?? 0) << 8) | (bytes[i + 2] ?? 0);
    out += B64[(n >> 18) & 63] + B64[(n >> 12) & 63];
    out += i + 1 < bytes.length ? B64[(n >> 6) & 63] : '=';
    out += i + 2 < bytes.length ? B64[n & 63] : '=';
  }
  return out;
}

/**
 * RFC 4648 §4 base64, canonical only (§3.5: padding present, unused bits zero); null when
 * the text is anything else, so one byte string has exactly one accepted text.
 */
export function fromBase64(text) {
  if (typeof text !== 'string' || text.length % 4 !== 0) return null;
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(text)) return null;
  const pad = text.endsWith('==') ? 2 : text.endsWith('=') ? 1 : 0;
  const out = new Uint8Array((text.length / 4) * 3 - pad);
  let at = 0;
  for (let i = 0; i < text.length; i += 4) {
    const v = [0, 1, 2, 3].map((j) => B64_VALUE.get(text[i + j]) ?? 0);
    const n = (v[0] << 18) | (v[1] << 12) | (v[2] << 6) | v[3];
    for (const shift of [16, 8, 0]) if (at < out.length) out[at++] = (n >> shift) & 255;
  }
  return base64(out) === text ? out : null;
}

const ENCODER = new TextEncoder();
const DECODER = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

export const utf8 = (text) => ENCODER.encode(text);

/** Strict UTF-8 (no lone surrogates, no overlongs, a BOM kept as U+FEFF); null if invalid. */
export function fromUtf8(bytes) {
  try {
    return DECODER.decode(bytes);
  } catch {
    return null;
  }
}

export async function sha256(data) {
  return new Uint8Array(await subtle().digest('SHA-256', data));
}

const KEYS = new Map();

/**
 * Ed25519 (RFC 8032 §5.1.7) through WebCrypto: resolves, or rejects with SignatureError
 * naming `what` when the key or signature has the wrong length or does not verify.
 */
export async function verifyEd25519(publicKey, message, signature, what) {
  if (publicKey.length !== 32) {
    throw new SignatureError(`${what}: public key has wrong length: expected 32, got ${publicKey.length}`);
  }
  if (signature.length !== 64) {
    throw new SignatureError(`${what}: signature has wrong length: expected 64, got ${signature.length}`);
  }
  const id = hex(publicKey);
  let key = KEYS.get(id);
  let ok = false;
  try {
    if (key === undefined) {
      key = await subtle().importKey('raw', publicKey, { name: 'Ed25519' }, false, ['verify']);
      if (KEYS.size < 256) KEYS.set(id, key);
    }
    ok = await subtle().verify({ name: 'Ed25519' }, key, signature, message);
  } catch {
    ok = false;
  }
  if (!ok) throw new SignatureError(`${what}: signature does not verify`);
}
