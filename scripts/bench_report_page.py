"""Measure: page load and in-browser verification time of a subject report page.

    python scripts/bench_report_page.py [--records 100] [--runs 5] [--screenshot FILE]

Builds a throwaway node home (SQLite) with one company's penalties (``--records`` in
force, one repaired and withheld), serves its public side on 127.0.0.1 (a real uvicorn
server), and opens in headless chromium (Debian's, through playwright) ``--runs`` times
each, in a fresh browser context (nothing cached): the subject page ``/subject/<uscc>``
(the node compiles the report on request) and the published report's page
``/report/<sha256>`` (static bytes). For each: the navigation's load time
(``loadEventEnd``), the page's own figures (``#verdict[data-ms]``: report fetched, keys
loaded and verified; ``data-verify-ms``: the verification alone, every step of
docs/spec.md §5.4 with each bundle's eight steps) and the time from navigation to the
verdict. Prints medians, the report's size, and the Python verifier's CPU time on the
same bytes for the ratio. ``--screenshot`` saves the subject page (1200 px wide) after the
verdict. Not a test:
nothing is asserted about speed.
"""

from __future__ import annotations

import argparse
import calendar
import os
import statistics
import tempfile
import time
from pathlib import Path

from credex.ledger.dates import cst_day
from credex.ledger.record import Record, Subject
from credex.ledger.report_verify import verify_report
from credex.node.home import NodeHome
from credex.node.http import HttpServer, create_app
from credex.node.local import LocalNode
from credex.node.services.lifecycle import add_lifecycle
from credex.node.services.published import publish_report
from credex.node.services.reports import compile_report

COMPANY = Subject("org", "91330100MA0YX0016X")
T0 = calendar.timegm((2026, 6, 1, 0, 0, 0))
DAY = 86_400
REPAIRED_AT = T0 + 400 * DAY
AS_OF = REPAIRED_AT + 1
CHROMIUM = "/usr/bin/chromium"


def _penalty(n: int, decided: str) -> Record:
    body: dict[str, object] = {
        "decision_no": f"甬市监罚〔2026〕{n}号",
        "decision_date": decided,
        "penalty_types": ["罚款"],
        "content": "未按规定公示年度报告",
        "authority": "宁波市市场监督管理局",
        "authority_uscc": "11330200MB1234567X",
    }
    return Record("penalty.admin", "cn-zj-ningbo", COMPANY, body, T0 - 20 * DAY)


def build(path: Path, records: int) -> NodeHome:
    home = NodeHome.init(
        path,
        region="cn-zj-ningbo",
        origin="credex.ningbo.example/log",
        db=None,
        now=T0,
        log_seed=b"\x01" * 32,
        subject_secret=b"\x02" * 32,
        platform_seed=b"\x11" * 32,
    )
    with LocalNode(home) as node:
        [old] = node.issue([_penalty(1, "2026-05-10")], iat=T0 - 20 * DAY)
        node.issue([_penalty(100 + i, "2027-06-20") for i in range(records)], iat=REPAIRED_AT - DAY)
        body = {"route": "终止公示行政处罚信息", "decided_on": cst_day(REPAIRED_AT)}
        add_lifecycle(node, old.leaf_hash, "lifecycle.repair", body, now=REPAIRED_AT)
        node.publish_checkpoint(REPAIRED_AT)
    return home


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--records", type=int, default=100)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--screenshot", type=Path)
    args = ap.parse_args()

    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory() as tmp:
        home = build(Path(tmp) / "home", args.records)
        with LocalNode(home) as node:
            data = compile_report(node, COMPANY.id, AS_OF, AS_OF, fresh=False).to_bytes()
            cpu = []
            for _ in range(args.runs):
                t = time.process_time()
                verify_report(data, home.trust())
                cpu.append((time.process_time() - t) * 1000)
            app = create_app(node, clock=lambda: AS_OF)
            with (
                HttpServer(app, "127.0.0.1:0") as server,
                sync_playwright() as p,
            ):
                browser = p.chromium.launch(
                    executable_path=CHROMIUM, headless=True, args=["--no-sandbox"]
                )
                loads, verifies, totals, alls = [], [], [], []
                digest = publish_report(home, data)
                pages = {
                    "subject": f"{server.url}/subject/{COMPANY.id}",
                    "published": f"{server.url}/report/{digest}",
                }
                for which, url in [(w, u) for w in pages for u in [pages[w]] * args.runs]:
                    context = browser.new_context(viewport={"width": 1200, "height": 900})
                    page = context.new_page()
                    t = time.perf_counter()
                    page.goto(url)
                    page.wait_for_selector("#verdict[data-verdict]", timeout=300_000)
                    verdict = page.locator("#verdict")
                    assert verdict.get_attribute("data-verdict") == "valid", verdict.inner_text()
                    got = (
                        page.evaluate(
                            "() => performance.getEntriesByType('navigation')[0].loadEventEnd"
                        ),
                        float(verdict.get_attribute("data-verify-ms") or "nan"),
                        float(verdict.get_attribute("data-ms") or "nan"),
                        (time.perf_counter() - t) * 1000,
                    )
                    for into, x in zip((loads, verifies, alls, totals), got, strict=True):
                        into.append((which, x))
                    if args.screenshot is not None and which == "subject":
                        page.screenshot(path=str(args.screenshot), full_page=args.records <= 5)
                    context.close()
                browser.close()

    def med(xs: list[tuple[str, float]], which: str) -> float:
        return statistics.median(x for w, x in xs if w == which)

    print(f"report: {args.records} records in force, {len(data)} bytes; runs {args.runs}")
    for which in ("subject", "published"):
        print(f"{which} page:")
        print(f"  page load (loadEventEnd)              median {med(loads, which):8.1f} ms")
        print(f"  fetch + keys + verify (data-ms)       median {med(alls, which):8.1f} ms")
        print(f"  in-page verification (data-verify-ms) median {med(verifies, which):8.1f} ms")
        print(f"  navigation to verdict                 median {med(totals, which):8.1f} ms")
    py = statistics.median(cpu)
    print(f"python verify_report CPU                median {py:8.1f} ms")
    print(f"ratio in-page verification / python     {med(verifies, 'published') / py:.1f}")
    print(f"load: {os.getloadavg()[0]:.2f} (1 min) on {os.cpu_count()} CPUs")


if __name__ == "__main__":
    main()
