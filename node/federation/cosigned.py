"""The newest cosigned checkpoint of each mirrored log, kept after every sync round.

::

    HOME/mirrors/<slug>.cosigned.json   the peer log's receipt signature over the root of
                                        the newest mirrored checkpoint that met the quorum

A peer signs a checkpoint, the mirror fetches it, and only then do the witnesses cosign
it; by the next round the peer may have signed a newer one, again without cosignatures.
So a mirror whose newest checkpoint lacks the quorum would hand out nothing a bank
verifying with the quorum accepts. After each clean sync, ``keep_cosigned`` looks at the
mirror's recent checkpoints newer than the one kept (newest first, at most
``CANDIDATES``): one that lacks the quorum is asked of the peer again at its size
(``GetCheckpoint``), and the cosignatures that verify under the trust are merged into the
mirror's copy (``merge_verified``: no unchecked line is kept); the first that meets the
quorum (and commits to an index root, which the mirror rebuilt when it recorded it) gets
the peer's receipt signature over its root, checked, and becomes the one kept.

Bounded: the mirror's index keeps the versions of the kept checkpoint, of the one kept
before it (a report being compiled may still read it), and of every checkpoint after it;
the versions in between and older are pruned as the kept one moves forward. The mirror's
checkpoint rows (a few hundred bytes each) all stay: ``logged_window`` reads them.
"""

from __future__ import annotations

from typing import Final, Protocol

from credex.ledger.checkpoint import SignedNote, merge_verified
from credex.ledger.errors import CredexError, VerificationError
from credex.ledger.index_map import parse_index_extension
from credex.ledger.log import AppendOnlyLog
from credex.ledger.log_index import LogIndex
from credex.ledger.merkle import leaf_hash
from credex.ledger.receipt import Receipt
from credex.ledger.storage.base import StoredCheckpoint
from credex.ledger.storage.sql import SqlStore
from credex.ledger.trust import TrustedLog, TrustPolicy
from credex.node.federation.mirrors import RootSignature, cosigned_path, meets_quorum, read_root
from credex.node.files import write_json
from credex.node.home import NodeHome

__all__ = ["CANDIDATES", "CosignedSource", "keep_cosigned", "root_signature"]

#: how many of the mirror's newest checkpoints one round looks at
CANDIDATES: Final = 8


class CosignedSource(Protocol):
    """What ``keep_cosigned`` asks of the peer (the gRPC ``PeerClient``)."""

    def get_checkpoint(self, tree_size: int = 0) -> str: ...
    def get_receipt(self, leaf_index: int, tree_size: int) -> bytes: ...


def root_signature(
    source: CosignedSource, mirror: AppendOnlyLog, log: TrustedLog, size: int, root: bytes
) -> RootSignature | None:
    """The peer log's receipt signature over the mirrored ``root`` at ``size``, checked
    (None: the peer did not sign a receipt at that size).

    Raises:
        VerificationError / SignatureError: a receipt that does not sign that root.
    """
    index = size - 1
    r = Receipt.from_bytes(source.get_receipt(index, size))
    if r.tree_size != size:
        return None
    if r.log_kid != log.kid or r.root_for(leaf_hash(mirror.entry(index).leaf)) != root:
        raise VerificationError("sync: peer receipt does not sign the mirrored root")
    r.verify_signature(log.public_key, root)
    return RootSignature(size, root, r.log_kid, r.protected, r.signature)


def _merged(
    source: CosignedSource,
    store: SqlStore,
    held: StoredCheckpoint,
    trust: TrustPolicy,
    log: TrustedLog,
) -> SignedNote:
    """``held`` with the verified cosignatures the peer serves now for its size, stored."""
    mine = SignedNote.from_text(held.note)
    theirs = SignedNote.from_text(source.get_checkpoint(held.tree_size))
    if theirs.body != mine.body:
        return mine  # another body for a size: sync catches split views, not this
    witnesses = [(w.name, w.public_key) for w in trust.witnesses_for(log.origin)]
    merged = merge_verified((mine, theirs), (log.note_key_name, log.public_key), witnesses)
    if merged.to_text() != held.note:
        store.add_checkpoint(
            StoredCheckpoint(held.tree_size, held.root, merged.to_text(), held.created_at)
        )
    return merged


def keep_cosigned(
    home: NodeHome,
    origin: str,
    source: CosignedSource,
    store: SqlStore,
    mirror: AppendOnlyLog,
    trust: TrustPolicy,
) -> int:
    """Move ``origin``'s kept cosigned checkpoint forward if a newer one meets the quorum
    (see the module docstring); returns the size kept (0: none yet).

    Raises:
        PeerUnavailableError: the peer could not be asked (the kept one stays).
        VerificationError / SignatureError: the peer's receipt does not sign the root.
    """
    log = trust.log_for_origin(origin)
    if log is None:
        return 0
    path = cosigned_path(home, origin)
    kept = read_root(path, origin)
    kept_size = 0 if kept is None else kept.tree_size
    for held in store.list_checkpoints(CANDIDATES):
        if held.tree_size <= kept_size:
            break
        note = SignedNote.from_text(held.note)
        if parse_index_extension(note.checkpoint.extensions) is None:
            continue
        if not meets_quorum(note, trust, origin):
            try:
                note = _merged(source, store, held, trust, log)
            except CredexError:
                continue  # the peer no longer serves that size: look at an older one
            if not meets_quorum(note, trust, origin):
                continue
        sig = root_signature(source, mirror, log, held.tree_size, held.root)
        if sig is None:
            continue
        write_json(path, sig.to_json_value())
        _prune(mirror, kept_size, held.tree_size)
        return held.tree_size
    return kept_size


def _prune(mirror: AppendOnlyLog, previous: int, current: int) -> None:
    """Drop the index versions between the previously kept checkpoint and the new one,
    and those older than the previously kept one (see the module docstring)."""
    index = mirror.index
    if not isinstance(index, LogIndex) or previous <= 0:
        return
    store = index.store
    store.prune_between(previous, current)
    store.prune(previous)
