"""``credex conflicts`` end to end: two real nodes on 127.0.0.1 with TLS servers, a signed
manifest, cosignatures and verified mirrors (``federate.sync_peer``).

Ningbo black-lists a company and issues a 天一分 score; Hangzhou red-lists the same
company and recognises the score (a ``derived.score`` under its logged policy). After one
round, Hangzhou sees ``listed-red-and-black``. Ningbo then repairs the black-list entry
and withdraws the score: before Hangzhou syncs again, Ningbo comparing its views with
Hangzhou's shows Hangzhou's copy as a ``stale-mirror`` and the derived record as
``repaired-but-used``; after the sync, Hangzhou's red/black conflict is gone and the
``repaired-but-used`` remains until Hangzhou withdraws its derived record. Hangzhou runs
on SQLite and PostgreSQL (``store_url``).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from credex.adapters.sample import score_records
from credex.ledger.derive import build_derived_record
from credex.ledger.manifest import Manifest, ManifestBody
from credex.ledger.record import Record, Subject
from credex.node import federation as federate
from credex.node.demo.federation import FederationMember, free_port
from credex.node.federation import manifests as fed
from credex.node.home import NodeHome
from credex.node.local import find_statement
from credex.node.services.conflicts import node_conflicts
from credex.node.services.lifecycle import add_lifecycle
from credex.node.services.recognition import add_policy

from .clirunner import Cli, make_cli

T0 = 1_780_272_000  # 2026-06-01T00:00:00Z
DAY = 86_400
AS_OF = T0 + 3 * DAY
COMPANY = Subject("org", "91330100MA0YX0016X")
NINGBO = ("cn-zj-ningbo", "credex.ningbo.example/log", 1)
HANGZHOU = ("cn-zj-hangzhou", "credex.hangzhou.example/log", 2)
POLICY = {
    "name": "tianyi-to-qianjiang",
    "version": 1,
    "rules": {
        "type": "band_table",
        "source_scheme": "NINGBO_TIANYI_PLACEHOLDER",
        "target_scheme": "HANGZHOU_QIANJIANG",
        "table": {f"placeholder-{i}": f"L{i}" for i in range(1, 6)},
    },
}


def _now() -> int:
    return int(time.time())


@dataclass
class Pair:
    manifest: Manifest
    ningbo: FederationMember
    hangzhou: FederationMember

    def round(self, *pairs: tuple[FederationMember, FederationMember]) -> None:
        """Each (follower, followed): the followed publishes and gets cosigned, then the
        follower mirrors it."""
        for follower, followed in pairs:
            assert followed.collect(self.manifest) == {}
            r = federate.sync_peer(follower.home, followed.origin, _now(), manifest=self.manifest)
            assert r.error is None, r.error


def _pair(root: Path, hz_db: str | None) -> Pair:
    homes = []
    for (region, origin, seed), db in ((NINGBO, None), (HANGZHOU, hz_db)):
        homes.append(
            NodeHome.init(
                root / region,
                region=region,
                origin=origin,
                db=db,
                now=T0,
                log_seed=bytes([seed]) * 32,
                subject_secret=b"\x02" * 32,
                platform_seed=bytes([seed + 16]) * 32,
            )
        )
    nodes = [
        FederationMember(h, f"127.0.0.1:{free_port()}", f"127.0.0.1:{free_port()}") for h in homes
    ]
    members = []
    for n in nodes:
        sha, chain = fed.node_tls_chain(n.home, _now())
        members.append(
            fed.local_member(
                n.home, endpoint=n.public, tls_sha256=sha, mtls_endpoint=n.mtls, tls_chain_pem=chain
            )
        )
    admin = fed.admin_key(homes[0], create=True)
    body = ManifestBody("yangtze", 1, None, T0, tuple(members), 1, (admin.public_key,), 1)
    proposal = fed.propose(homes[0], body, _now())
    fed.install(homes[1], proposal.signed, _now())
    manifest = fed.load_manifest(homes[1])
    for n in nodes:
        federate.add_peers_from_manifest(n.home, manifest, _now())
        n.start(manifest)
    return Pair(manifest, nodes[0], nodes[1])


@pytest.fixture
def pair(tmp_path: Path, store_url: str) -> Iterator[Pair]:
    p = _pair(tmp_path, None if store_url.startswith("sqlite") else store_url)
    try:
        yield p
    finally:
        p.ningbo.close()
        p.hangzhou.close()
        if not store_url.startswith("sqlite"):
            _drop_mirror_schemas(store_url)


def _drop_mirror_schemas(url: str) -> None:
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


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    return make_cli(capsys, monkeypatch)


def _listing(kind: str, region: str, **extra: str) -> Record:
    body = {"list_name": "示例名单", "authority": "示例局", "listed_on": "2026-01-05", **extra}
    return Record(kind, region, COMPANY, body, T0 - 150 * DAY)


def _types(cli: Cli, home: Path, *extra: object, code: int | None = None) -> list[str]:
    r = cli("conflicts", "--home", home, "--as-of", AS_OF, "--json", *extra)
    if code is not None:
        assert r.code == code, r.text
    assert r.code == (1 if r.json["conflicts"] else 0), r.text
    assert "示例" not in r.out  # no body content
    return sorted(c["type"] for c in r.json["conflicts"])


def test_conflicts_across_two_real_nodes(pair: Pair, cli: Cli) -> None:
    nb, hz = pair.ningbo, pair.hangzhou
    assert nb.node is not None and hz.node is not None
    black = nb.node.issue([_listing("list.black", nb.home.region, reason="严重失信")], iat=T0)[0]
    score = score_records(nb.home.region, nb.home.subject_key(), 2, seed=1, as_of=date(2026, 5, 31))
    scored = nb.node.issue(score[1:], iat=T0)[0]
    red = hz.node.issue([_listing("list.red", hz.home.region)], iat=T0)[0]
    policy = add_policy(hz.node, POLICY, now=T0)
    _, policy_st = find_statement(hz.node, policy.leaf_hash)
    _, source = find_statement(nb.node, scored.leaf_hash)
    derived_rec = build_derived_record(
        policy_st.record, policy.leaf_hash, [(source.record, source.leaf_hash)], hz.home.region, T0
    )
    derived = hz.node.issue([derived_rec], iat=T0)[0]
    pair.round((hz, nb), (nb, hz))

    # Hangzhou: its red list entry and Ningbo's black list entry (from its mirror)
    r = cli("conflicts", "--home", hz.home.path, "--as-of", AS_OF, "--json")
    assert r.code == 1, r.text
    (c,) = r.json["conflicts"]
    assert c["type"] == "listed-red-and-black" and c["severity"] == "high"
    assert c["leaf_hashes"] == [red.leaf_hash.hex(), black.leaf_hash.hex()]
    assert c["regions"] == [hz.home.region, nb.home.region]
    assert c["views"] == [hz.origin, f"{nb.origin}@{hz.origin}"]
    assert {(v["holder"], v["origin"]) for v in r.json["views"]} == {
        (hz.origin, hz.origin),
        (hz.origin, nb.origin),
    }
    text = cli("conflicts", "--home", hz.home.path, "--as-of", "2026-06-04")
    assert text.code == 1 and "listed-red-and-black" in text.out and "示例" not in text.out
    assert _types(cli, hz.home.path, "--type", "score-divergence", code=0) == []

    # Ningbo repairs the black list entry and withdraws the score it recognised from
    add_lifecycle(
        nb.node, black.leaf_hash, "lifecycle.repair",
        {"route": "移出严重失信主体名单", "decided_on": "2026-06-02"}, now=T0 + DAY,
    )  # fmt: skip
    add_lifecycle(
        nb.node, scored.leaf_hash, "lifecycle.withdrawal",
        {"reason": "评分有误", "withdrawn_on": "2026-06-02"}, now=T0 + DAY,
    )  # fmt: skip
    # Hangzhou has not synced: it cannot know yet
    assert _types(cli, hz.home.path) == ["listed-red-and-black"]
    # Ningbo alone cannot see it: Hangzhou's derived record is about a person, so Ningbo's
    # mirror holds only its hash envelope (its refs are in the body Hangzhou keeps)
    assert _types(cli, nb.home.path, code=0) == []
    both = cli(
        "conflicts", "--home", nb.home.path, "--compare", hz.home.path, "--as-of", AS_OF, "--json"
    )
    assert both.code == 1
    found = {(c["type"], tuple(c["leaf_hashes"])) for c in both.json["conflicts"]}
    assert found == {
        ("stale-mirror", (black.leaf_hash.hex(),)),
        ("stale-mirror", (scored.leaf_hash.hex(),)),
        ("repaired-but-used", (scored.leaf_hash.hex(), derived.leaf_hash.hex())),
    }
    stale = next(c for c in both.json["conflicts"] if c["type"] == "stale-mirror")
    assert stale["views"] == [f"{nb.origin}@{hz.origin}", nb.origin]

    # Hangzhou syncs: the red/black conflict is gone, the derived record is still used
    pair.round((hz, nb))
    assert _types(cli, hz.home.path) == ["repaired-but-used"]
    assert _types(cli, nb.home.path, "--compare", hz.home.path) == ["repaired-but-used"]
    # ... until Hangzhou withdraws it
    add_lifecycle(
        hz.node, derived.leaf_hash, "lifecycle.withdrawal",
        {"reason": "来源已撤回", "withdrawn_on": "2026-06-03"}, now=T0 + 2 * DAY,
    )  # fmt: skip
    assert _types(cli, hz.home.path, code=0) == []
    report = node_conflicts(hz.home.path, AS_OF, chunk=2)  # small chunks: same answer
    assert report.conflicts == () and report.compared == 4  # red, derived, black, score


def test_conflicts_cli_usage(cli: Cli, tmp_path: Path) -> None:
    r = cli("conflicts", "--home", tmp_path / "nowhere")
    assert r.code == 2 and "no credex node" in r.err
    home = tmp_path / "h"
    assert cli("init", home, "--region", "cn-zj-ningbo", "--origin", "nb.example/log").code == 0
    r = cli("conflicts", "--home", home, "--type", "nope")
    assert r.code == 1 and "unknown type" in r.err
    r = cli("conflicts", "--home", home, "--as-of", "not a date")
    assert r.code == 1 and "cannot parse" in r.err
    r = cli("conflicts", "--home", home, "--as-of", "2026-06-01", "--json")
    assert r.code == 0 and r.json["conflicts"] == [] and r.json["compared"] == 0
    assert r.json["as_of"] == T0 - 8 * 3600  # 00:00 China Standard Time
    assert cli("conflicts", "--home", home, "--as-of", "20260601", "--json").json["as_of"] == (
        T0 - 8 * 3600
    )
    assert cli("conflicts", "--home", home, "--as-of", T0, "--json").json["as_of"] == T0
    r = cli("conflicts", "--home", home)
    assert r.code == 0 and "no conflicts" in r.out
