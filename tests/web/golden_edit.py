"""Editing the golden vectors (tests/vectors/golden) for the tamper table: bundles and
statements as editable parts, checkpoints as lines, trust files as JSON, raw CBOR, and the
golden test keys (public on purpose, tests/vectors/generate.py) to sign new material.
"""

from __future__ import annotations

import base64
import copy
import hashlib
import importlib.util
import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cbor2

from credex.ledger import encoding
from credex.ledger.checkpoint import Checkpoint, cosign_checkpoint, sign_checkpoint
from credex.ledger.keys import SigningKey

GOLDEN = Path(__file__).resolve().parents[1] / "vectors" / "golden"
_spec = importlib.util.spec_from_file_location("golden_generate", GOLDEN.parent / "generate.py")
assert _spec is not None and _spec.loader is not None
_gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_gen)

ISSUER = SigningKey(_gen.ISSUER_SEED)
LOG = SigningKey(_gen.LOG_SEED)
WITNESS = SigningKey(_gen.WITNESS_SEED)
ORIGIN: str = _gen.ORIGIN
ISS: str = _gen.ISS
IAT: int = _gen.IAT
WITNESS_NAME = "golden.witness.example"
ORG = "91330200MA0YX00163"  # the golden penalty's subject
OTHER_ORG = "91330100MA0YX0016X"
TRUST_TEXT = (GOLDEN / "trust.json").read_text(encoding="utf-8")
#: Ed25519 group order: S + L is the same scalar, a non-canonical (malleated) signature
ED25519_L = 2**252 + 27742317777372353535851937790883648493


@dataclass(frozen=True)
class Case:
    name: str
    bundle: bytes
    step: int | None  # the step both verifiers must fail at; None: both must accept
    trust: str = TRUST_TEXT


def golden_map(i: int) -> dict[str, Any]:
    value = cbor2.loads((GOLDEN / f"bundle-{i}.credex").read_bytes())
    assert isinstance(value, dict)
    return value


enc = encoding.encode


def flip(data: bytes, at: int) -> bytes:
    return data[:at] + bytes([data[at] ^ 0x01]) + data[at + 1 :]


# --- statements and receipts as editable parts -------------------------------------------
def parts_of(statement: bytes) -> list[Any]:
    tag = cbor2.loads(statement)
    assert isinstance(tag, cbor2.CBORTag) and tag.tag == 18
    return list(tag.value)


def statement_bytes(parts: list[Any]) -> bytes:
    return enc(cbor2.CBORTag(18, parts))


def edit_statement(b: dict[str, Any], fn: Callable[[list[Any]], None]) -> dict[str, Any]:
    out = copy.deepcopy(b)
    parts = parts_of(out["statement"])
    fn(parts)
    out["statement"] = statement_bytes(parts)
    return out


def edit_protected(b: dict[str, Any], fn: Callable[[dict[Any, Any]], None]) -> dict[str, Any]:
    def edit(parts: list[Any]) -> None:
        hdr = cbor2.loads(parts[0])
        fn(hdr)
        parts[0] = enc(hdr)

    return edit_statement(b, edit)


def deep(value: Any) -> bytes:
    """Deterministic CBOR of a value nested deeper than ``encoding.encode`` allows (text keys
    only: cbor2's length-first order is then the RFC 8949 bytewise one)."""
    return cbor2.dumps(value, canonical=True)


def edit_record(
    b: dict[str, Any], fn: Callable[[dict[str, Any]], Any], encoder: Callable[[Any], bytes] = enc
) -> dict[str, Any]:
    def edit(parts: list[Any]) -> None:
        rec = cbor2.loads(parts[2])
        fn(rec)
        parts[2] = encoder(rec)

    return edit_statement(b, edit)


def edit_receipt(b: dict[str, Any], fn: Callable[[list[Any], list[Any]], None]) -> dict[str, Any]:
    """fn(receipt parts, proof [size, index, path]) edits in place."""

    def edit(parts: list[Any]) -> None:
        receipt = parts_of(parts[1][394][0])
        proof = cbor2.loads(receipt[1][396][-1][0])
        fn(receipt, proof)
        receipt[1] = {396: {-1: [enc(proof)]}}
        parts[1] = {394: [statement_bytes(receipt)]}

    return edit_statement(b, edit)


def s_plus_l(sig: bytes) -> bytes:
    s = int.from_bytes(sig[32:], "little") + ED25519_L
    return sig[:32] + s.to_bytes(32, "little")


# --- checkpoints -------------------------------------------------------------------------
def note_lines(b: dict[str, Any]) -> tuple[list[str], list[str]]:
    body, sigs = b["checkpoint"].split("\n\n")
    return body.split("\n"), sigs.rstrip("\n").split("\n")


def with_note(b: dict[str, Any], body: list[str], sigs: list[str]) -> dict[str, Any]:
    return {**b, "checkpoint": "\n".join(body) + "\n\n" + "".join(s + "\n" for s in sigs)}


def noncanonical_b64(text: str) -> str:
    """The same bytes in a base64 text whose unused bits are not zero."""
    pad = text.count("=")
    assert pad, "needs padding to have unused bits"
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    i = len(text) - pad - 1
    v = alphabet.index(text[i]) | (1 if pad == 1 else 3)
    out = text[:i] + alphabet[v] + text[i + 1 :]
    assert base64.b64decode(out) == base64.b64decode(text) and out != text
    return out


def resigned_note(size: int, root: bytes, extensions: tuple[str, ...] = ()) -> str:
    note = sign_checkpoint(Checkpoint(ORIGIN, size, root, extensions), ORIGIN, LOG)
    return note.with_signature(cosign_checkpoint(note, WITNESS_NAME, WITNESS, IAT)).to_text()


def trust_with(fn: Callable[[dict[str, Any]], None]) -> str:
    doc = json.loads(TRUST_TEXT)
    fn(doc)
    return json.dumps(doc)


def issuer_trust(**changes: Any) -> str:
    return trust_with(lambda d: d["issuers"][0].update(changes))


def other_log_key(doc: dict[str, Any]) -> None:
    log = doc["logs"][0]
    log.update(public_key="11" * 32, kid=hashlib.sha256(b"\x11" * 32).hexdigest())
    del log["note_verifier_key"]


def other_note_name(doc: dict[str, Any]) -> None:
    doc["logs"][0]["note_key_name"] = "other.example/log"
    del doc["logs"][0]["note_verifier_key"]


# --- raw CBOR ----------------------------------------------------------------------------
def raw_map(pairs: list[tuple[bytes, bytes]], head: bytes | None = None) -> bytes:
    return (head if head is not None else bytes([0xA0 + len(pairs)])) + b"".join(
        k + v for k, v in pairs
    )


def pairs_of(b: dict[str, Any]) -> list[tuple[bytes, bytes]]:
    """The map's (key, value) encodings in deterministic order."""
    return sorted((enc(k), enc(v)) for k, v in b.items())


def nested_list(depth: int) -> Any:
    value: Any = "x"
    for _ in range(depth):
        value = [value]
    return value
