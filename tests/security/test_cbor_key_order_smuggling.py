"""A41: one value, several spellings, read in one pass.

The strict reader checks determinism while it reads instead of re-encoding what it
decoded (issue 13). An attacker tries the spellings a one-pass reader could let through
where the old re-encoding caught them: map keys out of order, a key repeated, a key
repeated under another spelling that Python folds into one (``1`` and ``true``, ``0`` and
``false``, ``[1]`` and ``[true]``), and a head longer than needed in front of a string
the fixed-layout readers would otherwise slice. Each is refused at step 1 with
``NonDeterministicCborError``; nothing is accepted in two spellings.
"""

from __future__ import annotations

from pathlib import Path

import cbor2
import pytest

from credex.ledger.encoding import decode
from credex.ledger.errors import NonDeterministicCborError
from credex.ledger.trust import TrustStore
from credex.ledger.verify import run_verification
from tests.security._cbor import head

GOLDEN = Path(__file__).resolve().parents[1] / "vectors" / "golden"
BUNDLE = (GOLDEN / "bundle-0.credex").read_bytes()
TRUST = TrustStore.from_json((GOLDEN / "trust.json").read_text(encoding="utf-8"))


def _tstr(text: str) -> bytes:
    raw = text.encode()
    return head(3, len(raw)) + raw


def _bstr(data: bytes) -> bytes:
    return head(2, len(data)) + data


def _parts() -> tuple[bytes, str]:
    value = cbor2.loads(BUNDLE)
    return value["statement"], value["checkpoint"]


def _refused_at_step_1(data: bytes) -> str:
    report = run_verification(data, TRUST)
    assert report.failed_step == 1
    assert type(report.error) is NonDeterministicCborError, report.error
    return str(report.error)


def test_the_golden_bundle_verifies() -> None:
    assert run_verification(BUNDLE, TRUST).ok


def test_bundle_keys_out_of_order() -> None:
    st, cp = _parts()
    data = head(5, 3) + _tstr("v") + b"\x01" + _tstr("checkpoint") + _tstr(cp)
    data += _tstr("statement") + _bstr(st)
    assert "map keys not in bytewise order" in _refused_at_step_1(data)


def test_bundle_key_repeated() -> None:
    st, cp = _parts()
    data = head(5, 4) + _tstr("v") + b"\x01" + _tstr("statement") + _bstr(st)
    data += _tstr("statement") + _bstr(st) + _tstr("checkpoint") + _tstr(cp)
    assert "duplicate map key" in _refused_at_step_1(data)


@pytest.mark.parametrize(
    "pair",
    [b"\x01\x00\xf5\x00", b"\x00\x00\xf4\x00", b"\x81\x01\x00\x81\xf5\x00"],
    ids=["1-and-true", "0-and-false", "array-1-and-array-true"],
)
def test_keys_python_folds_into_one(pair: bytes) -> None:
    # bytewise in order (0x01 < 0xf5), distinct encodings, one Python key
    with pytest.raises(NonDeterministicCborError, match="duplicate map key"):
        decode(b"\xa2" + pair)


def test_long_head_in_front_of_the_statement() -> None:
    st, cp = _parts()
    assert len(st) < 0x10000
    long_head = b"\x5a" + len(st).to_bytes(4, "big")  # a 4-byte length for a short string
    data = head(5, 3) + _tstr("v") + b"\x01" + _tstr("statement") + long_head + st
    data += _tstr("checkpoint") + _tstr(cp)
    assert "a head longer than needed" in _refused_at_step_1(data)


def test_long_head_inside_the_statement() -> None:
    st, cp = _parts()
    assert st[:2] == b"\xd2\x84"
    value = cbor2.loads(st).value
    protected = value[0]
    # the protected header's length in a 2-byte head: the fixed layout does not match,
    # and the general reader refuses
    body = b"\xd2\x84\x59" + len(protected).to_bytes(2, "big") + protected
    body += st[2 + len(_bstr(protected)) :]
    data = head(5, 3) + _tstr("v") + b"\x01" + _tstr("statement") + _bstr(body)
    data += _tstr("checkpoint") + _tstr(cp)
    _refused_at_step_1(data)
