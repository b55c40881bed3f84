"""The local credex story, end to end, in a temporary home (``credex demo``); then the
federation (parts 2 and 3, ``credex.node.demo.federation``) and the seeds' regional
systems (part 4, ``credex.node.demo.regional``).

init a Ningbo node -> import a synthetic 双公示 penalty CSV -> issue city scores ->
checkpoint -> bundle a record -> verify it offline with the exported trust file ->
tamper with copies (signature byte, payload byte, checkpoint root) and show each failing
at its named step. Returns a structured result; the CLI prints it.
"""

from __future__ import annotations

import csv
import io
import logging
import os
import tempfile
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from credex.adapters.registry import ADAPTERS
from credex.adapters.sample import penalty_csv, score_records
from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import SignedNote
from credex.ledger.dates import cst_date
from credex.ledger.errors import ConfigError
from credex.ledger.trust import TrustStore
from credex.ledger.verify import run_verification
from credex.node.demo.federation import run_federation_demo
from credex.node.demo.regional import run_regional_demo
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.services.importer import import_bytes

__all__ = ["run_demo"]


def _tamper_signature(data: bytes) -> bytes:
    b = Bundle.from_bytes(data)
    st = bytearray(b.statement)
    # the leaf is 18([protected, {...}, payload, signature]); the issuer signature's 64
    # bytes sit right before the receipt map's start in the holder encoding, so flip a byte
    # found by searching for the signature itself
    from credex.ledger.statement import Statement

    sig = Statement.from_bytes(b.statement).signature
    pos = bytes(st).index(sig) + 10
    st[pos] ^= 0x01
    return Bundle(bytes(st), b.checkpoint, preimage=b.preimage).to_bytes()


def _tamper_payload(data: bytes) -> bytes:
    """A digit of the score's as_of date changed: still valid CBOR, new meaning. A
    person's score is a hash envelope, so the body is the bundle's preimage."""
    b = Bundle.from_bytes(data)
    if b.preimage is not None:
        body = bytearray(b.preimage)
        body[bytes(body).index(b"as_of") + 8] ^= 0x01
        return Bundle(b.statement, b.checkpoint, preimage=bytes(body)).to_bytes()
    st = bytearray(b.statement)
    pos = bytes(st).index(b"as_of")  # a byte inside the record body text
    st[pos + 8] ^= 0x01
    return Bundle(bytes(st), b.checkpoint).to_bytes()


def _tamper_checkpoint(data: bytes) -> bytes:
    b = Bundle.from_bytes(data)
    note = SignedNote.from_text(b.checkpoint)
    lines = note.body.split("\n")
    root = bytearray(__import__("base64").b64decode(lines[2]))
    root[0] ^= 0x80
    lines[2] = __import__("base64").b64encode(bytes(root)).decode()
    forged = SignedNote("\n".join(lines), note.signatures)
    return Bundle(b.statement, forged.to_text(), preimage=b.preimage).to_bytes()


def _with_bad_rows(csv_bytes: bytes) -> bytes:
    """Append two broken copies of the first organisation row: a wrong USCC check
    character and an impossible decision date, so the demo shows line-numbered rejects."""
    rows = list(csv.reader(io.StringIO(csv_bytes.decode("utf-8-sig"))))
    header, body = rows[0], rows[1:]
    code = header.index("行政相对人代码_1（统一社会信用代码）")
    org = next(r for r in body if r[code])
    bad_code = list(org)
    last = bad_code[code][-1]
    bad_code[code] = bad_code[code][:-1] + ("0" if last != "0" else "1")
    bad_date = list(org)
    bad_date[header.index("处罚决定日期")] = "2025-13-45"
    out = io.StringIO()
    csv.writer(out, lineterminator="\r\n").writerows([header, *body, bad_code, bad_date])
    return b"\xef\xbb\xbf" + out.getvalue().encode()


def run_demo(
    progress: Callable[[str], None] = lambda _: None,
    keep: Path | None = None,
    *,
    federation: bool = True,
) -> dict[str, Any]:
    """Run the story; with ``keep``, its files (node homes, CSV, bundle, trust file) stay
    in that new directory for inspection instead of a temporary one. ``federation`` adds
    part 2, five real nodes (``credex.node.demo.federation``)."""
    if keep is not None:
        if keep.exists() and any(keep.iterdir()):
            raise ConfigError(f"demo: directory is not empty: {keep}")
        keep.mkdir(parents=True, exist_ok=True)
        return _both(keep, progress, federation)
    with tempfile.TemporaryDirectory(prefix="credex-demo-") as tmp:
        return _both(Path(tmp), progress, federation)


def _both(base: Path, progress: Callable[[str], None], federation: bool) -> dict[str, Any]:
    (base / "local").mkdir()
    out = _run(base / "local", progress)
    if federation:
        (base / "federation").mkdir()
        quiet = logging.getLogger("credex")
        level = quiet.level
        quiet.setLevel(logging.ERROR)  # the refusals of part 2 are expected, not warnings
        try:
            out["federation"] = run_federation_demo(base / "federation", progress)
        finally:
            quiet.setLevel(level)
        out["ok"] = out["ok"] and out["federation"]["ok"]
    # part 4: the seeds' regional systems, on homes of their own (no servers needed)
    now = int(datetime.now(UTC).timestamp())
    out["regional"] = run_regional_demo(base / "regional", progress, today=cst_date(now), now=now)
    out["ok"] = out["ok"] and out["regional"]["ok"]
    return out


def _run(base: Path, progress: Callable[[str], None]) -> dict[str, Any]:
    now = int(datetime.now(UTC).timestamp())
    today = cst_date(now)  # the day in China, as every record and message dates it
    out: dict[str, Any] = {"steps": []}
    progress("init node cn-zj-ningbo")
    home = NodeHome.init(
        base / "ningbo",
        region="cn-zj-ningbo",
        origin="credex.ningbo.example/log",
        db=None,
        now=now,
        log_seed=os.urandom(32),
        subject_secret=os.urandom(32),
        platform_seed=os.urandom(32),
    )
    out["steps"].append(
        {
            "step": "init",
            "region": home.region,
            "origin": home.origin,
            "log_public_key": home.log_key().public_key.hex(),
        }
    )
    data_csv = _with_bad_rows(penalty_csv("cn-zj-ningbo", rows=24, seed=1, reference_date=today))
    (base / "penalties.csv").write_bytes(data_csv)
    with LocalNode(home) as node:
        progress("import 双公示 penalty CSV")
        summary = import_bytes(node, ADAPTERS["penalty-csv"], data_csv, iat=now)
        out["steps"].append({"step": "import", **summary.to_json_value()})
        again = import_bytes(node, ADAPTERS["penalty-csv"], data_csv, iat=now)
        out["steps"].append(
            {
                "step": "re-import",
                "imported": again.imported,
                "already_present": again.already_present,
            }
        )
        progress("issue city scores (天一分, placeholder bands)")
        scores = score_records("cn-zj-ningbo", home.subject_key(), 12, seed=2, as_of=today)
        results = node.issue(scores, iat=now)
        out["steps"].append(
            {"step": "issue-scores", "issued": len(results), "first_index": results[0].index}
        )
        note = node.publish_checkpoint(now)
        cp = note.checkpoint
        out["steps"].append(
            {
                "step": "checkpoint",
                "tree_size": cp.size,
                "root": cp.root.hex(),
                "note": note.to_text(),
            }
        )
        index = results[0].index
        # the operator's own node writes the bundle (``credex lifecycle bundle``): the
        # body with it, and the status it checked
        data = node.bundle_with_status(index, now, with_body=True).to_bytes()
    bundle_path = base / "score.credex"
    bundle_path.write_bytes(data)
    trust_text = home.trust().to_json()
    (base / "trust.json").write_text(trust_text, encoding="utf-8")
    trust = TrustStore.from_json(trust_text)
    progress("verify the bundle offline")
    report = run_verification(data, trust)
    out["bundle"] = {"index": index, "bytes": len(data)}
    out["verify"] = report.to_json_value()
    out["tampered"] = []
    for name, fn in (
        ("issuer signature byte flipped", _tamper_signature),
        ("record body byte flipped", _tamper_payload),
        ("checkpoint root altered", _tamper_checkpoint),
    ):
        bad = run_verification(fn(data), trust)
        out["tampered"].append(
            {
                "tamper": name,
                "verdict": "valid" if bad.ok else "invalid",
                "failed_step": bad.failed_step,
                "step_name": None if bad.failed_step is None else bad.steps[-1].name,
                "error": str(bad.error),
            }
        )
    out["ok"] = report.ok and all(t["verdict"] == "invalid" for t in out["tampered"])
    return out
