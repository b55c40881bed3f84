"""The printed 信用报告: a subject report as a PDF (``credex report ... --pdf``).

The report is verified first (``credex.ledger.report_verify``, against the node's
federation manifest or its own trust file), and the PDF shows what verified: per log, the
records in force (kind, issuer, date, status), the withheld ones with their reasons only,
"complete as of ORIGIN size N", the logs not covered; then the QR code of the report's
page (``<public url>/report/<sha256>``, where the node publishes exactly these bytes) and
the report file's SHA-256. Chinese text uses reportlab's built-in CID font STSong-Light
(no font file); identifiers and hashes are set in Helvetica / Courier. Output is
deterministic (``invariant``). A person's report is printed without a code: it is never
published. This module does not publish (``published.py`` does) or sign anything.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path
from typing import Final
from xml.sax.saxutils import escape

from credex.ledger.dates import cst_day
from credex.ledger.errors import ConfigError
from credex.ledger.report_verify import CheckedReport, verify_report
from credex.ledger.trust import TrustPolicy
from credex.node.home import NodeHome
from credex.node.http.labels import KIND_NAMES

__all__ = ["REASON_WORDS", "print_report", "report_pdf", "write_report_pdf"]

CJK: Final = "STSong-Light"
#: a withholding reason in plain words (中文, English)
REASON_WORDS: Final[dict[str, str]] = {
    "repaired": "已完成信用修复 repaired",
    "expired": "公示期满 expired",
    "withdrawn": "已撤销 withdrawn",
    "corrected": "已更正 corrected",
    "superseded": "已被取代 superseded",
    "erased": "内容已删除 erased",
    "not-held": "由所属节点提供 held by its node",
}


def report_pdf(data: bytes, trust: TrustPolicy, url: str | None) -> bytes:
    """The PDF of the report ``data`` (verified under ``trust``; raises its first error),
    with the QR code of ``url`` when given."""
    checked = verify_report(data, trust)
    return _render(checked, hashlib.sha256(data).hexdigest(), url)


def write_report_pdf(data: bytes, trust: TrustPolicy, url: str | None, out: Path) -> None:
    out.write_bytes(report_pdf(data, trust, url))


def print_report(home: NodeHome, data: bytes, out: Path, base_url: str | None) -> str | None:
    """``credex report --pdf``: verify ``data`` (this node's report) under the node's
    federation manifest or trust file, publish it when it is an organisation's (its page
    URL under ``base_url``, default ``[http] public_url``) and write the PDF; the URL.

    Raises:
        ConfigError: an organisation's report but no public base URL to print.
        CredexError: the report does not verify (nothing is published or written).
    """
    from credex.node.config import home_config
    from credex.node.federation.members import federation_manifest

    from .published import is_person_subject, publish_report, report_page_url

    trust: TrustPolicy = federation_manifest(home) or home.trust()
    checked = verify_report(data, trust)
    url = None
    if not is_person_subject(checked.subject):
        if base_url is None:
            base_url = home_config(home.path).public_url
        if base_url is None or not base_url.startswith(("https://", "http://")):
            raise ConfigError(
                "report: --pdf needs the node's public base URL for its QR code: pass "
                "--base-url or set [http] public_url in credex.toml"
            )
        url = report_page_url(base_url, publish_report(home, data))
    out.write_bytes(_render(checked, hashlib.sha256(data).hexdigest(), url))
    return url


def _render(checked: CheckedReport, digest: str, url: str | None) -> bytes:
    from reportlab.lib import colors
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle

    from credex.node.http.qrcode import qr_png

    if CJK not in pdfmetrics.getRegisteredFontNames():
        pdfmetrics.registerFont(UnicodeCIDFont(CJK))
    zh = ParagraphStyle("zh", fontName=CJK, fontSize=10, leading=14)
    title = ParagraphStyle("title", parent=zh, fontSize=18, leading=24)
    h2 = ParagraphStyle("h2", parent=zh, fontSize=12, leading=18, spaceBefore=8)
    mono = ParagraphStyle("mono", fontName="Courier", fontSize=8, leading=10)
    latin = ParagraphStyle("latin", fontName="Helvetica", fontSize=10, leading=14)

    def latin_in(label: str, value: str) -> Paragraph:  # Chinese label, Latin value
        return Paragraph(f'{label}: <font name="Helvetica">{escape(value)}</font>', zh)

    story: list[object] = [
        Paragraph("信用报告 Credit report", title),
        latin_in("主体 Subject", checked.subject),
        latin_in("截至 As of", cst_day(checked.as_of)),
        latin_in("签发日志 Signed by the log", checked.signed_by),
    ]
    for part in checked.parts:
        story.append(Paragraph(f"日志 Log: {escape(part.origin)}", h2))
        rows: list[list[str]] = [
            ["序号", "类型 Kind", "签发机构 Issuer", "日期 Date", "状态 Status"]
        ]
        listed = [
            (r.index, _kind(r.kind), r.issuer, cst_day(r.valid_from), "有效 in force")
            for r in part.records
        ]
        listed += [
            (
                w.index,
                _kind(w.kind),
                "-",
                "-",
                REASON_WORDS.get(w.state, w.state)
                + (" (已证明 proven)" if w.index in part.proven else " (声明 claimed)"),
            )
            for w in part.withheld
        ]
        rows += [[str(i), *cells] for i, *cells in sorted(listed)]
        table = Table(rows, repeatRows=1, colWidths=[14 * mm, 52 * mm, 48 * mm, 24 * mm, 42 * mm])
        table.setStyle(
            TableStyle(
                [
                    ("FONTNAME", (0, 0), (-1, -1), CJK),
                    ("FONTSIZE", (0, 0), (-1, -1), 8),
                    ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#e8edf3")),
                    ("GRID", (0, 0), (-1, -1), 0.3, colors.grey),
                    ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ]
            )
        )
        story += [
            table,
            Spacer(1, 3 * mm),
            Paragraph(
                f"完整：截至 {escape(part.origin)} 第 {part.size} 条，无遗漏。"
                f"有效 {len(part.records)} 条，不再公示 {len(part.withheld)} 条，"
                f"相关声明 {part.statements} 条。",
                zh,
            ),
            Paragraph(f"complete as of {escape(part.origin)} size {part.size}", latin),
        ]
    if checked.not_covered:
        story.append(Paragraph(f"未覆盖 Not covered: {', '.join(checked.not_covered)}", latin))
    story.append(Spacer(1, 6 * mm))
    if url is not None:
        png = qr_png(url, scale=6)
        story += [
            Paragraph("扫码验证：在浏览器内验证本报告 Scan to verify this report in a browser", zh),
            Image(io.BytesIO(png), width=40 * mm, height=40 * mm, hAlign="LEFT"),
            Paragraph(escape(url), mono),
        ]
    else:
        story.append(
            Paragraph("个人报告不公开发布，无验证码 A person's report is never published", zh)
        )
    story.append(Paragraph(f"report sha256 {digest}", mono))
    out = io.BytesIO()
    doc = SimpleDocTemplate(
        out,
        pagesize=A4,
        title=f"credex report {checked.subject}",
        author=checked.signed_by,
        invariant=True,
        leftMargin=15 * mm,
        rightMargin=15 * mm,
    )
    doc.build(story)
    return out.getvalue()


def _kind(kind: str) -> str:
    name = KIND_NAMES.get(kind)
    return kind if name is None else f"{name} {kind}"
