"""One writer, whoever holds the pen: the command line next to a running ``credex serve``.

Real ``credex serve`` processes (``serve_process``) and in-process ``credex`` commands on
the same homes, in both orders:

- server first, then commands: entries issued and a ``credex checkpoint`` while it runs
  (signed by the server: no "log shrank", every checkpoint consistent with the last),
  a client registered while it runs (its mTLS calls are accepted at once), a federation
  created, joined and changed while both servers run (the witness answers, new members
  are followed, a new manifest version travels to the other server);
- commands first, then the server: it serves what they wrote, consistently;
- a second server on the same home is refused; a command while the server holds the
  home but does not answer (stopping) either lands (an append, seen after a restart) or
  is refused with one line (anything that needs a checkpoint).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from credex.ledger.checkpoint import SignedNote
from credex.ledger.merkle import verify_consistency
from credex.node.federation.manifests import load_chain
from credex.node.home import NodeHome
from credex.node.pen import ServeLock
from credex.node.rpc.client import PeerClient
from credex.node.rpc.tls import NodeTls

from .clirunner import Cli, init_home, make_cli
from .serve_process import ServeProcess

ORG = "91330200MA0YX00163"
A = ("cn-zj-ningbo", "credex.a.example/log")
B = ("cn-zj-hangzhou", "credex.b.example/log")


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    return make_cli(capsys, monkeypatch)


def _issue(cli: Cli, home: Path, n: int, start: int = 0) -> None:
    for i in range(start, start + n):
        body = {
            "scheme": "NINGBO_TIANYI_PLACEHOLDER",
            "score": 600 + i,
            "band": "x",
            "as_of": "2026-11-01",
        }
        r = cli(
            "issue",
            "--home",
            home,
            "--kind",
            "score.city",
            "--subject",
            ORG,
            "--body",
            json.dumps(body),
        )
        assert r.code == 0, r.err


def _note(server: ServeProcess, home: Path) -> SignedNote:
    ca = NodeTls(home, name=NodeHome.open(home).region).ca_pem()
    with PeerClient(server.public, ca_pem=ca) as c:
        return SignedNote.from_text(c.get_checkpoint())


def _consistent(server: ServeProcess, home: Path, old: SignedNote, new: SignedNote) -> None:
    ca = NodeTls(home, name=NodeHome.open(home).region).ca_pem()
    o, n = old.checkpoint, new.checkpoint
    with PeerClient(server.public, ca_pem=ca) as c:
        proof = c.get_consistency_proof(o.size, n.size) if o.size < n.size else []
    verify_consistency(o.size, n.size, o.root, n.root, proof)


def test_server_first_then_commands(cli: Cli, tmp_path: Path) -> None:
    a = init_home(cli, tmp_path / "a", *A)
    b = init_home(cli, tmp_path / "b", *B)
    with (
        ServeProcess(a, "--follow", "1").started() as sa,
        ServeProcess(b, "--follow", "1").started() as sb,
    ):
        # entries written by commands are served, and checkpointed by the server only
        _issue(cli, a, 3)
        first = _note(sa, a)
        assert first.checkpoint.size == 3
        _issue(cli, a, 2, start=3)
        r = cli("checkpoint", "--home", a, "--json")  # asks the server, which signs it
        assert r.code == 0, r.err
        assert r.json["tree_size"] == 5
        second = _note(sa, a)
        assert second.checkpoint.size == 5 and second.to_text().startswith(
            r.json["note"].split("\n\n")[0]
        )
        _consistent(sa, a, first, second)
        # a client registered while the server runs is accepted at once
        r = cli("client", "add", "bank", "--role", "bank", "-o", tmp_path / "bank", "--home", a)
        assert r.code == 0, r.err
        d = tmp_path / "bank"
        with PeerClient(
            sa.public,
            mtls_endpoint=sa.mtls,
            ca_pem=(d / "ca.pem").read_bytes(),
            client_cert=(d / "bank.pem").read_bytes(),
            client_key=(d / "bank.key").read_bytes(),
        ) as bank:
            answer = bank.lookup(subject=ORG, purpose="eligibility", authorisation="loan:1")
        assert len(answer.records) == 5
        # a federation made while both servers run: no restart anywhere
        info = tmp_path / "b.json"
        r = cli("node", "info", "--home", b, "--json")
        assert r.code == 0, r.err
        info.write_text(r.out, encoding="utf-8")
        for args in (
            ["init", "yangtze", "--endpoint", sa.public, "--mtls-endpoint", sa.mtls],
            [
                "add-member",
                "--from-info",
                info,
                "--endpoint",
                sb.public,
                "--mtls-endpoint",
                sb.mtls,
            ],
            ["set-quorum", "1"],
            ["export", "-o", tmp_path / "y.manifest"],
        ):
            r = cli("federation", *args, "--home", a, "--json")
            assert r.code == 0, r.err
        pin_hash = load_chain(NodeHome.open(a))[0].hash.hex()
        r = cli("federation", "import", tmp_path / "y.manifest", "--pin", pin_hash, "--home", b)
        assert r.code == 0, r.err
        # each server follows the other on its own (no `peers add`), and witnesses it
        sa.wait_for(f"following {B[1]}")
        sb.wait_for(f"following {A[1]}")
        r = cli("peers", "witness", "--home", a, "--json")  # B's witness answers
        assert r.code == 0, r.out + r.err
        assert r.json["cosignatures"] == 1 and r.json["errors"] == {}
        # a new version made at A travels to B's server and is in force there
        r = cli(
            "federation", "delegate-add", "--home", a, "--region", A[0], "--issuer",
            f"{B[0]}/platform", "--kinds", "penalty.admin", "--from", "2026-01-01", "--json",
        )  # fmt: skip
        assert r.code == 0 and r.json["version"] == 4, r.err
        sb.wait_for("manifest: installed version 4 from")
        r = cli("federation", "show", "--home", b, "--json")
        assert r.json["version"] == 4 and len(r.json["delegations"]) == 1
        # and A's log is still one consistent history, whatever wrote to it
        _consistent(sa, a, second, _note(sa, a))
    assert sa.proc.returncode == 0 and sb.proc.returncode == 0
    for s in (sa, sb):
        assert "log shrank" not in s.log() and "Traceback" not in s.log()


def test_commands_first_then_server(cli: Cli, tmp_path: Path) -> None:
    a = init_home(cli, tmp_path / "a", *A)
    _issue(cli, a, 3)
    r = cli("checkpoint", "--home", a, "--json")  # no server: this command signs
    assert r.code == 0 and r.json["tree_size"] == 3
    signed = SignedNote.from_text(r.json["note"])
    with ServeProcess(a).started() as sa:
        served = _note(sa, a)
        assert served.checkpoint == signed.checkpoint
        _issue(cli, a, 2, start=3)
        later = _note(sa, a)
        assert later.checkpoint.size == 5
        _consistent(sa, a, served, later)
    assert sa.proc.returncode == 0


def test_a_second_server_on_one_home_is_refused(cli: Cli, tmp_path: Path) -> None:
    a = init_home(cli, tmp_path / "a", *A)
    with ServeProcess(a).started() as first:
        second = ServeProcess(a)
        assert second.proc.wait(timeout=60) == 2
        err = second.log()
        assert err.count("\n") == 1 and err.startswith("credex: error: serve: another credex ")
        assert f"(pid {first.proc.pid})" in err
        second.stop()


def test_commands_while_the_server_stops(cli: Cli, tmp_path: Path) -> None:
    """The home is held by a server that no longer answers (it is stopping): an append
    lands in the log, a command that needs a checkpoint is refused in one line; a new
    server then serves what landed."""
    a = init_home(cli, tmp_path / "a", *A)
    _issue(cli, a, 1)
    assert cli("node", "info", "--home", a).code == 0  # TLS material, as a server makes it
    config = json.loads((a / "node.json").read_text())
    config["listen"] = "127.0.0.1:9"  # nothing answers there
    (a / "node.json").write_text(json.dumps(config))
    with ServeLock(a):
        _issue(cli, a, 1, start=1)  # durable: the log is the database, not the server
        for args in (["checkpoint"], ["bundle", "1", "-o", tmp_path / "x.credex"]):
            r = cli(*args, "--home", a)
            assert r.code == 1, r.out
            assert r.err.startswith("credex: error: checkpoint: credex serve (pid ")
            assert "did not answer at 127.0.0.1:9 (stopping?)" in r.err
        assert not (tmp_path / "x.credex").exists()
    with ServeProcess(a).started() as sa:
        assert _note(sa, a).checkpoint.size == 2
        r = cli("bundle", "1", "-o", tmp_path / "x.credex", "--home", a)
        assert r.code == 0, r.err
    assert sa.proc.returncode == 0
