"""A trust file that lists one witness twice counted it twice toward the quorum.

``credex-trust/1`` files are JSON that people edit and pass around. A file listing the
same witness key twice with ``"quorum": 2`` let one cosignature meet a quorum of two; and
Python's ``json`` keeps the *last* of two equal keys, so a file with two ``"quorum"``
entries reads differently in another language. Now: a witness, witness name, log or
issuer key listed twice, and any duplicate JSON key, is a ``FormatError`` naming what was
repeated; and the verifier counts each witness key once whatever trust policy it is
given.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from credex.ledger.errors import CheckpointError, FormatError, OversizeError
from credex.ledger.trust import MAX_TRUST_BYTES, TrustStore
from credex.ledger.trust_material import load_trust
from credex.ledger.verify import verify_bundle
from tests.integration.clirunner import make_cli

GOLDEN = Path(__file__).resolve().parents[1] / "vectors" / "golden"


def _doc() -> dict[str, Any]:
    value: dict[str, Any] = json.loads((GOLDEN / "trust.json").read_text(encoding="utf-8"))
    return value


def test_the_golden_bundle_meets_its_quorum_of_one() -> None:
    trust = TrustStore.from_json((GOLDEN / "trust.json").read_text(encoding="utf-8"))
    assert verify_bundle((GOLDEN / "bundle-1.credex").read_bytes(), trust).ok


def test_a_witness_listed_twice_is_refused() -> None:
    doc = _doc()
    doc["witnesses"] = doc["witnesses"] * 2
    doc["quorum"] = 2
    with pytest.raises(FormatError, match="witness name listed twice"):
        TrustStore.from_json(json.dumps(doc))
    doc["witnesses"][1] = dict(doc["witnesses"][1], name="another-name")  # same key
    with pytest.raises(FormatError, match="witness key listed twice"):
        TrustStore.from_json(json.dumps(doc))


def test_one_cosignature_never_counts_twice() -> None:
    # trust built in code (not parsed) with the witness twice: verify counts keys once
    trust = TrustStore.from_json((GOLDEN / "trust.json").read_text(encoding="utf-8"))
    doubled = TrustStore(trust.logs, trust.issuers, trust.witnesses * 2, 2)
    with pytest.raises(CheckpointError, match="witness quorum not met: expected 2, got 1"):
        verify_bundle((GOLDEN / "bundle-1.credex").read_bytes(), doubled)


@pytest.mark.parametrize("key", ["logs", "issuers"])
def test_a_log_or_issuer_key_listed_twice_is_refused(key: str) -> None:
    doc = _doc()
    doc[key] = doc[key] * 2
    with pytest.raises(FormatError, match="listed twice"):
        TrustStore.from_json(json.dumps(doc))


def test_duplicate_json_keys_are_refused() -> None:
    text = (GOLDEN / "trust.json").read_text(encoding="utf-8")
    dup = text.replace('"quorum": 1', '"quorum": 0, "quorum": 1')
    assert json.loads(dup)["quorum"] == 1  # what Python's json alone would have read
    with pytest.raises(FormatError, match=r"^trust: not accepted json: duplicate key 'quorum'$"):
        load_trust(dup.encode())


@pytest.mark.parametrize(
    ("text", "match"),
    [
        ('{"format": "credex-trust/1", "quorum": NaN}', "NaN is not a json number"),
        ('{"format": "credex-trust/1", "quorum": 1.0}', "expected an integer"),
        ('{"format": "credex-trust/1", "quorum": 1e0}', "expected an integer"),
        ('{"format": "credex-trust/1", "logs": {"a": 1}}', "logs must be a list of objects"),
        ('{"format": "credex-trust/1", "extra": 1}', "unknown document field"),
        ('{"format": ' + "[" * 100_000, "nested too deeply"),
        ('{"format": "credex-trust/1", "quorum": ١}', "not valid json"),
    ],
    ids=["nan", "float", "exponent", "logs-object", "unknown-field", "deep", "arabic-digit"],
)
def test_what_plain_json_lets_through_is_refused(text: str, match: str) -> None:
    with pytest.raises(FormatError, match=match) as e:
        load_trust(text.encode())
    assert "\n" not in str(e.value)


def test_size_limit_at_and_past() -> None:
    doc = json.dumps(_doc())
    pad = MAX_TRUST_BYTES - len(doc.encode())
    at_limit = doc[:-1] + " " * pad + "}"
    assert len(at_limit.encode()) == MAX_TRUST_BYTES
    assert load_trust(at_limit.encode())
    with pytest.raises(OversizeError, match=f"expected <= {MAX_TRUST_BYTES} bytes"):
        load_trust((at_limit[:-1] + " }").encode())


def test_credex_verify_says_so_in_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli = make_cli(capsys, monkeypatch)
    doc = _doc()
    doc["witnesses"] = doc["witnesses"] * 2
    doc["quorum"] = 2
    trust = tmp_path / "trust.json"
    trust.write_text(json.dumps(doc), encoding="utf-8")
    r = cli("verify", GOLDEN / "bundle-1.credex", "--trust", trust)
    assert r.code == 1
    assert "witness name listed twice" in r.err
