"""``credex verify --trust MANIFEST`` took version 1 on trust.

A manifest chain is verified from its version 1, which nothing but the file itself
vouches for: an attacker who hands a bank a chain of their own (their own admins,
issuers and log) gets their own bundles verified. ``--pin HASH`` (the hash of version 1
as the federation publishes it) makes version 1 the trusted root: any other chain is
refused with a one-line error. ``verify``, ``recognize`` and ``lookup`` take ``--pin``;
without it a manifest still works (as handed over) but a one-line warning on stderr
names the hash of the version 1 being trusted, and ``verify --json`` says whether the
trust was pinned.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from credex.ledger.keys import SigningKey
from credex.ledger.manifest import ManifestBody, SignedManifest, encode_chain
from tests.integration.clirunner import Cli, make_cli
from tests.security._federation_chain import LOGS, NB, XM, bundle_of, signed, v1

AS_OF = "2026-06-01"


@pytest.fixture
def cli(capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch) -> Cli:
    return make_cli(capsys, monkeypatch)


def _files(tmp_path: Path) -> tuple[Path, Path, str]:
    body = v1()
    chain = tmp_path / "federation.cbor"
    chain.write_bytes(encode_chain([signed(body)]))
    bundle = tmp_path / "record.credex"
    bundle.write_bytes(bundle_of(LOGS["cn-zj-hangzhou"], [NB, XM], 1_780_000_100))
    return chain, bundle, body.hash.hex()


def _forged(tmp_path: Path) -> Path:
    """A chain of the attacker's own: same members and keys but other admins (any change
    to version 1 would do: its hash is what a pin checks)."""
    admin = SigningKey(b"\x66" * 32)
    body = v1()
    forged = ManifestBody(
        body.federation, 1, None, body.issued_at, body.members, body.quorum, (admin.public_key,), 1
    )
    path = tmp_path / "forged.cbor"
    path.write_bytes(encode_chain([SignedManifest.create(forged, [admin])]))
    return path


def test_without_a_pin_it_verifies_and_warns_in_one_line(cli: Cli, tmp_path: Path) -> None:
    chain, bundle, root = _files(tmp_path)
    r = cli("verify", bundle, "--trust", chain, "--as-of", AS_OF, "--json")
    assert r.code == 0, r.text
    warning = [line for line in r.err.splitlines() if "warning" in line]
    assert warning == [
        f"verify: warning: the manifest's version 1 (sha256 {root}) is taken on trust: "
        "pass --pin with the hash the federation publishes to check it"
    ]
    assert json.loads(r.out)["trust"] == {"kind": "manifest", "version_1": root, "pinned": False}


def test_the_right_pin_verifies_quietly(cli: Cli, tmp_path: Path) -> None:
    chain, bundle, root = _files(tmp_path)
    r = cli("verify", bundle, "--trust", chain, "--pin", root, "--as-of", AS_OF, "--json")
    assert r.code == 0, r.text
    assert "warning" not in r.err
    assert json.loads(r.out)["trust"]["pinned"] is True


def test_another_version_1_is_refused_under_the_pin(cli: Cli, tmp_path: Path) -> None:
    _, bundle, root = _files(tmp_path)
    forged = _forged(tmp_path)
    r = cli("verify", bundle, "--trust", forged, "--as-of", AS_OF)
    assert r.code == 0  # the attack: taken on trust, the forged chain is believed
    r = cli("verify", bundle, "--trust", forged, "--pin", root, "--as-of", AS_OF)
    assert r.code == 1
    assert "version 1 is not the pinned one" in r.err
    assert r.err.count("\n") == 1


@pytest.mark.parametrize(
    ("pin", "match"),
    [("00" * 31, "--pin must be 64 hex characters"), ("zz" * 32, "--pin is not hex")],
)
def test_a_malformed_pin_is_a_one_line_error(
    cli: Cli, tmp_path: Path, pin: str, match: str
) -> None:
    chain, bundle, _ = _files(tmp_path)
    r = cli("verify", bundle, "--trust", chain, "--pin", pin)
    assert r.code == 1 and match in r.err


def test_a_pin_with_a_trust_file_is_refused(cli: Cli, tmp_path: Path) -> None:
    golden = Path(__file__).resolve().parents[1] / "vectors" / "golden"
    r = cli(
        "verify", golden / "bundle-1.credex", "--trust", golden / "trust.json", "--pin", "00" * 32
    )
    assert r.code == 1 and "--pin names a manifest's version 1" in r.err


@pytest.mark.parametrize("command", [["verify"], ["recognize"], ["lookup"]])
def test_every_command_taking_a_manifest_takes_a_pin(cli: Cli, command: list[str]) -> None:
    r = cli(*command, "--help")
    assert r.code == 0 and "--pin" in r.out
