"""Shared CLI plumbing: consoles, the --home option, JSON output, the clock."""

from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from credex.ledger.errors import ConfigError

__all__ = [
    "HomeOpt",
    "JsonOpt",
    "console",
    "err_console",
    "now",
    "print_json",
    "resolve_home",
]

console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", help="Node home directory (default: $CREDEX_HOME).", show_default=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]


def resolve_home(home: Path | None) -> Path:
    if home is not None:
        return home
    env = os.environ.get("CREDEX_HOME")
    if not env:
        raise ConfigError("cli: no node home: pass --home HOME or set CREDEX_HOME")
    return Path(env)


def print_json(value: Any) -> None:
    print(json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True))


def now() -> int:
    return int(time.time())
