"""Import a regional file into a node: parse with an adapter, sign and log good rows in
durable batches, collect bad rows with their line numbers. Re-importing adds nothing
(``LocalNode.issue`` is idempotent per issuer and record). Each good row's result
(``ImportedRow``) says where it is in the log (index, leaf hash), which source line it
came from and, for a 双公示 penalty, its decision number, so a script can act on it.

One source per fact (issue #12, ``credex.node.services.facts``): a row reporting a
decision this node or a mirrored peer already holds with the same substance is not
logged but listed in ``duplicates`` with the first report; a corrected decision from
the same issuer is logged and supersedes the old record (``lifecycle.supersession``,
counted in ``superseded``); another source's different version of the same decision is
refused as a row error naming the fields that differ.

At scale (issue #16) ``import_stream`` reads the file as it goes and keeps no more than
two batches in memory: rows are parsed, checked and signed in batches of ``BATCH`` (the
next batch is signed on a worker thread while the previous one is committed), and every
outcome goes to an ``ImportSink`` as it happens (a row logged, a row rejected, a
duplicate, a warning, progress), never into a list; the result is a ``Tally`` of counts.
Killed at any point and run again, it finishes the file: a record already durable is
found by its record hash (``LocalNode.prepare_issue``) and neither signed nor logged
again. ``import_bytes`` is the small-file form that collects everything
(``ImportSummary``).

It does not print.
"""

from __future__ import annotations

import contextlib
from collections import deque
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any, Final

from credex.adapters.base import (
    Adapter,
    AdapterContext,
    HeaderWarning,
    ParsedRow,
    RowError,
    Source,
)
from credex.ledger.dates import cst_day
from credex.ledger.errors import CredexError
from credex.node.local import IssueResult, LocalNode
from credex.node.services.facts import FactIndex, Prior, fact_key
from credex.node.services.lifecycle import add_lifecycle

__all__ = [
    "BATCH",
    "BATCH_BYTES",
    "Duplicate",
    "ImportSink",
    "ImportSummary",
    "ImportedRow",
    "Tally",
    "import_bytes",
    "import_stream",
]

#: rows signed and committed together (one transaction each). Large because each commit
#: rewrites every page of the log's two random-key lookup indexes (leaf hash, record key)
#: that one of its rows touched: past ~10^6 entries a batch of 4096 touches nearly all of
#: them, so the pages written per row fall with the batch's size. Measured at 10^6 lines
#: on SQLite, idle 2-core machine: 4096 10,493 rows/s (peak RSS 182 MiB), 16384 12,315
#: rows/s (234 MiB); the WAL written per row and the system time fall with it.
BATCH: Final = 16384
#: ...and at most this many bytes of records (a batch is cut at whichever comes first):
#: typical rows (~300-byte records) fill 16,384 rows with about 5 MiB, but a file of
#: records near ``MAX_RECORD_BYTES`` (48 KiB) would otherwise hold 768 MiB in each of the
#: two batches in flight (attack A33)
BATCH_BYTES: Final = 8 * 1024 * 1024
_PENALTY: Final = "penalty.admin"


@dataclass(frozen=True, slots=True)
class ImportedRow:
    """One good row: its source line and where its record is in the log (``new``:
    logged by this import, not already there)."""

    line: int
    index: int
    leaf_hash: bytes
    kind: str
    new: bool
    decision_no: str | None = None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "line": self.line,
            "index": self.index,
            "leaf_hash": self.leaf_hash.hex(),
            "kind": self.kind,
            "new": self.new,
        }
        if self.decision_no is not None:
            out["decision_no"] = self.decision_no
        return out

    @classmethod
    def of(cls, row: ParsedRow, result: IssueResult) -> ImportedRow:
        number = row.record.body.get("decision_no") if row.record.kind == _PENALTY else None
        return cls(
            row.line,
            result.index,
            result.leaf_hash,
            result.kind,
            result.is_new,
            number.strip() if isinstance(number, str) else None,
        )


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A row reporting a fact already held: linked to its first report, not logged."""

    line: int
    first: str

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "first": self.first}


@dataclass(slots=True)
class Tally:
    """Counts of one import so far (``rows`` = every data row looked at)."""

    rows: int = 0
    imported: int = 0
    already_present: int = 0
    rejected: int = 0
    duplicates: int = 0
    superseded: int = 0
    warnings: int = 0

    @property
    def logged(self) -> int:
        """Rows whose record is in the log (new or already there)."""
        return self.imported + self.already_present

    def to_json(self) -> dict[str, int]:
        return {
            "rows": self.rows,
            "imported": self.imported,
            "already_present": self.already_present,
            "rejected": self.rejected,
            "duplicates": self.duplicates,
            "superseded": self.superseded,
            "warnings": self.warnings,
        }


class ImportSink:
    """Where an import's outcomes go, one at a time (the default drops them). A sink
    must not keep them all: a file may have tens of millions of rows."""

    #: whether ``row`` is called at all (False: good rows are only counted, and no
    #: ``ImportedRow`` is built for each)
    wants_rows: bool = True

    def row(self, row: ImportedRow) -> None:
        """A good row, logged (``row.new``) or found already logged."""

    def reject(self, error: RowError) -> None:
        """A refused row: its line and why (never a raw personal id)."""

    def duplicate(self, dup: Duplicate) -> None:
        """A row reporting a fact already held: not logged."""

    def warning(self, message: str) -> None:
        """A file or row warning (a row's starts with ``line N:``)."""

    def progress(self, tally: Tally) -> None:
        """Called after each committed batch, and at the end, with the counts so far."""


@dataclass(slots=True)
class ImportSummary:
    imported: int = 0
    already_present: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    superseded: int = 0
    #: every good row's result, in file order
    rows: list[ImportedRow] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.errors)

    def to_json_value(self) -> dict[str, Any]:
        return {
            "rows": self.imported + self.already_present + self.rejected + len(self.duplicates),
            "imported": self.imported,
            "already_present": self.already_present,
            "rejected": self.rejected,
            "duplicates": [d.to_json() for d in self.duplicates],
            "superseded": self.superseded,
            "errors": [{"line": e.line, "reason": e.reason} for e in self.errors],
            "warnings": self.warnings,
            "records": [r.to_json() for r in self.rows],
        }


class _Collect(ImportSink):
    """Everything into an ``ImportSummary`` (small files: ``import_bytes``)."""

    def __init__(self, summary: ImportSummary) -> None:
        self.summary = summary

    def row(self, row: ImportedRow) -> None:
        self.summary.rows.append(row)
        self.summary.indices.append(row.index)

    def reject(self, error: RowError) -> None:
        self.summary.errors.append(error)

    def duplicate(self, dup: Duplicate) -> None:
        self.summary.duplicates.append(dup)

    def warning(self, message: str) -> None:
        self.summary.warnings.append(message)


def import_bytes(
    node: LocalNode,
    adapter: Adapter,
    data: bytes,
    *,
    iat: int,
    issuer_id: str | None = None,
) -> ImportSummary:
    """Import ``data`` and collect every outcome (``import_stream`` for big files).

    Raises:
        FormatError: the file as a whole is unusable (encoding, header); nothing imported.
    """
    summary = ImportSummary()
    tally = import_stream(node, adapter, data, iat=iat, issuer_id=issuer_id, sink=_Collect(summary))
    summary.imported, summary.already_present = tally.imported, tally.already_present
    summary.superseded = tally.superseded
    return summary


@dataclass(slots=True)
class _Batch:
    """Rows signed together: the rows, the old record each correction supersedes (by
    position), the fact keys in it, and the signing under way."""

    rows: list[ParsedRow]
    replaces: dict[int, Prior]
    keys: set[tuple[str, tuple[str, ...]]]
    signed: Future[Any] | None = None
    #: bytes of the records in ``rows``
    size: int = 0

    def add(self, row: ParsedRow) -> None:
        self.rows.append(row)
        self.size += len(row.record.to_bytes())


def converted(
    adapter: Adapter, data: Source, ctx: AdapterContext
) -> Iterator[HeaderWarning | ParsedRow | RowError]:
    """``adapter.parse`` as split + convert (the unit of work a worker may take)."""
    for unit in adapter.split(data):
        yield unit if isinstance(unit, HeaderWarning) else adapter.convert(unit, ctx)


def import_stream(
    node: LocalNode,
    adapter: Adapter,
    data: Source,
    *,
    iat: int,
    issuer_id: str | None = None,
    sink: ImportSink | None = None,
    facts: bool = True,
    batch: int = BATCH,
    results: Iterable[HeaderWarning | ParsedRow | RowError] | None = None,
    batch_bytes: int = BATCH_BYTES,
) -> Tally:
    """Import ``data`` (bytes or chunks of bytes, read as they come), every outcome to
    ``sink``; returns the counts. ``facts``: one source per fact (a decision already held
    is linked, a correction supersedes; off for ``credex issue --records``).
    ``results``: the parsed rows when the caller parsed them (in worker processes).
    A batch is ``batch`` rows or ``batch_bytes`` bytes of records, whichever comes first.

    Durable batch by batch: killed and run again, the rows already logged are found by
    their record hash and neither signed nor logged again.

    Raises:
        FormatError: the file is unusable (encoding, header, a row over the size
            limit); the rows before it are logged.
    """
    out = sink or ImportSink()
    tally = Tally()
    ctx = AdapterContext(node.home.region, node.home.subject_key())
    issuer = issuer_id or node.home.platform_issuer
    index = FactIndex(node, iat) if facts else None
    pending = _Batch([], {}, set())
    flight: deque[_Batch] = deque()  # signed or being signed, not yet committed

    def commit(b: _Batch) -> None:
        assert b.signed is not None
        records = [p.record for p in b.rows]
        done = node.commit_issue(records, b.signed.result())
        fresh = sum(1 for r in done if r.is_new)
        tally.imported += fresh
        tally.already_present += len(done) - fresh
        if out.wants_rows:
            for p, r in zip(b.rows, done, strict=True):
                out.row(ImportedRow.of(p, r))
        for i, old in b.replaces.items():
            r = done[i]
            if r.is_new:
                add_lifecycle(
                    node,
                    old.statement.leaf_hash,
                    "lifecycle.supersession",
                    {"superseded_on": cst_day(iat), "reason": "corrected decision imported"},
                    extra_refs=(r.leaf_hash,),
                    issuer_id=issuer_id,
                    now=iat,
                )
                tally.superseded += 1
        if index is not None:
            for p in b.rows:
                index.forget(p.record.subject.id, p.record.kind)
        out.progress(tally)

    def drain() -> None:
        while flight:
            commit(flight.popleft())

    def launch(pool: ThreadPoolExecutor) -> None:
        """Sign the pending batch on the worker while the one before it commits."""
        nonlocal pending
        if not pending.rows:
            return
        b, pending = pending, _Batch([], {}, set())
        b.signed = pool.submit(node.prepare_issue, [p.record for p in b.rows], issuer, iat)
        flight.append(b)
        while len(flight) > 1:
            commit(flight.popleft())

    def admit(item: ParsedRow, pool: ThreadPoolExecutor) -> None:
        """One source per fact: pend the row, or report it as a duplicate or conflict."""
        tally.rows += 1
        for w in item.warnings:
            tally.warnings += 1
            out.warning(f"line {item.line}: {w}")
        if index is None:
            pending.add(item)
            return
        key = fact_key(item.record)
        if key is not None:
            fk = (item.record.subject.id, key)
            if fk in pending.keys:
                launch(pool)  # the same fact twice close together: the first is logged first
            if any(fk in b.keys for b in flight):
                drain()
        found = index.classify(item.record, issuer)
        if found.verdict == "duplicate" and found.prior is not None:
            tally.duplicates += 1
            out.duplicate(Duplicate(item.line, found.prior.describe()))
            return
        if found.verdict == "conflict" and found.prior is not None:
            tally.rejected += 1
            out.reject(
                RowError(
                    item.line,
                    f"import: the same decision is held from another source with other "
                    f"values: {', '.join(found.differs)} differ from {found.prior.describe()}",
                )
            )
            return
        if found.verdict == "correction" and found.prior is not None:
            pending.replaces[len(pending.rows)] = found.prior
        if key is not None:
            pending.keys.add((item.record.subject.id, key))
        pending.add(item)

    items = converted(adapter, data, ctx) if results is None else results
    with ThreadPoolExecutor(1, thread_name_prefix="credex-sign") as pool:
        try:
            for item in items:
                if isinstance(item, HeaderWarning):
                    tally.warnings += 1
                    out.warning(item.message)
                elif isinstance(item, RowError):
                    tally.rows += 1
                    tally.rejected += 1
                    out.reject(item)
                else:
                    admit(item, pool)
                    if len(pending.rows) >= batch or pending.size >= batch_bytes:
                        launch(pool)
            launch(pool)
        except BaseException:
            # what was signed before a fault in the file is logged, then the fault raised
            with contextlib.suppress(CredexError):
                drain()
            raise
        drain()
    out.progress(tally)
    return tally
