"""A PostgreSQL log keeps the planner's statistics of its tables itself.

The record and leaf lookups before every append are ``= ANY(keys)`` over random keys.
Without statistics (autovacuum off, as on this machine's server, or lagging a bulk load)
PostgreSQL plans them as a parallel sequential scan of the whole table: at 7 x 10^6
entries issuing fell from about 20,000 to 2,500 entries/s, and one ANALYZE brought it back
(docs/scale.md). The store analyzes at its first append and each time the log has grown
by a quarter; this checks that it does, from the server's own catalogue.
"""

from __future__ import annotations

from sqlalchemy import create_engine

from credex.ledger.merkle import CompactRange
from credex.ledger.storage.sql import SqlStore
from tests.contract.test_log_store import make_batch


def _analyzed_rows(url: str) -> float:
    """``reltuples`` of ``entries`` in the store's schema: -1 until a VACUUM or ANALYZE."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return float(
                conn.exec_driver_sql(
                    "SELECT c.reltuples FROM pg_class c WHERE c.oid = to_regclass('entries')"
                ).scalar_one()
            )
    finally:
        engine.dispose()


def test_postgres_store_analyzes_as_the_log_grows(store_url: str) -> None:
    if not store_url.startswith("postgresql"):
        return  # SQLite plans these lookups on its indexes without statistics
    store = SqlStore(store_url)
    try:
        assert _analyzed_rows(store_url) < 0  # never analyzed
        cr = CompactRange()
        entries, nodes = make_batch([b"leaf-%d" % n for n in range(40)], cr)
        store.append(0, entries, nodes)
        assert _analyzed_rows(store_url) == 40  # the first append analyzed
        more, nodes = make_batch([b"more-%d" % n for n in range(100)], cr)
        store.append(40, more, nodes)
        assert _analyzed_rows(store_url) == 40  # not before 40 + 10,000
    finally:
        store.close()
