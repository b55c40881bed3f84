"""A51: a file that repeats rows, to get one record logged twice now that a leaf signed
after its record lookup is no longer looked up in the leaf-hash index (issue #16): the
same line again in the same batch, right across a batch boundary (its record lookup ran
while the batch holding the first copy was still being committed), a few batches later,
and the whole file imported once more. Each record is in the log once: within a batch
and over the batches since its record lookup the log checks its own recent appends, and
the record lookup finds the rest. On SQLite and on PostgreSQL."""

from __future__ import annotations

from pathlib import Path

from credex.ledger.statement import Statement
from credex.node.bench.bulk import score_lines
from credex.node.local import LocalNode, create_home, record_hash
from credex.node.services.importer import import_stream
from credex.node.services.records import JsonLinesRecords

NOW = 1_790_000_000
BATCH = 32


def _rows() -> tuple[bytes, int]:
    lines = list(score_lines(200))
    repeated = [
        *lines[:40],
        lines[3],  # the same batch (rows 0..31) or the next: a copy in flight
        *lines[40:100],
        lines[31],  # the last row of the first batch, two batches on
        lines[63],
        *lines[100:],
        *lines[:8],  # the file's start again at its end
    ]
    return "".join(repeated).encode(), len(repeated)


def test_repeated_rows_are_logged_once(tmp_path: Path, store_url: str) -> None:
    home = create_home(
        tmp_path / "home", region="cn-zj-hangzhou", origin="a51.example/log", db=store_url,
        now=NOW,
    )  # fmt: skip
    data, rows = _rows()
    with LocalNode(home) as node:
        for run in range(2):  # the file again: every row is found
            tally = import_stream(
                node, JsonLinesRecords(default_from=0), data, iat=NOW + run, facts=False,
                batch=BATCH,
            )  # fmt: skip
            assert tally.rows == rows
            assert tally.rejected == 0
            assert tally.imported == (200 if run == 0 else 0)
            assert tally.already_present == rows - tally.imported
        entries = node.log.entries(0, node.log.size)
    assert len(entries) == 200
    assert len({e.leaf_hash for e in entries}) == 200
    records = set()
    for e in entries:
        st = Statement.from_bytes(e.leaf)
        records.add(record_hash(st.claims.iss, st.payload))
    assert len(records) == 200
