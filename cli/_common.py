"""Shared CLI plumbing: consoles, the --home option, JSON output, the clock."""

import json
import os
import re
import time
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.console import Console

from credex.ledger.errors import ConfigError

if TYPE_CHECKING:
    from credex.ledger.bundle import Bundle
    from credex.ledger.trust import TrustPolicy
    from credex.node.federation.holdings import Handout

__all__ = [
    "AsciiFloat",
    "AsciiInt",
    "AsciiPositiveInt",
    "HomeOpt",
    "JsonOpt",
    "PinOpt",
    "WaitOpt",
    "console",
    "day",
    "day_opt",
    "err_console",
    "group",
    "leaf_arg",
    "manifest_root",
    "now",
    "print_json",
    "read_input",
    "resolve_home",
    "today",
    "trust_from",
    "write_bundle",
]


_INT_RE = re.compile(r"-?[0-9]{1,19}", re.ASCII)
_FLOAT_RE = re.compile(r"[0-9]{1,9}(?:\.[0-9]{1,9})?", re.ASCII)


def _ascii_int(value: str | int) -> int:
    """An integer as ASCII digits (click's own int() takes "١٢", "1_0" and " 12 ")."""
    if not isinstance(value, str):  # a default, already a number
        return int(value)
    if not _INT_RE.fullmatch(value):
        raise typer.BadParameter(f"expected an integer in ASCII digits, got {value[:24]!r}")
    return int(value)


def _ascii_positive_int(value: str | int) -> int:
    """``_ascii_int``, at least 1."""
    n = _ascii_int(value)
    if n < 1:
        raise typer.BadParameter(f"expected an integer >= 1, got {n}")
    return n


def _ascii_float(value: str | float) -> float:
    """A non-negative decimal as ASCII digits (no exponent, no inf or nan)."""
    if not isinstance(value, str):  # a default, already a number
        return float(value)
    if not _FLOAT_RE.fullmatch(value):
        raise typer.BadParameter(f"expected a decimal number in ASCII digits, got {value[:24]!r}")
    return float(value)


#: every numeric option and argument parses with these (``parser=AsciiInt``): a test
#: walks the commands and fails on any click INT / FLOAT left
AsciiInt = _ascii_int
AsciiPositiveInt = _ascii_positive_int
AsciiFloat = _ascii_float
# the names help shows as metavars, as for click's own types
_ascii_int.__name__ = _ascii_positive_int.__name__ = "int"
_ascii_float.__name__ = "float"


def group(help: str) -> typer.Typer:
    """A command group: plain help text (no rich markup: fast, and the same on a
    terminal and in a pipe), and its own help when called without a command."""
    return typer.Typer(help=help, no_args_is_help=True, rich_markup_mode=None)


console = Console(highlight=False, soft_wrap=True)
err_console = Console(stderr=True, highlight=False, soft_wrap=True)

HomeOpt = Annotated[
    Path | None,
    typer.Option("--home", help="Node home directory (default: $CREDEX_HOME).", show_default=False),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="Print machine-readable JSON.")]
PinOpt = Annotated[
    str | None,
    typer.Option(
        help="With a manifest: the SHA-256 of its version 1 (64 hex), as the federation "
        "publishes it; the manifest is refused unless its version 1 is that one."
    ),
]

WaitOpt = Annotated[
    float,
    typer.Option(
        "--wait",
        help="With a federation manifest: wait up to SECONDS for a checkpoint carrying the "
        "witness quorum (credex serve --follow collects cosignatures each round).",
        parser=AsciiFloat,
    ),
]


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


def today(t: int) -> int:
    """Midnight (China Standard Time) of the day containing ``t``."""
    from credex.ledger.dates import day_start

    return day_start(t)


def day(text: str) -> int:
    """A day as people write it (``2026-11-01``, ``20261101``, ``2026年11月1日``, ...): its
    midnight in China Standard Time."""
    from credex.ledger.dates import date_to_unix, parse_date

    return date_to_unix(parse_date(text))


def day_opt(text: str | None, default: int | None) -> int | None:
    """``day(text)``, or ``default`` when the option was not given."""
    return default if text is None else day(text)


def leaf_arg(text: str, what: str = "leaf hash") -> bytes:
    """A leaf hash (or key) given as 64 hex characters."""
    from credex.ledger.encoding import hex32

    return hex32(text, what, "cli")


def read_input(path: Path, what: str, component: str) -> bytes:
    """The bytes of a file the user named, or a one-line ``ConfigError`` naming it."""
    try:
        return path.read_bytes()
    except FileNotFoundError as e:
        raise ConfigError(f"{component}: {what} not found: {path}") from e
    except IsADirectoryError as e:
        raise ConfigError(f"{component}: not a file: {path}") from e


def trust_from(
    path: Path, pin: str | None = None, component: str = "verify", *, warn: bool = False
) -> "TrustPolicy":
    """The trust in the file the user named: a ``credex-trust/1`` file or a federation
    manifest chain (``pin``: the hash of its version 1, 64 hex characters, enforced).

    A manifest chain used without ``pin`` is taken on trust from its version 1, as it was
    handed over; with ``warn`` a one-line warning on stderr says so and names that
    version's hash (``credex verify``: what a bank runs on files it is handed).
    """
    from credex.ledger.trust_material import load_trust

    pinned = None if pin is None else leaf_arg(pin, "--pin")
    policy = load_trust(read_input(path, "trust file", component), pin=pinned)
    root = manifest_root(policy)
    if warn and root is not None and pinned is None:
        err_console.print(
            f"{component}: warning: the manifest's version 1 (sha256 {root.hex()}) is taken "
            "on trust: pass --pin with the hash the federation publishes to check it",
            markup=False,
        )
    return policy


def manifest_root(policy: "TrustPolicy") -> bytes | None:
    """The hash of version 1 when ``policy`` is a federation manifest, else None."""
    versions = getattr(policy, "versions", None)
    if not versions:
        return None
    root: bytes = versions[0].hash
    return root


def write_bundle(
    output: Path, bundle: "Bundle", index: int, json_out: bool, handout: "Handout | None" = None
) -> None:
    """Write ``bundle`` (of entry ``index``) to ``output`` and say so; with ``handout``,
    also whether its checkpoint carries the manifest's witness quorum (a warning on
    stderr when not: a bank's step 6 would fail)."""
    data = bundle.to_bytes()
    output.write_bytes(data)
    status, sources = len(bundle.status), len(bundle.sources)
    quorum = None
    if handout is not None and handout.quorum is not None:
        quorum = {
            "k": handout.quorum,
            "cosigners": handout.cosigners,
            "met": handout.quorum_met,
            "waited_s": round(handout.waited, 1),
        }
    if json_out:
        out: dict[str, Any] = {"file": str(output), "bytes": len(data), "leaf_index": index}
        out |= {"status": status} if status else {}
        out |= {"sources": sources, "policy": bundle.policy is not None} if sources else {}
        print_json(out | ({"quorum": quorum} if quorum is not None else {}))
        return
    carried = f" with {status} lifecycle statements" if status else ""
    if sources:
        carried += f" with its {sources} source(s) and policy"
    console.print(f"wrote {output} ({len(data)} bytes) for entry {index}{carried}")
    if quorum is None:
        return
    if quorum["met"]:
        waited = f" after {quorum['waited_s']} s" if quorum["waited_s"] else ""
        console.print(f"  witness quorum met: {quorum['cosigners']} of {quorum['k']}{waited}")
    else:
        err_console.print(
            f"warning: its checkpoint carries {quorum['cosigners']} of the {quorum['k']} "
            "witness cosignatures the manifest requires, so a bank's step 6 fails until "
            "credex serve --follow collects them: write it again with --wait SECONDS",
            markup=False,
        )
