"""Record intake: records given as JSON values (``credex issue``), signed and logged.

A record value is a JSON object::

    {"kind": "score.city", "body": {...},
     "subject": {"type": "org", "id": "<USCC or HK number>"}  |  "person_id": "<resident ID>",
     "valid_from": "2026-11-01" | <unix seconds>, "valid_until": ..., "refs": ["<64 hex>", ...]}

``valid_from`` defaults to the day's midnight (China Standard Time). A ``person_id`` is
validated (GB 11643) and turned into this node's keyed pseudonym at once; it is never
stored, logged or put in a message. ``records_from_jsonl`` reads a JSON-lines file
lazily, one record value per line, naming the line of a bad one; ``JsonLinesRecords`` is
the same file as an adapter (``credex issue --records`` streams it through the importer:
a bad line is a rejected row, the others are logged). This module does not print.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import Any, Final

from credex.adapters.base import (
    AdapterContext,
    AdapterResult,
    HeaderWarning,
    ParsedRow,
    RowError,
    RowUnit,
    Source,
)
from credex.adapters.lines import Block, block_lines, blocks
from credex.ledger import strict_json
from credex.ledger.dates import date_to_unix, parse_date
from credex.ledger.encoding import hex32
from credex.ledger.errors import CredexError, FormatError, RecordError
from credex.ledger.identifiers import validate_org_id
from credex.ledger.record import Record, Subject
from credex.ledger.subject import SubjectKey, person_subject_id

__all__ = ["JsonLinesRecords", "record_from_value", "record_value", "records_from_jsonl"]

#: names the records file in its errors
_WHAT: Final = "issue"
#: one JSON record (a --body, a line of a JSON-lines file)
MAX_JSON_LINE_BYTES: Final = 1024 * 1024


def _time(value: Any, what: str) -> Any:
    """A day (text) as Unix time; anything else is left for ``Record`` to check."""
    return date_to_unix(parse_date(value)) if isinstance(value, str) else value


def record_from_value(
    obj: Any, *, region: str, subject_key: SubjectKey, default_from: int
) -> Record:
    """The ``Record`` of one record value issued in ``region``.

    Raises:
        RecordError / IdentifierError / DateFormatError: a value that is not a valid
            record (the message never contains a personal ID number).
    """
    if not isinstance(obj, dict):
        raise RecordError("issue: each record must be a json object")
    if "person_id" in obj:
        subject = Subject("person", person_subject_id(subject_key, str(obj["person_id"])))
    else:
        subj = obj.get("subject")
        if not isinstance(subj, dict):
            raise RecordError("issue: record needs subject {type, id} or person_id")
        stype, sid = subj.get("type", "org"), str(subj.get("id", ""))
        subject = Subject(stype, validate_org_id(sid).id if stype == "org" else sid)
    refs = obj.get("refs", [])
    if not isinstance(refs, list):
        raise RecordError("issue: refs must be a list of hex leaf hashes")
    return Record(
        kind=str(obj.get("kind", "")),
        region=region,
        subject=subject,
        body=obj.get("body", {}),
        valid_from=_time(obj.get("valid_from", default_from), "valid_from"),
        valid_until=_time(obj.get("valid_until"), "valid_until"),
        refs=tuple(hex32(r, "ref", "issue") for r in refs),
    )


def record_value(
    *,
    kind: str,
    body_json: str | None,
    subject: str | None = None,
    person_id: str | None = None,
    valid_from: int,
    valid_until: int | None = None,
) -> dict[str, Any]:
    """The record value of one ``credex issue --kind ... --body ...`` call.

    Raises:
        FormatError: ``body_json`` is not a JSON object.
        RecordError: not exactly one of ``subject`` and ``person_id``.
    """
    if (subject is None) == (person_id is None):
        raise RecordError("issue: give exactly one of --subject and --person-id")
    try:
        body = strict_json.loads(
            body_json or "{}", "--body", max_bytes=MAX_JSON_LINE_BYTES, allow_floats=True
        )
    except FormatError as e:
        raise type(e)(f"issue: --body is not valid json: {e}") from None
    obj: dict[str, Any] = {"kind": kind, "body": body, "valid_from": valid_from}
    if valid_until is not None:
        obj["valid_until"] = valid_until
    if person_id is not None:
        obj["person_id"] = person_id
    else:
        obj["subject"] = {"type": "org", "id": subject}
    return obj


def records_from_jsonl(
    lines: Iterable[str],
    *,
    name: str,
    region: str,
    subject_key: SubjectKey,
    default_from: int,
) -> Iterator[Record]:
    """The records of a JSON-lines file (blank lines skipped), lazily.

    Raises:
        FormatError / RecordError / ...: the first bad line, named ``line N of NAME``.
    """
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            obj = strict_json.loads(
                line, f"line {n}", max_bytes=MAX_JSON_LINE_BYTES, allow_floats=True
            )
        except FormatError as e:
            raise type(e)(f"issue: line {n} of {name} is not json: {e}") from None
        try:
            yield record_from_value(
                obj, region=region, subject_key=subject_key, default_from=default_from
            )
        except CredexError as e:
            raise type(e)(f"line {n} of {name}: {e}") from e


class JsonLinesRecords:
    """A JSON-lines file of record values (``credex issue --records``) as an adapter: one
    row per non-blank line; a line that is not a valid record value is a ``RowError``
    (the message never contains a personal ID number)."""

    name: str = "records-jsonl"

    def __init__(self, default_from: int) -> None:
        self.default_from = default_from

    def split(self, data: Source) -> Iterator[HeaderWarning | RowUnit]:
        """``(line, text)`` per non-blank line.

        Raises:
            FormatError: not UTF-8. OversizeError: a line over ``MAX_ROW_BYTES``.
        """
        for block in blocks(data, _WHAT):
            for n, line in block_lines(block, _WHAT):
                if line.strip():
                    yield n, line

    def blocks(self, data: Source) -> Iterator[Block]:
        """The file cut at line ends (``credex.adapters.lines``)."""
        return blocks(data, _WHAT)

    def block_rows(self, block: Block, ctx: AdapterContext) -> Iterator[ParsedRow | RowError]:
        """The results of the block's non-blank lines, as ``split`` + ``convert``."""
        for n, line in block_lines(block, _WHAT):
            if line.strip():
                yield self.convert((n, line), ctx)

    def convert(self, unit: RowUnit, ctx: AdapterContext) -> ParsedRow | RowError:
        line, text = unit
        try:
            obj = strict_json.loads(
                text, "record", max_bytes=MAX_JSON_LINE_BYTES, allow_floats=True
            )
        except FormatError as e:
            return RowError(line, f"issue: not json: {e}")
        try:
            record = record_from_value(
                obj,
                region=ctx.region,
                subject_key=ctx.subject_key,
                default_from=self.default_from,
            )
        except CredexError as e:
            return RowError(line, str(e))
        return ParsedRow(line, record)

    def parse(self, data: Source, ctx: AdapterContext) -> Iterator[AdapterResult]:
        for unit in self.split(data):
            yield unit if isinstance(unit, HeaderWarning) else self.convert(unit, ctx)

    def count_rows(self, data: bytes) -> int:
        return sum(1 for _ in self.split(data))
