"""``credex bench``: ratios to raw figures measured in the same run."""

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from credex.cli._common import JsonOpt, console, err_console, print_json

__all__ = ["bench", "register"]


def _fmt(v: Any) -> str:
    return "n/a" if v is None else f"{v:.2f}"


def bench(
    postgres: Annotated[
        str | None,
        typer.Option(help="PostgreSQL URL for P1_postgres (default $CREDEX_TEST_POSTGRES_URL)."),
    ] = None,
    quick: Annotated[bool, typer.Option(help="Smaller workloads (P6 at 10^5 not 10^6).")] = False,
    home: Annotated[
        Path | None,
        typer.Option("--home", help="Directory for scratch databases (default: temporary)."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Measure P1, P1_postgres, P2-P7, P10, P11 against figures from the same run.

    \b
    Example:
      credex bench --quick --json
    """
    from credex.node.bench.runner import run_bench

    url = postgres or os.environ.get("CREDEX_TEST_POSTGRES_URL")
    report = run_bench(
        quick=quick,
        postgres_url=url,
        progress=lambda m: None if json_out else err_console.print(f"… {m}"),
    )
    if json_out:
        print_json(report)
        return
    raw = report["raw"]
    console.print(
        f"raw Ed25519 sign {raw['ed25519_sign_per_s']['median']:.0f}/s, "
        f"verify {raw['ed25519_verify_per_s']['median']:.0f}/s"
    )
    rows = [
        ("P1", "issue rate / raw sign", f"{report['P1']['issue_per_s']['median']:.0f}/s"),
        (
            "P1_postgres",
            "PG issue / SQLite issue",
            ""
            if report["P1_postgres"]["ratio"] is None
            else f"{report['P1_postgres']['issue_per_s']['median']:.0f}/s",
        ),
        (
            "P4",
            "bundle verify / raw verify",
            f"{report['P4']['verify_per_s']['median']:.0f}/s "
            f"(cold {report['P4']['cold_verify_per_s']['median']:.0f}/s)",
        ),
        ("P6", "proof time 10^6 / 10^4", ""),
        (
            "P10",
            "issue with index / without",
            f"{report['P10']['one_subject']['with_index_per_s']:.0f}/s vs "
            f"{report['P10']['one_subject']['without_index_per_s']:.0f}/s "
            f"(distinct subjects {_fmt(report['P10']['distinct_subjects']['ratio'])})",
        ),
        (
            "P11",
            "status proof 10^6 / 10^4",
            ", ".join(f"{v:.0f} B at {k}" for k, v in report["P11"]["proof_bytes"].items()),
        ),
        ("P7", "merkle append / pymerkle", ""),
        (
            "P2",
            "gRPC submit / raw sign",
            f"{report['P2']['submit_per_s']['median']:.0f}/s "
            f"({report['P2']['clients']} mTLS clients, durable acks)",
        ),
        (
            "P3",
            "proof RPC / echo RPC",
            f"{report['P3']['single']['proof_rpc_per_s']['median']:.0f}/s vs "
            f"{report['P3']['single']['echo_rpc_per_s']['median']:.0f}/s",
        ),
        (
            "P3_batched",
            "proofs in flight / in-process",
            f"{report['P3']['batched']['proof_rpc_per_s']['median']:.0f}/s vs "
            f"{report['P3']['batched']['in_process_proof_per_s']['median']:.0f}/s",
        ),
        (
            "P5",
            "verified sync / raw verify",
            f"{report['P5']['sync_per_s']['median']:.0f}/s "
            f"(in-process {report['P5']['in_process_sync_per_s']['median']:.0f}/s)",
        ),
    ]
    for key, what, figure in rows:
        r = (
            report[key]
            if key != "P3_batched"
            else {
                "ratio": report["P3"]["batched_ratio"],
                "goal": report["P3"]["batched_goal"],
            }
        )
        ok = r["ratio"] is not None and (
            r["ratio"] <= r["goal"] if key in ("P6", "P11") else r["ratio"] >= r["goal"]
        )
        mark = "[green]meets[/]" if ok else "[red]misses[/]"
        console.print(
            f"{key:12} {what:28} ratio {_fmt(r['ratio']):>7}  goal "
            f"{'<=' if key in ('P6', 'P11') else '>='} {r['goal']:<5} {mark}  {figure}"
        )


def register(app: typer.Typer) -> None:
    app.command("bench")(bench)
