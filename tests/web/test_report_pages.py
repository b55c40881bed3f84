"""Report pages in a real browser (Debian's chromium, headless, playwright): the subject
page verifies the report the node compiles, in the page (``#verdict[data-verdict]``), and
shows the verified table with "complete as of"; a deliberately broken server re-signs
withholding reports (``reports.TAMPERS``) and the page names the failing step (and the
missing index), the same error the Python verifier names on the same bytes; a published
report opens from the QR code ``credex qr --report`` writes, and a file opened locally is
verified without leaving the page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import numpy as np
import pytest
import zxingcpp
from fastapi import FastAPI, Response
from PIL import Image
from playwright.sync_api import Browser, Page

from credex.ledger.errors import CredexError
from credex.ledger.report_verify import verify_report
from credex.node.home import NodeHome
from credex.node.http import HttpServer, create_app
from credex.node.local import LocalNode

from .nodes import served
from .reports import AS_OF, COMPANY, TAMPERS, honest, make_report_home, report_scene
from .test_browser import VERDICT_TIMEOUT_MS, browser

__all__ = ["browser"]

ORIGIN = "credex.ningbo.example/log"


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> NodeHome:
    return report_scene(make_report_home(tmp_path_factory.mktemp("pages") / "ningbo"))


def _verdict(page: Page, url: str | None = None) -> dict[str, Any]:
    if url is not None:
        page.goto(url)
    page.wait_for_selector("#verdict[data-verdict]", timeout=VERDICT_TIMEOUT_MS)
    v = page.locator("#verdict")
    return {
        "verdict": v.get_attribute("data-verdict"),
        "step": v.get_attribute("data-failed-step"),
        "part": v.get_attribute("data-failed-part"),
        "missing": v.get_attribute("data-missing-index"),
        "error": v.get_attribute("data-error"),
        "text": v.inner_text(),
        "ms": v.get_attribute("data-ms"),
        "rows": page.locator("tbody tr").evaluate_all("els => els.map(e => e.dataset.index)"),
        "withheld": page.locator("ul.withheld li").evaluate_all(
            "els => els.map(e => [e.dataset.index, e.dataset.reason])"
        ),
        "complete": page.locator("p.complete").evaluate_all(
            "els => els.map(e => e.dataset.complete)"
        ),
        "html": page.content(),
    }


def _python_error(data: bytes, home: NodeHome) -> str | None:
    try:
        verify_report(data, home.trust())
    except CredexError as e:
        return type(e).__name__
    return None


def test_subject_page_verifies_the_report_in_the_browser(browser: Browser, home: NodeHome) -> None:
    page = browser.new_page()
    with LocalNode(home) as node, served(node, clock=lambda: AS_OF) as s:
        got = _verdict(page, f"{s.url}/subject/{COMPANY.id}")
    assert got["verdict"] == "valid", got["text"]
    assert got["rows"] == ["1", "3"] and got["withheld"] == [["0", "repaired"]]
    assert got["complete"] == [f"{ORIGIN} 5"] and "已由日志证明 · proven by the log" in got["html"]
    assert f"complete as of {ORIGIN} size 5" in got["html"]
    assert "已完成信用修复" in got["html"] and "信用报告" in got["html"]
    assert "cn-zj-ningbo/platform" in got["html"] and got["ms"] is not None
    page.close()


@contextmanager
def broken_server(node: LocalNode, mode: list[bytes]) -> Iterator[HttpServer]:
    """The node's app, but the subject's report is ``mode[0]`` (a re-signed tamper)."""
    app: FastAPI = create_app(node, clock=lambda: AS_OF)

    @app.get("/api/v1/reports/subject/{subject}")
    def tampered(subject: str) -> Response:
        return Response(mode[0], media_type="application/vnd.credex.report+cbor")

    app.router.routes.insert(0, app.router.routes.pop())  # before the real one
    with HttpServer(app, "127.0.0.1:0") as server:
        yield server


def test_withholding_reports_are_invalid_at_their_step(browser: Browser, home: NodeHome) -> None:
    report = honest(home)
    page = browser.new_page()
    mode = [b""]
    with LocalNode(home) as node, broken_server(node, mode) as s:
        for name, (tamper, step, error, _) in TAMPERS.items():
            mode[0] = tamper(home, report)
            got = _verdict(page, f"{s.url}/subject/{COMPANY.id}")
            assert (got["verdict"], got["step"], got["error"]) == ("invalid", str(step), error), (
                name,
                got["text"],
            )
            assert f"invalid at step {step}" in got["text"], name
            assert got["error"] == _python_error(mode[0], home), name  # parity
            if step > 1:
                assert got["part"] == ORIGIN, name
            if name == "bundle-cut":
                assert got["missing"] == "1" and "missing: index 1" in got["text"]
    page.close()


def _decode_qr(path: Path) -> str:
    found = zxingcpp.read_barcodes(np.asarray(Image.open(path).convert("L")))
    assert len(found) == 1 and found[0].format == zxingcpp.BarcodeFormat.QRCode
    text: str = found[0].text
    return text


def test_published_report_opens_from_its_qr_code(
    browser: Browser, home: NodeHome, tmp_path: Path
) -> None:
    import hashlib

    from credex.cli.main import main

    data = honest(home).to_bytes()
    f = tmp_path / "company.credex-report"
    f.write_bytes(data)
    page = browser.new_page()
    with LocalNode(home) as node, served(node, clock=lambda: AS_OF) as s:
        code = tmp_path / "report.png"
        argv = ["qr", "--report", str(f), "-o", str(code), "--base-url", s.url]
        with pytest.raises(SystemExit) as e:
            main([*argv, "--home", str(home.path)])
        assert e.value.code == 0
        url = _decode_qr(code)
        assert url == f"{s.url}/report/{hashlib.sha256(data).hexdigest()}"
        got = _verdict(page, url)
        assert got["verdict"] == "valid", got["text"]
        assert got["rows"] == ["1", "3"] and got["complete"] == [f"{ORIGIN} 5"]
    page.close()


def test_a_report_file_is_verified_locally_in_the_page(
    browser: Browser, home: NodeHome, tmp_path: Path
) -> None:
    report = honest(home)
    good, dropped = tmp_path / "good.credex-report", tmp_path / "dropped.credex-report"
    good.write_bytes(report.to_bytes())
    dropped.write_bytes(TAMPERS["record-dropped"][0](home, report))
    page = browser.new_page()
    requests: list[str] = []
    page.on("request", lambda r: requests.append(r.method))
    with LocalNode(home) as node, served(node, clock=lambda: AS_OF) as s:
        page.goto(f"{s.url}/report")
        page.set_input_files("#report-file", str(good))
        got = _verdict(page)
        assert got["verdict"] == "valid", got["text"]
        page.set_input_files("#report-file", str(dropped))
        page.wait_for_selector('#verdict[data-verdict="invalid"]', timeout=VERDICT_TIMEOUT_MS)
        got = _verdict(page)
        assert (got["step"], got["error"]) == ("4", "ReportIncompleteError"), got["text"]
        # the reader's own trust: this log's file verifies; another log's refuses the signer
        own, stranger = tmp_path / "own.trust.json", tmp_path / "stranger.trust.json"
        own.write_text(home.trust().to_json(), encoding="utf-8")
        other = make_report_home(tmp_path / "other", log_seed=b"\x05" * 32)
        stranger.write_text(other.trust().to_json(), encoding="utf-8")
        page.reload()
        page.set_input_files("#trust-file", str(own))
        page.set_input_files("#report-file", str(good))
        got = _verdict(page)
        assert got["verdict"] == "valid", got["text"]
        assert "your file own.trust.json" in page.locator("#trust-source").inner_text()
        page.reload()
        page.set_input_files("#trust-file", str(stranger))
        page.set_input_files("#report-file", str(good))
        got = _verdict(page)
        assert (got["verdict"], got["step"], got["error"]) == ("invalid", "1", "WrongLogError")
    assert set(requests) == {"GET"}  # the file never leaves the page
    page.close()


def test_withdrawn_and_expired_record_pages_say_so_in_plain_words(
    browser: Browser, tmp_path: Path
) -> None:
    """A record page still says in plain words what became of a record (as 信用中国 pages
    do): withdrawn (its withdrawal verifies in the page) and expired (past its
    publication period: the node's computation)."""
    from datetime import date

    from credex.node.services.lifecycle import withdraw

    from .nodes import NOW, T0, make_home, penalty

    with LocalNode(make_home(tmp_path / "home")) as node:
        [kept, gone] = node.issue(
            [penalty("91330100MA0YX0016X", 1), penalty("91330100MA0YX0016X", 2)], iat=T0
        )
        [old] = node.issue([penalty("91330100MA0YX0016X", 3, date(2019, 1, 10))], iat=T0)
        withdraw(node, gone.leaf_hash, reason="entered twice", now=T0)
        node.publish_checkpoint(T0)
        page = browser.new_page()
        with served(node, clock=lambda: NOW) as s:
            for leaf, state, words in (
                (gone.leaf_hash, "withdrawn", "已撤销"),
                (old.leaf_hash, "expired", "公示期满"),
                (kept.leaf_hash, "valid", "VALID"),
            ):
                page.goto(f"{s.url}/record/{leaf.hex()}")
                page.wait_for_selector("#verdict[data-verdict]", timeout=VERDICT_TIMEOUT_MS)
                v = page.locator("#verdict")
                assert v.get_attribute("data-verdict") == state, v.inner_text()
                assert words in v.inner_text(), v.inner_text()
        page.close()
