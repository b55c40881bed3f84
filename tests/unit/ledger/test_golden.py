"""Golden vectors regenerate byte for byte and verify (interop contract)."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest
from pycose.keys import OKPKey
from pycose.keys.curves import Ed25519
from pycose.messages import Sign1Message

from credex.ledger.trust import TrustStore
from credex.ledger.verify import verify_bundle

VECTORS = Path(__file__).resolve().parents[2] / "vectors"
_spec = importlib.util.spec_from_file_location("golden_generate", VECTORS / "generate.py")
assert _spec and _spec.loader
generate = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(generate)
BUILT = generate.build()


@pytest.mark.parametrize("name", sorted(BUILT))
def test_regenerates_byte_for_byte(name: str) -> None:
    assert (VECTORS / "golden" / name).read_bytes() == BUILT[name]


@pytest.mark.parametrize("i", [0, 1])
def test_golden_bundles_verify_with_quorum(i: int) -> None:
    trust = TrustStore.from_json((VECTORS / "golden" / "trust.json").read_text())
    report = verify_bundle((VECTORS / "golden" / f"bundle-{i}.credex").read_bytes(), trust)
    assert report.ok and "1 of 1 required witness" in report.steps[5].detail


@pytest.mark.parametrize("i", [0, 1])
def test_pycose_verifies_golden_statements(i: int) -> None:
    index = json.loads((VECTORS / "golden" / "index.json").read_text())
    msg = Sign1Message.decode((VECTORS / "golden" / f"statement-{i}.cbor").read_bytes())
    msg.key = OKPKey(crv=Ed25519, x=bytes.fromhex(index["issuer_public_key"]))
    assert msg.verify_signature()


def test_no_raw_person_id_in_vectors() -> None:
    for name, data in BUILT.items():
        assert b"11010519491231002X" not in data, name
