"""Scan to verify: a QR code (segno) that opens a record's page on a node's explorer.

``record_qr(base_url, leaf_hash, path)`` writes a PNG or SVG of the URL
``<base_url>/record/<leaf hash hex>`` (error correction level M, a 4-module quiet zone)
and returns the URL. Nothing else is encoded: the page itself verifies the record.
"""

from __future__ import annotations

from pathlib import Path
from typing import Final

import segno

from credex.ledger.errors import ConfigError

from .pages import record_url

__all__ = ["QR_SUFFIXES", "record_qr"]

QR_SUFFIXES: Final = (".png", ".svg")


def record_qr(base_url: str, leaf_hash: bytes, path: Path, *, scale: int = 8) -> str:
    """Write the QR code of ``leaf_hash``'s record page to ``path`` (.png or .svg).

    Raises:
        ConfigError: another file suffix, or a base URL that is not http(s).
    """
    suffix = path.suffix.lower()
    if suffix not in QR_SUFFIXES:
        raise ConfigError(f"qr: output must end in .png or .svg, got {suffix or 'no suffix'}")
    if not base_url.startswith(("https://", "http://")) or not base_url.isascii():
        raise ConfigError("qr: the public base URL must be an http(s) URL")
    url = record_url(base_url, leaf_hash)
    segno.make(url, error="m", micro=False).save(str(path), scale=scale, border=4)
    return url
