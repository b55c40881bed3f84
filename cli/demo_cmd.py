"""``credex demo``: the whole local story in a temporary home."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

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
    json_out: JsonOpt = False,
) -> None:
    """Run the local story: init, import, issue, checkpoint, bundle, verify, tamper."""
    t0 = time.perf_counter()

    def progress(msg: str) -> None:
        if not json_out:
            err_console.print(f"[dim]… {msg}[/]")

    out = run_demo(progress, keep=home)
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
        console.print(f"done in {out['seconds']} s")
    if not out["ok"]:
        raise typer.Exit(1)
