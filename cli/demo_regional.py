"""Printing ``credex demo`` part 4 (the seeds' regional systems); the story itself is
``credex.node.demo.regional``. Every value is printed with its provenance grade."""

from typing import Any

from credex.cli._common import console

__all__ = ["print_regional"]


def _mark(ok: bool) -> str:
    return "[green]✓[/]" if ok else "[red]✗[/]"


def _line(ok: bool, head: str, text: str) -> None:
    console.print(f"   {_mark(ok)} [bold]{head}[/] ", end="")
    console.print(text, markup=False)


def _grade(r: dict[str, Any]) -> str:
    g = r["provenance"]
    return "[ILLUSTRATIVE]" if g == "illustrative" else f"[{g}]"


def _bank(b: dict[str, Any]) -> str:
    steps = f"steps {b['steps'][0]}-{b['steps'][-1]}" if b["steps"] else "no step"
    tail = f": {b['error']}" if b["error"] else ""
    return f"a bank verifies offline: {b['verdict'].upper()}, {steps}{tail}"


def print_regional(r: dict[str, Any]) -> None:
    """Part 4 as lines 15-18 of the demo's output."""
    console.print("[bold]part 4: the seeds' regional systems[/] (three new homes)")
    hz = r["huizhou"]
    codes = ", ".join(f"{c['subject']} {c['result']}" for c in hz["codes"])
    green = hz["codes"][0]
    _line(
        hz["ok"],
        "15. 惠信码 Huizhou",
        f"{codes} {_grade(green)}; {green['subject']}: {green['because']}; {_bank(hz['bank'])}",
    )
    x = hz["refused"]
    _line(
        x["refused"] and x["log_before"] == x["log_after"],
        "    commitment",
        f"{x['subject']} refused, log size {x['log_before']} -> {x['log_after']}: {x['error']}",
    )
    bj = r["baoji"]
    b, c = bj["before"], bj["now"]
    _line(
        bj["ok"],
        "16. 九鼎分 Baoji",
        f"{bj['subject']} (serious penalty of {bj['decided']}, never corrected): "
        f"{b['result']} as of {b['as_of']} ({b['facts']['points']} points) -> {c['result']} "
        f"as of {c['as_of']} {_grade(c)}: {c['because']}; {_bank(bj['bank'])}",
    )
    nb = r["ningbo"]
    q = nb["rongque"]
    g = q["granted"]
    _line(
        g["result"] == "allow" and q["bank"]["verdict"] == "valid",
        "17. 容缺受理 Ningbo",
        f"{g['subject']} shipping grade B: {g['result']} {_grade(g)}: {g['because']}; "
        f"commitment logged (entry {q['commitment_index']}), due {q['deadline']}, "
        f"{len(q['reminders'])} reminder(s) within 30 days; {_bank(q['bank'])}",
    )
    rc = q["refused_c"]
    _line(rc["refused"], "    C-class", f"{rc['subject']}: {rc['error']}")
    i = nb["intercepted"]
    d = i["decision"]
    _line(
        d["result"] == "deny" and i["bank"]["verdict"] == "valid",
        "18. 失信被执行人 Ningbo",
        f"{d['subject']} asks to buy a restricted service: {d['result'].upper()} {_grade(d)}: "
        f"{d['because']}; audit.check logged (entry {i['audit_index']}); {_bank(i['bank'])}",
    )
    console.print(f"   part 4: {'OK' if r['ok'] else 'FAILED'}")
