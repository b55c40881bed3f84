"""``credex qr``: a PNG or SVG that opens the record's page; the base URL from the flag or
``credex.toml``; one-line errors for what cannot be encoded."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PIL import Image
from web.nodes import T0, issue_penalties, make_home

from credex.node.local import LocalNode
from integration.clirunner import Cli, make_cli


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    return make_cli(capsys, monkeypatch)


def test_qr_png_and_svg(cli: Cli, tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    with LocalNode(home) as n:
        leaf = issue_penalties(n, 1)[0].leaf_hash.hex()
        n.publish_checkpoint(T0)
    (home.path / "credex.toml").write_text(
        '[http]\npublic_url = "https://credex.ningbo.example/"\n', encoding="utf-8"
    )
    png = tmp_path / "code.png"
    r = cli("qr", leaf, "-o", png, "--home", home.path, "--json")
    assert r.code == 0, r.err
    url = f"https://credex.ningbo.example/record/{leaf}"
    assert r.json == {"file": str(png), "url": url}
    found = zxingcpp.read_barcodes(np.asarray(Image.open(png).convert("L")))
    assert [f.text for f in found] == [url]
    svg = tmp_path / "code.svg"
    r = cli("qr", leaf, "-o", svg, "--base-url", "http://127.0.0.1:8080")
    assert r.code == 0, r.err
    text = svg.read_text(encoding="utf-8")
    assert text.startswith("<?xml") and "<svg" in text
    local = f"http://127.0.0.1:8080/record/{leaf}"
    assert f"wrote {svg}: {local}" in r.out


def test_qr_errors_are_one_line(cli: Cli, tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    leaf = "ab" * 32
    r = cli("qr", leaf, "-o", tmp_path / "x.png", "--home", home.path)
    assert r.code == 2 and "no public base URL" in r.err
    r = cli("qr", leaf, "-o", tmp_path / "x.png", "--home", home.path, "--base-url", "http://a")
    assert r.code == 1 and "leaf hash not found" in r.err
    r = cli("qr", leaf, "-o", tmp_path / "x.gif", "--base-url", "http://a")
    assert r.code == 2 and "must end in .png or .svg" in r.err
    r = cli("qr", leaf, "-o", tmp_path / "x.png", "--base-url", "ftp://a")
    assert r.code == 2 and "http(s) URL" in r.err
    r = cli("qr", "11010519491231002X", "-o", tmp_path / "x.png", "--base-url", "http://a")
    assert r.code == 1 and "11010519491231002X" not in r.err
