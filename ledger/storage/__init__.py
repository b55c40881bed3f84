"""Durable storage of a node's database, SQLite or PostgreSQL, every table described in
``tables``: the log (``sql.SqlStore`` behind the ``base.LogStore`` seam), the witness
state and evidence (``witness``), personal bodies (``bodies``), what derived records rest
on (``derivations``); all on one
``component.SqlComponent`` base and one way to open an engine (``engine``); mirror
schemas (``schemas``). Names are imported lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from credex._exports import lazy_exports

if TYPE_CHECKING:
    from credex.ledger.storage.base import (
        Entry,
        LogStore,
        NewEntry,
        StoredCheckpoint,
    )
    from credex.ledger.storage.bodies import (
        BodyStore,
    )
    from credex.ledger.storage.derivations import (
        DerivationStore,
    )
    from credex.ledger.storage.sql import (
        SqlStore,
    )
    from credex.ledger.storage.witness import (
        WitnessStore,
    )

__all__ = [
    "BodyStore",
    "DerivationStore",
    "Entry",
    "LogStore",
    "NewEntry",
    "SqlStore",
    "StoredCheckpoint",
    "WitnessStore",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "BodyStore": "bodies",
        "DerivationStore": "derivations",
        "Entry": "base",
        "LogStore": "base",
        "NewEntry": "base",
        "SqlStore": "sql",
        "StoredCheckpoint": "base",
        "WitnessStore": "witness",
    },
)
