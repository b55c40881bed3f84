"""Structured logs for a running node: one JSON object per line, one line per event.

``JsonFormatter`` renders a ``logging`` record as ``{"ts", "level", "logger", "event",
"msg", ...}`` plus the request id of the HTTP request being served (``REQUEST_ID``) and
the fields a caller passed in ``extra`` under ``FIELDS``. ``configure`` installs it (or the
plain ``credex: message`` text format) on the ``credex`` logger for ``credex serve``.

Only fixed vocabularies go into fields: route templates (never a raw path, which may hold
anything a client typed), status codes, error codes, sizes, durations. Messages are the
credex messages, which by the project's rules never hold a personal ID number, a record
body, a key or a token. This module does not decide what is logged; callers do.
"""

from __future__ import annotations

import json
import logging
import sys
import time
from contextvars import ContextVar
from typing import Any, Final, TextIO

__all__ = ["FIELDS", "REQUEST_ID", "JsonFormatter", "configure"]

#: the request id of the HTTP request this thread or task serves, if any
REQUEST_ID: Final[ContextVar[str | None]] = ContextVar("credex_request_id", default=None)
#: ``extra`` keys copied into the JSON line
FIELDS: Final = (
    "event",
    "method",
    "route",
    "status",
    "code",
    "ms",
    "bytes",
    "tree_size",
    "origin",
    "addr",
)


class JsonFormatter(logging.Formatter):
    """One JSON object per record, keys in a fixed order, no newline inside."""

    def format(self, record: logging.LogRecord) -> str:
        out: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": getattr(record, "event", None) or "log",
            "msg": record.getMessage(),
        }
        rid = getattr(record, "request_id", None) or REQUEST_ID.get()
        if rid is not None:
            out["request_id"] = rid
        for key in FIELDS[1:]:
            value = getattr(record, key, None)
            if value is not None:
                out[key] = value
        if record.exc_info and record.exc_info[0] is not None:
            out["exception"] = record.exc_info[0].__name__  # the class only, never a trace
        return json.dumps(out, ensure_ascii=False, separators=(",", ":"))


def configure(json_lines: bool, stream: TextIO | None = None) -> None:
    """Log the ``credex`` logger (and uvicorn's error logger) to ``stream`` (stderr):
    JSON lines, or ``credex: message`` text. Uvicorn's access log is off (the HTTP edge
    logs each request itself, without its raw path)."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(
        JsonFormatter() if json_lines else logging.Formatter("credex: %(message)s")
    )
    for name in ("credex", "uvicorn.error"):
        lg = logging.getLogger(name)
        lg.handlers[:] = [handler]
        lg.setLevel(logging.INFO)
        lg.propagate = False
    logging.getLogger("uvicorn.access").disabled = True
