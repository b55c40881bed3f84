"""The pure core of credex and its log.

Records (``record``), deterministic CBOR (``encoding``), COSE statements and RFC 9995
hash envelopes (``statement``, ``envelope``), RFC 9162 Merkle math (``merkle``), C2SP
checkpoints and cosignatures (``checkpoint``), RFC 9942 receipts (``receipt``), bundles
(``bundle``) and the log's attestation they carry (``attestation``), the time a log
attests (``logtime``), trust material (``trust``, ``trust_material``, ``manifest/``) and
the strict JSON it is read with (``strict_json``), the legal lifecycle (``lifecycle/``),
conversion policies (``policy/``, ``derive``),
verification step by step (``verify``, ``verify_steps``), witnessing (``witness``),
evidence (``evidence``), conflicts (``conflicts/``), and the one error tree (``errors``).
No module here reads the clock, the network or files, except the log (``log``,
``group_commit``) and its storage (``storage/``). Names are imported lazily.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from credex._exports import lazy_exports

if TYPE_CHECKING:
    from credex.ledger.attestation import (
        Attestation,
    )
    from credex.ledger.bundle import (
        Bundle,
    )
    from credex.ledger.checkpoint import (
        Checkpoint,
        SignedNote,
    )
    from credex.ledger.keys import (
        SigningKey,
    )
    from credex.ledger.log import (
        AppendOnlyLog,
    )
    from credex.ledger.receipt import (
        Receipt,
    )
    from credex.ledger.record import (
        Record,
        Subject,
    )
    from credex.ledger.statement import (
        Statement,
    )
    from credex.ledger.trust import (
        TrustPolicy,
        TrustStore,
    )
    from credex.ledger.trust_material import (
        load_trust,
    )
    from credex.ledger.verify import (
        VerificationReport,
        Verifier,
        run_verification,
        verify_bundle,
    )

__all__ = [
    "AppendOnlyLog",
    "Attestation",
    "Bundle",
    "Checkpoint",
    "Receipt",
    "Record",
    "SignedNote",
    "SigningKey",
    "Statement",
    "Subject",
    "TrustPolicy",
    "TrustStore",
    "VerificationReport",
    "Verifier",
    "load_trust",
    "run_verification",
    "verify_bundle",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "AppendOnlyLog": "log",
        "Attestation": "attestation",
        "Bundle": "bundle",
        "Checkpoint": "checkpoint",
        "Receipt": "receipt",
        "Record": "record",
        "SignedNote": "checkpoint",
        "SigningKey": "keys",
        "Statement": "statement",
        "Subject": "record",
        "TrustPolicy": "trust",
        "TrustStore": "trust",
        "VerificationReport": "verify",
        "Verifier": "verify",
        "load_trust": "trust_material",
        "run_verification": "verify",
        "verify_bundle": "verify",
    },
)
