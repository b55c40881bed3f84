"""The ``entries`` table partitioned by index range on a real PostgreSQL server.

Its own server (``pg_cluster``, primary only), so tablespaces (cluster-wide, a directory
owned by postgres) come and go with the test. Three partitions; a node appends across
all of them through the unchanged log code; proofs and bundles verify; an old partition
moves to another tablespace while the log stays readable and keeps appending; a leaf
logged again is still deduplicated across partitions.
"""

from __future__ import annotations

import os
import pwd
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from credex.ledger.errors import ConfigError, StorageError
from credex.ledger.merkle import verify_inclusion
from credex.ledger.record import Record, Subject
from credex.ledger.storage.partitions import (
    add_partition,
    create_partitioned_entries,
    move_partition,
    partitioned_entries_ddl,
    partitions,
)
from credex.ledger.verify import Verifier
from credex.node.local import LocalNode, create_home

from .pg_cluster import PgCluster, require_cluster_tools

T0 = 1_790_000_000


def _records(start: int, end: int) -> list[Record]:
    return [
        Record(
            "score.city", "cn-zj-hangzhou", Subject("org", "91330100MA0YX0016X"),
            {"scheme": "HZ", "score": i, "band": "良好", "as_of": "2026-11-01"}, T0 + i,
        )
        for i in range(start, end)
    ]  # fmt: skip


@pytest.fixture(scope="module")
def server() -> Iterator[PgCluster]:
    require_cluster_tools()
    with PgCluster(standby=False) as c:
        yield c


def test_ddl_is_derived_from_the_table_metadata() -> None:
    ddl = partitioned_entries_ddl([0, 100, 200], {100: "cold"})
    assert "PARTITION BY RANGE (idx)" in ddl[0]
    # no key on idx (the block index and the append lock instead: docs/storage.md)
    assert "PRIMARY KEY" not in ddl[0] and "UNIQUE" not in ddl[0]
    assert any("ix_entries_block ON entries ((idx / 32))" in s for s in ddl)
    assert any("ix_entries_leaf_key ON entries (substr(sha256(" in s for s in ddl)
    assert any(s.startswith("CREATE INDEX IF NOT EXISTS ix_entries_subject_record") for s in ddl)
    parts = [s for s in ddl if "PARTITION OF" in s]
    assert len(parts) == 3 and parts[1].endswith("FROM (100) TO (200) TABLESPACE cold")
    assert parts[2].endswith("FROM (200) TO (MAXVALUE)")
    assert not any("UNIQUE" in s for s in ddl)  # the sequencer keeps a leaf logged once
    for bad in ([], [1, 2], [0, 5, 5], [0, 1 << 63]):
        with pytest.raises(ConfigError):
            partitioned_entries_ddl(bad)
    with pytest.raises(ConfigError, match="no partition starts at 7"):
        partitioned_entries_ddl([0, 10], {7: "cold"})
    with pytest.raises(ConfigError, match="tablespace"):
        partitioned_entries_ddl([0, 10], {10: "cold; DROP TABLE entries"})


def test_log_across_three_partitions_and_a_move(server: PgCluster, tmp_path: Path) -> None:
    space = Path(tempfile.mkdtemp(prefix="credex-ts-"))
    pw = pwd.getpwnam("postgres")
    os.chown(space, pw.pw_uid, pw.pw_gid)
    url = server.primary_url
    admin = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.exec_driver_sql(f"CREATE TABLESPACE cold LOCATION '{space}'")
        create_partitioned_entries(url, [0, 100, 200])
        with pytest.raises(StorageError, match="exists already"):
            create_partitioned_entries(url, [0, 100, 200])
        home = create_home(
            tmp_path / "home", region="cn-zj-hangzhou", origin="hz.example/log", db=url, now=T0
        )
        with LocalNode(home) as node:
            node.issue(_records(0, 150), iat=T0)
            node.publish_checkpoint(T0)
            rows = {name: n for name, _, _, n in partitions(url)}
            assert rows == {"entries_p0": 100, "entries_p100": 50, "entries_p200": 0}
            # the oldest full range moves to the other tablespace; the log reads on
            move_partition(url, 0, "cold")
            node.issue(_records(150, 320), iat=T0)
            note = node.publish_checkpoint(T0 + 1)
            # the same records again: deduplicated across partitions, nothing appended
            again = node.issue(_records(90, 110), iat=T0 + 2)
            assert [r.index for r in again] == list(range(90, 110))
            assert not any(r.is_new for r in again)
            assert node.log.size == 320
            cp = note.checkpoint
            for i in (0, 99, 100, 199, 200, 319):
                verify_inclusion(
                    node.log.entry(i).leaf_hash, i, cp.size, node.log.inclusion_proof(i), cp.root
                )
                bundle = node.bundle(i, T0 + 1).to_bytes()
                assert Verifier(home.trust()).verify(bundle).error is None
        got = {name: (space_name, n) for name, _, space_name, n in partitions(url)}
        assert got == {
            "entries_p0": ("cold", 100),
            "entries_p100": (None, 100),
            "entries_p200": (None, 120),
        }
        with admin.connect() as conn:
            moved = conn.exec_driver_sql(
                "SELECT count(*) FROM pg_indexes WHERE tablename = 'entries_p0' "
                "AND tablespace = 'cold'"
            ).scalar_one()
        assert moved >= 2  # primary key and the leaf-hash index went along
        with pytest.raises(StorageError, match="add partition"):
            add_partition(url, 250, 400)  # overlaps the open-ended last range
        with pytest.raises(ConfigError, match="range invalid"):
            add_partition(url, 400, 300)
    finally:
        with admin.connect() as conn:
            conn.exec_driver_sql("DROP TABLE IF EXISTS entries CASCADE")
            conn.exec_driver_sql("DROP TABLESPACE IF EXISTS cold")
        admin.dispose()
        shutil.rmtree(space, ignore_errors=True)


def test_sqlite_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="PostgreSQL only"):
        create_partitioned_entries(f"sqlite:///{tmp_path / 'x.db'}", [0, 10])
