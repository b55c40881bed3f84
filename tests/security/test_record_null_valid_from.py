"""A52: a record whose ``valid_from`` is CBOR null (with or without ``valid_until``).

formats.md makes ``valid_from`` a required uint. A null one was accepted as "no start",
and beside a ``valid_until`` it crashed the parser with a TypeError (a traceback at the
edge instead of a named error). Both are refused by name, from bytes and from values.
"""

from __future__ import annotations

import pytest

from credex.ledger import encoding
from credex.ledger.errors import RecordError
from credex.ledger.record import Record
from credex.node.bench.runner import _records


@pytest.mark.parametrize("valid_until", [None, 5, 2**40])
def test_null_valid_from_is_refused_by_name(valid_until: int | None) -> None:
    value = dict(_records(1)[0].to_value())
    value["valid_from"] = None
    if valid_until is None:
        value.pop("valid_until", None)
    else:
        value["valid_until"] = valid_until
    with pytest.raises(RecordError, match="valid_from must be a uint"):
        Record.from_bytes(encoding.encode(value))


def test_a_uint_valid_from_still_parses() -> None:
    record = _records(1)[0]
    assert Record.from_bytes(encoding.encode(record.to_value())) == record
