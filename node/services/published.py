"""Published subject reports: the exact bytes a node puts on its public side, named by
their SHA-256, so a QR code (``credex qr --report``, the printed 信用报告) can carry
``<public url>/report/<sha256 hex>`` and the page fetches and verifies exactly those bytes.

A node publishes only a report it signed itself (its log key's kid), and never a
person's (a subject ``hmac:...``: such a report carries the person's records with their
bodies; it leaves the node only with the bank that asked for it). Files live in
``HOME/published/reports/<sha256 hex>.credex-report``; reading one checks its hash and
subject again. This module does not render pages or QR codes.
"""

from __future__ import annotations

import hashlib
import os
import re
from pathlib import Path
from typing import Final

from credex.ledger.errors import FormatError, NotFoundError, PolicyError
from credex.ledger.subject_report import MAX_REPORT_BYTES, SubjectReport
from credex.node.home import NodeHome

__all__ = [
    "PUBLISHED_DIR",
    "is_person_subject",
    "publish_report",
    "published_report",
    "report_page_url",
    "require_public_subject",
]

PUBLISHED_DIR: Final = Path("published") / "reports"
_HASH_RE: Final = re.compile(r"[0-9a-f]{64}", re.ASCII)


def is_person_subject(subject: str) -> bool:
    """A person's keyed pseudonym (``hmac:<key id>:<hex>``), never an organisation."""
    return subject.startswith("hmac:")


def require_public_subject(subject: str, what: str) -> None:
    """Raises PolicyError for a person's subject: their reports never go public."""
    if is_person_subject(subject):
        raise PolicyError(
            f"{what}: a person's report is never on the public side; a bank asks for it "
            "with an authorised lookup"
        )


def report_page_url(base_url: str, report_hash: str) -> str:
    """The page that fetches and verifies the published report ``report_hash``."""
    return f"{base_url.rstrip('/')}/report/{report_hash}"


def publish_report(home: NodeHome, data: bytes) -> str:
    """Put the report ``data`` on this node's public side; its SHA-256 (hex).

    Raises:
        FormatError (and its kinds): not a report.
        PolicyError: a person's report, or one another log key signed.
    """
    report = SubjectReport.from_bytes(data)
    require_public_subject(report.subject, "publish")
    if report.kid != home.log_key().kid:
        raise PolicyError("publish: the report is not signed by this node's log key")
    digest = hashlib.sha256(data).hexdigest()
    folder = home.path / PUBLISHED_DIR
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{digest}.credex-report"
    if not target.exists():
        tmp = folder / f".{digest}.tmp"
        tmp.write_bytes(data)
        os.chmod(tmp, 0o644)
        tmp.replace(target)
    return digest


def published_report(home: NodeHome, report_hash: str) -> bytes:
    """The bytes of the published report ``report_hash`` (64 lowercase hex).

    Raises:
        FormatError: not a hash.
        NotFoundError: not published here (or its file no longer hashes to its name).
        PolicyError: a person's report (never served, even if a file was put there).
    """
    if not _HASH_RE.fullmatch(report_hash):
        raise FormatError("report: expected a sha-256 hash (64 lowercase hex)")
    path = home.path / PUBLISHED_DIR / f"{report_hash}.credex-report"
    try:
        if path.stat().st_size > MAX_REPORT_BYTES:
            raise NotFoundError(f"report: {report_hash[:16]}… is not published here")
        data = path.read_bytes()
    except (FileNotFoundError, NotADirectoryError) as e:
        raise NotFoundError(f"report: {report_hash[:16]}… is not published here") from e
    if hashlib.sha256(data).hexdigest() != report_hash:
        raise NotFoundError(f"report: {report_hash[:16]}… is not published here")
    require_public_subject(SubjectReport.from_bytes(data).subject, "report")
    return data
