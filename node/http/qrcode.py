"""Scan to verify: a QR code (segno) that opens a record's or a report's page on a node's
explorer.

``record_qr(base_url, leaf_hash, path)`` writes a PNG or SVG of the URL
``<base_url>/record/<leaf hash hex>``; ``report_qr(base_url, report_hash, path)`` of
``<base_url>/report/<sha256 hex>`` (a published report: the page fetches exactly those
bytes and checks their hash). Error correction level M, a 4-module quiet zone; each
returns the URL. Nothing else is encoded: the page itself verifies what it shows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import segno

from credex.ledger.errors import ConfigError
from credex.node.services.published import report_page_url

from .pages import record_url

__all__ = ["QR_SUFFIXES", "qr_png", "record_qr", "report_qr"]

QR_SUFFIXES: Final = (".png", ".svg")


def _check_base(base_url: str) -> None:
    if not base_url.startswith(("https://", "http://")) or not base_url.isascii():
        raise ConfigError("qr: the public base URL must be an http(s) URL")


def _write(url: str, path: Path, scale: int) -> str:
    suffix = path.suffix.lower()
    if suffix not in QR_SUFFIXES:
        raise ConfigError(f"qr: output must end in .png or .svg, got {suffix or 'no suffix'}")
    segno.make(url, error="m", micro=False).save(str(path), scale=scale, border=4)
    return url


def record_qr(base_url: str, leaf_hash: bytes, path: Path, *, scale: int = 8) -> str:
    """Write the QR code of ``leaf_hash``'s record page to ``path`` (.png or .svg).

    Raises:
        ConfigError: another file suffix, or a base URL that is not http(s).
    """
    _check_base(base_url)
    return _write(record_url(base_url, leaf_hash), path, scale)


def report_qr(base_url: str, report_hash: str, path: Path, *, scale: int = 8) -> str:
    """Write the QR code of a published report's page to ``path`` (.png or .svg).

    Raises:
        ConfigError: another file suffix, or a base URL that is not http(s).
    """
    _check_base(base_url)
    return _write(report_page_url(base_url, report_hash), path, scale)


def qr_png(url: str, *, scale: int = 8) -> bytes:
    """The QR code of ``url`` as PNG bytes (for the printed report)."""
    import io

    out = io.BytesIO()
    segno.make(url, error="m", micro=False).save(out, kind="png", scale=scale, border=4)
    return out.getvalue()
