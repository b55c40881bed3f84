"""A33: a file of records near ``MAX_RECORD_BYTES`` (48 KiB), hoping that an import batch
of 16,384 rows holds 768 MiB of records (and twice that with the batch in flight) and
exhausts the node's memory. A batch is cut at ``BATCH_BYTES`` of records as well as at
``BATCH`` rows, whichever comes first: checked here with a small byte bound, so that a
file of ordinary rows is cut by bytes, on SQLite and on PostgreSQL; every row is still
logged once."""

from __future__ import annotations

from pathlib import Path

from credex.adapters.base import AdapterContext, ParsedRow
from credex.node.bench.bulk import score_lines
from credex.node.local import LocalNode, create_home
from credex.node.services.importer import BATCH, BATCH_BYTES, ImportSink, Tally, import_stream
from credex.node.services.records import JsonLinesRecords

NOW = 1_790_000_000
ROWS = 600
LIMIT = 16 * 1024  # bytes of records a batch may hold in this test


class _Batches(ImportSink):
    """The rows each commit logged (``progress`` follows every commit)."""

    def __init__(self) -> None:
        self.seen: list[int] = []

    def progress(self, tally: Tally) -> None:
        self.seen.append(tally.imported)


def test_batches_are_bounded_by_bytes_of_records(tmp_path: Path, store_url: str) -> None:
    assert BATCH_BYTES <= 8 * 1024 * 1024 < BATCH * 48 * 1024  # the bound bites first
    data = "".join(score_lines(ROWS)).encode()
    home = create_home(
        tmp_path / "home", region="cn-zj-hangzhou", origin="a33.example/log", db=store_url,
        now=NOW,
    )  # fmt: skip
    adapter = JsonLinesRecords(default_from=0)
    with LocalNode(home) as node:
        ctx = AdapterContext(node.home.region, node.home.subject_key())
        sizes = [
            len(r.record.to_bytes()) for r in adapter.parse(data, ctx) if isinstance(r, ParsedRow)
        ]
        sink = _Batches()
        tally = import_stream(
            node, adapter, data, iat=NOW, facts=False, sink=sink, batch_bytes=LIMIT
        )
        assert (tally.imported, tally.rejected, node.log.size) == (ROWS, 0, ROWS)
    per_commit = [b - a for a, b in zip([0, *sink.seen], sink.seen, strict=False) if b > a]
    assert sum(per_commit) == ROWS
    # a batch is cut once it reaches the bound: at most one record past it
    most = (LIMIT + max(sizes)) // min(sizes) + 1
    assert max(per_commit) <= most < BATCH, per_commit
    assert len(per_commit) >= sum(sizes) // (LIMIT + max(sizes))
