"""``credex demo``: the whole local story in a temporary home."""

import atexit
import shutil
import signal
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Annotated, Any

import typer

from credex.cli._common import JsonOpt, console, err_console, print_json

__all__ = ["demo", "register"]


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
    web: Annotated[
        bool,
        typer.Option(
            "--web",
            help="Afterwards keep the five member nodes open with their explorers on "
            "127.0.0.1, print their URLs and a QR code, and serve until Ctrl-C.",
        ),
    ] = False,
    json_out: JsonOpt = False,
) -> None:
    """Part 1: one node (init, import, issue, checkpoint, bundle, verify, tamper).
    Part 2: five nodes over TLS that witness and mirror each other, a bank verifying a
    Ningbo record fetched from Hangzhou, and an equivocating node being caught.
    Part 3, on the same nodes: recognition agreements, a Ningbo score recognised in
    Hangzhou, an HK report converted at Qianhai, tampered derived values caught, and a
    repaired Ningbo penalty refused for punitive use.
    Part 4 (also with --local): 惠信码 computed in Huizhou, a 九鼎分 downgrade in Baoji,
    容缺受理 for a B-class shipping company and a 失信被执行人 intercepted in Ningbo, each
    verified by a bank offline.

    With --web the five member nodes stay open afterwards, each with its explorer
    (record pages verify in the browser), until Ctrl-C.

    \b
    Example:
      credex demo --local
    """
    from credex.node.demo.runner import run_demo

    if web and local:
        raise typer.BadParameter("--web needs the five nodes: leave out --local")
    t0 = time.perf_counter()

    def progress(msg: str) -> None:
        if not json_out:
            err_console.print(f"[dim]… {msg}[/]")

    base = home
    if web and base is None:
        base = Path(tempfile.mkdtemp(prefix="credex-demo-web-"))
        atexit.register(shutil.rmtree, base, ignore_errors=True)
    out = run_demo(progress, keep=base, federation=not local)
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
        if "regional" in out:
            from credex.cli.demo_regional import print_regional

            print_regional(out["regional"])
        console.print(f"done in {out['seconds']} s")
    if not out["ok"]:
        raise typer.Exit(1)
    if web and base is not None:
        _serve_explorers(base / "federation", json_out)


def _serve_explorers(federation_dir: Path, json_out: bool) -> None:
    """Open the members' explorers, say where they are, and serve until SIGINT/SIGTERM."""
    import segno

    from credex.node.demo.web import close_explorers, open_explorers, showcase

    stop = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: stop.set())
    explorers = open_explorers(federation_dir)
    try:
        shown = showcase(explorers)
        record = shown.get("record")
        if json_out:
            print_json({"web": shown})
        else:
            console.print("[bold]explorers[/] (Ctrl-C stops them)")
            for e in explorers:
                console.print(f"   {e.region:16} {e.url}/", markup=False)
            if isinstance(record, dict):
                console.print(
                    f"   record page ({record['kind']} entry {record['index']}, "
                    f"verified in the browser): {record['url']}",
                    markup=False,
                )
                segno.make(str(record["url"]), error="m", micro=False).terminal(compact=True)
            subject = shown.get("subject")
            if isinstance(subject, dict):
                console.print(
                    f"   subject page (the company's report, verified in the browser): "
                    f"{subject['url']}",
                    markup=False,
                )
            console.print("explorers ready")
        sys.stdout.flush()
        stop.wait()
    finally:
        close_explorers(explorers)
    if not json_out:
        console.print("explorers stopped")


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
    part3 = " (with part 3)" if "recognition" in f else ""
    console.print(f"   federation part{part3}: {f['seconds']} s, {'OK' if f['ok'] else 'FAILED'}")
    if "recognition" in f:
        _print_recognition(f["recognition"])


def _mark(ok: bool) -> str:
    return "[green]✓[/]" if ok else "[red]✗[/]"


def _line(ok: bool, head: str, text: str) -> None:
    console.print(f"   {_mark(ok)} [bold]{head}[/] ", end="")
    console.print(text, markup=False)


def _grade(grade: Any) -> str:
    """A provenance grade as printed next to a value (``credex.ledger.provenance.label``)."""
    if grade is None:
        return "[provenance unknown]"
    return "[ILLUSTRATIVE]" if grade == "illustrative" else f"[{grade}]"


def _print_recognition(r: dict[str, Any]) -> None:
    console.print("[bold]part 3: recognition and lifecycle[/] (same five nodes)")
    if r.get("error"):
        console.print(f"   {_mark(False)} ", end="")
        console.print(r["error"], markup=False)
    a = r.get("agreements")
    if a is not None:
        _line(
            True,
            "10. agreements",
            f"manifest versions {a['versions'][0]}-{a['versions'][-1]} installed on "
            f"{len(a['installed_on'])} members: "
            + "; ".join(x.split("  [")[0].replace("  ", " ") for x in a["agreements"]),
        )
    x = r.get("refused")
    if x is not None:
        _line(
            x["refused"] and x["log_size_before"] == x["log_size_after"],
            "    outside any agreement",
            f"{x['region']} refused, log size {x['log_size_before']} -> "
            f"{x['log_size_after']}: {x['error']}",
        )
    s = r.get("score")
    if s is not None:
        v = s["verify"]
        _line(
            v["verdict"] == "valid",
            "11. Ningbo score -> Hangzhou",
            f"{s['source_kind']} entry {s['source_index']} band {s['source_band']} -> "
            f"{s['derived_kind']} level {s['level']} ({s['scheme']}) "
            f"{_grade(s.get('provenance'))}; a bank verifies "
            f"offline: {v['verdict'].upper()}, steps {v['steps'][0]}-{v['steps'][-1]}",
        )
    h = r.get("hk_report")
    if h is not None:
        v = h["verify"]
        common = ", ".join(f"{k} {val}" for k, val in h["common"].items())
        _line(
            v["verdict"] == "valid",
            "12. HK report -> Qianhai",
            f"{h['derived_kind']} ({h['format']}) {_grade(h.get('provenance'))}: {common}; "
            "HK-specific kept apart: "
            f"{', '.join(h['specific_fields'])}; a Shenzhen bank verifies: "
            f"{v['verdict'].upper()}, steps {v['steps'][0]}-{v['steps'][-1]}",
        )
    for t in r.get("tampered", []):
        field = f", field {t['field']!r}" if t.get("field") else ""
        _line(
            t["verdict"] == "invalid",
            "13. tampered",
            f"{t['tamper']}: {t['verdict'].upper()} at step {t['failed_step']} "
            f"({t['step_name']}{field}): {t['error']}",
        )
    lc = r.get("lifecycle")
    if lc is not None:
        p, hz = lc["punitive"], lc["hangzhou"]
        _line(
            p["failed_step"] == 7 and lc["before_repair_punitive"]["verdict"] == "valid",
            "14. Ningbo penalty repaired",
            f"{lc['target_kind']} entry {lc['target_index']} usable for punitive use before, "
            f"repaired on {lc['decided_on']}; the bank's bundle with status for punitive "
            f"use: {p['verdict'].upper()} at step {p['failed_step']}: {p['error']}",
        )
        _line(
            hz["refused"],
            "    Hangzhou",
            f"synced {lc['hangzhou_sync']['new_entries']} new Ningbo entries; its mirror "
            f"holds {hz['lifecycle_statements']} lifecycle statement(s): {hz['reason']} "
            f"(before the repair: {lc['hangzhou_before_repair']['state']})",
        )
        srv = lc["hangzhou_server"]
        _line(
            not srv["served"],
            "    Hangzhou",
            f"its server no longer shares the record: {srv['reason']}",
        )
    rep = r.get("report")
    if rep is not None:
        proven = set(rep.get("ningbo_proven", []))
        shown = {True: "proven: its lifecycle statements and status proof", False: "claimed"}
        nb = (
            ", ".join(f"{i} {why} ({shown[i in proven]})" for i, why in rep["ningbo_withheld"])
            or "none"
        )
        _line(
            rep["ok"],
            "14b. federation report",
            f"a Hangzhou bank's report on {rep['subject']} ({rep['bytes']} bytes): complete "
            f"as of {', '.join(f'{o} size {n}' for o, n in rep['sizes'].items())}; "
            f"{rep['in_force']} in force; Ningbo withheld: {nb}",
        )
        _line(
            rep["dropped"]["caught"],
            "    dropped",
            f"a record dropped from it: {rep['dropped']['error']}",
        )
        a = rep["audit"]
        _line(
            a["ok"],
            "    auditor",
            f"rebuilt {a['origin']}'s index to size {a['audited_size']} over gRPC and "
            f"agrees with root {a['index_root']}",
        )
    console.print(f"   part 3: {r['seconds']} s, {'OK' if r['ok'] else 'FAILED'}")


def register(app: typer.Typer) -> None:
    app.command("demo")(demo)
