"""A record as JSON: what ``credex show`` and ``credex verify --json`` print of it.

Byte strings (hashes in bodies and refs) become hex; maps and lists are converted
recursively; text, integers, booleans and null stay as they are. A person's subject is
its keyed pseudonym (``hmac:<keyid>:<hex>``), the only form a record ever holds, never
an ID number. ``record_json(..., body=False)`` leaves the body out (the caller says
why). Pure; this module does not decide who may see a body.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from credex.ledger.record import Record

__all__ = ["json_value", "record_json"]


def json_value(value: Any) -> Any:
    """``value`` (decoded CBOR of a record) as a JSON value; bytes become hex."""
    if isinstance(value, bytes):
        return value.hex()
    if isinstance(value, Mapping):
        return {str(k): json_value(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [json_value(v) for v in value]
    return value


def record_json(record: Record, *, body: bool = True) -> dict[str, Any]:
    """``record``'s fields: kind, region, subject (type and id), validity, refs and,
    with ``body``, its body."""
    out: dict[str, Any] = {
        "kind": record.kind,
        "region": record.region,
        "subject": {"type": record.subject.type, "id": record.subject.id},
        "valid_from": record.valid_from,
        "valid_until": record.valid_until,
        "refs": [r.hex() for r in record.refs],
    }
    if body:
        out["body"] = json_value(record.body)
    return out
