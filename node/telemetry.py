"""In-process event counters a node's metrics page reads (``credex.node.http.metrics``).

The gRPC edge and the HTTP edge count what happens in this process: subject lookups
served and refused, and errors by edge and error code. Counters are plain integers behind
one lock, keyed by short label tuples (never a subject, a body, a path or a message), so
this module imports nothing and anything may count into it. ``snapshot`` returns a copy.

It does not export anything itself, keep history or reset: a process restart starts
every counter at zero, as Prometheus counters do.
"""

from __future__ import annotations

import threading
from collections import Counter
from typing import Final

__all__ = [
    "LOOKUPS_REFUSED",
    "LOOKUPS_SERVED",
    "count",
    "count_error",
    "snapshot",
]

#: counter names (the metric names are built from them by the metrics page)
LOOKUPS_SERVED: Final = "lookups_served"
LOOKUPS_REFUSED: Final = "lookups_refused"
ERRORS: Final = "errors"

_lock = threading.Lock()
_counts: Counter[tuple[str, ...]] = Counter()


def count(name: str, *labels: str, n: int = 1) -> None:
    """Add ``n`` to the counter ``name`` with ``labels`` (short, fixed vocabulary only)."""
    with _lock:
        _counts[(name, *labels)] += n


def count_error(edge: str, code: str) -> None:
    """One error answered on ``edge`` (``grpc`` / ``http``) with error ``code``."""
    count(ERRORS, edge, code)


def snapshot() -> dict[tuple[str, ...], int]:
    """A copy of every counter: ``(name, *labels) -> value``."""
    with _lock:
        return dict(_counts)
