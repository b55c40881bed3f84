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

It does not print: progress goes to a callback, the outcome to an ``ImportSummary``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from credex.adapters.base import Adapter, AdapterContext, HeaderWarning, ParsedRow, RowError
from credex.ledger.dates import cst_day
from credex.node.local import IssueResult, LocalNode
from credex.node.services.facts import FactIndex, Prior, fact_key
from credex.node.services.lifecycle import add_lifecycle

__all__ = ["Duplicate", "ImportSummary", "ImportedRow", "import_bytes"]

_BATCH: Final = 256
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
        for i, (p, r) in enumerate(zip(pending, results, strict=True)):
            summary.rows.append(ImportedRow.of(p, r))
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
