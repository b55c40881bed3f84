"""``credex backup`` / ``credex restore``: a consistent snapshot of a node (log, keys,
bodies), and a restore that is verified against the last checkpoint before it is used.

A backup is a directory (mode 0700; every file 0600: it holds keys and personal bodies)::

    backup.json       {"format": "credex-backup/1", "origin", "region", "created_at",
                       "tree_size", "checkpoint": {"tree_size", "root"}, "files": {path: sha256}}
    db.sqlite         every credex table of the node's database (``ledger.storage.snapshot``:
                      SQLite's online backup API, or one REPEATABLE READ read of PostgreSQL)
    home/...          the node home without its database files: node.json, issuers.json,
                      keys/, tls/, federation/, peers.json, clients.json, ...; SQLite mirrors
                      (``mirrors/*.sqlite``) copied by the backup API too

PostgreSQL mirror schemas are not copied: a restored node re-syncs them from its peers.
``restore`` refuses a home that exists, checks every file against ``backup.json``, puts the
database where ``--db`` says (default: ``log.sqlite`` in the new home), then verifies: the
log opens (the stored tree matches its latest checkpoint), the checkpoint's note is signed
by the restored log key, every entry's leaf hash is the hash of its bytes, and the root
recomputed from all leaves is the checkpoint's. It never prints.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import sqlite3
from pathlib import Path
from typing import Any, Final

from credex.ledger.checkpoint import SignedNote, verify_note_signature
from credex.ledger.errors import ConfigError, InconsistentLogError, VerificationError
from credex.ledger.merkle import CompactRange, leaf_hash
from credex.ledger.storage.snapshot import restore as restore_db
from credex.ledger.storage.snapshot import snapshot
from credex.node.files import write_json
from credex.node.home import NodeHome
from credex.node.local import LocalNode

__all__ = ["BACKUP_FORMAT", "backup", "restore", "verify_restored"]

BACKUP_FORMAT: Final = "credex-backup/1"
_DB_FILES: Final = ("log.sqlite", "log.sqlite-wal", "log.sqlite-shm")
_CHUNK: Final = 4096


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for block in iter(lambda: f.read(1 << 16), b""):
            h.update(block)
    return h.hexdigest()


def _private(path: Path) -> None:
    os.chmod(path, 0o600)


def _copy_home(home: Path, out: Path) -> None:
    for src in sorted(home.rglob("*")):
        rel = src.relative_to(home)
        if src.is_dir() or src.is_symlink() or rel.parts[0] in _DB_FILES:
            continue
        if src.name.endswith(("-wal", "-shm", ".tmp")):
            continue
        dst = out / rel
        dst.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        if src.suffix == ".sqlite":  # a mirror: a consistent copy
            snapshot(f"sqlite:///{src}", dst)
        else:
            shutil.copyfile(src, dst)
        _private(dst)


def backup(home: NodeHome, out: Path, now: int) -> dict[str, Any]:
    """Write a backup of ``home`` to the new directory ``out``.

    Raises:
        ConfigError: ``out`` exists.
        StorageError: the database cannot be read.
    """
    if out.exists():
        raise ConfigError(f"backup: target exists: {out}")
    out.mkdir(mode=0o700, parents=True)
    snapshot(home.db_url, out / "db.sqlite")
    _private(out / "db.sqlite")
    _copy_home(home.path, out / "home")
    size, cp = _snapshot_state(out / "db.sqlite")  # what a restore is verified against
    files = {
        str(p.relative_to(out)): _sha256(p)
        for p in sorted(out.rglob("*"))
        if p.is_file() and p.name != "backup.json"
    }
    manifest = {
        "format": BACKUP_FORMAT,
        "origin": home.origin,
        "region": home.region,
        "created_at": now,
        "tree_size": size,
        "checkpoint": cp,
        "files": files,
    }
    write_json(out / "backup.json", manifest)
    return {k: v for k, v in manifest.items() if k != "files"} | {"files": len(files)}


def _snapshot_state(path: Path) -> tuple[int, dict[str, Any] | None]:
    """(entries, latest checkpoint) of a snapshot file, read without changing it."""
    con = sqlite3.connect(f"file:{path}?mode=ro&immutable=1", uri=True)
    try:
        (size,) = con.execute("SELECT COALESCE(MAX(idx) + 1, 0) FROM entries").fetchone()
        row = con.execute(
            "SELECT tree_size, root FROM checkpoints ORDER BY tree_size DESC LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    return int(size), None if row is None else {"tree_size": int(row[0]), "root": row[1].hex()}


def _config(home: Path) -> dict[str, Any]:
    value: dict[str, Any] = json.loads((home / "node.json").read_text(encoding="utf-8"))
    return value


def _manifest(src: Path) -> dict[str, Any]:
    try:
        m: dict[str, Any] = json.loads((src / "backup.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as e:
        raise ConfigError(f"restore: no readable backup.json in {src}") from e
    if m.get("format") != BACKUP_FORMAT or not isinstance(m.get("files"), dict):
        raise ConfigError(f"restore: {src} is not a {BACKUP_FORMAT} backup")
    for rel, digest in m["files"].items():
        path = src / rel
        if ".." in Path(rel).parts or not path.is_file() or _sha256(path) != digest:
            raise VerificationError(f"restore: backup file changed or missing: {rel}")
    return m


def restore(src: Path, target: Path, *, db: str | None) -> dict[str, Any]:
    """Restore the backup ``src`` into the new home ``target`` (database: ``db``, default
    SQLite in the home), then verify it (``verify_restored``).

    Raises:
        ConfigError: not a backup, or ``target`` already holds a node.
        VerificationError / InconsistentLogError: a changed file, or the restored log does
            not match its last checkpoint.
        StorageError: the target database already holds a log, or a copy failed.
    """
    m = _manifest(src)
    if (target / "node.json").exists():
        raise ConfigError(f"restore: a node home is already at {target}")
    target.mkdir(parents=True, exist_ok=True)
    for p in sorted((src / "home").rglob("*")):
        dst = target / p.relative_to(src / "home")
        if p.is_dir():
            dst.mkdir(mode=0o700 if p.name == "keys" else 0o755, exist_ok=True)
            continue
        dst.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(p, dst)
        _private(dst)
    (target / "keys").chmod(0o700)
    config = _config(target) | {"db": db, "listen": None, "mtls_listen": None}
    home = NodeHome(target, config)
    restore_db(src / "db.sqlite", home.db_url)
    write_json(target / "node.json", config)
    return verify_restored(NodeHome.open(target), m.get("checkpoint"))


def verify_restored(home: NodeHome, expected: dict[str, Any] | None) -> dict[str, Any]:
    """Check a restored node against its last checkpoint (see the module docstring).

    Raises:
        InconsistentLogError: the stored tree does not match the checkpoint.
        SignatureError: the checkpoint is not signed by the home's log key.
        VerificationError: not the checkpoint the backup recorded.
    """
    with LocalNode(home) as node:  # opening checks the stored tree against it
        cp = node.store.latest_checkpoint()
        if (cp is None) != (expected is None) or (
            cp is not None
            and expected is not None
            and (cp.tree_size, cp.root.hex()) != (expected["tree_size"], expected["root"])
        ):
            raise VerificationError("restore: the latest checkpoint is not the backup's")
        if cp is None:
            return {"tree_size": node.log.size, "checkpoint_size": 0, "verified": True}
        note = SignedNote.from_text(cp.note)
        verify_note_signature(note, home.origin, home.log_key().public_key)
        tree = CompactRange()
        for start in range(0, cp.tree_size, _CHUNK):
            for e in node.log.entries(start, min(start + _CHUNK, cp.tree_size)):
                if leaf_hash(e.leaf) != e.leaf_hash:
                    raise InconsistentLogError(f"restore: entry {e.index}: leaf hash differs")
                tree.append(e.leaf_hash)
        if tree.root() != cp.root or note.checkpoint.root != cp.root:
            raise InconsistentLogError(
                f"restore: root recomputed from {cp.tree_size} leaves differs from the checkpoint's"
            )
        return {
            "origin": home.origin,
            "tree_size": node.log.size,
            "checkpoint_size": cp.tree_size,
            "root": cp.root.hex(),
            "verified": True,
        }
