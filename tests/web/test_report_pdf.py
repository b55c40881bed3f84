"""``credex report ... --pdf``: the printed 信用报告. The PDF's text holds the subject, the
table and "complete as of"; its QR code (read back from the PDF's image with zxing-cpp)
opens the page of exactly the report file written, which the node now publishes. A
person's report is printed without a code and never published."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np
import pytest
import zxingcpp
from PIL import Image
from pypdf import PdfReader

from credex.node.local import LocalNode
from credex.node.services.published import PUBLISHED_DIR

from .nodes import issue_scores
from .reports import COMPANY, make_report_home, report_scene

BASE = "https://credex.ningbo.example"


def _cli(*argv: str) -> int:
    from credex.cli.main import main

    with pytest.raises(SystemExit) as e:
        main(list(argv))
    return int(e.value.code or 0)


def test_the_printed_report_carries_its_table_and_the_code_of_its_page(tmp_path: Path) -> None:
    home = report_scene(make_report_home(tmp_path / "ningbo"))
    out, pdf = tmp_path / "company.credex-report", tmp_path / "信用报告.pdf"
    argv = ["report", COMPANY.id, "-o", str(out), "--as-of", "2027-07-07", "--pdf", str(pdf)]
    assert _cli(*argv, "--base-url", BASE, "--home", str(home.path)) == 0
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert (home.path / PUBLISHED_DIR / f"{digest}.credex-report").read_bytes() == out.read_bytes()
    reader = PdfReader(io.BytesIO(pdf.read_bytes()))
    text = "\n".join(p.extract_text() for p in reader.pages)
    assert COMPANY.id in text and "complete as of credex.ningbo.example/log size" in text
    assert digest in text.replace("\n", "")
    images = [img for p in reader.pages for img in p.images]
    assert len(images) == 1
    found = zxingcpp.read_barcodes(np.asarray(Image.open(io.BytesIO(images[0].data)).convert("L")))
    assert [f.text for f in found] == [f"{BASE}/report/{digest}"]


def test_a_persons_printed_report_has_no_code_and_is_not_published(tmp_path: Path) -> None:
    home = report_scene(make_report_home(tmp_path / "ningbo"))
    with LocalNode(home) as node:
        [score] = issue_scores(node, 1)
        subject = node.statement_at(score.index).claims.sub
    out, pdf = tmp_path / "person.credex-report", tmp_path / "person.pdf"
    assert _cli("report", subject, "-o", str(out), "--pdf", str(pdf), "--home", str(home.path)) == 0
    reader = PdfReader(io.BytesIO(pdf.read_bytes()))
    assert not [img for p in reader.pages for img in p.images]
    assert not (home.path / PUBLISHED_DIR).exists()


def test_json_answer_names_the_pdf_and_its_url(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    import json

    home = report_scene(make_report_home(tmp_path / "ningbo"))
    out, pdf = tmp_path / "r.credex-report", tmp_path / "r.pdf"
    argv = ["report", COMPANY.id, "-o", str(out), "--pdf", str(pdf), "--base-url", BASE]
    capsys.readouterr()
    assert _cli(*argv, "--json", "--home", str(home.path)) == 0
    answer = json.loads(capsys.readouterr().out)
    digest = hashlib.sha256(out.read_bytes()).hexdigest()
    assert answer["pdf"] == str(pdf) and answer["url"] == f"{BASE}/report/{digest}"


def test_an_org_report_without_a_public_url_is_not_printed(tmp_path: Path) -> None:
    home = report_scene(make_report_home(tmp_path / "ningbo"))
    pdf = tmp_path / "x.pdf"
    argv = ["report", COMPANY.id, "-o", str(tmp_path / "r"), "--pdf", str(pdf)]
    assert _cli(*argv, "--home", str(home.path)) != 0
    assert not pdf.exists() and not (home.path / PUBLISHED_DIR).exists()
