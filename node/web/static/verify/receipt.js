// RFC 9942 COSE receipts for the RFC9162_SHA256 verifiable data structure (FORMATS.md "Log").
//
//   18([protected = {1: -8 / -19, 4: log kid(32), 395: 1},
//       unprotected = {396: {-1: [bstr .cbor [tree_size, leaf_index, [* bstr]]]}},
//       payload = nil,                              ; detached: the Merkle root
//       signature = Ed25519(["Signature1", protected, h'', root])])
//
// parseReceipt() is strict and takes exactly one inclusion proof; a leaf index outside
// [0, tree_size) is refused while parsing (step 1). Whether the log key is trusted is the
// verifier's call.

import { verifyEd25519 } from './bytes.js';
import { Tagged, decode, isBytes, isInt, isMap } from './cbor.js';
import { CoseError, InclusionProofError } from './errors.js';
import { ALG_ED25519, ALG_EDDSA, COSE_SIGN1_TAG, sigStructure } from './cose.js';
import { rootFromInclusionProof } from './merkle.js';

export const LABEL_VDS = 395;
export const LABEL_VDP = 396;
export const VDS_RFC9162_SHA256 = 1;
export const MAX_RECEIPT_BYTES = 8 * 1024;
const INCLUSION = -1;

const sameKeys = (m, keys) => m.size === keys.length && keys.every((k) => m.has(k));

function decodeInner(bytes, what, label) {
  try {
    return decode(bytes, { what });
  } catch (e) {
    throw new CoseError(`receipt: bad ${label}: ${e.message}`);
  }
}

/** Parse a receipt: {protected, logKid, treeSize, leafIndex, path, signature}. */
export function parseReceipt(data) {
  const value = decode(data, { what: 'receipt', maxSize: MAX_RECEIPT_BYTES, tags: [COSE_SIGN1_TAG] });
  if (!(value instanceof Tagged) || value.tag !== COSE_SIGN1_TAG) {
    throw new CoseError('receipt: wrong cose tag: expected 18 (COSE_Sign1)');
  }
  const arr = value.value;
  if (!Array.isArray(arr) || arr.length !== 4) throw new CoseError('receipt: cose_sign1 must be an array of 4 items');
  const [prot, unprotected, payload, signature] = arr;
  if (!isBytes(prot) || payload !== null) throw new CoseError('receipt: protected must be bstr and the payload detached (nil)');
  if (!isBytes(signature) || signature.length !== 64) throw new CoseError('receipt: signature must be a 64-byte bstr');
  const hdr = decodeInner(prot, 'receipt protected header', 'protected header');
  if (!isMap(hdr) || !sameKeys(hdr, [1, 4, LABEL_VDS])) throw new CoseError('receipt: protected header must hold exactly 1, 4 and 395');
  if (hdr.get(1) !== ALG_EDDSA && hdr.get(1) !== ALG_ED25519) throw new CoseError('receipt: unsupported algorithm: expected -8');
  if (hdr.get(LABEL_VDS) !== VDS_RFC9162_SHA256) throw new CoseError('receipt: unsupported vds: expected 1');
  const kid = hdr.get(4);
  if (!isBytes(kid) || kid.length !== 32) throw new CoseError('receipt: kid must be a 32-byte bstr');
  if (!isMap(unprotected) || !sameKeys(unprotected, [LABEL_VDP])) throw new CoseError('receipt: unprotected header must hold exactly 396');
  const vdp = unprotected.get(LABEL_VDP);
  if (!isMap(vdp) || !sameKeys(vdp, [INCLUSION])) throw new CoseError('receipt: proofs (396) must hold exactly inclusion proofs (-1)');
  const proofs = vdp.get(INCLUSION);
  if (!Array.isArray(proofs) || proofs.length !== 1 || !isBytes(proofs[0])) {
    throw new CoseError('receipt: expected exactly one inclusion proof bstr');
  }
  const proof = decodeInner(proofs[0], 'receipt inclusion proof', 'inclusion proof');
  if (!Array.isArray(proof) || proof.length !== 3 || !isInt(proof[0]) || !isInt(proof[1])
      || !Array.isArray(proof[2]) || !proof[2].every(isBytes)) {
    throw new CoseError('receipt: inclusion proof must be [tree_size, leaf_index, [* bstr]]');
  }
  const [size, index, path] = proof;
  if (!(index >= 0 && index < size)) {
    throw new InclusionProofError(`receipt: leaf index out of range: expected < ${size}, got ${index}`);
  }
  return { protected: prot, logKid: kid, treeSize: size, leafIndex: index, path, signature };
}

/** The root the receipt's inclusion path gives for `leafHash` (InclusionProofError). */
export const receiptRoot = (receipt, leafHash) =>
  rootFromInclusionProof(leafHash, receipt.leafIndex, receipt.treeSize, receipt.path);

/** The log signed `root` in this receipt (SignatureError). */
export const verifyReceiptSignature = (receipt, publicKey, root) =>
  verifyEd25519(publicKey, sigStructure(receipt.protected, root), receipt.signature, 'receipt');
