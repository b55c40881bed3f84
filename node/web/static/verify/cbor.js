// Strict deterministic CBOR (RFC 8949 §4.2.1) as credex reads and writes it (docs/spec.md §1).
//
// decode() accepts exactly the deterministic encoding of one item that fills the input:
// definite lengths, shortest heads, map keys (integers or text only) in bytewise order of
// their encodings with no duplicates, UTF-8 text, integers in [-2^64, 2^64-1], true, false,
// null, and a tag only as the outermost item when the caller expects one (COSE_Sign1 18,
// COSE_Sign 98: the caller checks the number). It refuses floats, undefined, simple values, any other tag, nesting deeper
// than 16 levels (the outermost item is level 0) and more than MAX_ITEMS items, with a
// CborError (malformed, unsupported) or NonDeterministicCborError (well-formed, not
// deterministic), and input over `maxSize` with an OversizeError.
//
// Values: unsigned/negative integers as Number when safe, else BigInt; byte strings as
// Uint8Array; text as string; arrays as Array; maps as Map; tags as Tagged. encode() writes
// the same subset deterministically. This module knows nothing about what values mean.

import { compare, concat, fromUtf8, utf8 } from './bytes.js';
import { CborError, NonDeterministicCborError, OversizeError } from './errors.js';

export const MAX_DEPTH = 16;
/** Items (keys included) one decode may hold: above any value the size limits allow. */
export const MAX_ITEMS = 65536;

export class Tagged {
  constructor(tag, value) {
    this.tag = tag;
    this.value = value;
  }
}

const U64_MAX = (1n << 64n) - 1n;

const toInt = (big) =>
  big <= BigInt(Number.MAX_SAFE_INTEGER) && big >= -BigInt(Number.MAX_SAFE_INTEGER)
    ? Number(big)
    : big;

export const isInt = (v) => (typeof v === 'number' && Number.isInteger(v)) || typeof v === 'bigint';
export const isMap = (v) => v instanceof Map;
export const isBytes = (v) => v instanceof Uint8Array;

class Reader {
  constructor(data, what, tags) {
    this.data = data;
    this.pos = 0;
    this.what = what;
    this.tags = tags;
    this.items = 0;
  }

  fail(msg, Cls = CborError) {
    return new Cls(`${this.what}: ${msg}`);
  }

  byte() {
    if (this.pos >= this.data.length) throw this.fail('malformed or truncated cbor: truncated');
    return this.data[this.pos++];
  }

  take(n) {
    if (n > BigInt(this.data.length - this.pos)) {
      throw this.fail('malformed or truncated cbor: truncated');
    }
    const k = Number(n);
    const out = this.data.slice(this.pos, this.pos + k);
    this.pos += k;
    return out;
  }

  /** The head's argument as BigInt; refuses reserved and non-shortest forms. */
  argument(ai, major) {
    if (ai < 24) return BigInt(ai);
    if (ai === 31) {
      if (major >= 2 && major <= 5) {
        throw this.fail('not deterministic cbor (RFC 8949 §4.2.1): indefinite length', NonDeterministicCborError);
      }
      throw this.fail('malformed or truncated cbor: unexpected break or indefinite item');
    }
    if (ai > 27) throw this.fail(`malformed or truncated cbor: reserved additional information ${ai}`);
    const size = 1 << (ai - 24);
    let n = 0n;
    for (let i = 0; i < size; i++) n = (n << 8n) | BigInt(this.byte());
    const min = [24n, 256n, 65536n, 4294967296n][ai - 24];
    if (n < min) {
      throw this.fail('not deterministic cbor (RFC 8949 §4.2.1): integer head not in its shortest form', NonDeterministicCborError);
    }
    return n;
  }

  item(depth) {
    if (depth > MAX_DEPTH) throw this.fail(`unsupported cbor item: nesting too deep: expected <= ${MAX_DEPTH} levels`);
    if (++this.items > MAX_ITEMS) throw this.fail(`unsupported cbor item: more than ${MAX_ITEMS} items`);
    const ib = this.byte();
    const major = ib >> 5;
    const ai = ib & 31;
    if (major === 7) return this.simple(ai);
    const n = this.argument(ai, major);
    switch (major) {
      case 0:
        return toInt(n);
      case 1:
        return toInt(-1n - n);
      case 2:
        return this.take(n);
      case 3: {
        const text = fromUtf8(this.take(n));
        if (text === null) throw this.fail('malformed or truncated cbor: text is not valid utf-8');
        return text;
      }
      case 4: {
        if (n > BigInt(this.data.length - this.pos)) throw this.fail('malformed or truncated cbor: truncated');
        const out = [];
        for (let i = 0n; i < n; i++) out.push(this.item(depth + 1));
        return out;
      }
      case 5:
        return this.map(n, depth);
      default: {
        // major 6: a tag only as the outermost item, where the caller allows tags and
        // checks the number (COSE_Sign1 18, COSE_Sign 98); anywhere else it is refused
        // the formats use only tags 18 and 98: any other number is refused first, as the
        // Python decoder's pre-scan does (spec.md §1: no value sharing, no other tags)
        if (n !== 18n && n !== 98n) {
          throw this.fail(`unsupported cbor item: tag ${n}: expected one of [18, 98]`);
        }
        if (depth !== 0 || !this.tags.length) {
          throw this.fail(`unsupported cbor item: tag ${n} is not used here`);
        }
        return new Tagged(Number(n), this.item(depth + 1));
      }
    }
  }

  map(n, depth) {
    if (2n * n > BigInt(this.data.length - this.pos)) throw this.fail('malformed or truncated cbor: truncated');
    const out = new Map();
    let prev = null;
    for (let i = 0n; i < n; i++) {
      const start = this.pos;
      const key = this.item(depth + 1);
      const raw = this.data.subarray(start, this.pos);
      if (typeof key !== 'string' && !isInt(key)) {
        throw this.fail('unsupported cbor item: map keys must be integers or text');
      }
      if (prev !== null) {
        const c = compare(prev, raw);
        if (c === 0) {
          throw this.fail('not deterministic cbor (RFC 8949 §4.2.1): duplicate map key', NonDeterministicCborError);
        }
        if (c > 0) {
          throw this.fail('not deterministic cbor (RFC 8949 §4.2.1): map keys not in bytewise order', NonDeterministicCborError);
        }
      }
      prev = raw;
      out.set(key, this.item(depth + 1));
    }
    return out;
  }

  simple(ai) {
    if (ai === 20) return false;
    if (ai === 21) return true;
    if (ai === 22) return null;
    if (ai >= 25 && ai <= 27) throw this.fail('unsupported cbor item: floats are not allowed in credex values');
    if (ai === 31) throw this.fail('malformed or truncated cbor: unexpected break');
    if (ai >= 28) throw this.fail(`malformed or truncated cbor: reserved additional information ${ai}`);
    throw this.fail('unsupported cbor item: undefined and simple values are not used');
  }
}

/**
 * Decode one deterministic CBOR item that fills `data` exactly.
 * @param {Uint8Array} data
 * @param {{what?: string, maxSize?: number, tags?: number[]}} options
 */
export function decode(data, { what = 'cbor', maxSize, tags = [] } = {}) {
  if (!(data instanceof Uint8Array)) throw new CborError(`${what}: expected bytes`);
  if (maxSize !== undefined && data.length > maxSize) {
    throw new OversizeError(`${what}: too large: expected <= ${maxSize} bytes, got ${data.length}`);
  }
  if (data.length === 0) throw new CborError(`${what}: empty input`);
  const r = new Reader(data, what, tags);
  const value = r.item(0);
  if (r.pos !== data.length) {
    throw new CborError(`${what}: trailing bytes after cbor item: ${data.length - r.pos} bytes`);
  }
  return value;
}

function head(major, n) {
  const big = BigInt(n);
  const mt = major << 5;
  if (big < 24n) return Uint8Array.of(mt | Number(big));
  for (const [ai, size] of [[24, 1], [25, 2], [26, 4], [27, 8]]) {
    if (big < 1n << BigInt(8 * size)) {
      const out = new Uint8Array(1 + size);
      out[0] = mt | ai;
      for (let i = 0; i < size; i++) out[size - i] = Number((big >> BigInt(8 * i)) & 255n);
      return out;
    }
  }
  throw new CborError('cbor: integer outside the 64-bit range of CBOR major types 0/1');
}

/** The deterministic encoding of a value of the subset decode() returns. */
export function encode(value) {
  if (value === null) return Uint8Array.of(0xf6);
  if (value === false) return Uint8Array.of(0xf4);
  if (value === true) return Uint8Array.of(0xf5);
  if (isInt(value)) {
    const big = BigInt(value);
    if (big > U64_MAX || big < -(U64_MAX + 1n)) {
      throw new CborError('cbor: integer outside the 64-bit range of CBOR major types 0/1');
    }
    return big >= 0n ? head(0, big) : head(1, -1n - big);
  }
  if (typeof value === 'number') throw new CborError('cbor: floats are not allowed in credex values');
  if (typeof value === 'string') {
    const raw = utf8(value);
    return concat(head(3, raw.length), raw);
  }
  if (value instanceof Uint8Array) return concat(head(2, value.length), value);
  if (Array.isArray(value)) return concat(head(4, value.length), ...value.map(encode));
  if (value instanceof Map) {
    const entries = [...value].map(([k, v]) => [encode(k), encode(v)]);
    entries.sort((a, b) => compare(a[0], b[0]));
    return concat(head(5, entries.length), ...entries.flat());
  }
  if (value instanceof Tagged) return concat(head(6, value.tag), encode(value.value));
  throw new CborError(`cbor: cannot encode a ${typeof value}`);
}

/** A Map from plain [key, value] pairs (a literal for encode()). */
export const cmap = (...pairs) => new Map(pairs);
