"""Import a regional file into a node: parse with an adapter, sign and log good rows in
durable batches, collect bad rows with their line numbers. Re-importing adds nothing
(``LocalNode.issue`` is idempotent per issuer and record). Each good row's result
(``ImportedRow``) says where it is in the log (index, leaf hash), which source line it
came from and, for a 双公示 penalty, its decision number, so a script can act on it.

It does not print: progress goes to a callback, the outcome to an ``ImportSummary``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from credex.adapters.base import Adapter, AdapterContext, HeaderWarning, ParsedRow, RowError
from credex.node.local import IssueResult, LocalNode

__all__ = ["ImportSummary", "ImportedRow", "import_bytes"]

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


@dataclass(slots=True)
class ImportSummary:
    imported: int = 0
    already_present: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)
    #: every good row's result, in file order
    rows: list[ImportedRow] = field(default_factory=list)

    @property
    def rejected(self) -> int:
        return len(self.errors)

    def to_json_value(self) -> dict[str, Any]:
        return {
            "rows": self.imported + self.already_present + self.rejected,
            "imported": self.imported,
            "already_present": self.already_present,
            "rejected": self.rejected,
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

    def flush() -> None:
        if not pending:
            return
        results = node.issue([p.record for p in pending], issuer_id=issuer_id, iat=iat)
        for p, r in zip(pending, results, strict=True):
            summary.rows.append(ImportedRow.of(p, r))
            summary.indices.append(r.index)
            if r.is_new:
                summary.imported += 1
            else:
                summary.already_present += 1
        on_rows(len(pending))
        pending.clear()

    for item in adapter.parse(data, ctx):
        if isinstance(item, HeaderWarning):
            summary.warnings.append(item.message)
        elif isinstance(item, RowError):
            summary.errors.append(item)
            on_rows(1)
        else:
            summary.warnings.extend(f"line {item.line}: {w}" for w in item.warnings)
            pending.append(item)
            if len(pending) >= _BATCH:
                flush()
    flush()
    return summary
