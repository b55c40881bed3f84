// A bundle's status proof (docs/spec.md §5.3, ledger/status_proof.py): the verifiable
// index's lookup proof (docs/index.md §3) of the record's status key as of the bundle's
// checkpoint, checked against the index root of the checkpoint's `credex-index/v1` line.
// The lifecycle statements the bundle carries from the record's log below that size must
// be exactly the proven value (a chain of their (index, leaf hash)), or there must be none
// and the key absent. Hashes as FiloSottile/torchwood mpt (docs/index.md §1).

import { concat, equal, fromBase64, hex, sha256, utf8 } from './bytes.js';
import { decode, isBytes, isInt, isMap } from './cbor.js';
import { IndexFormatError, IndexProofError, OversizeError, StatusNotProvenError } from './errors.js';

export const INDEX_EXTENSION = 'credex-index/v1';
export const MAX_PROOF_BYTES = 12 * 1024;
const FIELDS = ['key', 'leaf', 'path', 'v', 'value'];
const STATUS_KEY_TAG = concat(utf8('credex-index/v1 status key'), new Uint8Array([0]));
const STATUS_VALUE_TAG = concat(utf8('credex-index/v1 status value'), new Uint8Array([0]));

/** The index root a checkpoint's extension lines commit to; null when none does. */
export function parseIndexExtension(extensions) {
  const found = extensions.filter((e) => e.split(' ')[0] === INDEX_EXTENSION);
  if (!found.length) return null;
  if (found.length > 1) throw new IndexFormatError('checkpoint: more than one credex-index/v1 line');
  const parts = found[0].split(' ');
  if (parts.length !== 2) throw new IndexFormatError("checkpoint: index line: expected 'credex-index/v1 <base64 root>'");
  const root = fromBase64(parts[1]);
  if (root === null || root.length !== 32) throw new IndexFormatError('checkpoint: index root: expected canonical base64 of 32 bytes');
  return root;
}

function bytes32(v, what) {
  if (!isBytes(v) || v.length !== 32) throw new IndexFormatError(`index: ${what}: expected 32 bytes`);
  return v;
}

/** Strictly parse a lookup proof: {key, value|null, leaf: [key, value]|null, path: [[bit, sibling]]}. */
export function parseLookupProof(data) {
  if (data.length > MAX_PROOF_BYTES) throw new OversizeError(`index: proof too large: expected <= ${MAX_PROOF_BYTES} bytes, got ${data.length}`);
  const v = decode(data, { what: 'lookup proof', maxSize: MAX_PROOF_BYTES });
  if (!isMap(v) || v.size !== FIELDS.length || !FIELDS.every((k) => v.has(k))) {
    throw new IndexFormatError(`index: lookup proof: expected a map with keys ${FIELDS.join(', ')}`);
  }
  if (!isInt(v.get('v')) || Number(v.get('v')) !== 1) throw new IndexFormatError('index: lookup proof: unsupported version: expected 1');
  const key = bytes32(v.get('key'), 'lookup proof key');
  const value = v.get('value') === null ? null : bytes32(v.get('value'), 'lookup proof value');
  let leaf = null;
  if (v.get('leaf') !== null) {
    const l = v.get('leaf');
    if (!Array.isArray(l) || l.length !== 2) throw new IndexFormatError('index: lookup proof leaf: expected [key, value] or null');
    leaf = [bytes32(l[0], 'lookup proof leaf key'), bytes32(l[1], 'lookup proof leaf value')];
  }
  const rawPath = v.get('path');
  if (!Array.isArray(rawPath) || rawPath.length > 256) throw new IndexFormatError('index: lookup proof path: expected at most 256 steps');
  let limit = 256;
  const path = rawPath.map((step) => {
    if (!Array.isArray(step) || step.length !== 2 || !isInt(step[0])) throw new IndexFormatError('index: lookup proof step: expected [bit, sibling]');
    const bit = Number(step[0]);
    if (!(bit >= 0 && bit < limit)) throw new IndexFormatError(`index: lookup proof path: bits must strictly decrease below 256, got ${bit}`);
    limit = bit;
    return [bit, bytes32(step[1], 'lookup proof sibling')];
  });
  if (value !== null && leaf !== null) throw new IndexFormatError('index: lookup proof: a present key has no leaf');
  if (value === null && leaf === null && path.length) {
    throw new IndexFormatError('index: lookup proof leaf: expected the leaf reached for an absent key with a path, got null');
  }
  return { key, value, leaf, path };
}

const bitOf = (key, bit) => (key[bit >> 3] >> (7 - (bit & 7))) & 1;
const uvarint = (n) => (n < 128 ? new Uint8Array([n]) : new Uint8Array([(n & 0x7f) | 0x80, n >> 7]));
const leafHash = (k, v) => sha256(concat(new Uint8Array([0x00, 0x20]), k, new Uint8Array([0x20]), v));

/** IndexProofError unless `proof` shows `key` with `value` (null: absent) under `root`. */
export async function verifyLookup(root, key, value, proof) {
  const empty = await sha256(new Uint8Array(0));
  if (value === null && proof.leaf === null) {
    if (proof.path.length || !equal(root, empty)) {
      throw new IndexProofError(`index: absence of key ${hex(key)} without a leaf: expected the empty root ${hex(empty)}, got ${hex(root)}`);
    }
    return;
  }
  let leafKey = key;
  let h;
  if (value !== null) {
    h = await leafHash(key, value);
  } else {
    [leafKey] = proof.leaf;
    if (equal(leafKey, key)) throw new IndexProofError(`index: absence proof of key ${hex(key)}: expected a leaf of another key, got the key's own leaf`);
    h = await leafHash(proof.leaf[0], proof.leaf[1]);
  }
  for (const [bit, sibling] of proof.path) {
    const side = bitOf(key, bit);
    if (side !== bitOf(leafKey, bit)) {
      throw new IndexProofError(`index: proof path leaves the key ${hex(key)} at bit ${bit}`);
    }
    const pair = side ? concat(sibling, h) : concat(h, sibling);
    h = await sha256(concat(new Uint8Array([0x01]), uvarint(bit), pair));
  }
  if (!equal(h, root)) throw new IndexProofError(`index: proof does not reach the root: expected ${hex(root)}, got ${hex(h)}`);
}

export function u64be(n) {
  const out = new Uint8Array(8);
  let x = BigInt(n);
  for (let i = 7; i >= 0; i -= 1) {
    out[i] = Number(x & 0xffn);
    x >>= 8n;
  }
  return out;
}

async function statusValue(items) {
  let acc = new Uint8Array(32);
  for (const [index, leaf] of items) acc = await sha256(concat(STATUS_VALUE_TAG, acc, u64be(index), leaf));
  return acc;
}

/**
 * Check a bundle's status proof (ledger/status_proof.py check_status_proof); resolves to
 * the step's phrase. `carried`: [{origin, index (BigInt), leaf}] of the verified lifecycle
 * statements the bundle carries.
 */
export async function checkStatusProof(recordLeaf, checkpoint, carried, proofBytes, what) {
  const root = parseIndexExtension(checkpoint.extensions);
  if (root === null) {
    throw new StatusNotProvenError(`${what}: not proven: the bundle's checkpoint (size ${checkpoint.size}) commits to no index root (no credex-index/v1 line), so its status_proof proves nothing`);
  }
  const proof = parseLookupProof(proofBytes);
  const key = await sha256(concat(STATUS_KEY_TAG, recordLeaf));
  if (!equal(proof.key, key)) {
    throw new IndexProofError(`${what} proof: for another key: expected the status key ${hex(key).slice(0, 16)}… of this record, got ${hex(proof.key).slice(0, 16)}…`);
  }
  try {
    await verifyLookup(root, key, proof.value, proof);
  } catch (e) {
    if (!(e instanceof IndexProofError)) throw e;
    throw new IndexProofError(`${what} proof: does not verify against the index root of checkpoint ${checkpoint.size}: ${e.message}`);
  }
  const size = BigInt(checkpoint.size);
  const items = carried
    .filter((c) => c.origin === checkpoint.origin && BigInt(c.index) < size)
    .map((c) => [BigInt(c.index), c.leaf])
    .sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : hex(a[1]) < hex(b[1]) ? -1 : 1));
  const where = `in ${checkpoint.origin} as of size ${checkpoint.size}`;
  if (proof.value === null && items.length) {
    throw new StatusNotProvenError(`${what}: not proven: the index shows no lifecycle statement about this record ${where}, but the bundle carries ${items.length} from that log below that size`);
  }
  if (proof.value !== null && !items.length) {
    throw new StatusNotProvenError(`${what}: not proven: the index lists lifecycle statements about this record ${where}; the bundle carries none of them`);
  }
  if (items.length && !equal(proof.value, await statusValue(items))) {
    throw new StatusNotProvenError(`${what}: not proven: the ${items.length} lifecycle statements the bundle carries from ${checkpoint.origin} are not the ones the index lists as of size ${checkpoint.size} (one is missing, added or repeated)`);
  }
  return `status proven as of checkpoint ${checkpoint.size} (${checkpoint.origin})`;
}
