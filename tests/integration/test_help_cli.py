"""Help a newcomer can use without reading the code (issue #14 point 5).

Every command's ``--help`` ends with exactly one example of itself; ``credex`` with no
arguments names the five commands to start with; shell completion is installed by
``credex --install-completion`` (typer's), shown by ``--show-completion``, and answers
the shell's questions with every command. ``credex --help`` still loads neither the
database nor gRPC layers.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

from credex.cli.main import COMMANDS, START, build_app

from .clirunner import Cli, make_cli


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    return make_cli(capsys, monkeypatch)


def _leaves(cmd: Any, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    sub = getattr(cmd, "commands", None)
    if not sub:
        yield path
        return
    for name, c in sub.items():
        yield from _leaves(c, (*path, name))


ALL = sorted(_leaves(typer.main.get_command(build_app())))


def test_every_top_level_command_is_walked() -> None:
    assert {p[0] for p in ALL} == set(COMMANDS)
    assert ("records",) in ALL and ("show",) in ALL
    assert ("trust", "merge") in ALL and ("trust", "show") in ALL


@pytest.mark.parametrize("path", ALL, ids=" ".join)
def test_every_command_help_has_one_example(cli: Cli, path: tuple[str, ...]) -> None:
    r = cli(*path, "--help")
    assert r.code == 0, r.err
    lines = r.out.splitlines()
    marks = [i for i, line in enumerate(lines) if line.strip() == "Example:"]
    assert len(marks) == 1, f"credex {' '.join(path)} --help: {len(marks)} Example: lines"
    example = lines[marks[0] + 1].strip()
    assert example.startswith(f"credex {' '.join(path)}"), example


def test_no_arguments_names_the_five_first_commands(cli: Cli) -> None:
    r = cli()
    assert r.code == 0 and r.out.strip() == START.strip()
    block = START.split("Start here:\n", 1)[1].split("\n\n", 1)[0]
    firsts = [line.split()[1] for line in block.splitlines()]
    assert firsts == ["demo", "init", "import", "records", "bundle"]
    assert "credex verify record.credex --trust" in START  # and what a bank runs


def test_help_offers_shell_completion(cli: Cli, monkeypatch: pytest.MonkeyPatch) -> None:
    out = cli("--help").out
    assert "--install-completion" in out and "--show-completion" in out
    # the shell named, not detected from the parent processes (CI has no shell above it)
    monkeypatch.setenv("_TYPER_COMPLETE_TEST_DISABLE_SHELL_DETECTION", "1")
    r = cli("--show-completion", "bash")
    assert r.code == 0 and "_CREDEX_COMPLETE=complete_bash" in r.out


@pytest.mark.parametrize(
    ("words", "cword", "expected"),
    [
        ("credex rec", "1", {"records", "recognize"}),
        ("credex trust ", "2", {"export", "merge", "show"}),
    ],
)
def test_completion_answers_the_shell(
    cli: Cli, monkeypatch: pytest.MonkeyPatch, words: str, cword: str, expected: set[str]
) -> None:
    monkeypatch.setenv("_CREDEX_COMPLETE", "complete_bash")
    monkeypatch.setenv("COMP_WORDS", words)
    monkeypatch.setenv("COMP_CWORD", cword)
    r = cli()
    assert r.code == 0 and set(r.out.split()) == expected


def test_help_loads_no_database_or_grpc() -> None:
    code = (
        "import sys\n"
        "from credex.cli.main import main\n"
        "try:\n    main(['--help'])\nexcept SystemExit:\n    pass\n"
        "heavy = {'sqlalchemy', 'sqlmodel', 'psycopg', 'grpc', 'cbor2', 'nacl'}\n"
        "print(sorted(heavy & {m.split('.')[0] for m in sys.modules}), file=sys.stderr)\n"
    )
    env = {k: v for k, v in os.environ.items() if k != "_CREDEX_COMPLETE"}
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env)
    assert done.returncode == 0, done.stderr
    assert re.search(r"^\[\]$", done.stderr, re.M), done.stderr


def test_the_readme_cli_table_names_every_command() -> None:
    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text(encoding="utf-8")
    table = readme.split("\n## CLI\n", 1)[1].split("\n## ", 1)[0]
    named: set[tuple[str, ...]] = set()
    for m in re.finditer(r"credex ([\w-]+)(?: ((?:[\w-]+\\\|)*[\w-]+))?", table):
        named.add((m[1],))
        for sub in (m[2] or "").split("\\|"):
            named.add((m[1], sub))
    missing = [" ".join(p) for p in ALL if p not in named]
    assert missing == []
