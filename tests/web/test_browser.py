"""Record pages in a real browser (Debian's chromium, headless, driven by playwright): a
QR code from ``credex qr`` is decoded (zxing-cpp), its URL opened, and the verdict the
page computes in the browser (``#verdict[data-verdict]``) is read: "valid" for a good
record, "valid-envelope" for a person's record (no body on the public side), "repaired"
for a repaired one, and "invalid" at the right step for each bundle a deliberately broken
server tampers with. Few page loads: one browser for the module.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import cbor2
import numpy as np
import pytest
import zxingcpp
from fastapi import FastAPI, Response
from PIL import Image
from playwright.sync_api import Browser, Page, sync_playwright

from credex.ledger import encoding
from credex.node.http import HttpServer, create_app, public_bundle
from credex.node.local import LocalNode
from credex.node.services.lifecycle import repair

from .nodes import NOW, T0, issue_penalties, issue_scores, make_home, served

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
VERDICT_TIMEOUT_MS = 60_000


@pytest.fixture(scope="module")
def browser() -> Iterator[Browser]:
    assert shutil.which(CHROMIUM), "chromium not installed: apt-get install chromium"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=ARGS)
        try:
            yield b
        finally:
            b.close()


@pytest.fixture
def node(tmp_path: Path) -> Iterator[LocalNode]:
    with LocalNode(make_home(tmp_path / "home")) as n:
        issue_penalties(n, 2)  # 0: stays valid; 1: repaired below
        issue_scores(n, 1)  # 2: a person's score (hash envelope)
        repair(n, n.log.entry(1).leaf_hash, route="fine paid, commitment signed", now=T0)
        n.publish_checkpoint(T0)
        yield n


def _qr_url(node: LocalNode, index: int, base: str, tmp_path: Path) -> str:
    """``credex qr`` writes the code; zxing-cpp reads it back from the PNG."""
    from credex.cli.main import main

    out = tmp_path / f"code-{index}.png"
    leaf = node.log.entry(index).leaf_hash.hex()
    with pytest.raises(SystemExit) as e:
        main(["qr", leaf, "-o", str(out), "--base-url", base, "--home", str(node.home.path)])
    assert e.value.code == 0
    found = zxingcpp.read_barcodes(np.asarray(Image.open(out).convert("L")))
    assert len(found) == 1 and found[0].format == zxingcpp.BarcodeFormat.QRCode
    url: str = found[0].text
    assert url == f"{base}/record/{leaf}"
    return url


def _verdict(page: Page, url: str) -> dict[str, Any]:
    page.goto(url)
    page.wait_for_selector("#verdict[data-verdict]", timeout=VERDICT_TIMEOUT_MS)
    v = page.locator("#verdict")
    timing = page.evaluate(
        "() => { const n = performance.getEntriesByType('navigation')[0];"
        " return n ? n.loadEventEnd - n.startTime : null; }"
    )
    return {
        "verdict": v.get_attribute("data-verdict"),
        "failed_step": v.get_attribute("data-failed-step"),
        "text": v.inner_text(),
        "verify_ms": v.get_attribute("data-ms"),
        "load_ms": timing,
        "steps": page.locator("#steps li").evaluate_all(
            "els => els.map(e => [e.dataset.step, e.dataset.ok])"
        ),
        "html": page.content(),
    }


def test_record_pages_verify_in_the_browser(
    browser: Browser, node: LocalNode, tmp_path: Path
) -> None:
    page = browser.new_page()
    with served(node) as s:
        good = _verdict(page, _qr_url(node, 0, s.url, tmp_path))
        assert good["verdict"] == "valid", good["text"]
        assert good["steps"] == [[str(i), "true"] for i in range(1, 9)]
        assert "VALID" in good["text"] and good["verify_ms"] is not None

        repaired = _verdict(page, _qr_url(node, 1, s.url, tmp_path))
        assert repaired["verdict"] == "repaired", repaired["text"]
        assert "已完成信用修复" in repaired["text"] and "REPAIRED" in repaired["text"]
        assert [st for st, ok in repaired["steps"] if ok == "true"][:6] == list("123456")

        statement = _verdict(page, f"{s.url}/record/{node.log.entry(3).leaf_hash.hex()}")
        assert statement["verdict"] == "valid", statement["text"]  # the repair itself
        assert "lifecycle.repair" in statement["text"]

        person = _verdict(page, _qr_url(node, 2, s.url, tmp_path))
        assert person["verdict"] == "valid-envelope", person["text"]
        body = node.statement_at(2).record.body
        assert str(body["band"]) not in person["html"]  # the body never reaches the page
        assert f'"score": {body["score"]}' not in person["html"]
    print(f"record page: load {good['load_ms']:.0f} ms, in-browser verification "
          f"{good['verify_ms']} ms")  # fmt: skip
    page.close()


# --- a deliberately broken server: the same node, bundles changed on the way out ----------


def _statement(value: dict[str, Any]) -> list[Any]:
    st = cbor2.loads(value["statement"])
    return list(st.value)


def _put(value: dict[str, Any], arr: list[Any]) -> None:
    value["statement"] = encoding.encode(cbor2.CBORTag(18, arr))


def _flip_signature(value: dict[str, Any]) -> None:
    """The statement's signature changed, and the log's attestation left out (it names the
    leaf, which the signature is part of: with it, step 2 fails first)."""
    _flip_attested_signature(value)
    value.pop("attestation")


def _flip_attested_signature(value: dict[str, Any]) -> None:
    arr = _statement(value)
    arr[3] = bytes([arr[3][0] ^ 1]) + arr[3][1:]
    _put(value, arr)


def _flip_receipt_signature(value: dict[str, Any]) -> None:
    arr = _statement(value)
    receipt = cbor2.loads(arr[1][394][0])
    r = list(receipt.value)
    r[3] = bytes([r[3][0] ^ 1]) + r[3][1:]
    arr[1] = {394: [encoding.encode(cbor2.CBORTag(18, r))]}
    _put(value, arr)


def _other_root(value: dict[str, Any]) -> None:
    lines = value["checkpoint"].split("\n")
    lines[2] = "A" * 43 + "="  # another 32-byte root: the log's note signature fails
    value["checkpoint"] = "\n".join(lines)
    value.pop("attestation")  # it names the root: with it, step 2 fails first


TAMPERS: dict[str, tuple[Callable[[dict[str, Any]], None] | None, int]] = {
    "trailing-bytes": (None, 1),
    "statement-signature": (_flip_signature, 3),
    "statement-signature-attested": (_flip_attested_signature, 2),
    "receipt-signature": (_flip_receipt_signature, 5),
    "checkpoint-root": (_other_root, 6),
}


@contextmanager
def broken_server(node: LocalNode, mode: list[str]) -> Iterator[HttpServer]:
    """The node's app, but ``/api/v1/bundles/...`` changed as ``mode[0]`` says."""
    app: FastAPI = create_app(node, clock=lambda: NOW)

    @app.get("/api/v1/bundles/{leaf_hash}")
    def tampered(leaf_hash: str) -> Response:
        _, bundle = public_bundle(node, bytes.fromhex(leaf_hash), NOW)
        change, _ = TAMPERS[mode[0]]
        if change is None:
            data = bundle.to_bytes() + b"\x00"
        else:
            value = bundle.to_value()
            change(value)
            data = encoding.encode(value)
        return Response(data, media_type="application/octet-stream")

    app.router.routes.insert(0, app.router.routes.pop())  # before the real one
    with HttpServer(app, "127.0.0.1:0") as server:
        yield server


def test_tampered_bundles_are_invalid_at_their_step(
    browser: Browser, node: LocalNode, tmp_path: Path
) -> None:
    page = browser.new_page()
    mode = [""]
    with broken_server(node, mode) as s:
        url = _qr_url(node, 0, s.url, tmp_path)
        for name, (_, step) in TAMPERS.items():
            mode[0] = name
            got = _verdict(page, url)
            assert (got["verdict"], got["failed_step"]) == ("invalid", str(step)), (name, got)
            assert f"step {step} failed" in got["text"], name
            assert [ok for _, ok in got["steps"]][-1] == "false", name
    page.close()


def test_keys_pinned_from_the_federation_manifest(browser: Browser, tmp_path: Path) -> None:
    """With a manifest the page loads the chain and pins version 1; a wrong pin (the
    user's ``?pin=``) is refused: no verdict on the record without trusted keys."""
    import time

    from credex.node.federation.admin import init_federation

    home = make_home(tmp_path / "home")
    init_federation(home, "yangtze", endpoint="127.0.0.1:7420", quorum=0, now=int(time.time()))
    with LocalNode(home) as n:
        issue_penalties(n, 1)
        n.publish_checkpoint(NOW)
        page = browser.new_page()
        with served(n) as s:
            url = f"{s.url}/record/{n.log.entry(1).leaf_hash.hex()}"
            good = _verdict(page, url)
            assert good["verdict"] == "valid", good["text"]
            assert "federation manifest pinned" in page.locator("#trust-source").inner_text()
            wrong = _verdict(page, f"{url}?pin={'00' * 32}")
            assert wrong["verdict"] == "error" and "trust material refused" in wrong["text"]
        page.close()
