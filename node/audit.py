"""``credex audit``: an auditor follows one log, rebuilds its index, checks every root.

An auditor needs no node home: trust material (a ``credex-trust/1`` file or a federation
manifest) and the log's public endpoint. Each run is one ``PeerSync`` round into the
auditor's own state directory (a SQLite file per origin, so a run resumes where the last
one stopped): the checkpoint's log signature, its consistency with the last checkpoint
this auditor verified, every new entry (statement, issuer, signature), the tree's root,
and the ``credex-index/v1`` root rebuilt from the entries' bytes with the map function
(docs/spec.md §5). Nothing the log says is taken on its word.

When something does not match, the run keeps portable evidence in ``<state>/evidence/``
and reports it: a split view or rollback as the split-view evidence file of
``ledger/evidence.py`` (anyone verifies it with ``credex evidence verify``), an index
root that does not rebuild as a JSON file holding the signed checkpoint and the rebuilt
root (anyone holding the log's entries up to that size rebuilds it).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from credex.ledger.errors import (
    CredexError,
    InconsistentLogError,
    IndexRootMismatchError,
    WrongLogError,
)
from credex.ledger.evidence import evidence_from_error
from credex.ledger.index_map import MAP_VERSION
from credex.ledger.log import AppendOnlyLog
from credex.ledger.log_index import LogIndex
from credex.ledger.storage.index_store import SqlNodeStore
from credex.ledger.storage.sql import SqlStore
from credex.ledger.trust import TrustPolicy
from credex.node.federation.sync import PeerSource, PeerSync

__all__ = ["AuditResult", "audit_log"]


@dataclass(frozen=True, slots=True)
class AuditResult:
    """One audit round: what was checked, and what failed (``error``, ``evidence``)."""

    origin: str
    checkpoint_size: int
    audited_size: int
    new_entries: int
    index_root: str | None
    error: str | None = None
    evidence: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json(self) -> dict[str, Any]:
        return {
            "origin": self.origin,
            "checkpoint_size": self.checkpoint_size,
            "audited_size": self.audited_size,
            "new_entries": self.new_entries,
            "index_root": self.index_root,
            "ok": self.ok,
            "error": self.error,
            "evidence": self.evidence,
        }


def _slug(origin: str) -> str:
    return hashlib.sha256(origin.encode("utf-8")).hexdigest()[:16]


def _write(path: Path, data: bytes) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    tmp.replace(path)
    return str(path)


def audit_log(
    origin: str,
    trust: TrustPolicy,
    source: PeerSource,
    state: Path,
    now: int,
    *,
    batch: int = 1000,
) -> AuditResult:
    """One audit round of ``origin`` through ``source`` (a ``PeerClient``), resuming from
    ``state``. Never raises a ``CredexError`` about the log: it is the result's ``error``.

    Raises:
        WrongLogError: ``origin`` is not a log of ``trust``.
        StorageError: the state directory's database cannot be used.
    """
    log_key = trust.log_for_origin(origin)
    if log_key is None:
        raise WrongLogError(f"audit: {origin!r} is not a log of the trust material")
    state.mkdir(parents=True, exist_ok=True)
    url = f"sqlite:///{state / f'audit-{_slug(origin)}.sqlite'}"
    store = SqlStore(url)
    nodes = SqlNodeStore(url)
    index = LogIndex(nodes)
    try:
        with AppendOnlyLog(store, index=index) as log:

            def result(error: str | None = None, evidence: str | None = None) -> AuditResult:
                held = log.latest_checkpoint()
                size = 0 if held is None else held.tree_size
                root = None if held is None else index.root_at(size).hash.hex()
                return AuditResult(origin, size, log.size, 0, root, error, evidence)

            try:
                r = PeerSync(origin, source, trust, log, batch=batch).sync_once(now)
            except IndexRootMismatchError as e:
                path = state / "evidence" / f"index-root-{_slug(origin)}-{log.size}.json"
                body = {
                    "v": 1,
                    "kind": "index-root-mismatch",
                    "origin": origin,
                    "map_version": MAP_VERSION,
                    "checkpoint": e.checkpoint,
                    "rebuilt_root": e.rebuilt.hex(),
                    "found_at": now,
                }
                text = json.dumps(body, indent=2, ensure_ascii=False) + "\n"
                return result(str(e), _write(path, text.encode("utf-8")))
            except InconsistentLogError as e:
                evidence = None
                if e.old_checkpoint and e.new_checkpoint:
                    ev = evidence_from_error(
                        e, log_note_name=log_key.note_key_name, log_key=log_key.public_key
                    )
                    name = f"split-view-{_slug(origin)}-{ev.digest.hex()[:16]}.cbor"
                    evidence = _write(state / "evidence" / name, ev.to_bytes())
                return result(str(e), evidence)
            except CredexError as e:
                return result(str(e))
            held = log.latest_checkpoint()
            root = None if held is None else index.root_at(held.tree_size).hash.hex()
            return AuditResult(
                origin, r.checkpoint_size, r.mirrored_size, r.new_entries, root, r.error
            )
    finally:
        store.close()
        nodes.close()
