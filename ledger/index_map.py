"""The map function of the verifiable index: which keys and values a log's entries make.

Fixed for the life of an index (``MAP_VERSION`` 1) and specified in docs/spec.md §6 so
an auditor on another stack rebuilds the same root from the same log. Two maps share one
tree, in disjoint key spaces (each key is a domain-separated SHA-256):

- ``record -> status``: for every record that some lifecycle statement of this log names
  in ``refs[0]``, the ordered list of those statements;
- ``subject -> records``: for every CWT ``sub`` (a USCC, a HK number, a person's keyed
  pseudonym ``hmac:<key id>:<hex>``, or a document's reserved ``hmac:00000000:...``),
  the ordered list of the entries about it, with their kinds.

A value is the fold of a hash chain over its list, in log order::

    value = c_n,  c_0 = 32 zero bytes,  c_i = SHA-256(tag || c_(i-1) || item_i)

so the node extends a value in O(1) per appended entry, and a verifier recomputes it
from the listed items. Nothing personal enters the index: keys are hashes of leaf hashes
and of subjects already public on the log (persons only by pseudonym), items are
indices, leaf hashes and kinds.

``MapInput`` is what one entry contributes; ``map_input_of`` derives it from a logged
entry's bytes (what an auditor does), the node from the ``NewLeaf`` it appends (the same
fields: ``credex.ledger.indexing.leaf_for``). Pure: no I/O.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import struct
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from credex.ledger.errors import CredexError, IndexFormatError
from credex.ledger.lifecycle.model import STATUS_KINDS
from credex.ledger.merkle import leaf_hash as log_leaf_hash
from credex.ledger.statement import Statement

__all__ = [
    "CHAIN_START",
    "INDEX_EXTENSION",
    "MAP_VERSION",
    "STATUS_MAP_KINDS",
    "MapEntry",
    "MapInput",
    "chain",
    "index_extension_line",
    "map_input_of",
    "map_pairs",
    "map_updates",
    "parse_index_extension",
    "status_item",
    "status_key",
    "status_value",
    "subject_item",
    "subject_key",
    "subject_value",
]

MAP_VERSION: Final = 1
#: the signed-note extension line that commits a checkpoint to the index root
INDEX_EXTENSION: Final = "credex-index/v1"
#: kinds whose ``refs[0]`` gets a status entry (``lifecycle.STATUS_KINDS``, listed in the spec)
STATUS_MAP_KINDS: Final = frozenset(STATUS_KINDS)
CHAIN_START: Final = bytes(32)

_STATUS_KEY: Final = b"credex-index/v1 status key\x00"
_SUBJECT_KEY: Final = b"credex-index/v1 subject key\x00"
_STATUS_VALUE: Final = b"credex-index/v1 status value\x00"
_SUBJECT_VALUE: Final = b"credex-index/v1 subject value\x00"
_U64: Final = struct.Struct(">Q")
_MAX_KIND: Final = 255


@dataclass(frozen=True, slots=True)
class MapInput:
    """What entry ``index`` contributes: its leaf hash (RFC 9162), kind, CWT ``sub`` and,
    for a statement in the clear, ``refs[0]`` (None for a hash envelope)."""

    index: int
    leaf_hash: bytes
    kind: str
    subject: str | None
    target: bytes | None


def status_key(record_leaf_hash: bytes) -> bytes:
    """The key of a record's status: SHA-256(tag || its 32-byte leaf hash)."""
    if len(record_leaf_hash) != 32:
        raise IndexFormatError(
            f"index map: record leaf hash: expected 32 bytes, got {len(record_leaf_hash)}"
        )
    return hashlib.sha256(_STATUS_KEY + record_leaf_hash).digest()


def subject_key(subject: str) -> bytes:
    """The key of a subject's records: SHA-256(tag || UTF-8 of the CWT ``sub``)."""
    return hashlib.sha256(_SUBJECT_KEY + subject.encode("utf-8")).digest()


def status_item(index: int, leaf: bytes) -> bytes:
    """One lifecycle statement in a status value: u64be(index) || leaf hash."""
    return _U64.pack(index) + leaf


def subject_item(index: int, leaf: bytes, kind: str) -> bytes:
    """One entry in a subject value: u64be(index) || leaf hash || u8(len kind) || kind."""
    k = kind.encode("ascii")
    if not 0 < len(k) <= _MAX_KIND:
        raise IndexFormatError(f"index map: kind: expected 1..{_MAX_KIND} bytes, got {len(k)}")
    return _U64.pack(index) + leaf + bytes([len(k)]) + k


def chain(tag: bytes, prev: bytes, item: bytes) -> bytes:
    return hashlib.sha256(tag + prev + item).digest()


def status_value(items: Iterable[tuple[int, bytes]]) -> bytes:
    """The status value of ``(index, leaf hash)`` items, in log order."""
    acc = CHAIN_START
    for index, leaf in items:
        acc = chain(_STATUS_VALUE, acc, status_item(index, leaf))
    return acc


def subject_value(items: Iterable[tuple[int, bytes, str]]) -> bytes:
    """The subject value of ``(index, leaf hash, kind)`` items, in log order."""
    acc = CHAIN_START
    for index, leaf, kind in items:
        acc = chain(_SUBJECT_VALUE, acc, subject_item(index, leaf, kind))
    return acc


class MapEntry(Protocol):
    """What ``map_updates`` reads of an entry (``MapInput``, or the log's ``NewEntry``)."""

    @property
    def leaf_hash(self) -> bytes: ...
    @property
    def kind(self) -> str: ...
    @property
    def subject(self) -> str | None: ...
    @property
    def target(self) -> bytes | None: ...


def map_updates(
    entries: Sequence[MapEntry],
    current: Callable[[bytes], bytes | None],
    start: int | None = None,
) -> dict[bytes, bytes]:
    """The ``key -> value`` updates that appending ``entries`` (in index order) makes to an
    index whose values are read with ``current`` (None: key absent). Entry ``k`` is at
    log index ``start + k``, or at its own ``index`` (a ``MapInput``) when ``start`` is
    None.

    This runs inside every log append (on the log's lock, beside the signing thread), so
    it is written for speed: each distinct subject and kind is encoded once per batch.
    """
    out: dict[bytes, bytes] = {}
    sha = hashlib.sha256
    pack = _U64.pack
    subject_keys: dict[str, bytes] = {}
    kinds: dict[str, bytes] = {}
    status_kinds = STATUS_MAP_KINDS
    for k, e in enumerate(entries):
        index = e.index if start is None else start + k  # type: ignore[attr-defined]
        leaf = e.leaf_hash
        kind = e.kind
        sub = e.subject
        if sub is not None:
            key = subject_keys.get(sub)
            if key is None:
                key = subject_keys[sub] = subject_key(sub)
            kb = kinds.get(kind)
            if kb is None:
                raw = kind.encode("ascii")
                if not 0 < len(raw) <= _MAX_KIND:
                    raise IndexFormatError(
                        f"index map: kind: expected 1..{_MAX_KIND} bytes, got {len(raw)}"
                    )
                kb = kinds[kind] = bytes([len(raw)]) + raw
            prev = out.get(key)
            if prev is None:
                prev = current(key) or CHAIN_START
            out[key] = sha(_SUBJECT_VALUE + prev + pack(index) + leaf + kb).digest()
        target = e.target
        if target is not None and kind in status_kinds:
            key = status_key(target)
            prev = out.get(key)
            if prev is None:
                prev = current(key) or CHAIN_START
            out[key] = sha(_STATUS_VALUE + prev + pack(index) + leaf).digest()
    return out


def map_pairs(entries: Iterable[MapInput]) -> list[tuple[bytes, bytes]]:
    """Every ``(key, value)`` of the index over ``entries`` (a whole log prefix, in index
    order), sorted by key: what ``vindex.compute_root`` takes."""
    values: dict[bytes, bytes] = {}
    for e in entries:
        values.update(map_updates([e], values.get))
    return sorted(values.items())


def map_input_of(index: int, leaf: bytes) -> MapInput:
    """What the logged entry ``leaf`` (statement bytes as logged) at ``index`` contributes.

    Raises:
        IndexFormatError: the entry is not a credex statement (a credex log holds none:
            every entry was parsed before it was logged).
    """
    try:
        st = Statement.from_bytes(leaf)
    except CredexError as e:
        raise IndexFormatError(f"index map: entry {index} is not a statement: {e}") from e
    target = None
    if not st.is_envelope and st.record.refs:
        target = st.record.refs[0]
    return MapInput(index, log_leaf_hash(leaf), st.kind, st.claims.sub, target)


def index_extension_line(root: bytes) -> str:
    """The checkpoint extension line committing to index ``root``."""
    return f"{INDEX_EXTENSION} {base64.b64encode(root).decode('ascii')}"


def parse_index_extension(extensions: Sequence[str]) -> bytes | None:
    """The index root a checkpoint's extension lines commit to; None if none does.

    Raises:
        IndexFormatError: two index lines, or one that is not ``credex-index/v1`` and the
            canonical base64 of 32 bytes.
    """
    found = [e for e in extensions if e.split(" ", 1)[0] == INDEX_EXTENSION]
    if not found:
        return None
    if len(found) > 1:
        raise IndexFormatError("checkpoint: more than one credex-index/v1 line")
    parts = found[0].split(" ")
    if len(parts) != 2:
        raise IndexFormatError("checkpoint: index line: expected 'credex-index/v1 <base64 root>'")
    try:
        root = base64.b64decode(parts[1].encode("ascii"), validate=True)
    except (binascii.Error, ValueError, UnicodeEncodeError) as e:
        raise IndexFormatError("checkpoint: index root is not valid base64") from e
    if len(root) != 32 or base64.b64encode(root).decode("ascii") != parts[1]:
        raise IndexFormatError("checkpoint: index root: expected canonical base64 of 32 bytes")
    return root
