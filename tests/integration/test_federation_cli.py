"""End to end: ``credex federation`` on two node homes, and ``credex verify --trust`` with the
exported manifest chain (issuer key rotation, witness quorum, tampering, multi-admin signing).

Commands run in-process through ``credex.cli.main.main`` on SQLite homes under ``tmp_path``,
with the CLI clock pinned.
"""

from __future__ import annotations

import calendar
import datetime as dt
import ipaddress
import json
from pathlib import Path
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519
from cryptography.x509.oid import NameOID

from credex.cli import federation_cmds, node_cmds, proof_cmds
from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import SignedNote, cosign_checkpoint
from credex.ledger.keys import SigningKey
from credex.node.files import read_secret

from .clirunner import Cli, make_cli

T0 = calendar.timegm((2026, 6, 1, 0, 0, 0))
SWITCH = "2026-06-10"
A, B = "cn-zj-hangzhou", "cn-zj-ningbo"
ORG = "91330200MA0YX00163"
SCORE = {"scheme": "tianyi", "score": 700, "band": "A", "as_of": "2026-05-31"}


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> dict[str, int]:
    t = {"now": T0}
    for mod in (node_cmds, proof_cmds, federation_cmds):
        monkeypatch.setattr(mod, "now", lambda: t["now"])
    return t


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], clock: dict[str, int], monkeypatch) -> Cli:
    return make_cli(capsys, monkeypatch, one_line_errors=False)


def _cert_pem(name: str) -> str:
    key = ed25519.Ed25519PrivateKey.generate()
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    start = dt.datetime(2026, 1, 1, tzinfo=dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(start)
        .not_valid_after(start + dt.timedelta(days=365))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, None)
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode()


def _node(cli, tmp_path: Path, region: str) -> tuple[Path, dict[str, Any]]:
    home = tmp_path / region
    r = cli("init", home, "--region", region, "--origin", f"credex.{region}.example/log", "--json")
    assert r.code == 0, r.err
    return home, r.json


def _info(cli, home: Path, init: dict[str, Any], endpoint: str, cert: str) -> dict[str, Any]:
    """The shape of ``credex node info --json`` (built here from init and issuer list)."""
    r = cli("issuer", "list", "--home", home, "--json")
    assert r.code == 0, r.err
    return {
        "origin": init["origin"],
        "region": init["region"],
        "log_public_key": init["log_public_key"],
        "witness_public_key": SigningKey(b"\x07" * 32).public_key.hex(),
        "tls_cert_pem": cert,
        "endpoint": endpoint,
        "issuers": r.json,
    }


def _bundle(cli, home: Path, tmp_path: Path, name: str) -> Path:
    r = cli(
        "issue", "--home", home, "--kind", "score.city", "--subject", ORG,
        "--body", json.dumps(SCORE), "--valid-from", "2026-05-31", "--json",
    )  # fmt: skip
    assert r.code == 0, r.err
    out = tmp_path / f"{name}.credex"
    r = cli("bundle", r.json[0]["index"], "-o", out, "--home", home)
    assert r.code == 0, r.err
    return out


def _cosign(path: Path, witness_home: Path, name: str) -> Path:
    """The bundle with its checkpoint cosigned by ``witness_home``'s witness key."""
    b = Bundle.from_bytes(path.read_bytes())
    key = SigningKey(read_secret(witness_home / "keys" / "witness.key"))
    note = SignedNote.from_text(b.checkpoint)
    note = note.with_signature(cosign_checkpoint(note, name, key, T0 + 60))
    out = path.with_name(path.stem + "-cosigned.credex")
    out.write_bytes(Bundle(b.statement, note.to_text(), b.status).to_bytes())
    return out


@pytest.fixture
def federation(cli, tmp_path: Path, clock: dict[str, int]) -> dict[str, Any]:
    home_a, _ = _node(cli, tmp_path, A)
    home_b, init_b = _node(cli, tmp_path, B)
    cert_a = tmp_path / "a.pem"
    cert_a.write_text(_cert_pem("a"), encoding="utf-8")
    r = cli(
        "federation", "init", "yangtze", "--home", home_a, "--endpoint", "127.0.0.1:7001",
        "--tls-cert", cert_a, "--json",
    )  # fmt: skip
    assert r.code == 0, r.err
    assert r.json["installed"] and r.json["version"] == 1 and r.json["logged_index"] == 0
    info = tmp_path / "b-info.json"
    info.write_text(json.dumps(_info(cli, home_b, init_b, "127.0.0.1:7002", _cert_pem("b"))))
    r = cli("federation", "add-member", "--home", home_a, "--from-info", info, "--json")
    assert r.code == 0, r.err
    assert r.json["installed"] and r.json["version"] == 2
    r = cli("federation", "set-quorum", "1", "--home", home_a, "--json")
    assert r.code == 0 and r.json["installed"] and r.json["version"] == 3, r.err
    return {"a": home_a, "b": home_b, "init_b": init_b}


def test_init_add_member_show(cli, federation: dict[str, Any], tmp_path: Path) -> None:
    r = cli("federation", "show", "--home", federation["a"], "--json")
    assert r.code == 0, r.err
    doc = r.json
    assert doc["version"] == 3 and doc["quorum"] == {"k": 1, "n": 1}
    assert [m["region"] for m in doc["members"]] == [A, B]
    b = doc["members"][1]
    assert b["log_key"] == federation["init_b"]["log_public_key"]
    assert b["endpoint"] == "127.0.0.1:7002" and len(b["tls_cert_sha256"]) == 64
    assert [i["issuer_id"] for i in b["issuers"]] == [f"{B}/platform"]
    r = cli("info", "--home", federation["a"], "--json")
    assert r.json["tree_size"] == 3  # every version logged at A
    r = cli("federation", "show", "--home", federation["a"])
    assert r.code == 0 and "witness quorum 1 of 1" in r.out
    r = cli("federation", "add-member", "--home", federation["a"], "--region", B)
    assert r.code == 2 and "pass --from-info FILE or --origin" in r.err


def test_rotate_key_and_verify_with_the_exported_manifest(
    cli, federation: dict[str, Any], tmp_path: Path, clock: dict[str, int]
) -> None:
    home_a, home_b = federation["a"], federation["b"]
    old_bundle = _bundle(cli, home_b, tmp_path, "old")  # iat T0, old platform key
    r = cli(
        "issuer", "add", f"{B}/platform", "--kinds", "score.city", "--valid-from", SWITCH,
        "--home", home_b, "--json",
    )  # fmt: skip
    assert r.code == 0, r.err
    new_key = r.json["public_key"]
    r = cli(
        "federation", "rotate-key", "--home", home_a, "--region", B, "--issuer", f"{B}/platform",
        "--new-key", new_key, "--at", SWITCH, "--json",
    )  # fmt: skip
    assert r.code == 0 and r.json["version"] == 4, r.err
    issuers = cli("federation", "show", "--home", home_a, "--json").json["members"][1]["issuers"]
    assert [(i["public_key"] == new_key, i["valid_until"] is None) for i in issuers] == [
        (False, False),
        (True, True),
    ]
    clock["now"] = calendar.timegm((2026, 6, 11, 0, 0, 0))
    new_bundle = _bundle(cli, home_b, tmp_path, "new")  # iat after the switch, new key
    chain = tmp_path / "yangtze.manifest"
    r = cli("federation", "export", "--home", home_a, "-o", chain, "--json")
    assert r.code == 0 and r.json["versions"] == 4, r.err

    for bundle in (old_bundle, new_bundle):
        r = cli("verify", _cosign(bundle, home_a, f"credex.{A}.example/log"), "--trust", chain)
        assert r.code == 0, r.out + r.err
        assert "VALID" in r.out
    r = cli("verify", new_bundle, "--trust", chain, "--json")  # no cosignature from A
    assert r.code == 1 and r.json["failed_step"] == 6
    assert "witness quorum not met: expected 1, got 0" in r.json["error"]["message"]


def test_tampered_manifest_is_refused(cli, federation: dict[str, Any], tmp_path: Path) -> None:
    bundle = _cosign(
        _bundle(cli, federation["b"], tmp_path, "b"), federation["a"], f"credex.{A}.example/log"
    )
    chain = tmp_path / "chain.manifest"
    assert cli("federation", "export", "--home", federation["a"], "-o", chain).code == 0
    data = chain.read_bytes()
    pos = data.index(b"127.0.0.1:7002")
    chain.write_bytes(data[:pos] + b"0" + data[pos + 1 :])  # '1' -> '0'
    r = cli("verify", bundle, "--trust", chain)
    assert r.code == 1
    assert r.err.startswith("credex: error: manifest: signature by admin ")
    assert r.err.rstrip().endswith("does not verify")


def test_second_admin_signs_a_proposal(cli, federation: dict[str, Any], tmp_path: Path) -> None:
    home_a, home_b = federation["a"], federation["b"]
    chain = tmp_path / "chain.manifest"
    assert cli("federation", "export", "--home", home_a, "-o", chain).code == 0
    r = cli("federation", "import", chain, "--home", home_b, "--json")
    assert r.code == 0 and r.json["installed"] == [1, 2, 3], r.err
    b_admin = cli("federation", "admin-key", "--home", home_b, "--json").json["admin_public_key"]
    r = cli(
        "federation", "admins", "--home", home_a, "--add", b_admin, "--threshold", "2", "--json"
    )
    assert r.code == 0 and not r.json["installed"], r.err  # version 4 needs B's signature too
    proposal = Path(r.json["file"])
    r = cli("federation", "sign", proposal, "--home", home_b, "--json")
    assert r.code == 0 and r.json["installed"] and r.json["version"] == 4, r.err
    r = cli("federation", "sign", proposal, "--home", home_a, "--json")
    assert r.code == 0 and r.json["installed"], r.err
    a, b = (cli("federation", "show", "--home", h, "--json").json for h in (home_a, home_b))
    assert a == b and a["admin_threshold"] == 2 and len(a["admins"]) == 2
    r = cli("federation", "admins", "--home", home_a, "--threshold", "1", "--json")
    assert r.code == 0 and not r.json["installed"]  # one admin alone no longer suffices
