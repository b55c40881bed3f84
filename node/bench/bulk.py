"""Big input files for the bulk-import measurements and tests (issue #16): generated
line by line, never held in memory.

``score_lines(n)`` writes ``n`` JSON-lines ``score.city`` records (about 220 bytes a
line, a ~380-byte statement each, distinct records over 700 organisations) with every
``bad_every``-th line broken; ``penalty_rows`` does the same for the 双公示 penalty CSV.
Nothing here measures or asserts.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from credex.adapters.sample import REGIONS, make_uscc

__all__ = ["score_lines", "write_scores"]

_BASE = 1_790_000_000


def _orgs(region: str, n: int = 700) -> list[str]:
    admin = REGIONS[region].admin_code
    return [make_uscc("91", admin, s) for s in range(100, 100 + n)]


def score_lines(n: int, *, region: str = "cn-zj-hangzhou", bad_every: int = 0) -> Iterator[str]:
    """``n`` lines of score records (a line whose number is a multiple of ``bad_every``
    names an invalid organisation code instead: refused by ``credex issue``)."""
    orgs = _orgs(region)
    for i in range(1, n + 1):
        org = orgs[i % len(orgs)]
        if bad_every and i % bad_every == 0:
            org = org[:-1] + ("0" if org[-1] != "0" else "1")  # check character broken
        value = {
            "kind": "score.city",
            "subject": {"type": "org", "id": org},
            "body": {
                "scheme": "HANGZHOU_QIANJIANG",
                "score": 500 + i % 400,
                "band": "良好",
                "as_of": "2026-11-01",
                "level": "L3",
            },
            "valid_from": _BASE + i,
        }
        yield json.dumps(value, ensure_ascii=False, separators=(",", ":")) + "\n"


def write_scores(path: Path, n: int, **kw: object) -> int:
    """Write ``score_lines(n, **kw)`` to ``path``; returns its size in bytes."""
    with path.open("w", encoding="utf-8") as f:
        _write(f, score_lines(n, **kw))  # type: ignore[arg-type]
    return path.stat().st_size


def _write(f: IO[str], lines: Iterator[str]) -> None:
    buf: list[str] = []
    for line in lines:
        buf.append(line)
        if len(buf) >= 4096:
            f.write("".join(buf))
            buf.clear()
    f.write("".join(buf))
