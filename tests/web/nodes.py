"""Nodes for the HTTP tests: a home with fixed keys, records of each shape, and the app
served by a real uvicorn server on 127.0.0.1 port 0 (``served``)."""

from __future__ import annotations

import calendar
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import date
from pathlib import Path
from typing import Any, TextIO

from credex.adapters.sample import sample_usccs, score_records
from credex.ledger.record import Record, Subject
from credex.node.home import NodeHome
from credex.node.http import HttpServer, create_app
from credex.node.local import IssueResult, LocalNode
from credex.node.logs import configure

__all__ = [
    "AS_OF",
    "NOW",
    "ORIGIN",
    "REGION",
    "T0",
    "issue_penalties",
    "issue_scores",
    "json_logs",
    "make_home",
    "penalty",
    "served",
]

REGION, ORIGIN = "cn-zj-ningbo", "credex.ningbo.example/log"
T0 = calendar.timegm((2026, 6, 1, 0, 0, 0))
#: the clock of the served app: a day after T0
NOW = T0 + 86400
AS_OF = date(2026, 5, 31)


def make_home(path: Path, db: str | None = None) -> NodeHome:
    home = NodeHome.init(
        path,
        region=REGION,
        origin=ORIGIN,
        db=db,
        now=T0,
        log_seed=b"\x01" * 32,
        subject_secret=b"\x02" * 32,
        platform_seed=b"\x03" * 32,
    )
    LocalNode(home).close()  # create the tables
    return home


def penalty(uscc: str, n: int, decided: date = date(2025, 1, 10)) -> Record:
    """A 双公示 administrative penalty on an organisation (published in the clear; by
    default decided on 2025-01-10: past its minimum publication period at T0, so it may
    be repaired, and within its maximum)."""
    return Record(
        kind="penalty.admin",
        region=REGION,
        subject=Subject("org", uscc),
        body={
            "decision_no": f"甬市监罚〔2026〕{n}号",
            "decision_date": decided.isoformat(),
            "penalty_types": ["罚款"],
            "content": "未按规定公示年度报告",
            "authority": "宁波市市场监督管理局",
            "authority_uscc": "11330200002950433L",
            "fine_wan": "0.5",
        },
        valid_from=calendar.timegm(decided.timetuple()),
    )


def issue_penalties(node: LocalNode, n: int, seed: int = 0) -> list[IssueResult]:
    usccs = sample_usccs(REGION, max(n, 1), seed)
    records = [penalty(usccs[i % len(usccs)], seed * 100_000 + i + 1) for i in range(n)]
    return node.issue(records, iat=T0)


def issue_scores(node: LocalNode, n: int, seed: int = 0) -> list[IssueResult]:
    records = score_records(REGION, node.home.subject_key(), n, seed=seed, as_of=AS_OF)
    return node.issue(records, iat=T0)


@contextmanager
def json_logs(stream: TextIO) -> Iterator[None]:
    """``credex serve``'s JSON log lines into ``stream`` for a while (then as before)."""
    names = ("credex", "uvicorn.error", "uvicorn.access")
    saved = [
        (lg, lg.handlers[:], lg.propagate, lg.level, lg.disabled)
        for lg in map(logging.getLogger, names)
    ]
    configure(json_lines=True, stream=stream)
    try:
        yield
    finally:
        for lg, handlers, propagate, level, disabled in saved:
            lg.handlers[:] = handlers
            lg.propagate, lg.disabled = propagate, disabled
            lg.setLevel(level)


@contextmanager
def served(node: LocalNode, **kwargs: Any) -> Iterator[HttpServer]:
    """The node's public app on a real server (127.0.0.1, a free port), clock ``NOW``."""
    kwargs.setdefault("clock", lambda: NOW)
    with HttpServer(create_app(node, **kwargs), "127.0.0.1:0") as server:
        yield server
