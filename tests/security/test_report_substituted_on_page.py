"""A38: a server answers a report page with other bytes than the page asked for: the
valid, signed report on *another* company at this company's subject page, or, for a
published report (``/report/<sha256>``, the URL a printed QR code carries), another
report than the one whose hash the link names. Each report verifies on its own, so only
the page's own checks catch it: the subject it asked for (step 1, ``ReportSubjectError``),
and the SHA-256 of the bytes against the link. The node itself refuses a published file
whose bytes no longer hash to its name (404)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI, Response
from playwright.sync_api import Browser

from credex.node.http import HttpServer, create_app
from credex.node.local import LocalNode
from credex.node.services.published import PUBLISHED_DIR, publish_report
from tests.web.reports import AS_OF, COMPANY, OTHER, honest, make_report_home, report_scene
from tests.web.test_browser import VERDICT_TIMEOUT_MS, browser

__all__ = ["browser"]


@contextmanager
def substituting(node: LocalNode, swap: bytes) -> Iterator[HttpServer]:
    app: FastAPI = create_app(node, clock=lambda: AS_OF)

    @app.get("/api/v1/reports/subject/{subject}")
    def subject_report(subject: str) -> Response:
        return Response(swap, media_type="application/vnd.credex.report+cbor")

    @app.get("/api/v1/reports/published/{report_hash}")
    def published(report_hash: str) -> Response:
        return Response(swap, media_type="application/vnd.credex.report+cbor")

    for _ in range(2):
        app.router.routes.insert(0, app.router.routes.pop())
    with HttpServer(app, "127.0.0.1:0") as server:
        yield server


def test_another_subjects_report_and_other_published_bytes_are_caught(
    browser: Browser, tmp_path: Path
) -> None:
    home = report_scene(make_report_home(tmp_path / "ningbo"))
    company, other = honest(home).to_bytes(), honest(home, OTHER).to_bytes()
    digest = publish_report(home, company)
    page = browser.new_page()
    with LocalNode(home) as node, substituting(node, other) as s:
        page.goto(f"{s.url}/subject/{COMPANY.id}")
        page.wait_for_selector("#verdict[data-verdict]", timeout=VERDICT_TIMEOUT_MS)
        v = page.locator("#verdict")
        assert (v.get_attribute("data-verdict"), v.get_attribute("data-failed-step")) == (
            "invalid",
            "1",
        )
        assert v.get_attribute("data-error") == "ReportSubjectError"
        assert f"not the subject asked for ({COMPANY.id})" in v.inner_text()
        page.goto(f"{s.url}/report/{digest}")
        page.wait_for_selector("#verdict[data-verdict]", timeout=VERDICT_TIMEOUT_MS)
        assert v.get_attribute("data-verdict") == "invalid"
        assert "SHA-256 is not the one the link names" in v.inner_text()
    page.close()


def test_a_published_file_swapped_on_disk_is_not_served(tmp_path: Path) -> None:
    from tests.web.nodes import served

    home = report_scene(make_report_home(tmp_path / "ningbo"))
    digest = publish_report(home, honest(home).to_bytes())
    path = home.path / PUBLISHED_DIR / f"{digest}.credex-report"
    path.write_bytes(honest(home, OTHER).to_bytes())
    assert hashlib.sha256(path.read_bytes()).hexdigest() != digest
    with LocalNode(home) as node, served(node, clock=lambda: AS_OF) as s:
        for route in ("/api/v1/reports/published/", "/report/"):
            r = httpx.get(f"{s.url}{route}{digest}")
            assert r.status_code == 404 and r.json()["error"]["code"] == "not_found", route


@pytest.mark.parametrize("name", ["../../keys/log.key", "A" * 64, "0" * 63])
def test_published_names_are_hashes_only(tmp_path: Path, name: str) -> None:
    from tests.web.nodes import served

    home = report_scene(make_report_home(tmp_path / "ningbo"))
    with LocalNode(home) as node, served(node, clock=lambda: AS_OF) as s:
        r = httpx.get(f"{s.url}/api/v1/reports/published/{name}")
    assert r.status_code in (400, 404) and set(r.json()) == {"error"}
    assert (home.path / "keys" / "log.key").read_bytes() not in r.content
