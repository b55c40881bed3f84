"""The ``credex`` command: typer + rich. The only place that prints or sets exit codes.

Every ``CredexError`` is turned into one line on stderr (``credex: error: ...``) and a
non-zero exit code here, once; no traceback is ever shown for an expected failure.
Exit codes: 0 success, 1 a check or operation failed, 2 usage or configuration error.
"""

from __future__ import annotations

import sys

import typer

from credex.cli import (
    bench_cmd,
    body_cmds,
    conflicts_cmd,
    demo_cmd,
    evidence_cmds,
    federation_cmds,
    lifecycle_cmds,
    lookup_cmds,
    node_cmds,
    peers_cmds,
    proof_cmds,
    serve_cmds,
)
from credex.cli._common import err_console
from credex.ledger.errors import ConfigError, CredexError

__all__ = ["app", "main"]

app = typer.Typer(
    name="credex",
    help="credex: federated cross-region credit exchange with verifiable records.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)
node_cmds.register(app)
proof_cmds.register(app)
app.command("bench")(bench_cmd.bench)
app.command("demo")(demo_cmd.demo)
serve_cmds.register(app)
app.add_typer(federation_cmds.federation_app, name="federation")
evidence_cmds.register(app)
peers_cmds.register(app)
lifecycle_cmds.register(app)
lookup_cmds.register(app)
app.command("conflicts")(conflicts_cmd.conflicts)
body_cmds.register(app)


def exit_code_for(err: CredexError) -> int:
    return 2 if isinstance(err, ConfigError) else 1


def main(argv: list[str] | None = None) -> None:
    """Entry point: usage errors are typer's (exit 2); every CredexError is one line."""
    try:
        app(args=argv, prog_name="credex")
    except CredexError as e:
        err_console.print(f"credex: error: {e.diagnostics()}", markup=False)
        sys.exit(exit_code_for(e))
    except OSError as e:  # a path the user gave: missing, a directory, not writable
        where = f": {e.filename}" if e.filename else ""
        err_console.print(f"credex: error: {e.strerror or type(e).__name__}{where}", markup=False)
        sys.exit(2)
