"""``credex bench``: ratios to raw figures measured in the same run."""

import os
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer

from credex.cli._common import AsciiFloat, AsciiInt, JsonOpt, console, err_console, print_json

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
    scale: Annotated[
        int | None,
        typer.Option(
            help="Only P9: build one log of N entries per engine (windows, bytes, proofs, sync).",
            parser=AsciiInt,
        ),
    ] = None,
    scale_budget: Annotated[
        float | None,
        typer.Option(
            help="P9: stop building after this many seconds (at a window's end).",
            parser=AsciiFloat,
        ),
    ] = None,
    scale_engine: Annotated[
        list[str] | None,
        typer.Option(help="P9: engines to build on (sqlite, postgresql; default both)."),
    ] = None,
    scale_sync: Annotated[
        bool, typer.Option(help="P9: also time a verified peer sync of the whole log.")
    ] = True,
    only: Annotated[
        str | None,
        typer.Option(help="Only these keys, comma-separated (e.g. P4,P5); raw figures always."),
    ] = None,
    json_out: JsonOpt = False,
) -> None:
    """Measure P1, P1_postgres, P2-P7, P10, P11 against figures from the same run.

    With --scale N, measure only P9 (issue 13): one log of N entries on SQLite and on
    PostgreSQL, reported under the key P9.

    \b
    Example:
      credex bench --quick --json
      credex bench --only P4,P5
      credex bench --scale 1000000 --json
    """
    from credex.node.bench.runner import run_bench

    url = postgres or os.environ.get("CREDEX_TEST_POSTGRES_URL")
    if scale is not None:
        _scale(scale, url, scale_budget, scale_engine, scale_sync, home, json_out)
        return
    keys = _only(only)
    report = run_bench(
        quick=quick,
        postgres_url=url,
        only=keys,
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
    rows: list[tuple[str, str, Callable[[], str]]] = [
        ("P1", "issue rate / raw sign", lambda: f"{report['P1']['issue_per_s']['median']:.0f}/s"),
        (
            "P1_postgres",
            "PG issue / SQLite issue",
            lambda: (
                ""
                if report["P1_postgres"]["ratio"] is None
                else f"{report['P1_postgres']['issue_per_s']['median']:.0f}/s"
            ),
        ),
        (
            "P4",
            "bundle verify / raw verify",
            lambda: (
                f"{report['P4']['verify_per_s']['median']:.0f}/s "
                f"(cold {report['P4']['cold_verify_per_s']['median']:.0f}/s; batch on 2 "
                f"threads {report['P4']['batch_verify_per_s']['median']:.0f}/s, "
                f"{_fmt(report['P4']['batch_ratio'])})"
            ),
        ),
        ("P6", "proof time 10^6 / 10^4", lambda: ""),
        (
            "P10",
            "issue with index / without",
            lambda: (
                f"{report['P10']['one_subject']['with_index_per_s']:.0f}/s vs "
                f"{report['P10']['one_subject']['without_index_per_s']:.0f}/s "
                f"(distinct subjects {_fmt(report['P10']['distinct_subjects']['ratio'])})"
            ),
        ),
        (
            "P11",
            "status proof 10^6 / 10^4",
            lambda: ", ".join(f"{v:.0f} B at {k}" for k, v in report["P11"]["proof_bytes"].items()),
        ),
        ("P7", "merkle append / pymerkle", lambda: ""),
        (
            "P2",
            "gRPC submit / raw sign",
            lambda: (
                f"{report['P2']['submit_per_s']['median']:.0f}/s "
                f"({report['P2']['clients']} mTLS clients, durable acks; credex serve peak "
                f"RSS {report['P2']['server_memory']['peak_mib']} MiB)"
            ),
        ),
        (
            "P3",
            "proof RPC / echo RPC",
            lambda: (
                f"{report['P3']['single']['proof_rpc_per_s']['median']:.0f}/s vs "
                f"{report['P3']['single']['echo_rpc_per_s']['median']:.0f}/s"
            ),
        ),
        (
            "P3_batched",
            "batch proof RPC / in-process",
            lambda: (
                f"{report['P3']['batched']['proof_rpc_per_s']['median']:.0f}/s vs "
                f"{report['P3']['batched']['in_process_proof_per_s']['median']:.0f}/s"
            ),
        ),
        (
            "P5",
            "verified sync / raw verify",
            lambda: (
                f"{report['P5']['sync_per_s']['median']:.0f}/s "
                f"(in-process {report['P5']['in_process_sync_per_s']['median']:.0f}/s)"
            ),
        ),
    ]
    for key, what, figure in rows:
        if (key if key != "P3_batched" else "P3") not in report:
            continue
        figure_text = figure()
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
            f"{'<=' if key in ('P6', 'P11') else '>='} {r['goal']:<5} {mark}  {figure_text}"
        )


_KEYS = ("P1", "P1_postgres", "P2", "P3", "P4", "P5", "P6", "P7", "P10", "P11")


def _only(only: str | None) -> frozenset[str] | None:
    if only is None:
        return None
    from credex.ledger.errors import ConfigError

    keys = frozenset(k.strip() for k in only.split(",") if k.strip())
    unknown = sorted(keys - set(_KEYS))
    if unknown or not keys:
        raise ConfigError(f"bench: --only takes keys among {', '.join(_KEYS)}, got {only!r}")
    return keys


def _scale(
    n: int,
    url: str | None,
    budget: float | None,
    engines: list[str] | None,
    sync: bool,
    scratch: Path | None,
    json_out: bool,
) -> None:
    import shutil
    import tempfile

    from credex.ledger.errors import ConfigError
    from credex.node.bench.scale import ENGINES, run_scale

    if n < 1:
        raise ConfigError(f"bench: --scale must be at least 1, got {n}")
    chosen = tuple(engines or ENGINES)
    for e in chosen:
        if e not in ENGINES:
            raise ConfigError(f"bench: --scale-engine must be sqlite or postgresql, got {e!r}")
    base = Path(tempfile.mkdtemp(prefix="credex-scale-", dir=scratch))
    try:
        p9 = run_scale(
            n,
            base=base,
            postgres_url=url,
            budget_s=budget,
            sync=sync,
            engines=chosen,
            progress=lambda m: None if json_out else err_console.print(f"… {m}"),
        )
    finally:
        shutil.rmtree(base, ignore_errors=True)
    if json_out:
        print_json({"P9": p9})
        return
    for engine in ENGINES:
        r = p9.get(engine)
        if r is None:
            continue
        if "windows_per_s" not in r:
            console.print(f"P9 {engine:10} {r.get('note', '')}", markup=False)
            continue
        b = r["bytes_per_entry"]
        console.print(
            f"P9 {engine:10} {r['entries']} entries in {r['build_seconds']:.0f} s"
            f"{' (budget spent)' if r['truncated'] else ''}; windows of {r['window']}: "
            + ", ".join(f"{w:.0f}" for w in r["windows_per_s"])
            + f"/s; worst/first {r['worst_window_ratio']:.2f} "
            + ("[red]decays[/]" if r["decay"] else "[green]no decay[/]")
        )
        console.print(
            f"   bytes/entry {b['disk_per_entry']:.0f} on disk vs "
            f"{b['statement_plus_32_per_entry']:.0f} statement+32: ratio {b['ratio']:.2f} "
            f"(goal <= {b['goal']})"
        )
        for size, p in r["proofs"].items():
            console.print(
                f"   at {size}: inclusion {p['inclusion_s'] * 1e6:.0f} us, "
                f"consistency {p['consistency_s'] * 1e6:.0f} us"
            )
        if "sync" in r:
            console.print(f"   peer sync into an empty mirror {r['sync']['sync_per_s']:.0f}/s")


def register(app: typer.Typer) -> None:
    app.command("bench")(bench)
