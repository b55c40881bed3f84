"""This node as a witness of the others, and the others as witnesses of this node's log.

::

    HOME/federation/cosigned.json   witness origin -> the size it last cosigned for us

- ``witness_backend``: the Witness service of ``credex serve`` (``ledger.witness.Witness``
  over the node's ``WitnessStore``), cosigning only the *other* members' logs of the
  manifest in force.
- ``collect_cosignatures``: publish our checkpoint, ask every other member's witness to
  cosign it (C2SP tlog-witness, with one retry from the witness's size on a 409), verify
  each returned cosignature against the manifest and re-record the merged note (with any
  cosignature already stored for that size), so our bundles carry the cosignatures a
  verifier's k-of-n quorum needs.

Nothing here prints; errors carry sizes and reasons, never keys.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Final, Protocol

from credex.ledger.checkpoint import SignedNote, merge_verified, verify_cosignature
from credex.ledger.errors import (
    CredexError,
    FormatError,
    NotFoundError,
    OutOfRangeError,
    VerificationError,
)
from credex.ledger.keys import SigningKey
from credex.ledger.manifest import Manifest
from credex.ledger.storage.witness import WitnessStore
from credex.ledger.trust import TrustedLog
from credex.ledger.witness import Witness
from credex.node.federation.manifests import (
    FEDERATION_DIR,
    WITNESS_KEY_FILE,
)
from credex.node.federation.members import (
    member_for,
)
from credex.node.federation.quorum import cosigners, mark_quorum
from credex.node.files import read_secret, write_json
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.rpc.errors import witness_size_of

__all__ = [
    "ManifestWitness",
    "WitnessClient",
    "collect_cosignatures",
    "failure_reason",
    "witness_backend",
]

logger = logging.getLogger("credex.federation")
_COSIGNED_FILE: Final = "cosigned.json"


class ManifestWitness:
    """``WitnessBackend`` for ``create_server``: cosigns the other members' logs of the
    manifest in force (``manifest()``, asked on every call: a version installed while the
    server runs takes effect at once; none yet: NOT_FOUND)."""

    def __init__(
        self,
        home: NodeHome,
        manifest: Callable[[], Manifest | None],
        store: WitnessStore,
        clock: Callable[[], int],
    ) -> None:
        self.home = home
        self.store = store
        self._manifest = manifest
        self._clock = clock
        self._built: tuple[Manifest, Witness] | None = None
        self._lock = threading.Lock()

    @property
    def witness(self) -> Witness:
        """The witness of the manifest in force.

        Raises:
            NotFoundError: this node has no manifest yet.
            VerificationError: ``keys/witness.key`` is not this member's witness key.
        """
        manifest = self._manifest()
        if manifest is None:
            raise NotFoundError("witness: this node has no federation manifest yet")
        with self._lock:
            if self._built is None or self._built[0] is not manifest:
                self._built = (manifest, _witness_for(self.home, manifest, self.store))
            return self._built[1]

    def add_checkpoint(self, old_size: int, proof: Sequence[bytes], note_text: str) -> str:
        sig = self.witness.add_checkpoint(old_size, proof, note_text, self._clock())
        return sig.to_line()

    def close(self) -> None:
        self.store.close()


def _witness_for(home: NodeHome, manifest: Manifest, store: WitnessStore) -> Witness:
    me = member_for(manifest, home.origin)
    key = SigningKey(read_secret(home.keys_dir / WITNESS_KEY_FILE))
    if key.public_key != me.witness_key:
        raise VerificationError("federation: keys/witness.key is not this member's witness key")
    logs = {
        m.origin: TrustedLog(m.origin, m.log_note_name, m.log_key)
        for m in manifest.latest.members
        if m.origin != home.origin
    }
    return Witness(me.witness_name, key, logs, store)


def witness_backend(
    home: NodeHome,
    manifest: Manifest | Callable[[], Manifest | None],
    *,
    clock: Callable[[], int],
    db_url: str | None = None,
) -> ManifestWitness:
    """The node's witness: name and key from its member entry (``keys/witness.key``),
    logs = every other member, state in the node database. ``manifest`` is one version,
    or a function giving the one in force (``ManifestWatch.current``)."""
    fixed = manifest if isinstance(manifest, Manifest) else None
    source: Callable[[], Manifest | None] = (
        (lambda: fixed) if isinstance(manifest, Manifest) else manifest
    )
    store = WitnessStore(db_url or home.db_url)
    backend = ManifestWitness(home, source, store, clock)
    if fixed is not None:
        try:
            _ = backend.witness  # a wrong witness key shows at once
        except BaseException:
            store.close()
            raise
    return backend


class WitnessClient(Protocol):
    """What collecting cosignatures needs from a peer (``PeerClient``)."""

    def add_checkpoint(self, old_size: int, proof: Sequence[bytes], note_text: str) -> str: ...


def _cosigned_path(home: NodeHome) -> Path:
    return home.path / FEDERATION_DIR / _COSIGNED_FILE


def _cosigned(home: NodeHome) -> dict[str, int]:
    try:
        raw = json.loads(_cosigned_path(home).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except ValueError as e:
        raise FormatError("federation: cosigned.json is not valid json") from e
    return {str(k): int(v) for k, v in raw.items()} if isinstance(raw, dict) else {}


def _ask(client: WitnessClient, node: LocalNode, old: int, note: SignedNote) -> tuple[str, int]:
    """(cosignature lines, the size they cosign from) with one retry on a 409."""
    size = note.checkpoint.size

    def proof(from_size: int) -> list[bytes]:
        if 0 < from_size < size:
            return node.log.consistency_proof(from_size, size)
        return []

    if old > size:
        old = 0
    try:
        return client.add_checkpoint(old, proof(old), note.to_text()), old
    except OutOfRangeError as e:
        witness_size = witness_size_of(e)
        if witness_size is None or witness_size == old or witness_size > size:
            raise
        return client.add_checkpoint(witness_size, proof(witness_size), note.to_text()), old


def collect_cosignatures(
    node: LocalNode,
    home: NodeHome,
    manifest: Manifest,
    clients: Mapping[str, WitnessClient],
    now: int,
    *,
    errors: dict[str, str] | None = None,
) -> SignedNote:
    """Publish our checkpoint, collect the other members' cosignatures, re-record it.

    ``clients`` maps member origins to their Witness clients. A witness that fails is
    skipped (its reason goes to ``errors`` when given); a returned cosignature that does
    not verify with the member's witness key is dropped.

    Returns:
        The checkpoint note with every cosignature gathered (stored as the latest note).
    """
    note = node.publish_checkpoint(now)
    cp = note.checkpoint
    cosigned = _cosigned(home)
    answers = [note]
    witnesses: list[tuple[str, bytes]] = []
    for m in manifest.latest.members:
        client = clients.get(m.origin)
        if m.origin == home.origin:
            continue
        witnesses.append((m.witness_name, m.witness_key))
        if client is None:
            continue
        try:
            lines, _ = _ask(client, node, cosigned.get(m.origin, 0), note)
            got = SignedNote.from_text(note.body + "\n" + lines)
            verify_cosignature(got, m.witness_name, m.witness_key)
        except Exception as e:
            reason = failure_reason(e)
            logger.warning("witness %s did not cosign size %d: %s", m.region, cp.size, reason)
            if errors is not None:
                errors[m.origin] = reason
            continue
        answers.append(got)
        cosigned[m.origin] = cp.size
    stored = node.store.get_checkpoint(cp.size)
    if stored is not None and stored.note != note.to_text():
        # another process (a command next to the server) may have recorded cosignatures
        # for this size meanwhile: keep the union, never drop one
        answers.append(SignedNote.from_text(stored.note))
    merged = note
    if len(answers) > 1:
        # only the log's line and one verified cosignature per witness: a witness that
        # answers with extra lines cannot make our note carry them or outgrow its limit
        log_key = node.home.log_key().public_key
        merged = merge_verified(answers, (node.home.origin, log_key), witnesses)
        if stored is None or merged.to_text() != stored.note:
            node.log.record_checkpoint(cp.size, cp.root, merged.to_text(), now)
        write_json(_cosigned_path(home), cosigned)
    if cosigners(merged, manifest, home.origin) >= manifest.quorum_for(home.origin):
        mark_quorum(home, cp.size)
    return merged


def failure_reason(e: BaseException) -> str:
    """One line for a log or a status: a credex error's message, or only the type of
    anything else (an unexpected exception's text is not ours to repeat)."""
    if isinstance(e, CredexError):
        return str(e).splitlines()[0][:300] if str(e) else type(e).__name__
    return f"unexpected {type(e).__name__}"
