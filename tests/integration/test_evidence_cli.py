"""``credex evidence list / export / verify`` against a node home (SQLite and PostgreSQL).

The commands are mounted on a fresh typer app here (``evidence_cmds.register``), exactly as
``credex.cli.main`` mounts them.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from credex.cli import evidence_cmds
from credex.ledger.checkpoint import Checkpoint, sign_checkpoint
from credex.ledger.errors import ConsistencyProofError, InconsistentLogError
from credex.ledger.keys import SigningKey
from credex.ledger.merkle import MerkleTree
from credex.ledger.storage.witness import WitnessStore
from credex.ledger.trust import TrustedLog
from credex.ledger.witness import Witness
from credex.node.home import NodeHome

PEER = SigningKey(b"\x44" * 32)
PEER_ORIGIN = "credex.xiamen.example/log"
T0 = 1_780_000_000


def _app() -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def _root() -> None:
        """credex (test mount)."""

    evidence_cmds.register(app)
    return app


def _note(tree: MerkleTree, size: int) -> str:
    cp = Checkpoint(PEER_ORIGIN, size, tree.root(size))
    return sign_checkpoint(cp, PEER_ORIGIN, PEER).to_text()


@pytest.fixture
def home(tmp_path: Path, store_url: str) -> Path:
    path = tmp_path / "home"
    h = NodeHome.init(
        path,
        region="cn-zj-hangzhou",
        origin="credex.hangzhou.example/log",
        db=store_url,
        now=T0,
        log_seed=b"\x01" * 32,
        subject_secret=b"\x02" * 32,
        platform_seed=b"\x03" * 32,
    )
    honest = MerkleTree([f"e{i}".encode() for i in range(10)])
    forked = MerkleTree([f"e{i}".encode() if i < 5 else b"x" for i in range(10)])
    logs = {PEER_ORIGIN: TrustedLog(PEER_ORIGIN, PEER_ORIGIN, PEER.public_key)}
    with WitnessStore(h.db_url) as store:
        w = Witness("credex.hangzhou.example/witness", SigningKey(b"\x05" * 32), logs, store)
        w.add_checkpoint(0, [], _note(honest, 6), T0)
        with pytest.raises(InconsistentLogError):
            w.add_checkpoint(6, [], _note(forked, 6), T0 + 1)
        with pytest.raises(ConsistencyProofError):
            w.add_checkpoint(6, forked.consistency_proof(6, 10), _note(forked, 10), T0 + 2)
    return path


def test_list_export_verify(home: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    app = _app()
    r = runner.invoke(app, ["evidence", "list", "--home", str(home), "--json"])
    assert r.exit_code == 0, r.output
    listed = json.loads(r.output)
    assert [(e["id"], e["kind"], e["created_at"]) for e in listed] == [
        (1, "same-size-different-root", T0 + 1),
        (2, "inconsistent-proof", T0 + 2),
    ]
    assert listed[0]["conclusive"] is True and listed[1]["proof_hashes"] > 0
    r = runner.invoke(app, ["evidence", "list", "--home", str(home)])
    assert r.exit_code == 0 and "same-size-different-root" in r.output

    out = tmp_path / "split.cbor"
    r = runner.invoke(app, ["evidence", "export", "1", "-o", str(out), "--home", str(home)])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["evidence", "verify", str(out), "--json"])
    assert r.exit_code == 0, r.output
    v = json.loads(r.output)
    assert v["valid"] is True and v["kind"] == "same-size-different-root"
    assert v["a"]["tree_size"] == v["b"]["tree_size"] == 6 and v["a"]["root"] != v["b"]["root"]
    r = runner.invoke(
        app, ["evidence", "verify", str(out), "--conclusive", "--log-key", PEER.public_key.hex()]
    )
    assert r.exit_code == 0 and "VALID" in r.output

    # pinned to another key: refused
    r = runner.invoke(app, ["evidence", "verify", str(out), "--json", "--log-key", "00" * 32])
    assert r.exit_code == 1
    assert json.loads(r.output)["valid"] is False

    # the weaker kind verifies, but not with --conclusive
    weak = tmp_path / "proof.cbor"
    runner.invoke(app, ["evidence", "export", "2", "-o", str(weak), "--home", str(home)])
    assert runner.invoke(app, ["evidence", "verify", str(weak)]).exit_code == 0
    r = runner.invoke(app, ["evidence", "verify", str(weak), "--conclusive", "--json"])
    assert r.exit_code == 1 and "not conclusive" in json.loads(r.output)["error"]


def test_unknown_id(home: Path, tmp_path: Path) -> None:
    from credex.ledger.errors import NotFoundError

    r = CliRunner().invoke(
        _app(), ["evidence", "export", "9", "-o", str(tmp_path / "x"), "--home", str(home)]
    )
    assert isinstance(r.exception, NotFoundError)
