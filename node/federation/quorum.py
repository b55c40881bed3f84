"""The witness quorum of this node's own checkpoints: which one a bank's bundle rests on.

::

    HOME/federation/quorum.json     {"tree_size"}: the last checkpoint that met the quorum

A bundle verifies at step 6 only if its checkpoint carries the cosignatures of k other
members (the manifest's quorum). The follow loop collects them for the latest checkpoint
each round (``witnessing.collect_cosignatures``, which calls ``mark_quorum``); a newer
checkpoint (the log grew since) has none yet. ``cosigned_checkpoint`` finds the newest
one covering an entry that does meet the quorum, ``wait_cosigned`` waits for one. Nothing
here signs or prints.
"""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Final

from credex.ledger.checkpoint import SignedNote, verify_cosignature
from credex.ledger.errors import CredexError
from credex.ledger.manifest import Manifest
from credex.node.federation.manifests import FEDERATION_DIR
from credex.node.files import write_json
from credex.node.home import NodeHome
from credex.node.local import LocalNode

__all__ = ["cosigned_checkpoint", "cosigners", "mark_quorum", "wait_cosigned"]

_QUORUM_FILE: Final = "quorum.json"


def mark_quorum(home: NodeHome, tree_size: int) -> None:
    """Remember that this log's checkpoint at ``tree_size`` met the quorum."""
    write_json(_quorum_path(home), {"tree_size": tree_size})


def cosigners(note: SignedNote, manifest: Manifest, origin: str) -> int:
    """How many of the witnesses ``manifest`` names for ``origin`` cosigned ``note``
    (each cosignature verified)."""
    count = 0
    for w in manifest.witnesses_for(origin):
        try:
            verify_cosignature(note, w.name, w.public_key)
        except CredexError:
            continue
        count += 1
    return count


def _quorum_path(home: NodeHome) -> Path:
    return home.path / FEDERATION_DIR / _QUORUM_FILE


def cosigned_checkpoint(
    node: LocalNode, home: NodeHome, manifest: Manifest, index: int
) -> SignedNote | None:
    """The newest checkpoint of this log covering entry ``index`` that carries the
    manifest's witness quorum: the latest, or the last one that met it
    (``federation/quorum.json``); None if neither does yet."""
    candidates = []
    latest = node.store.latest_checkpoint()
    if latest is not None:
        candidates.append(latest)
    try:
        raw = json.loads(_quorum_path(home).read_text(encoding="utf-8"))
        size = int(raw["tree_size"])
    except (FileNotFoundError, ValueError, KeyError, TypeError):
        size = None
    if size is not None and (latest is None or size != latest.tree_size):
        found = node.store.get_checkpoint(size)
        if found is not None:
            candidates.append(found)
    k = manifest.quorum_for(home.origin)
    for c in candidates:
        if c.tree_size <= index:
            continue
        note = SignedNote.from_text(c.note)
        if cosigners(note, manifest, home.origin) >= k:
            return note
    return None


def wait_cosigned(
    node: LocalNode,
    home: NodeHome,
    manifest: Manifest,
    index: int,
    timeout_s: float,
    *,
    poll_s: float = 0.25,
) -> tuple[SignedNote | None, float]:
    """Wait up to ``timeout_s`` until a checkpoint covering ``index`` meets the quorum
    (``credex serve --follow`` collects cosignatures each round); returns it (or None)
    and the seconds waited. Polls the node's database; never signs."""
    start = time.monotonic()
    while True:
        note = cosigned_checkpoint(node, home, manifest, index)
        waited = time.monotonic() - start
        if note is not None or waited >= timeout_s:
            return note, waited
        time.sleep(min(poll_s, max(timeout_s - waited, 0.0)))
