"""The command line of a federation in operation, on homes without servers.

Quorum and membership through new versions (``set-quorum``, ``remove-member``; ``init``
refuses a quorum its one member cannot meet), a bank checking a chain against its pin
with no home (``federation verify``), certificates for peers and the names they cover
(``node cert``, ``--san``, refused once the manifest pins the certificate), the shipped
policies (``policy add --builtin``), and days instead of Unix seconds where people read
them (``issuer list``, ``peers status``, ``federation show``). Errors are one line.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from credex.node.federation.manifests import load_chain
from credex.node.home import NodeHome

from .clirunner import Cli, init_home, make_cli


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    return make_cli(capsys, monkeypatch)


def _homes(cli: Cli, tmp_path: Path, n: int) -> list[Path]:
    regions = ["cn-zj-ningbo", "cn-zj-hangzhou", "cn-fj-xiamen"][:n]
    return [
        init_home(cli, tmp_path / r, r, f"credex.{r.split('-')[-1]}.example/log") for r in regions
    ]


def _federation(cli: Cli, tmp_path: Path, n: int = 3) -> list[Path]:
    homes = _homes(cli, tmp_path, n)
    r = cli("federation", "init", "yangtze", "--endpoint", "127.0.0.1:7001", "--home", homes[0])
    assert r.code == 0, r.err
    for k, h in enumerate(homes[1:], 2):
        info = tmp_path / f"{k}.json"
        out = cli("node", "info", "--home", h, "--json")
        info.write_text(out.out, encoding="utf-8")
        r = cli("federation", "add-member", "--from-info", info, "--endpoint",
                f"127.0.0.1:70{k:02d}", "--home", homes[0])  # fmt: skip
        assert r.code == 0, r.err
    return homes


def test_init_refuses_a_quorum_its_members_cannot_meet(cli: Cli, tmp_path: Path) -> None:
    (a,) = _homes(cli, tmp_path, 1)
    r = cli("federation", "init", "yangtze", "--endpoint", "127.0.0.1:7001", "--quorum", "2",
            "--home", a)  # fmt: skip
    assert r.code == 2 and r.err.count("\n") == 1
    assert "--quorum 2 cannot be met" in r.err and "set-quorum" in r.err
    assert not load_chain(NodeHome.open(a))  # nothing installed


def test_set_quorum_and_remove_member(cli: Cli, tmp_path: Path) -> None:
    a = _federation(cli, tmp_path)[0]
    r = cli("federation", "set-quorum", "3", "--home", a)
    assert r.code == 2 and "quorum 3 cannot be met: with 3 member(s)" in r.err
    assert r.err.count("\n") == 1
    r = cli("federation", "set-quorum", "2", "--home", a, "--json")
    assert r.code == 0 and r.json["installed"] and r.json["version"] == 4, r.err
    r = cli("federation", "delegate-add", "--region", "cn-zj-ningbo", "--issuer",
            "cn-fj-xiamen/platform", "--kinds", "penalty.admin", "--from", "2026-01-01",
            "--home", a)  # fmt: skip
    assert r.code == 0, r.err
    # k=2 needs two other members: removing one of three needs a lower quorum
    r = cli("federation", "remove-member", "--region", "cn-fj-xiamen", "--home", a)
    assert r.code == 2 and "(pass --quorum K)" in r.err and "cannot be met" in r.err
    r = cli("federation", "remove-member", "--region", "cn-zj-ningbo", "--home", a)
    assert r.code == 2 and "this node's own region" in r.err
    r = cli("federation", "remove-member", "--region", "cn-fj-xiamen", "--quorum", "1",
            "--home", a, "--json")  # fmt: skip
    assert r.code == 0 and r.json["installed"] and r.json["version"] == 6, r.err
    shown = cli("federation", "show", "--home", a, "--json").json
    assert [m["region"] for m in shown["members"]] == ["cn-zj-hangzhou", "cn-zj-ningbo"]
    assert shown["quorum"] == {"k": 1, "n": 1} and shown["delegations"] == []
    assert shown["refused"] == []


def test_federation_verify_needs_no_home(
    cli: Cli, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    a, _, _ = _federation(cli, tmp_path)
    chain = tmp_path / "yangtze.manifest"
    assert cli("federation", "export", "-o", chain, "--home", a).code == 0
    pin = load_chain(NodeHome.open(a))[0].hash.hex()
    monkeypatch.chdir(tmp_path)
    r = cli("federation", "verify", chain, "--pin", pin, "--json")
    assert r.code == 0, r.err
    assert r.json["versions"] == 3 and r.json["version_1"] == pin
    assert r.json["members"] == ["cn-fj-xiamen", "cn-zj-hangzhou", "cn-zj-ningbo"]
    r = cli("federation", "verify", chain, "--pin", "00" * 32)
    assert r.code == 1 and r.err.startswith("credex: error: manifest: version 1 is not the pinned")


def test_node_cert_and_names(cli: Cli, tmp_path: Path) -> None:
    a, b = _homes(cli, tmp_path, 2)
    r = cli("node", "cert", "-o", tmp_path / "b-node.pem", "--ca-out", tmp_path / "b-ca.pem",
            "--san", "hangzhou.example", "--home", b, "--json")  # fmt: skip
    assert r.code == 0, r.err
    assert r.json["names"] == ["127.0.0.1", "hangzhou.example", "localhost"]
    r = cli("client", "add", "hangzhou", "--role", "peer", "--cert", tmp_path / "b-node.pem",
            "--ca", tmp_path / "b-ca.pem", "--home", a, "--json")  # fmt: skip
    assert (
        r.code == 0
        and r.json["fingerprint"]
        == json.loads(cli("node", "info", "--home", b, "--json").out)["tls_cert_fingerprint"]
    )
    # once a manifest pins the certificate, a new name is refused, not silently issued
    r = cli("federation", "init", "yangtze", "--endpoint", "ningbo.example:7420", "--home", a)
    assert r.code == 0, r.err
    names = cli("node", "cert", "-o", tmp_path / "a.pem", "--home", a, "--json").json["names"]
    assert "ningbo.example" in names  # init named the endpoint's host first
    for args in (["node", "info", "--san", "other.example"], ["serve", "--san", "other.example"]):
        r = cli(*args, "--home", a)
        assert r.code == 2 and r.err.count("\n") == 1
        assert "does not cover other.example, and the federation manifest pins it" in r.err


def test_builtin_policies_and_readable_times(cli: Cli, tmp_path: Path) -> None:
    (a,) = _homes(cli, tmp_path, 1)
    r = cli("policy", "add", "--list", "--json")
    assert r.code == 0 and r.json == ["hk_to_mainland", "tianyi_to_qianjiang"]
    r = cli("policy", "add", "--builtin", "tianyi_to_qianjiang", "--home", a, "--json")
    assert r.code == 0 and r.json["kind"] == "policy.conversion", r.err
    r = cli("policy", "add", "--builtin", "nope", "--home", a)
    assert r.code == 2 and "expected one of hk_to_mainland, tianyi_to_qianjiang" in r.err
    r = cli("issuer", "add", "cn-zj-ningbo/court", "--kinds", "court.dishonest-debtor",
            "--valid-from", "2026-01-01", "--valid-until", "2027-01-01", "--home", a)  # fmt: skip
    assert r.code == 0, r.err
    r = cli("issuer", "list", "--home", a)
    assert "cn-zj-ningbo/platform" in r.out and "always  all kinds" in r.out
    assert "from 2026-01-01 00:00 CST until 2027-01-01 00:00 CST" in r.out
    ca = tmp_path / "ca.pem"
    assert cli("node", "cert", "-o", tmp_path / "n.pem", "--ca-out", ca, "--home", a).code == 0
    r = cli("peers", "add", "credex.other.example/log", "--endpoint", "127.0.0.1:9", "--ca", ca,
            "--home", a)  # fmt: skip
    assert r.code == 0, r.err
    r = cli("peers", "status", "--home", a)
    assert "never synced" in r.out
