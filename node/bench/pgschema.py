"""Scratch PostgreSQL schemas: an isolated ``search_path`` per store (tests, bench).

``scratch_schema(url)`` yields a function mapping a name to a URL whose connections use a
fresh schema; every schema it created is dropped on exit.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager

import sqlalchemy as sa

from credex.ledger.storage.schemas import url_with_schema

__all__ = ["scratch_schema"]


@contextmanager
def scratch_schema(url: str) -> Iterator[Callable[[str], str]]:
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT")
    created: list[str] = []

    def make(name: str) -> str:
        schema = "credex_" + re.sub(r"[^a-z0-9_]", "_", name.lower())[:30] + "_"
        schema += uuid.uuid4().hex[:8]
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA "{schema}"'))
        created.append(schema)
        return url_with_schema(url, schema)

    try:
        yield make
    finally:
        with engine.connect() as conn:
            for schema in created:
                conn.execute(sa.text(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE'))
        engine.dispose()
