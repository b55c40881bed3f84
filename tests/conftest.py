"""Shared fixtures: every storage-backed test runs on SQLite and on PostgreSQL.

PostgreSQL is mandatory, never skipped: ``CREDEX_TEST_POSTGRES_URL`` names the server
(default: the local ``test`` database). Each test gets its own fresh schema, created here
with a plain SQLAlchemy connection, selected through the URL's
``options=-csearch_path=<schema>`` query and dropped afterwards.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine
from sqlalchemy.engine import make_url

from credex.ledger.log import AppendOnlyLog
from credex.ledger.storage.sql import SqlStore

POSTGRES_DEFAULT_URL = "postgresql+psycopg://postgres@127.0.0.1:5432/test"


def _postgres_url() -> str:
    return os.environ.get("CREDEX_TEST_POSTGRES_URL", POSTGRES_DEFAULT_URL)


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """A URL for an empty log database: a SQLite file, or a fresh PostgreSQL schema."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'log.db'}"
        return
    base = _postgres_url()
    schema = f"t_{uuid.uuid4().hex[:16]}"
    admin = create_engine(base)
    try:
        with admin.begin() as conn:
            conn.exec_driver_sql(f'CREATE SCHEMA "{schema}"')
        url = make_url(base).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
    finally:
        try:
            with admin.begin() as conn:
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
                # and the peer mirrors a node under test kept beside it (schemas.py)
                prefix = f"{schema}_mirror_"
                mirrors = conn.exec_driver_sql(
                    "SELECT nspname FROM pg_namespace WHERE left(nspname, %(n)s) = %(p)s",
                    {"n": len(prefix), "p": prefix},
                ).scalars()
                for name in list(mirrors):
                    conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
        finally:
            admin.dispose()


@pytest.fixture
def store(store_url: str) -> Iterator[SqlStore]:
    s = SqlStore(store_url)
    try:
        yield s
    finally:
        s.close()


@pytest.fixture
def log(store: SqlStore) -> Iterator[AppendOnlyLog]:
    lg = AppendOnlyLog(store)
    try:
        yield lg
    finally:
        lg.close()


@pytest.fixture(autouse=True)
def _logging_restored() -> Iterator[None]:
    """A command run in-process (``credex serve-http``) points the ``credex`` loggers at
    the stderr of its moment, which pytest closes after the test: put them back, so a
    later test's log line does not fail on a closed stream."""
    import logging

    names = ("credex", "uvicorn.error", "uvicorn.access")
    saved = {}
    for name in names:
        lg = logging.getLogger(name)
        saved[name] = (list(lg.handlers), lg.level, lg.propagate, lg.disabled)
    yield
    for name, (handlers, level, propagate, disabled) in saved.items():
        lg = logging.getLogger(name)
        lg.handlers[:] = handlers
        lg.setLevel(level)
        lg.propagate = propagate
        lg.disabled = disabled
