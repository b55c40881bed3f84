"""The log as C2SP tlog-tiles, read over real HTTP.

The main check is by a second implementation nobody on credex wrote: golang.org/x/mod's
sumdb/tlog (Debian's golang-golang-x-mod-dev), driven by tests/web/tiles_check/main.go,
proves every record's inclusion and the consistency of two checkpoints from our tiles
(TileHashReader checks each tile against the tree hash). Then the rules the spec sets:
partial tiles only within the latest checkpoint, the strict path grammar (400), caching
headers, entry bundles and level-1 tiles against our own Merkle code.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from credex.ledger.errors import FormatError, InconsistentLogError
from credex.ledger.merkle import leaf_hash, node_hash
from credex.ledger.storage.sql import SqlStore
from credex.node.http.tilepaths import TILE_PATH_PATTERN, parse_tile_path, tile_index_path
from credex.node.local import LocalNode

from .nodes import NOW, issue_penalties, issue_scores, make_home, served

CHECK_DIR = Path(__file__).parent / "tiles_check"


@pytest.fixture(scope="session")
def tiles_check(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """tiles_check built with Debian's Go and golang.org/x/mod (GOPATH mode, no network)."""
    go = shutil.which("go")
    assert go is not None, "go not installed: apt-get install golang-go golang-golang-x-mod-dev"
    out = tmp_path_factory.mktemp("go")
    env = {
        **os.environ,
        "GO111MODULE": "off",
        "GOPATH": "/usr/share/gocode",
        "GOFLAGS": "",
        "GOCACHE": str(out / "cache"),
        "GOPROXY": "off",
    }
    subprocess.run(
        [go, "build", "-o", str(out / "tiles_check"), "."],
        cwd=CHECK_DIR,
        env=env,
        check=True,
        capture_output=True,
        timeout=300,
    )
    return out / "tiles_check"


@pytest.fixture
def node(tmp_path: Path, store_url: str) -> Iterator[LocalNode]:
    db = None if store_url.startswith("sqlite") else store_url
    home = make_home(tmp_path / "home", db)
    with LocalNode(home) as n:
        yield n


def _mth(hashes: list[bytes]) -> bytes:
    """RFC 9162 MTH of a power-of-two number of leaf hashes (written out here)."""
    while len(hashes) > 1:
        hashes = [node_hash(a, b) for a, b in zip(hashes[::2], hashes[1::2], strict=True)]
    return hashes[0]


def _check(binary: Path, base: str, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(binary), "-base", base, *args], capture_output=True, text=True, timeout=120
    )


def test_go_tlog_proves_every_record_and_the_consistency_from_our_tiles(
    node: LocalNode, tiles_check: Path
) -> None:
    issue_penalties(node, 300)
    old = node.publish_checkpoint(NOW).checkpoint
    issue_scores(node, 250)  # person envelopes: the leaf is public, the body is not in it
    issue_penalties(node, 70, seed=1)
    new = node.publish_checkpoint(NOW).checkpoint
    assert new.size == 620  # two full level-0 tiles, a partial one, a partial level-1 tile
    with served(node) as s:
        old_root = base64.b64encode(old.root).decode()
        r = _check(tiles_check, s.url, "-old-size", str(old.size), "-old-root", old_root)
        assert r.returncode == 0, r.stderr
        assert r.stdout.strip() == "ok 620 records"
        bad_root = base64.b64encode(bytes(32)).decode()
        r = _check(tiles_check, s.url, "-old-size", str(old.size), "-old-root", bad_root)
        assert r.returncode == 1 and "check tree" in r.stderr


def test_go_tlog_refuses_a_tile_that_does_not_match_the_checkpoint(
    tmp_path: Path, tiles_check: Path
) -> None:
    """The checker can fail: a level-0 hash changed in the database is caught."""
    home = make_home(tmp_path / "home")
    with LocalNode(home) as n:
        issue_penalties(n, 20)
        n.publish_checkpoint(NOW)
    with LocalNode(home) as n, served(n) as s:
        # a storage fault while the node runs (opened afterwards, the node itself refuses
        # the database: its recorded checkpoint no longer matches the stored tree)
        store = SqlStore(home.db_url)
        with store._write() as conn:  # one stored leaf hash flipped
            conn.exec_driver_sql("UPDATE entries SET leaf_hash = zeroblob(32) WHERE idx = 7")
        store.close()
        r = _check(tiles_check, s.url)
    assert r.returncode == 1, r.stdout
    with pytest.raises(InconsistentLogError, match="does not match the stored tree"):
        LocalNode(home)


def test_tiles_match_our_merkle_code_and_stop_at_the_checkpoint(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    with LocalNode(home) as n:
        issue_penalties(n, 300)
        n.publish_checkpoint(NOW)
        issue_penalties(n, 10, seed=2)  # appended, not yet in a checkpoint
        leaves = [e.leaf for e in n.log.entries(0, 310)]
        with served(n) as s, httpx.Client(base_url=s.url) as c:
            full = c.get("/tile/0/000")
            assert full.status_code == 200
            assert full.content == b"".join(leaf_hash(x) for x in leaves[:256])
            assert full.headers["cache-control"] == "public, max-age=31536000, immutable"
            assert full.headers["content-type"] == "application/octet-stream"
            part = c.get("/tile/0/001.p/44")
            assert part.content == b"".join(leaf_hash(x) for x in leaves[256:300])
            level1 = c.get("/tile/1/000.p/1")
            assert level1.content == _mth([leaf_hash(x) for x in leaves[:256]])
            bundle = c.get("/tile/entries/001.p/44", headers={"Accept-Encoding": "gzip"})
            assert bundle.headers["content-encoding"] == "gzip"
            raw, at, got = bundle.content, 0, []
            while at < len(raw):
                size = int.from_bytes(raw[at : at + 2], "big")
                got.append(raw[at + 2 : at + 2 + size])
                at += 2 + size
            assert got == leaves[256:300]
            cp = c.get("/checkpoint")
            assert cp.headers["content-type"] == "text/plain; charset=utf-8"
            assert cp.headers["cache-control"] == "public, max-age=5"
            assert cp.text.split("\n")[1] == "300"
            # past the checkpoint (300), though the log holds 310: refused, JSON
            for path in (
                "/tile/0/001.p/45",
                "/tile/0/001",
                "/tile/entries/001.p/54",
                "/tile/1/000",
            ):
                r = c.get(path)
                assert r.status_code == 404, path
                assert r.json()["error"]["code"] == "not_found"
                assert "past the latest checkpoint" in r.json()["error"]["message"]


def test_checkpoint_is_404_before_the_first(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    with LocalNode(home) as n, served(n) as s:
        r = httpx.get(f"{s.url}/checkpoint")
        assert r.status_code == 404
        assert r.json()["error"]["message"] == "tiles: no checkpoint signed yet"
        assert httpx.get(f"{s.url}/tile/0/000.p/1").status_code == 404


MALFORMED = [
    "00/000",
    "64/000",
    "1a/000",
    "-1/000",
    "+1/000",
    "0/5",
    "0/0005",
    "0/x000/005",
    "0/005/",
    "0/x005",
    "0/005.p/0",
    "0/005.p/256",
    "0/005.p/01",
    "0/005.p/x",
    "0/005.p",
    "0/x001.p/5",
    "entries",
    "data/000",
    "0/\u0660\u0660\u0660",  # Arabic-Indic digits
    "0/\uff10\uff10\uff10",  # full-width digits
    "0/x001/x002/x003/x004/x005/x006/x007/000",
    "0/" + "x001/" * 30 + "000",
]


def test_malformed_tile_paths_are_400_with_a_json_error(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    with LocalNode(home) as n:
        issue_penalties(n, 3)
        n.publish_checkpoint(NOW)
        with served(n) as s, httpx.Client(base_url=s.url) as c:
            for path in MALFORMED:
                r = c.get(f"/tile/{path}")
                assert r.status_code == 400, path
                assert r.json()["error"]["code"] == "format", path
                assert "Traceback" not in r.text
            assert c.get("/tile/0/000.p/3").status_code == 200  # the well-formed one


GOOD = ["0/000", "63/000", "entries/x001/234.p/255", "7/x999/x000/001", "0/001.p/1"]


def test_the_openapi_pattern_and_the_parser_agree() -> None:
    for path in MALFORMED:
        assert re.fullmatch(TILE_PATH_PATTERN, path) is None, path
        with pytest.raises(FormatError):
            parse_tile_path(path)
    for path in GOOD:
        assert re.fullmatch(TILE_PATH_PATTERN, path), path
        assert parse_tile_path(path).path() == f"tile/{path}"


@pytest.mark.parametrize("n", [0, 1, 999, 1000, 1234067, 10**18, (1 << 63) - 1])
def test_tile_index_paths_round_trip(n: int) -> None:
    text = tile_index_path(n)
    assert parse_tile_path(f"0/{text}").index == n
    assert parse_tile_path(f"entries/{text}.p/7").width == 7
    assert tile_index_path(1234067) == "x001/x234/067"
