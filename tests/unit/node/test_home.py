"""NodeHome: the on-disk node home, key file permissions, issuer rotation, trust export."""

from __future__ import annotations

import json
import os
import stat
from pathlib import Path

import pytest

from credex.ledger.errors import ConfigError, KindNotAuthorisedError, NotFoundError
from credex.ledger.keys import SigningKey
from credex.ledger.record import KINDS
from credex.ledger.subject import SubjectKey
from credex.ledger.trust import TrustStore
from credex.node.home import NODE_FORMAT, NodeHome

REGION = "cn-zj-ningbo"
ORIGIN = "credex.ningbo.example/log"
LOG_SEED = bytes(range(32))
SUBJECT_SECRET = bytes(range(32, 64))
PLATFORM_SEED = bytes(range(64, 96))
COURT = f"{REGION}/court"
KIND = "court.dishonest-debtor"
OLD_SEED = b"\x11" * 32
NEW_SEED = b"\x22" * 32


def _init(path: Path, **kw: object) -> NodeHome:
    args: dict[str, object] = {
        "region": REGION,
        "origin": ORIGIN,
        "db": None,
        "now": 1_700_000_000,
        "log_seed": LOG_SEED,
        "subject_secret": SUBJECT_SECRET,
        "platform_seed": PLATFORM_SEED,
    }
    args.update(kw)
    return NodeHome.init(path, **args)  # type: ignore[arg-type]


@pytest.fixture
def home(tmp_path: Path) -> NodeHome:
    return _init(tmp_path / "home")


@pytest.fixture
def rotated(home: NodeHome) -> NodeHome:
    """The court issuer with an old key for [1000, 2000) and a new one from 2000 on."""
    home.add_issuer(COURT, [KIND], valid_from=1000, valid_until=2000, seed=OLD_SEED)
    home.add_issuer(COURT, [KIND, "list.black"], valid_from=2000, valid_until=None, seed=NEW_SEED)
    return home


def _key_files(home: NodeHome) -> list[Path]:
    return sorted(home.keys_dir.rglob("*.key"))


# --- init and open -----------------------------------------------------------------------------


def test_init_writes_config_and_private_keys(home: NodeHome) -> None:
    cfg = json.loads((home.path / "node.json").read_text())
    assert cfg == {
        "format": NODE_FORMAT,
        "region": REGION,
        "origin": ORIGIN,
        "db": None,
        "created_at": 1_700_000_000,
    }
    assert stat.S_IMODE(home.keys_dir.stat().st_mode) == 0o700
    assert stat.S_IMODE((home.keys_dir / "issuers").stat().st_mode) == 0o700
    files = _key_files(home)
    assert [p.name for p in files] == ["cn-zj-ningbo__platform-0.key", "log.key", "subject.key"]
    for p in files:
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p
    assert (home.keys_dir / "log.key").read_text() == LOG_SEED.hex() + "\n"
    assert home.db_url == f"sqlite:///{home.path / 'log.sqlite'}"


def test_init_keys_are_private_under_a_permissive_umask(tmp_path: Path) -> None:
    old = os.umask(0)
    try:
        h = _init(tmp_path / "home")
    finally:
        os.umask(old)
    assert stat.S_IMODE(h.keys_dir.stat().st_mode) & 0o077 == 0
    for p in _key_files(h):
        assert stat.S_IMODE(p.stat().st_mode) == 0o600, p


def test_open_round_trips(home: NodeHome) -> None:
    h = NodeHome.open(home.path)
    assert (h.region, h.origin, h.created_at) == (REGION, ORIGIN, 1_700_000_000)
    assert h.log_key().public_key == SigningKey(LOG_SEED).public_key
    assert h.subject_key() == SubjectKey.from_secret(SUBJECT_SECRET)
    assert h.platform_issuer == f"{REGION}/platform"
    [platform] = h.issuers()
    assert platform.issuer_id == h.platform_issuer
    assert platform.kinds == frozenset(KINDS)
    assert (platform.valid_from, platform.valid_until) == (0, None)


def test_init_twice_refused(home: NodeHome) -> None:
    with pytest.raises(ConfigError, match="already initialised"):
        _init(home.path)


def test_db_url_is_kept(tmp_path: Path) -> None:
    url = "postgresql+psycopg://postgres@127.0.0.1:5432/test"
    h = _init(tmp_path / "home", db=url)
    assert NodeHome.open(h.path).db_url == url


@pytest.mark.parametrize(
    ("kw", "message"),
    [
        ({"region": "Ningbo"}, "region id"),
        ({"region": "cn zj"}, "region id"),
        ({"origin": ""}, "origin"),
        ({"origin": "a b"}, "origin"),
        ({"origin": "a+b"}, "origin"),
    ],
    ids=["region-upper", "region-space", "origin-empty", "origin-space", "origin-plus"],
)
def test_init_rejects_bad_ids(tmp_path: Path, kw: dict[str, str], message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        _init(tmp_path / "home", **kw)
    assert not (tmp_path / "home" / "node.json").exists()


def test_open_missing_home(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="no credex node"):
        NodeHome.open(tmp_path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "not valid json"),
        ('{"format": "other/1"}', "unknown format"),
        ("[]", "unknown format"),
    ],
    ids=["bad-json", "wrong-format", "not-object"],
)
def test_open_bad_config(tmp_path: Path, text: str, message: str) -> None:
    (tmp_path / "node.json").write_text(text)
    with pytest.raises(ConfigError, match=message):
        NodeHome.open(tmp_path)


# --- key file permissions ----------------------------------------------------------------------


@pytest.mark.parametrize("name", ["log.key", "subject.key"])
def test_readable_key_file_refused(home: NodeHome, name: str) -> None:
    path = home.keys_dir / name
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="readable by others") as exc:
        home.log_key() if name == "log.key" else home.subject_key()
    assert "expected mode 0600, got 0644" in str(exc.value)
    assert path.read_text().strip() not in str(exc.value)


def test_group_readable_issuer_key_refused(home: NodeHome) -> None:
    (home.keys_dir / "issuers" / "cn-zj-ningbo__platform-0.key").chmod(0o640)
    with pytest.raises(ConfigError, match="readable by others"):
        home.issuer_signing_key(home.platform_issuer, "score.city", 0)


def test_missing_and_corrupt_key_files(home: NodeHome) -> None:
    (home.keys_dir / "log.key").unlink()
    with pytest.raises(ConfigError, match=r"key file missing: log\.key"):
        home.log_key()
    path = home.keys_dir / "subject.key"
    path.write_text("zz\n")
    with pytest.raises(ConfigError, match="not hex"):
        home.subject_key()
    path.write_text("00" * 16 + "\n")
    with pytest.raises(ConfigError, match="32 bytes"):
        home.subject_key()


def test_existing_key_file_is_not_overwritten(home: NodeHome) -> None:
    target = home.keys_dir / "issuers" / "cn-zj-ningbo__court-0.key"
    target.write_text("keep\n")
    target.chmod(0o600)
    with pytest.raises(ConfigError, match="already exists"):
        home.add_issuer(COURT, [KIND], valid_from=0, valid_until=None, seed=OLD_SEED)
    assert target.read_text() == "keep\n"


# --- issuers and rotation ----------------------------------------------------------------------


def test_rotation_picks_the_key_valid_at_the_time(rotated: NodeHome) -> None:
    old, new = SigningKey(OLD_SEED), SigningKey(NEW_SEED)
    assert rotated.issuer_signing_key(COURT, KIND, 1000).public_key == old.public_key
    assert rotated.issuer_signing_key(COURT, KIND, 1999).public_key == old.public_key
    assert rotated.issuer_signing_key(COURT, KIND, 2000).public_key == new.public_key
    assert rotated.issuer_signing_key(COURT, KIND, 10**9).public_key == new.public_key
    assert rotated.issuer_signing_key(COURT, "list.black", 2000).public_key == new.public_key


def test_rotation_key_files(rotated: NodeHome) -> None:
    courts = [e for e in rotated.issuers() if e.issuer_id == COURT]
    assert [e.key_file for e in courts] == [
        "issuers/cn-zj-ningbo__court-0.key",
        "issuers/cn-zj-ningbo__court-1.key",
    ]
    assert [(e.valid_from, e.valid_until) for e in courts] == [(1000, 2000), (2000, None)]
    for e in courts:
        assert stat.S_IMODE((rotated.keys_dir / e.key_file).stat().st_mode) == 0o600
        assert e.region == REGION


@pytest.mark.parametrize(
    ("kind", "at"),
    [("score.city", 1500), ("list.black", 1500), ("penalty.admin", 2500)],
    ids=["old-key-other-kind", "old-key-new-kind", "new-key-other-kind"],
)
def test_kind_outside_the_key_is_not_authorised(rotated: NodeHome, kind: str, at: int) -> None:
    with pytest.raises(KindNotAuthorisedError, match="not authorised"):
        rotated.issuer_signing_key(COURT, kind, at)


def test_outside_every_window_is_not_found(rotated: NodeHome) -> None:
    with pytest.raises(NotFoundError, match="no key valid at 999"):
        rotated.issuer_signing_key(COURT, KIND, 999)


def test_unknown_issuer_is_not_found(rotated: NodeHome) -> None:
    with pytest.raises(NotFoundError, match="unknown issuer"):
        rotated.issuer_signing_key(f"{REGION}/tax", KIND, 1500)


@pytest.mark.parametrize(
    ("issuer_id", "kinds", "window", "message"),
    [
        ("Court", [KIND], (0, None), "issuer id"),
        ("cn-zj-ningbo", [KIND], (0, None), "issuer id"),
        (COURT, ["score.nope"], (0, None), "unknown or no kinds"),
        (COURT, [], (0, None), "unknown or no kinds"),
        (COURT, [KIND], (100, 100), "valid_until must be after valid_from"),
    ],
    ids=["upper", "no-name", "unknown-kind", "no-kinds", "empty-window"],
)
def test_add_issuer_rejects(
    home: NodeHome,
    issuer_id: str,
    kinds: list[str],
    window: tuple[int, int | None],
    message: str,
) -> None:
    with pytest.raises(ConfigError, match=message):
        home.add_issuer(
            issuer_id, kinds, valid_from=window[0], valid_until=window[1], seed=OLD_SEED
        )
    assert len(home.issuers()) == 1
    assert len(_key_files(home)) == 3


def test_trust_lists_both_rotated_keys(rotated: NodeHome) -> None:
    trust = rotated.trust()
    courts = [i for i in trust.issuers if i.issuer_id == COURT]
    assert {i.public_key for i in courts} == {
        SigningKey(OLD_SEED).public_key,
        SigningKey(NEW_SEED).public_key,
    }
    for seed in (OLD_SEED, NEW_SEED):
        [found] = trust.issuers_for_kid(SigningKey(seed).kid)
        assert found.issuer_id == COURT
    [log] = trust.logs
    assert (log.origin, log.note_key_name) == (ORIGIN, ORIGIN)
    assert log.public_key == SigningKey(LOG_SEED).public_key
    # the exported file round-trips and holds no secret
    text = trust.to_json()
    assert TrustStore.from_json(text).to_json() == text
    for secret in (LOG_SEED, SUBJECT_SECRET, PLATFORM_SEED, OLD_SEED, NEW_SEED):
        assert secret.hex() not in text


# --- secrets never in repr -------------------------------------------------------------------


def test_reprs_do_not_show_secrets(home: NodeHome) -> None:
    log_key = home.log_key()
    subject_key = home.subject_key()
    issuer_key = home.issuer_signing_key(home.platform_issuer, "score.city", 0)
    texts = [
        repr(log_key),
        str(log_key),
        repr(subject_key),
        str(subject_key),
        repr(issuer_key),
        repr(home.issuers()),
    ]
    for secret in (LOG_SEED, SUBJECT_SECRET, PLATFORM_SEED):
        for text in texts:
            assert secret.hex() not in text
            assert repr(secret) not in text
    assert subject_key.key_id in repr(subject_key)
