"""Who holds the pen on a node home: a running ``credex serve``, or the command line.

A home has one log, and more than one process may append to it: each append is one
transaction, and a handle that finds the log moved adopts the other's entries first
(``credex.ledger.log``). What must come from one place only is a checkpoint: two signers
could each record a note for one size, and one would overwrite the cosignatures the other
collected. So while ``credex serve`` runs it holds ``HOME/serve.lock`` (an exclusive
``flock``, released by the kernel when the process ends, even on ``kill -9``), and a
command that needs a checkpoint asks the server for it over its public port (GetCheckpoint
signs one when the log grew) instead of signing it itself. Why this design:
``docs/design/one-writer.md``.

- ``ServeLock``: taken by ``credex serve`` for its lifetime; a second server on the same
  home is refused.
- ``holder``: the running server's pid and address, or None.
- ``open_node``: a ``LocalNode`` for a command, whose checkpoints the server signs when
  one runs (``server_publisher``).

This module reads and writes only ``serve.lock``; it never prints.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Final

from credex.ledger.checkpoint import SignedNote, verify_note_signature
from credex.ledger.errors import ConfigError, PeerUnavailableError
from credex.node.home import NodeHome
from credex.node.local import LocalNode, Publisher

__all__ = ["LOCK_FILE", "Holder", "ServeLock", "holder", "open_node", "server_publisher"]

LOCK_FILE: Final = "serve.lock"
_TIMEOUT_S: Final = 10.0


@dataclass(frozen=True, slots=True)
class Holder:
    """The server holding a home: its pid and public address (None while it binds)."""

    pid: int | None
    address: str | None


def _pid(fd: int) -> int | None:
    os.lseek(fd, 0, os.SEEK_SET)
    text = os.read(fd, 32).decode("ascii", "replace").strip()
    return int(text) if text.isascii() and text.isdigit() else None


def _open(home: Path) -> int:
    return os.open(home / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o600)


class ServeLock:
    """``HOME/serve.lock`` held exclusively by one ``credex serve`` (its pid inside)."""

    def __init__(self, home: Path) -> None:
        """Take the lock.

        Raises:
            ConfigError: another server holds this home (its pid is named).
        """
        fd = _open(home)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _pid(fd)
            os.close(fd)
            raise ConfigError(
                f"serve: another credex serve holds this home (pid {pid}): stop it first"
            ) from None
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        os.fsync(fd)
        self._fd: int | None = fd

    def release(self) -> None:
        """Let go (idempotent); the kernel does the same when the process ends."""
        if self._fd is not None:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = None

    def __enter__(self) -> ServeLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def holder(home: Path) -> Holder | None:
    """The server holding ``home`` (pid, public address from ``node.json``), or None."""
    if not (home / LOCK_FILE).exists():
        return None
    fd = _open(home)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
        except BlockingIOError:
            pid = _pid(fd)
        else:
            fcntl.flock(fd, fcntl.LOCK_UN)
            return None
    finally:
        os.close(fd)
    address = None
    with contextlib.suppress(OSError, ValueError):
        listen = json.loads((home / "node.json").read_text(encoding="utf-8")).get("listen")
        address = _dialable(listen) if isinstance(listen, str) else None
    return Holder(pid, address)


def _dialable(listen: str) -> str:
    """A bound address as a local client dials it (a wildcard host is this machine)."""
    host, _, port = listen.rpartition(":")
    if host in ("0.0.0.0", "::", "[::]", ""):
        host = "127.0.0.1"
    return f"{host}:{port}"


def server_publisher(home: NodeHome, held: Holder) -> Publisher:
    """A ``Publisher`` asking the server holding ``home`` for its latest checkpoint (it
    signs one when the log grew); the note must be signed by this home's log key.

    The returned function raises ``PeerUnavailableError`` (one line) when the server
    does not answer: it is starting or stopping.
    """
    from credex.node.rpc.client import PeerClient
    from credex.node.rpc.tls import NodeTls

    def publish(now: int) -> SignedNote:
        who = f"credex serve (pid {held.pid})"
        if held.address is None:
            raise PeerUnavailableError(
                f"checkpoint: {who} holds this home but is not listening (starting or "
                "stopping): try again once it is up or stopped"
            )
        ca = NodeTls(home.path, name=home.region).ca_pem()
        try:
            with PeerClient(held.address, ca_pem=ca, timeout_s=_TIMEOUT_S) as client:
                text = client.get_checkpoint()
        except PeerUnavailableError as e:
            raise PeerUnavailableError(
                f"checkpoint: {who} holds this home but did not answer at {held.address} "
                "(stopping?): try again once it is up or stopped"
            ) from e
        note = SignedNote.from_text(text)
        verify_note_signature(note, home.origin, home.log_key().public_key)
        return note

    return publish


def open_node(path: Path) -> LocalNode:
    """The node at ``path`` for one command: if a server holds the home, checkpoints are
    the server's (``server_publisher``); otherwise this handle signs them."""
    home = NodeHome.open(path)
    held = holder(path)
    return LocalNode(home, publisher=None if held is None else server_publisher(home, held))
