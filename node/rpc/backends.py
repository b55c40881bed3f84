"""What the servicers delegate to beyond the local node: the witness and the mirrors.

Protocols only: ``credex.node.federation`` implements them (``ManifestWitness``,
``MirrorBundles``), and tests fill them with fakes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from credex.ledger.bundle import Bundle

__all__ = [
    "MirrorBackend",
    "WitnessBackend",
]


class WitnessBackend(Protocol):
    """What the Witness service delegates to (C2SP tlog-witness ``add-checkpoint``).

    ``add_checkpoint`` checks ``note_text`` (a signed note of a log the witness knows)
    against the latest checkpoint it cosigned for that origin, with ``proof`` the
    consistency proof from ``old_size``, and returns its cosignature line(s)
    (``"— <name> <base64>\\n"``). It raises, and the server maps (docs/grpc.md):

    - ``NotFoundError``: unknown origin (404) -> NOT_FOUND
    - ``SignatureError``: not signed by the log's key (403) -> PERMISSION_DENIED
    - ``OutOfRangeError`` with an int attribute ``witness_size``: ``old_size`` is not the
      witness's latest size for that origin (409) -> FAILED_PRECONDITION, with the size in
      the ``x-witness-size`` trailer
    - ``ConsistencyProofError`` / ``InconsistentLogError``: the proof fails or the views
      conflict (422) -> INVALID_ARGUMENT
    - ``FormatError``: malformed note (400) -> INVALID_ARGUMENT
    """

    def add_checkpoint(self, old_size: int, proof: Sequence[bytes], note_text: str) -> str: ...


class MirrorBackend(Protocol):
    """Bundles of peer logs this node mirrors (``GetBundle`` with ``origin``).

    ``bundle`` returns (leaf index, bundle) for an index or leaf hash of ``origin``'s
    mirror; it raises ``NotFoundError`` if ``origin`` is not mirrored here (or no signed
    root of the mirror is held yet) and ``OutOfRangeError`` for an index beyond it.
    """

    def bundle(self, origin: str, ref: int | bytes) -> tuple[int, Bundle]: ...
