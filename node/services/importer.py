"""Import a regional file into a node: parse with an adapter, sign and log good rows in
durable batches, collect bad rows with their line numbers. Re-importing adds nothing
(``LocalNode.issue`` is idempotent per issuer and record).

It does not print: progress goes to a callback, the outcome to an ``ImportSummary``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

from credex.adapters.base import Adapter, AdapterContext, HeaderWarning, ParsedRow, RowError
from credex.node.local import LocalNode

__all__ = ["ImportSummary", "import_bytes"]

_BATCH: Final = 256


@dataclass(slots=True)
class ImportSummary:
    imported: int = 0
    already_present: int = 0
    errors: list[RowError] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    indices: list[int] = field(default_factory=list)

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
        for r in results:
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
