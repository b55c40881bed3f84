"""``credex audit`` against a real node over gRPC (TLS on 127.0.0.1): an auditor with only
a trust file, the node's CA and its endpoint follows the log, rebuilds the index and
checks each committed root; it resumes where it stopped; a log that signs a checkpoint
with an index root its entries do not give is caught: exit 1, portable evidence kept,
caught again on the next run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from integration.clirunner import make_cli

from credex.ledger.checkpoint import Checkpoint, SignedNote, sign_checkpoint
from credex.ledger.index_map import index_extension_line, map_input_of, map_pairs
from credex.ledger.record import Record, Subject
from credex.ledger.vindex import compute_root

from .support import T0, make_home, serve

ORIGIN = "credex.ningbo.example/log"


def _scores(n: int, offset: int = 0) -> list[Record]:
    return [
        Record(
            "score.city",
            "cn-zj-ningbo",
            Subject("org", "91330100MA0YX0016X"),
            {"scheme": "NINGBO", "score": 500 + i, "band": "良好", "as_of": "2026-11-01"},
            T0 + i,
        )
        for i in range(offset, offset + n)
    ]


def test_an_auditor_rebuilds_resumes_and_catches_a_false_index_root(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    home = make_home(tmp_path / "ningbo")
    cli = make_cli(capsys, monkeypatch)
    trust, ca, state = tmp_path / "trust.json", tmp_path / "ca.pem", tmp_path / "audit"
    trust.write_text(home.trust().to_json(), encoding="utf-8")
    with serve(home) as s:
        ca.write_bytes(s.tls.ca_pem())
        endpoint = f"127.0.0.1:{s.ports}"
        args = ("audit", ORIGIN, "--trust", trust, "--endpoint", endpoint, "--ca", ca)
        args += ("--state", state, "--json")
        s.node.issue(_scores(7), iat=T0)
        first = cli(*args)
        assert first.code == 0, first.out + first.err
        entries = s.node.log.entries(0, 7)
        rebuilt = compute_root(map_pairs(map_input_of(e.index, e.leaf) for e in entries))
        assert first.json["ok"] and first.json["audited_size"] == 7
        assert first.json["index_root"] == rebuilt.hex()
        # resumes: only the new entries are fetched and checked
        s.node.issue(_scores(3, offset=7), iat=T0)
        second = cli(*args)
        assert second.code == 0 and second.json["new_entries"] == 3, second.out
        # the log signs a checkpoint whose index line hides nothing but is false
        s.node.issue(_scores(2, offset=10), iat=T0)
        size = s.node.log.size
        root = s.node.log.root(size)
        forged = sign_checkpoint(
            Checkpoint(ORIGIN, size, root, (index_extension_line(b"\x11" * 32),)),
            ORIGIN,
            home.log_key(),
        )
        s.node.log.record_checkpoint(size, root, forged.to_text(), T0)
        caught = cli(*args)
        assert caught.code == 1, caught.out
        assert not caught.json["ok"] and "index root" in caught.json["error"]
        evidence = json.loads(Path(caught.json["evidence"]).read_text(encoding="utf-8"))
        assert evidence["kind"] == "index-root-mismatch"
        assert SignedNote.from_text(evidence["checkpoint"]).checkpoint.size == size
        assert evidence["rebuilt_root"] == s.node.index.root_at(size).hash.hex()
        again = cli(*args)  # and on every later run
        assert again.code == 1 and again.json["checkpoint_size"] == 10
