"""The node's files on disk: durable atomic writes and private key files.

- ``write_atomic``: write to a temporary file beside the target, fsync, then rename over
  it, so a reader sees the old file or the new one, never half of one.
- ``write_json``: ``write_atomic`` of pretty JSON, mode 0600 (``node.json`` may hold a
  database password).
- ``write_private`` / ``write_secret``: a new key file, created with ``O_EXCL`` and mode
  0600 (a key is never overwritten); ``read_private`` / ``read_secret`` refuse a key
  file that group or others can read.
- ``locked``: an exclusive lock for a read-modify-write of one file by several processes
  (a command next to the running server: ``peers.json``, ``clients.json``, the manifest
  chain).

Errors are ``ConfigError`` naming the file (never its content). No key material is
logged or put in a message.
"""

from __future__ import annotations

import fcntl
import json
import os
import stat
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from credex.ledger.errors import ConfigError

__all__ = [
    "locked",
    "read_private",
    "read_secret",
    "write_atomic",
    "write_json",
    "write_private",
    "write_secret",
]


def write_atomic(path: Path, data: bytes, mode: int = 0o644) -> None:
    """Atomically replace ``path`` with ``data`` (mode ``mode``), durable on return."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.chmod(tmp, mode)
    os.replace(tmp, path)


@contextmanager
def locked(path: Path) -> Iterator[None]:
    """Hold an exclusive ``flock`` on ``<path>.lock`` (created 0600): one reader-writer of
    ``path`` at a time across processes and threads. Not re-entrant."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path.with_name(path.name + ".lock"), os.O_RDWR | os.O_CREAT, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def write_json(path: Path, value: Any) -> None:
    """Atomically replace ``path`` with ``value`` as JSON; mode 0600."""
    text = json.dumps(value, indent=2, ensure_ascii=False) + "\n"
    write_atomic(path, text.encode("utf-8"), 0o600)


def write_private(path: Path, data: bytes, component: str) -> None:
    """Create the key file ``path`` with mode 0600; an existing file is never overwritten.

    Raises:
        ConfigError: the file already exists.
    """
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError as e:
        raise ConfigError(f"{component}: key file already exists: {path.name}") from e
    with os.fdopen(fd, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())


def read_private(path: Path, component: str) -> bytes:
    """The bytes of key file ``path``, refused unless only its owner can read it.

    Raises:
        ConfigError: missing, or readable by group or others.
    """
    try:
        st = path.stat()
    except FileNotFoundError as e:
        raise ConfigError(f"{component}: key file missing: {path.name}") from e
    if st.st_mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise ConfigError(
            f"{component}: key file {path.name} is readable by others: expected mode 0600, "
            f"got {stat.S_IMODE(st.st_mode):04o}"
        )
    return path.read_bytes()


def write_secret(path: Path, secret: bytes) -> None:
    """A new 32-byte secret key file: hex and a newline, mode 0600."""
    write_private(path, (secret.hex() + "\n").encode("ascii"), "home")


def read_secret(path: Path) -> bytes:
    """The 32-byte secret of a key file written by ``write_secret``.

    Raises:
        ConfigError: missing, readable by others, not hex, or not 32 bytes.
    """
    raw = read_private(path, "home")
    try:
        secret = bytes.fromhex(raw.decode("ascii").strip())
    except (UnicodeDecodeError, ValueError) as e:
        raise ConfigError(f"home: key file {path.name} is not hex") from e
    if len(secret) != 32:
        raise ConfigError(f"home: key file {path.name} must hold 32 bytes")
    return secret
