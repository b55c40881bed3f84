"""Fields sent as ``null`` or ``true`` read one way by one verifier and another by the other.

The format (docs/formats.md) says ``"v": 1``, and ``? "policy": bundle`` and
``? "salt": bstr``: absent, or a value. Python read ``"v": true`` as 1 (``True == 1``) and
``"policy": null`` / ``"salt": null`` as absent, while the browser verifier refused all
three: the same bytes were valid to one verifier and malformed to the other, and a bundle
could be written in several ways that all passed Python. Now both refuse each at step 1
with a one-line error naming the field.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import cbor2
import pytest

from credex.ledger import encoding
from credex.ledger.bundle import Bundle
from credex.ledger.errors import FormatError, RecordError
from credex.ledger.record import Record
from credex.ledger.trust import TrustStore
from credex.ledger.verify import run_verification
from tests.web import jsrunner

GOLDEN = Path(__file__).resolve().parents[1] / "vectors" / "golden"


def _golden() -> dict[str, Any]:
    value: dict[str, Any] = cbor2.loads((GOLDEN / "bundle-0.credex").read_bytes())
    return value


def _with_record(change: dict[str, Any]) -> bytes:
    """The golden bundle, its record changed (the signature no longer verifies: step 3,
    unless decoding refuses first)."""
    b = _golden()
    st = cbor2.loads(b["statement"])
    record = cbor2.loads(st.value[2])
    record.update(change)
    st.value[2] = encoding.encode(record)
    b["statement"] = encoding.encode(st)
    return encoding.encode(b)


def _both_refuse_at_decode(data: bytes, tmp_path: Path, error: type[Exception]) -> str:
    trust = (GOLDEN / "trust.json").read_text(encoding="utf-8")
    py = run_verification(data, TrustStore.from_json(trust))
    assert py.failed_step == 1 and type(py.error) is error, py.error
    assert "\n" not in str(py.error)
    bundle = tmp_path / "attack.credex"
    bundle.write_bytes(data)
    [js] = jsrunner.run(
        "verify", {"cases": [{"trust": str(GOLDEN / "trust.json"), "bundle": str(bundle)}]}
    )
    assert js["failedStep"] == 1 and js["error"]["type"] == error.__name__, js["error"]
    return str(py.error)


def test_bundle_version_true_read_as_1(tmp_path: Path) -> None:
    data = encoding.encode({**_golden(), "v": True})
    with pytest.raises(FormatError, match="unsupported version: expected 1, got True"):
        Bundle.from_bytes(data)
    _both_refuse_at_decode(data, tmp_path, FormatError)


def test_bundle_policy_null_read_as_absent(tmp_path: Path) -> None:
    data = encoding.encode({**_golden(), "policy": None})
    msg = _both_refuse_at_decode(data, tmp_path, FormatError)
    assert msg == "bundle: policy, when present, must be a bundle (a map)"


def test_record_salt_null_read_as_absent(tmp_path: Path) -> None:
    data = _with_record({"salt": None})
    msg = _both_refuse_at_decode(data, tmp_path, RecordError)
    assert msg == "record: salt, when present, must be a bstr"


def test_record_version_true_read_as_1(tmp_path: Path) -> None:
    data = _with_record({"v": True})
    _both_refuse_at_decode(data, tmp_path, RecordError)
    good = cbor2.loads(cbor2.loads(_golden()["statement"]).value[2])
    with pytest.raises(RecordError, match="got True"):
        Record.from_value({**good, "v": True})
