"""``credex demo --web`` as a user runs it: a real process that runs the demo, keeps the
five members' explorers open, prints their URLs and a record page, and stops cleanly on
Ctrl-C. The printed record page (Ningbo's repaired penalty) is opened in a real browser."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

from playwright.sync_api import sync_playwright

from .test_browser import ARGS, CHROMIUM, VERDICT_TIMEOUT_MS

READY_S = 240


def _lines_until_ready(proc: subprocess.Popen[str]) -> list[str]:
    """stdout lines up to "explorers ready" (or the end), read on a thread so a hung
    demo fails the test at a deadline instead of blocking it."""
    lines: list[str] = []
    done = threading.Event()

    def read() -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            lines.append(line.rstrip("\n"))
            if line.strip() == "explorers ready":
                break
        done.set()

    threading.Thread(target=read, daemon=True).start()
    assert done.wait(READY_S), "credex demo --web never said 'explorers ready'"
    return lines


def test_demo_web_serves_the_explorers_until_interrupted(tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "200", "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "credex", "demo", "--web", "--home", str(tmp_path / "demo")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env=env,
    )
    try:
        lines = _lines_until_ready(proc)
        text = "\n".join(lines)
        assert lines and lines[-1] == "explorers ready", text[-3000:]
        urls = re.findall(r"^\s+(cn-[a-z-]+|hk)\s+(http://127\.0\.0\.1:\d+)/$", text, re.M)
        assert [r for r, _ in urls] == [
            "cn-zj-ningbo",
            "cn-zj-hangzhou",
            "cn-fj-xiamen",
            "cn-gd-qianhai",
            "hk",
        ], text[-3000:]
        for _, url in urls:  # each explorer answers its log page
            with urllib.request.urlopen(f"{url}/", timeout=10) as r:
                assert r.status == 200
        (record,) = re.findall(r"record page \(penalty\.admin entry \d+.*\): (\S+)", text)
        assert "█" in text  # the QR code in the terminal
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
            try:
                page = browser.new_page()
                page.goto(record)
                page.wait_for_selector(
                    "[data-verdict]:not([data-verdict=''])", timeout=VERDICT_TIMEOUT_MS
                )
                assert page.get_attribute("[data-verdict]", "data-verdict") == "repaired"
                # the repair's own step 7 does not apply: shown as such, never as a failure
                assert page.locator('#steps li[data-ok="false"]').count() == 0
                assert page.locator('#steps li[data-ok="n/a"]').count() == 1
                (subject,) = re.findall(r"subject page \(.*\): (\S+)", text)
                page.goto(subject)
                page.wait_for_selector("#verdict[data-verdict]", timeout=VERDICT_TIMEOUT_MS)
                verdict = page.locator("#verdict")
                assert verdict.get_attribute("data-verdict") == "valid", verdict.inner_text()
                assert "complete as of credex.ningbo" in verdict.inner_text()
                assert page.locator('ul.withheld li[data-reason="repaired"]').count() == 1
            finally:
                browser.close()
    finally:
        proc.send_signal(signal.SIGINT)
        try:
            out, err = proc.communicate(timeout=60)
        except subprocess.TimeoutExpired:
            proc.kill()
            out, err = proc.communicate()
    assert proc.returncode == 0, err[-3000:]
    assert "explorers stopped" in out
    assert "Traceback" not in err
