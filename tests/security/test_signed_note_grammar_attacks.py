"""Attacks on the checkpoint's signed-note grammar, found while writing the second
(JavaScript) verifier from docs/spec.md: each used to be accepted at step 1 by the Python
parser, or crashed it, and is now refused at step 1 with a NoteError, as C2SP and
docs/formats.md ("Checkpoints") require and as the browser verifier does."""

from __future__ import annotations

import base64
import dataclasses
from pathlib import Path

import pytest

from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import SignedNote
from credex.ledger.errors import NoteError
from credex.ledger.trust import TrustStore
from credex.ledger.verify import run_verification

GOLDEN = Path(__file__).resolve().parents[1] / "vectors" / "golden"


def _golden() -> tuple[Bundle, TrustStore]:
    bundle = Bundle.from_bytes((GOLDEN / "bundle-0.credex").read_bytes())
    return bundle, TrustStore.from_json((GOLDEN / "trust.json").read_text(encoding="utf-8"))


def _with_checkpoint(text: str) -> bytes:
    bundle, _ = _golden()
    return dataclasses.replace(bundle, checkpoint=text).to_bytes()


@pytest.mark.parametrize("digit", ["\uff12", "\u0662", "\u0968", "\u00b2"])
def test_tree_size_in_another_scripts_digits(digit: str) -> None:
    # str.isdigit() is true for fullwidth, Arabic-Indic and Devanagari digits (int() reads
    # them) and for superscripts (int() raises ValueError: the verifier crashed)
    bundle, trust = _golden()
    text = bundle.checkpoint.replace("\n2\n", f"\n{digit}\n", 1)
    report = run_verification(_with_checkpoint(text), trust)
    assert report.failed_step == 1 and isinstance(report.error, NoteError)
    assert "tree size" in str(report.error)


def test_same_signature_bytes_in_a_second_base64_text() -> None:
    # unused low bits of the last base64 character: a second text for the same signature,
    # so one checkpoint had many byte strings (and caches keyed by text missed)
    bundle, trust = _golden()
    body, sigs = bundle.checkpoint.split("\n\n")
    first, rest = sigs.split("\n", 1)
    dash, name, blob = first.split(" ")
    alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
    i = len(blob) - blob.count("=") - 1
    other = blob[:i] + alphabet[alphabet.index(blob[i]) | 1] + blob[i + 1 :]
    assert other != blob and base64.b64decode(other) == base64.b64decode(blob)
    text = f"{body}\n\n{dash} {name} {other}\n{rest}"
    report = run_verification(_with_checkpoint(text), trust)
    assert report.failed_step == 1 and "canonical base64" in str(report.error)


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x0b", "\x0c"])
def test_control_characters_in_the_note(char: str) -> None:
    # C2SP signed-note: no control character but newline (only \r and \t were refused)
    bundle, _ = _golden()
    origin, rest = bundle.checkpoint.split("\n", 1)
    with pytest.raises(NoteError, match="control characters"):
        SignedNote.from_text(f"{origin}{char}\n{rest}")
