"""The in-process ``credex`` runner the CLI integration tests share.

``make_cli`` returns a function that runs ``credex ARGS...`` through ``credex.cli.main``
(the same entry point as the console script), with the exit code and captured output;
it asserts that no traceback is ever printed and, unless told otherwise, that an error
is one line. Each test module pins its own clock. Helpers for the steps many tests
repeat (init a home, the log size, one merged trust file) live here too.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from credex.cli.main import main

__all__ = ["Cli", "Result", "fold_json_lines", "init_home", "log_size", "make_cli", "merged_trust"]


@dataclass(frozen=True)
class Result:
    code: int
    out: str
    err: str

    @property
    def json(self) -> Any:
        """The JSON output; the JSON lines of ``import`` and ``issue --records``
        (``fold_json_lines``) as one object."""
        try:
            return json.loads(self.out)
        except json.JSONDecodeError:
            return fold_json_lines(self.out)

    @property
    def json_lines(self) -> list[Any]:
        return [json.loads(line) for line in self.out.splitlines() if line.strip()]

    @property
    def text(self) -> str:
        return self.out + self.err


Cli = Callable[..., Result]


def fold_json_lines(out: str) -> dict[str, Any]:
    """The JSON lines of ``credex import --json`` / ``issue --records --json`` as one
    object: the summary's fields, with ``records``, ``errors`` (line, reason),
    ``duplicates`` (line, first) and ``warnings`` lists in file order."""
    lines = [json.loads(line) for line in out.splitlines() if line.strip()]
    assert lines and "summary" in lines[-1], f"not JSON lines with a summary: {out[:200]!r}"
    folded: dict[str, Any] = {**lines[-1]["summary"]}
    folded.update(records=[], errors=[], warnings=[])
    folded["duplicates"] = []
    for obj in lines[:-1]:
        if "rejected" in obj:
            folded["errors"].append({"line": obj["line"], "reason": obj["rejected"]})
        elif "duplicate_of" in obj:
            folded["duplicates"].append({"line": obj["line"], "first": obj["duplicate_of"]})
        elif "warning" in obj:
            folded["warnings"].append(obj["warning"])
        else:
            folded["records"].append(obj)
    return folded


def make_cli(
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    *,
    one_line_errors: bool = True,
) -> Cli:
    monkeypatch.delenv("CREDEX_HOME", raising=False)

    def run(*args: object) -> Result:
        capsys.readouterr()
        code = 0
        try:
            main([str(a) for a in args])
        except SystemExit as e:
            code = e.code if isinstance(e.code, int) else (0 if e.code is None else 1)
        out, err = capsys.readouterr()
        assert "Traceback" not in out + err, (out + err)[-3000:]
        if one_line_errors and code == 1 and err.startswith("credex: error:"):
            assert err.count("\n") == 1, f"error is not one line: {err!r}"
        return Result(code, out, err)

    return run


def init_home(cli: Cli, path: Path, region: str, origin: str, db: str | None = None) -> Path:
    """``credex init``; ``db`` is used unless it is a SQLite URL (the home's own file)."""
    args: list[object] = ["init", path, "--region", region, "--origin", origin]
    if db is not None and not db.startswith("sqlite"):
        args += ["--db", db]
    r = cli(*args)
    assert r.code == 0, r.err
    return path


def log_size(cli: Cli, home: Path) -> int:
    r = cli("info", "--home", home, "--json")
    assert r.code == 0, r.err
    return int(r.json["tree_size"])


def merged_trust(cli: Cli, target: Path, *homes: Path) -> Path:
    """One ``credex-trust/1`` file at ``target`` listing every home's log and issuers."""
    merged: dict[str, Any] = {"format": "credex-trust/1", "logs": [], "issuers": []}
    for h in homes:
        r = cli("trust", "export", "--home", h, "--json")
        assert r.code == 0, r.err
        merged["logs"] += r.json["logs"]
        merged["issuers"] += r.json["issuers"]
    target.write_text(json.dumps(merged), encoding="utf-8")
    return target
