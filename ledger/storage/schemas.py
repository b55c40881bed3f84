"""PostgreSQL schemas beside a node's database: where its mirrors live, and URLs for them.

A node keeps each peer's mirror as a log of its own. On PostgreSQL that is a schema in the
node's database: ``mirror_<slug>``, or ``<node schema>_mirror_<hash>`` when the node's own
URL selects a schema with ``options=-csearch_path=...`` (tests, or several nodes in one
database). ``sibling_schema_url`` creates that schema if missing and returns the URL whose
connections use it. This module holds the only DDL outside the stores' own tables; it does
not create tables and never echoes a URL (it may hold a password).
"""

from __future__ import annotations

import hashlib
from urllib.parse import quote

import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from credex.ledger.storage.engine import storage_error

__all__ = ["create_schema", "search_path_of", "sibling_schema_url", "url_with_schema"]


def url_with_schema(url: str, schema: str) -> str:
    """``url`` with its connections' ``search_path`` set to ``schema``."""
    sep = "&" if "?" in url else "?"
    return f"{url}{sep}options={quote(f'-csearch_path={schema}')}"


def search_path_of(url: str) -> str:
    """The schema a PostgreSQL URL selects through ``options=-csearch_path=...`` ('' if none)."""
    options = str(make_url(url).query.get("options") or "")
    if "search_path=" not in options:
        return ""
    return options.split("search_path=", 1)[1].split(",")[0].strip()


def create_schema(url: str, schema: str) -> None:
    """``CREATE SCHEMA IF NOT EXISTS`` in the database of ``url``.

    Raises:
        StorageError: the database cannot be reached or refuses.
    """
    engine = sa.create_engine(url, isolation_level="AUTOCOMMIT", hide_parameters=True)
    try:
        with engine.connect() as conn:
            conn.execute(sa.text(f'CREATE SCHEMA IF NOT EXISTS "{schema}"'))
    except SQLAlchemyError as e:
        raise storage_error("schemas", "create schema", e) from e
    finally:
        engine.dispose()


def sibling_schema_url(url: str, name: str, slug: str) -> str:
    """The URL of the schema for ``name`` beside the database (or schema) of ``url``,
    created if missing: ``mirror_<slug>``, or ``<schema>_mirror_<hash of schema and name>``
    when ``url`` itself selects a schema."""
    base = search_path_of(url)
    if base:  # the node lives in a schema: its mirrors are named after it
        digest = hashlib.sha256(f"{base}\x00{name}".encode()).hexdigest()[:12]
        schema = f"{base[:40]}_mirror_{digest}"
    else:
        schema = f"mirror_{slug}"
    create_schema(url, schema)
    if base:
        return (
            make_url(url)
            .update_query_dict({"options": f"-csearch_path={schema}"})
            .render_as_string(hide_password=False)
        )
    return url_with_schema(url, schema)
