// RFC 9162 §2.1 Merkle tree hashing and proof verification (SHA-256), leaves 0-indexed.
//
// leafHash = SHA-256(0x00 || leaf), nodeHash = SHA-256(0x01 || left || right). Sizes and
// indices are BigInt-safe (any uint64). Only 32-byte digests are accepted. Errors are
// InclusionProofError / ConsistencyProofError naming what failed.

import { concat, equal, hex, sha256 } from './bytes.js';
import { ConsistencyProofError, InclusionProofError } from './errors.js';

export const HASH_SIZE = 32;

export const leafHash = (data) => sha256(concat(Uint8Array.of(0), data));
export const nodeHash = (left, right) => sha256(concat(Uint8Array.of(1), left, right));

function checkDigest(what, value, Err) {
  if (!(value instanceof Uint8Array) || value.length !== HASH_SIZE) {
    throw new Err(`merkle: ${what} has wrong length: expected ${HASH_SIZE}, got ${value?.length}`);
  }
}

/** The root an inclusion proof leads to (RFC 9162 §2.1.3.2 steps 1-4). */
export async function rootFromInclusionProof(leaf, index, size, proof) {
  const idx = BigInt(index);
  const n = BigInt(size);
  if (n <= 0n || idx < 0n || idx >= n) {
    throw new InclusionProofError(`inclusion proof: leaf index out of range: expected < ${n}, got ${idx}`);
  }
  checkDigest('leaf hash', leaf, InclusionProofError);
  let fn = idx;
  let sn = n - 1n;
  let r = leaf;
  for (const p of proof) {
    checkDigest('proof element', p, InclusionProofError);
    if (sn === 0n) {
      throw new InclusionProofError(`inclusion proof has wrong size: too long for index ${idx} in size ${n}`);
    }
    if ((fn & 1n) === 1n || fn === sn) {
      r = await nodeHash(p, r);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      r = await nodeHash(r, p);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) {
    throw new InclusionProofError(`inclusion proof has wrong size: too short for index ${idx} in size ${n}, got ${proof.length} elements`);
  }
  return r;
}

/** Check that `leaf` is entry `index` of the tree of `size` with `root`. */
export async function verifyInclusion(leaf, index, size, proof, root) {
  checkDigest('root', root, InclusionProofError);
  const computed = await rootFromInclusionProof(leaf, index, size, proof);
  if (!equal(computed, root)) {
    throw new InclusionProofError(`inclusion proof: root mismatch: expected ${hex(root)}, computed ${hex(computed)}`);
  }
}

/**
 * Check that the tree of `newSize` extends the tree of `oldSize` (RFC 9162 §2.1.4.2).
 * Equal sizes need an empty proof and equal roots; an old size of 0 is refused (a verifier
 * has nothing to be consistent with).
 */
export async function verifyConsistency(oldSize, newSize, oldRoot, newRoot, proof) {
  const m = BigInt(oldSize);
  const n = BigInt(newSize);
  checkDigest('old root', oldRoot, ConsistencyProofError);
  checkDigest('new root', newRoot, ConsistencyProofError);
  if (m < 1n || n < m) {
    throw new ConsistencyProofError(`consistency proof: sizes invalid: expected 0 < old <= new, got old ${m}, new ${n}`);
  }
  if (m === n) {
    if (proof.length) throw new ConsistencyProofError(`consistency proof has wrong size: expected 0 for equal sizes, got ${proof.length}`);
    if (!equal(oldRoot, newRoot)) throw new ConsistencyProofError('consistency proof: equal sizes but roots differ');
    return;
  }
  if (!proof.length) throw new ConsistencyProofError('consistency proof has wrong size: expected > 0, got 0');
  for (const p of proof) checkDigest('proof element', p, ConsistencyProofError);
  const path = (m & (m - 1n)) === 0n ? [oldRoot, ...proof] : [...proof];
  let fn = m - 1n;
  let sn = n - 1n;
  while ((fn & 1n) === 1n) {
    fn >>= 1n;
    sn >>= 1n;
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0n) throw new ConsistencyProofError('consistency proof has wrong size: too long');
    if ((fn & 1n) === 1n || fn === sn) {
      fr = await nodeHash(c, fr);
      sr = await nodeHash(c, sr);
      if ((fn & 1n) === 0n) {
        while ((fn & 1n) === 0n && fn !== 0n) {
          fn >>= 1n;
          sn >>= 1n;
        }
      }
    } else {
      sr = await nodeHash(sr, c);
    }
    fn >>= 1n;
    sn >>= 1n;
  }
  if (sn !== 0n) throw new ConsistencyProofError('consistency proof has wrong size: too short');
  if (!equal(fr, oldRoot)) throw new ConsistencyProofError(`consistency proof: old root mismatch: expected ${hex(oldRoot)}, computed ${hex(fr)}`);
  if (!equal(sr, newRoot)) throw new ConsistencyProofError(`consistency proof: new root mismatch: expected ${hex(newRoot)}, computed ${hex(sr)}`);
}
