"""The ``credex`` command: typer + rich. The only place that prints errors or sets exit codes.

Every ``CredexError`` and every usage error is turned into one line on stderr
(``credex: error: ...``) and an exit code here, once; no traceback is ever shown for an
expected failure. Exit codes: 0 success, 1 a check or operation failed, 2 usage or
configuration error.

Only the command group that is run is imported and built (``COMMANDS``), so a command
does not pay for the others; ``credex --help`` builds them all.
"""

import importlib
import os
import sys
from collections.abc import Sequence
from typing import Final

import typer
from typer._click import exceptions as click_exceptions

from credex import __version__
from credex.cli._common import err_console
from credex.ledger.errors import ConfigError, CredexError
from credex.node import gcpolicy

__all__ = ["COMMANDS", "build_app", "main"]

#: top-level command -> the module of ``credex.cli`` that registers it, in help order
COMMANDS: Final[dict[str, str]] = {
    "init": "node_cmds",
    "issuer": "node_cmds",
    "issue": "node_cmds",
    "import": "node_cmds",
    "checkpoint": "node_cmds",
    "info": "node_cmds",
    "records": "find_cmds",
    "show": "find_cmds",
    "prove": "proof_cmds",
    "bundle": "proof_cmds",
    "verify": "proof_cmds",
    "trust": "proof_cmds",
    "bench": "bench_cmd",
    "demo": "demo_cmd",
    "serve": "serve_cmds",
    "node": "serve_cmds",
    "client": "serve_cmds",
    "federation": "federation_cmds",
    "evidence": "evidence_cmds",
    "audit": "audit_cmd",
    "peers": "peers_cmds",
    "policy": "lifecycle_cmds",
    "recognize": "lifecycle_cmds",
    "lifecycle": "lifecycle_cmds",
    "status": "lifecycle_cmds",
    "rule": "rules_cmds",
    "evaluate": "rules_cmds",
    "check": "rules_cmds",
    "commitments": "commitment_cmds",
    "report": "report_cmds",
    "lookup": "lookup_cmds",
    "lookups": "lookup_cmds",
    "conflicts": "conflicts_cmd",
    "body": "body_cmds",
    "qr": "ops_cmds",
    "backup": "ops_cmds",
    "restore": "ops_cmds",
}


#: what a newcomer runs first (``credex`` with no arguments)
START: Final = """Usage: credex COMMAND [ARGS]...

credex: federated cross-region credit exchange with verifiable records.

Start here:
  credex demo                                   see the whole story on five nodes (a minute)
  credex init HOME --region ID --origin ORIGIN  create your region's node
  credex import --adapter penalty-csv FILE      sign and log a 双公示 file
  credex records --subject USCC                 find what was logged: index, leaf hash, status
  credex bundle INDEX -o record.credex          hand one record to a bank

A bank checks it offline: credex verify record.credex --trust T.json

Every command: credex --help; one command: credex COMMAND --help."""


def _version(value: bool) -> None:
    if value:
        print(f"credex {__version__}")
        raise typer.Exit()


def build_app(modules: Sequence[str] | None = None) -> typer.Typer:
    """The ``credex`` app with the commands of ``modules`` (default: every command)."""
    app = typer.Typer(
        name="credex",
        help="credex: federated cross-region credit exchange with verifiable records.",
        no_args_is_help=True,
        pretty_exceptions_enable=False,
        rich_markup_mode=None,
        add_completion=True,
    )

    @app.callback()
    def root(
        version: bool = typer.Option(
            False, "--version", help="Print the version and exit.", callback=_version
        ),
    ) -> None:
        """credex: federated cross-region credit exchange with verifiable records."""

    for name in dict.fromkeys(COMMANDS.values() if modules is None else modules):
        importlib.import_module(f"credex.cli.{name}").register(app)
    return app


def _modules_for(argv: Sequence[str]) -> list[str] | None:
    """The one module that registers the command in ``argv``, or None (all of them)."""
    first = next((a for a in argv if not a.startswith("-")), None)
    module = COMMANDS.get(first) if first is not None else None
    return None if module is None else [module]


def exit_code_for(err: CredexError) -> int:
    return 2 if isinstance(err, ConfigError) else 1


def _fail(message: str, code: int) -> None:
    err_console.print(f"credex: error: {message}", markup=False)
    sys.exit(code)


#: set by the shell when it asks for completions (``credex --install-completion``)
COMPLETE_VAR: Final = "_CREDEX_COMPLETE"


def main(argv: list[str] | None = None) -> None:
    """Entry point: every CredexError and usage error is one line on stderr."""
    args = list(sys.argv[1:] if argv is None else argv)
    if os.environ.get(COMPLETE_VAR):  # the shell completing a word: every command, typer's way
        build_app()(prog_name="credex")
        return
    app = build_app(_modules_for(args))
    if argv is None:  # this process is the command: its collector schedule, after the
        gcpolicy.tune()  # imports (credex.node.gcpolicy); not when called in-process
    if not args:
        print(START)
        sys.exit(0)
    try:
        code = app(args=args, prog_name="credex", standalone_mode=False)
    except click_exceptions.NoArgsIsHelpError as e:  # a group without its command
        print(e.ctx.get_help() if e.ctx else START)
        sys.exit(0)
    except click_exceptions.UsageError as e:
        hint = f" (see credex {e.ctx.command_path.partition(' ')[2]} --help)" if e.ctx else ""
        _fail(f"{e.format_message()}{hint}".replace("credex  --help", "credex --help"), 2)
    except CredexError as e:
        _fail(e.diagnostics(), exit_code_for(e))
    except OSError as e:  # a path the user gave: missing, a directory, not writable
        where = f": {e.filename}" if e.filename else ""
        _fail(f"{e.strerror or type(e).__name__}{where}", 2)
    else:
        sys.exit(code if isinstance(code, int) else 0)
