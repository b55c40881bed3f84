"""Gathering the views a node holds for conflict detection (SQLite and PostgreSQL), the
registry level of a bare score, and the README section of ``credex conflicts``."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from credex.adapters.sample import score_records
from credex.cli.main import main
from credex.ledger.record import Record, Subject
from credex.ledger.storage.sql import SqlStore
from credex.node.federation.peers import PeerRegistry, mirror_url
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.services.conflicts import gather_views, node_conflicts, registry_level

T0 = 1_780_272_000
ROOT = Path(__file__).resolve().parents[3]
CA = "-----BEGIN CERTIFICATE-----\nAA==\n-----END CERTIFICATE-----\n"
PEER = "credex.hangzhou.example/log"


def _home(tmp_path: Path, store_url: str) -> NodeHome:
    return NodeHome.init(
        tmp_path / "ningbo",
        region="cn-zj-ningbo",
        origin="credex.ningbo.example/log",
        db=None if store_url.startswith("sqlite") else store_url,
        now=T0,
        log_seed=b"\x01" * 32,
        subject_secret=b"\x02" * 32,
        platform_seed=b"\x03" * 32,
    )


def _drop_mirrors(url: str) -> None:
    if url.startswith("sqlite"):
        return
    from sqlalchemy import create_engine, make_url, text

    base = str(make_url(url).query["options"]).split("search_path=", 1)[1]
    engine = create_engine(url)
    try:
        with engine.begin() as conn:
            rows = conn.execute(
                text("SELECT nspname FROM pg_namespace WHERE nspname LIKE :p"),
                {"p": f"{base[:40]}_mirror_%"},
            )
            for (name,) in list(rows):
                conn.exec_driver_sql(f'DROP SCHEMA IF EXISTS "{name}" CASCADE')
    finally:
        engine.dispose()


def test_gather_reads_only_records_of_interest(tmp_path: Path, store_url: str) -> None:
    home = _home(tmp_path, store_url)
    scores = score_records(home.region, home.subject_key(), 5, seed=1, as_of=date(2026, 5, 31))
    body = {"name": "n", "version": 1, "rules": {}}
    policy = Record(
        "policy.conversion", home.region, Subject("person", "hmac:00000000:" + "00" * 32), body, T0
    )
    with LocalNode(home) as node:
        node.issue([*scores, policy], iat=T0)
    try:
        observed, views, unreadable, notes = gather_views(home, chunk=2)
        assert [(v.holder, v.origin, v.size) for v in views] == [(home.origin, home.origin, 6)]
        assert [o.leaf_index for o in observed] == [0, 1, 2, 3, 4]  # not the policy
        assert unreadable == 0 and notes == []
        # a followed peer: no mirror yet, then an empty mirror behind the peer's checkpoint
        PeerRegistry(home).add(PEER, "127.0.0.1:1", CA, T0)
        _, views, _, notes = gather_views(home)
        assert len(views) == 1 and notes == [
            f"{home.origin} holds no mirrored entries of {PEER} yet"
        ]
        SqlStore(mirror_url(home, PEER)).close()
        PeerRegistry(home).record_status(PEER, {"checkpoint_size": 5, "mirrored_size": 0})
        report = node_conflicts(home.path, T0 + 86_400, compare=[home])
        assert report.conflicts == ()
        assert [(v.origin, v.size) for v in report.views] == [(home.origin, 6)]
        assert f"the mirror of {PEER} at {home.origin} is behind" in report.notes[1]
    finally:
        _drop_mirrors(store_url)


def test_registry_level_of_a_bare_score() -> None:
    key_rec = score_records("cn-zj-hangzhou", _key(), 1, seed=2, as_of=date(2026, 5, 31))[0]
    body = {k: v for k, v in key_rec.body.items() if k != "level"}
    bare = Record(key_rec.kind, key_rec.region, key_rec.subject, body, key_rec.valid_from)
    assert registry_level(bare) == key_rec.body["level"]
    unknown = Record(bare.kind, bare.region, bare.subject, {**body, "scheme": "NOPE"}, 0)
    assert registry_level(unknown) is None


def _key():
    from credex.ledger.subject import SubjectKey

    return SubjectKey.from_secret(b"\x05" * 32)


def test_readme_documents_conflicts_and_its_help_works(capsys: pytest.CaptureFixture[str]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert "## Conflicts across regions" in readme and "credex conflicts --home" in readme
    for t in ("listed-red-and-black", "repaired-but-used", "stale-mirror", "score-divergence"):
        assert f"`{t}`" in readme
    with pytest.raises(SystemExit) as e:
        main(["conflicts", "--help"])
    assert e.value.code == 0
    out = capsys.readouterr().out
    assert "Usage:" in out and "--as-of" in out and "--compare" in out
