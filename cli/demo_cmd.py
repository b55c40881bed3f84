"""``credex demo``: the whole local story in a temporary home."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Any

import typer

from credex.cli._common import JsonOpt, console, err_console, print_json
from credex.node.demo import run_demo

__all__ = ["demo"]


def demo(
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            help="Keep the demo's files in this new directory "
            "(default: a temporary one, removed afterwards).",
        ),
    ] = None,
    local: Annotated[
        bool, typer.Option("--local", help="Only part 1, the single-node story.")
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Part 1: one node (init, import, issue, checkpoint, bundle, verify, tamper).
    Part 2: five nodes over TLS that witness and mirror each other, a bank verifying a
    Ningbo record fetched from Hangzhou, and an equivocating node being caught."""
    t0 = time.perf_counter()

    def progress(msg: str) -> None:
        if not json_out:
            err_console.print(f"[dim]… {msg}[/]")

    out = run_demo(progress, keep=home, federation=not local)
    out["seconds"] = round(time.perf_counter() - t0, 2)
    if json_out:
        print_json(out)
    else:
        steps = {s["step"]: s for s in out["steps"]}
        imp, re_imp = steps["import"], steps["re-import"]
        console.print(
            f"[bold]1. node[/] {steps['init']['region']} origin {steps['init']['origin']}"
        )
        console.print(
            f"[bold]2. import[/] penalties: {imp['imported']} imported, "
            f"{imp['rejected']} rejected; re-import adds {re_imp['imported']}"
        )
        for e in imp["errors"]:
            console.print(f"     line {e['line']}: {e['reason']}", markup=False)
        console.print(f"[bold]3. scores[/] {steps['issue-scores']['issued']} 天一分 records issued")
        console.print("[bold]4. checkpoint[/]")
        print(steps["checkpoint"]["note"], end="")
        console.print(
            f"[bold]5. bundle[/] entry {out['bundle']['index']} "
            f"({out['bundle']['bytes']} bytes), verified offline:"
        )
        for s in out["verify"]["steps"]:
            mark = "[green]✓[/]" if s["ok"] else "[red]✗[/]"
            console.print(f"   {mark} step {s['step']} {s['name']}: ", end="")
            console.print(s["detail"], markup=False)
        console.print(f"   verdict: [bold]{out['verify']['verdict'].upper()}[/]")
        console.print("[bold]6. tampered copies[/]")
        for t in out["tampered"]:
            console.print(
                f"   {t['tamper']}: [red]{t['verdict'].upper()}[/] at step "
                f"{t['failed_step']} ({t['step_name']}): ",
                end="",
            )
            console.print(t["error"], markup=False)
        if "federation" in out:
            _print_federation(out["federation"])
        console.print(f"done in {out['seconds']} s")
    if not out["ok"]:
        raise typer.Exit(1)


def _print_federation(f: dict[str, Any]) -> None:
    console.print(
        f"[bold]7. federation[/] {', '.join(f['members'])} on 127.0.0.1 (TLS), "
        f"witness quorum {f['quorum']}"
    )
    r = f["round"]
    console.print(
        f"   cosigned every checkpoint; mirrored {r['mirrored_entries']} entries, each "
        f"verified; errors: {len(r['witness_errors']) + len(r['sync_errors'])}"
    )
    cp = f["ningbo_checkpoint"]
    console.print(
        f"   Ningbo checkpoint size {cp['size']} carries {cp['signatures']} signatures "
        "(log + witnesses)"
    )
    b = f["bank"]
    console.print(
        f"[bold]8. bank[/] fetched {b['record_of']} entry {b['leaf_index']} from "
        f"{b['fetched_from']}; offline verification with the manifest:"
    )
    for s in b["verify"]["steps"]:
        mark = "[green]✓[/]" if s["ok"] else "[red]✗[/]"
        console.print(f"   {mark} step {s['step']} {s['name']}: ", end="")
        console.print(s["detail"], markup=False)
    e = f["equivocation"]
    console.print(
        f"[bold]9. equivocation[/] a twin of Ningbo (same keys) shows another tree of "
        f"size {e['twin_size']}: {len(e['witnesses_refusing'])} witnesses refuse"
    )
    for reason in e["reasons"]:
        console.print(f"   {reason}", markup=False)
    console.print(
        f"   evidence kept at Hangzhou: {e['evidence_at_hangzhou']} "
        f"(verifies alone: {e['evidence_conclusive']}); the twin's bundle is "
        f"{e['twin_bundle_verdict'].upper()} at step {e['twin_bundle_failed_step']}: ",
        end="",
    )
    console.print(e["twin_bundle_error"], markup=False)
    console.print(f"   federation part: {f['seconds']} s, {'OK' if f['ok'] else 'FAILED'}")
