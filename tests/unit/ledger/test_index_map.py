"""The index map function (docs/spec.md §6): the vectors regenerate, an implementation
written from the spec alone (here, with hashlib only) gets the same pairs and roots, and
the checkpoint extension line parses strictly."""

from __future__ import annotations

import hashlib
import importlib.util
import json
from pathlib import Path

import pytest

from credex.ledger.checkpoint import Checkpoint
from credex.ledger.errors import IndexFormatError
from credex.ledger.index_map import (
    index_extension_line,
    map_input_of,
    map_pairs,
    parse_index_extension,
)
from credex.ledger.vindex import compute_root, verify_lookup
from credex.ledger.vindex.proof import LookupProof

VECTORS = Path(__file__).resolve().parents[2] / "vectors"
_spec = importlib.util.spec_from_file_location("index_generate", VECTORS / "generate_index.py")
assert _spec and _spec.loader
gen = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(gen)
FILE = json.loads((VECTORS / "index-map" / "index-map.json").read_text())
STATUS_KINDS = {
    "lifecycle.objection",
    "lifecycle.objection-resolved",
    "lifecycle.repair",
    "lifecycle.supersession",
    "lifecycle.withdrawal",
    "commitment.outcome",
}


def test_vectors_regenerate() -> None:
    assert gen.build() == FILE


def _spec_pairs(entries: list[dict[str, object]]) -> list[tuple[bytes, bytes]]:
    """docs/spec.md §6 from the text, not the code: keys, item layout, chain."""
    sha = lambda b: hashlib.sha256(b).digest()  # noqa: E731
    values: dict[bytes, bytes] = {}
    for e in entries:
        index = int(e["index"]).to_bytes(8, "big")  # type: ignore[call-overload]
        leaf = bytes.fromhex(str(e["leaf_hash"]))
        kind = str(e["kind"]).encode()
        key = sha(b"credex-index/v1 subject key\x00" + str(e["sub"]).encode())
        prev = values.get(key, bytes(32))
        item = index + leaf + bytes([len(kind)]) + kind
        values[key] = sha(b"credex-index/v1 subject value\x00" + prev + item)
        if e["refs0"] is not None and e["kind"] in STATUS_KINDS:
            key = sha(b"credex-index/v1 status key\x00" + bytes.fromhex(str(e["refs0"])))
            prev = values.get(key, bytes(32))
            values[key] = sha(b"credex-index/v1 status value\x00" + prev + index + leaf)
    return sorted(values.items())


def test_an_implementation_from_the_spec_agrees() -> None:
    entries = FILE["entries"]
    for n in range(1, len(entries) + 1):
        assert compute_root(_spec_pairs(entries[:n])).hex() == FILE["roots"][n - 1]
    assert [[k.hex(), v.hex()] for k, v in _spec_pairs(entries)] == FILE["pairs"]


def test_map_inputs_come_from_the_entry_bytes() -> None:
    for e in FILE["entries"]:
        got = map_input_of(e["index"], bytes.fromhex(e["leaf"]))
        assert got.leaf_hash.hex() == e["leaf_hash"] and got.kind == e["kind"]
        assert got.subject == e["sub"]
        assert (None if got.target is None else got.target.hex()) == e["refs0"]
    inputs = [map_input_of(e["index"], bytes.fromhex(e["leaf"])) for e in FILE["entries"]]
    assert [[k.hex(), v.hex()] for k, v in map_pairs(inputs)] == FILE["pairs"]


def test_the_vector_proofs_verify() -> None:
    root = bytes.fromhex(FILE["roots"][-1])
    pairs = dict(
        map_pairs(map_input_of(e["index"], bytes.fromhex(e["leaf"])) for e in FILE["entries"])
    )
    present = LookupProof.from_bytes(bytes.fromhex(FILE["proofs"]["status_of_entry_0"]))
    verify_lookup(root, present.key, pairs[present.key], present)
    absent = LookupProof.from_bytes(bytes.fromhex(FILE["proofs"]["status_of_entry_1_absent"]))
    verify_lookup(root, absent.key, None, absent)


def test_no_personal_data_in_the_index() -> None:
    """Person entries appear only as hashes of their pseudonym: no raw id, no body."""
    blob = json.dumps(FILE["pairs"]) + json.dumps(FILE["keys"])
    assert "11010519491231002X" not in blob and "hmac:" not in blob


def test_the_extension_line_round_trips_and_parses_strictly() -> None:
    root = bytes(range(32))
    line = index_extension_line(root)
    body = Checkpoint("o.example/log", 3, b"\x07" * 32, (line,)).to_text()
    assert parse_index_extension(Checkpoint.from_text(body).extensions) == root
    assert parse_index_extension(()) is None
    assert parse_index_extension(("other/v1 x",)) is None
    for bad in (
        (line, line),
        ("credex-index/v1",),
        ("credex-index/v1 AAAA",),
        (line + " x",),
        ("credex-index/v1 " + line.split(" ")[1].rstrip("=") + "",),
    ):
        with pytest.raises(IndexFormatError):
            parse_index_extension(bad)
