"""The verifiable index against FiloSottile/torchwood ``mpt`` test vectors.

Vector sources (``tests/vectors/SOURCE.md``): ``tests/vectors/torchwood-mpt/treehash.txt``
and ``verify.txt`` are byte-exact copies of torchwood's ``mpt/testdata`` files;
``prefix-hashkeys.txt`` is torchwood's ``prefix.txt`` header and its "Hash keys" section
(a tree of 200 SHA-256 keys), unchanged. Every case runs, one test id each:

- treehash: ``compute_root`` (general key sizes) equals the recorded hash;
- verify: ``verify_torchwood_lookup`` / ``verify_torchwood_prefix`` accept exactly the
  cases marked true; for cases with credex-sized keys and values the same proof, imported
  as a credex proof, gets the same verdict from ``verify_lookup`` / ``verify_prefix``;
- prefix: credex's ``IndexTree`` built from the 200 pairs has the recorded root, and
  ``prove_prefix`` produces the recorded subtree hash and proof bytes exactly.
"""

from __future__ import annotations

import functools
import hashlib
import re
from dataclasses import dataclass
from pathlib import Path

import pytest

from credex.ledger.errors import IndexFormatError, IndexProofError
from credex.ledger.vindex import (
    IndexTree,
    MemoryNodeStore,
    PrefixProof,
    compute_root,
    lookup_proof_from_torchwood,
    prefix_proof_from_torchwood,
    to_torchwood,
    verify_lookup,
    verify_prefix,
    verify_prefix_listing,
    verify_torchwood_lookup,
    verify_torchwood_prefix,
)
from credex.ledger.vindex.hashing import key_compare

VECTORS = Path(__file__).resolve().parents[2] / "vectors" / "torchwood-mpt"
#: recorded in tests/vectors/SOURCE.md: any edit to a vector file must be deliberate
PINNED = {
    "treehash.txt": "baca510d0b9e69dd10ff3bc6c6bfcf8485233b6627bed6ca0852f4d142992ecf",
    "verify.txt": "b48b633cc1660adbb5665a75a812d52a1f21799f3c0bccabbe05fced108bd457",
    "prefix-hashkeys.txt": "f921a925b43e21af8cb07f3b0af1afd4aac9f37055c5b57fbcec28035869b942",
}


def _hex(s: str) -> bytes:
    s = s.strip()
    return b"" if s == "''" else bytes.fromhex(s.replace(" ", "").replace("\t", ""))


def _lines(name: str) -> list[str]:
    """The file's lines with backslash continuations joined."""
    return (VECTORS / name).read_text(encoding="ascii").replace("\\\n", "").splitlines()


def _slug(comment: str, i: int) -> str:
    words = re.sub(r"[^A-Za-z0-9]+", "-", comment).strip("-").lower()
    return f"{i:03d}-{words[:60].rstrip('-')}"


@dataclass(frozen=True)
class TreeHashCase:
    pairs: tuple[tuple[bytes, bytes], ...]
    want: bytes


def _treehash_cases() -> list[tuple[str, TreeHashCase]]:
    cases: list[tuple[str, TreeHashCase]] = []
    pairs: list[tuple[bytes, bytes]] = []
    comment = ""
    for line in _lines("treehash.txt"):
        if line.startswith("# ") and not line.startswith("# ==="):
            comment = comment or line[2:]
            continue
        if not line.strip() or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        if word == "kv":
            key, value = rest.split(" ")
            pairs.append((_hex(key), _hex(value)))
        elif word == "hash":
            cases.append((_slug(comment, len(cases)), TreeHashCase(tuple(pairs), _hex(rest))))
            pairs, comment = [], ""
        else:
            raise AssertionError(f"unknown treehash line {line!r}")
    return cases


@dataclass(frozen=True)
class VerifyCase:
    kind: str  # "lookup" or "prefix"
    snap: bytes
    key: bytes  # the key, or the prefix
    value: bytes | None  # the value (None: absent), or the claimed subtree hash
    proof: bytes
    want: bool


def _verify_cases() -> list[tuple[str, VerifyCase]]:
    cases: list[tuple[str, VerifyCase]] = []
    state: dict[str, bytes | None] = {}
    comment = ""
    for line in _lines("verify.txt"):
        if line.startswith("# ") and not line.startswith("# ==="):
            comment = comment or line[2:]
            continue
        if not line.strip() or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        if word in ("verify", "verifyprefix"):
            kind = "lookup" if word == "verify" else "prefix"
            key = state["key" if kind == "lookup" else "prefix"]
            value = state["val"] if kind == "lookup" else state["hash"]
            snap, proof = state["snap"], state["proof"]
            assert key is not None and snap is not None and proof is not None
            case = VerifyCase(kind, snap, key, value, proof, rest == "true")
            cases.append((_slug(comment, len(cases)), case))
            comment = ""
        elif word == "val":
            state["val"] = None if rest == "-" else _hex(rest)
        elif word in ("snap", "key", "proof", "prefix", "hash"):
            state[word] = _hex(rest)
        else:
            raise AssertionError(f"unknown verify line {line!r}")
    return cases


@dataclass(frozen=True)
class PrefixCase:
    prefix: bytes
    subtree: bytes
    proof: bytes


def _prefix_file() -> tuple[list[tuple[bytes, bytes]], bytes, list[tuple[str, PrefixCase]]]:
    pairs: list[tuple[bytes, bytes]] = []
    snap = b""
    cases: list[tuple[str, PrefixCase]] = []
    prefix = subtree = b""
    for line in _lines("prefix-hashkeys.txt"):
        if not line.strip() or line.startswith("#"):
            continue
        word, _, rest = line.partition(" ")
        if word == "kv":
            key, value = rest.split(" ")
            pairs.append((_hex(key), _hex(value)))
        elif word == "snap":
            snap = _hex(rest)
        elif word == "prefix":
            prefix = _hex(rest)
        elif word == "hash":
            subtree = _hex(rest)
        elif word == "proof":
            name = f"{len(cases):03d}-prefix-{prefix.hex() or 'empty'}"
            cases.append((name, PrefixCase(prefix, subtree, _hex(rest))))
        else:
            raise AssertionError(f"unknown prefix line {line!r}")
    return pairs, snap, cases


TREEHASH = _treehash_cases()
VERIFY = _verify_cases()
PREFIX_PAIRS, PREFIX_SNAP, PREFIX = _prefix_file()


def test_vector_files_are_pinned() -> None:
    for name, digest in PINNED.items():
        assert hashlib.sha256((VECTORS / name).read_bytes()).hexdigest() == digest, name
    assert (VECTORS.parent / "LICENSE.torchwood.txt").is_file()


def test_every_case_is_collected() -> None:
    # counted with grep in the upstream files (hash, verify, verifyprefix, proof lines)
    assert len(TREEHASH) == 32
    assert len(VERIFY) == 121
    assert sum(c.kind == "prefix" for _, c in VERIFY) == 18
    assert (len(PREFIX_PAIRS), len(PREFIX)) == (200, 60)


@pytest.mark.parametrize("case", [c for _, c in TREEHASH], ids=[n for n, _ in TREEHASH])
def test_treehash(case: TreeHashCase) -> None:
    pairs = sorted(case.pairs, key=functools.cmp_to_key(lambda a, b: key_compare(a[0], b[0])))
    assert compute_root(pairs, key_size=None, value_size=None) == case.want
    if all(len(k) == 32 and len(v) == 32 for k, v in pairs):
        # credex's own sizes: the fixed-size path and a tree built in batches agree
        assert compute_root(pairs) == case.want
        tree = IndexTree(MemoryNodeStore())
        for key, value in pairs:
            tree.set(key, value)
        assert tree.root().hash == case.want


def _torchwood_verdict(case: VerifyCase) -> bool:
    try:
        if case.kind == "lookup":
            verify_torchwood_lookup(case.snap, case.key, case.value, case.proof)
        else:
            assert case.value is not None
            verify_torchwood_prefix(case.snap, case.key, case.value, case.proof)
    except (IndexProofError, IndexFormatError):
        return False
    return True


def _credex_verdict(case: VerifyCase) -> bool | None:
    """The verdict through credex's own proof format, or None where the case's sizes are
    not credex's (variable-length keys or values)."""
    try:
        if case.kind == "lookup":
            proof = lookup_proof_from_torchwood(case.key, case.value, case.proof)
        else:
            assert case.value is not None
            prefix_proof = prefix_proof_from_torchwood(case.key, case.value, case.proof)
    except IndexFormatError:
        return None
    try:
        if case.kind == "lookup":
            verify_lookup(case.snap, case.key, case.value, proof)
        else:
            verify_prefix(
                case.snap, case.key, case.value, PrefixProof.from_bytes(prefix_proof.to_bytes())
            )
    except IndexProofError:
        return False
    return True


@pytest.mark.parametrize("case", [c for _, c in VERIFY], ids=[n for n, _ in VERIFY])
def test_verify(case: VerifyCase) -> None:
    assert _torchwood_verdict(case) is case.want
    credex = _credex_verdict(case)
    if credex is not None:
        assert credex is case.want


def test_verify_cases_cover_credex_sizes() -> None:
    # the 32-byte cases are a real share of the file, not an accident of parsing
    covered = [n for n, c in VERIFY if _credex_verdict(c) is not None]
    assert len(covered) >= 25


@pytest.fixture(scope="module")
def prefix_tree() -> IndexTree:
    tree = IndexTree(MemoryNodeStore())
    # two batches, so the tree's merge path (not only its bulk build) made this root
    tree.apply(PREFIX_PAIRS[::2])
    tree.apply(PREFIX_PAIRS[1::2])
    return tree


def test_prefix_tree_root(prefix_tree: IndexTree) -> None:
    assert prefix_tree.root().hash == PREFIX_SNAP
    assert compute_root(PREFIX_PAIRS) == PREFIX_SNAP


@pytest.mark.parametrize("case", [c for _, c in PREFIX], ids=[n for n, _ in PREFIX])
def test_prefix(prefix_tree: IndexTree, case: PrefixCase) -> None:
    proof = prefix_tree.prove_prefix(case.prefix)
    assert proof.subtree == case.subtree
    assert to_torchwood(proof) == case.proof
    verify_torchwood_prefix(PREFIX_SNAP, case.prefix, case.subtree, case.proof)
    # "Scan": the pairs with the prefix rebuild the subtree and pass the listing check
    listing = [kv for kv in PREFIX_PAIRS if kv[0].startswith(case.prefix)]
    verify_prefix_listing(
        PREFIX_SNAP, case.prefix, listing, PrefixProof.from_bytes(proof.to_bytes())
    )
