"""Import a regional file into a node: parse with an adapter, sign and log good rows in
durable batches, collect bad rows with their line numbers. Re-importing adds nothing
(``LocalNode.issue`` is idempotent per issuer and record).

One source per fact (issue #12, ``credex.node.services.facts``): a row reporting a
decision this node or a mirrored peer already holds with the same substance is not
logged but listed in ``duplicates`` with the first report; a corrected decision from
the same issuer is logged and supersedes the old record (``lifecycle.supersession``,
counted in ``superseded``); another source's different version of the same decision is
refused as a row error naming the fields that differ.

It does not print: progress goes to a callback, the outcome to an ``ImportSummary``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from credex.adapters.base import Adapter, AdapterContext, HeaderWarning, ParsedRow, RowError
from credex.ledger.dates import cst_day
from credex.node.local import LocalNode
from credex.node.services.facts import FactIndex, Prior, fact_key
from credex.node.services.lifecycle import add_lifecycle

__all__ = ["Duplicate", "ImportSummary", "import_bytes"]

_BATCH: Final = 256


@dataclass(frozen=True, slots=True)
class Duplicate:
    """A row reporting a fact already held: linked to its first report, not logged."""

    line: int
    first: str

    def to_json(self) -> dict[str, Any]:
        return {"line": self.line, "first": self.first}


@dataclass(slots=True)
class ImportSummary:
    imported: int = 0
    already_present: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    superseded: int = 0

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
        }


def import_bytes(
    node: LocalNode,
    adapter: Adapter,
    data: bytes,
    *,
    iat: int,
    issuer_id: str | None = None,
    on_rows: Callable[[int], None] = lambda _: None,
) -> ImportSummary:
    """Import ``data``; ``on_rows(n)`` is called as rows are done (for a progress bar).

    Raises:
        FormatError: the file as a whole is unusable (encoding, header); nothing imported.
    """
    ctx = AdapterContext(node.home.region, node.home.subject_key())
    summary = ImportSummary()
    pending: list[ParsedRow] = []
    #: the old record each pending correction supersedes, by position in ``pending``
    replaces: dict[int, Prior] = {}
    keys: set[tuple[str, tuple[str, ...]]] = set()
    issuer = issuer_id or node.home.platform_issuer
    facts = FactIndex(node, iat)

    def flush() -> None:
        if not pending:
            return
        results = node.issue([p.record for p in pending], issuer_id=issuer_id, iat=iat)
        for i, r in enumerate(results):
            summary.indices.append(r.index)
            if r.is_new:
                summary.imported += 1
            else:
                summary.already_present += 1
            old = replaces.get(i)
            if old is not None and r.is_new:
                add_lifecycle(
                    node,
                    old.statement.leaf_hash,
                    "lifecycle.supersession",
                    {"superseded_on": cst_day(iat), "reason": "corrected decision imported"},
                    extra_refs=(r.leaf_hash,),
                    issuer_id=issuer_id,
                    now=iat,
                )
                summary.superseded += 1
        for p in pending:
            facts.forget(p.record.subject.id, p.record.kind)
        on_rows(len(pending))
        pending.clear()
        replaces.clear()
        keys.clear()

    def admit(item: ParsedRow) -> None:
        """One source per fact: pend the row, or list it as a duplicate or conflict."""
        key = fact_key(item.record)
        if key is not None and (item.record.subject.id, key) in keys:
            flush()  # the same fact twice in one batch: the first is logged first
        found = facts.classify(item.record, issuer)
        if found.verdict == "duplicate" and found.prior is not None:
            summary.duplicates.append(Duplicate(item.line, found.prior.describe()))
            on_rows(1)
            return
        if found.verdict == "conflict" and found.prior is not None:
            summary.errors.append(
                RowError(
                    item.line,
                    f"import: the same decision is held from another source with other "
                    f"values: {', '.join(found.differs)} differ from {found.prior.describe()}",
                )
            )
            on_rows(1)
            return
        if found.verdict == "correction" and found.prior is not None:
            replaces[len(pending)] = found.prior
        if key is not None:
            keys.add((item.record.subject.id, key))
        summary.warnings.extend(f"line {item.line}: {w}" for w in item.warnings)
        pending.append(item)

    for item in adapter.parse(data, ctx):
        if isinstance(item, HeaderWarning):
            summary.warnings.append(item.message)
        elif isinstance(item, RowError):
            summary.errors.append(item)
            on_rows(1)
        else:
            admit(item)
            if len(pending) >= _BATCH:
                flush()
    flush()
    return summary
