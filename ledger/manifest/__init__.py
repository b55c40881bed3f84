"""The federation manifest: a signed, versioned, hash-chained list of members (docs/manifest.md).

One version is a tagged COSE_Sign (RFC 9052 §4.1) with one signature per admin::

    98([protected = bstr .cbor {3: "application/vnd.credex.manifest+cbor"},
        unprotected = {},
        payload = bstr .cbor body,
        signatures = [+ [bstr .cbor {1: -8, 4: admin kid}, {}, bstr(64)]]])   ; sorted by kid
    signature = Ed25519(["Signature", protected, signer protected, h'', payload])

    body = {"v": 1, "federation": tstr, "version": uint, "prev": bstr(32) / null,
            "issued_at": uint, "members": [+ member], "quorum": {"k": uint, "n": uint},
            "admins": [+ bstr(32)], "admin_threshold": uint, "recognitions": [* recognition],
            ? "delegations": [+ delegation]}       ; absent when there are none

A version's hash is SHA-256 of its payload (the body bytes), so collecting one more
admin signature never changes it; version n+1 names version n's hash in ``prev`` and is
accepted only with signatures of ``admin_threshold`` of version n's admins *and* of its
own (python-tuf's root rotation). ``verify_manifest_chain`` checks a chain and returns a
``Manifest``, which is a ``TrustPolicy``: issuer keys with their windows over every
version (a key a later version drops stays valid for iat before that version), current
and retired log keys, and for each origin the *other* members' witness keys with the
quorum k. Its repair delegations (``Manifest.repair_authorised``) feed the
``authorised_repairers`` hook of ``credex.ledger.lifecycle.status_at``.

The package is pure: bytes in, values or exceptions out. It does not read files, keep
keys, or decide which first version to pin (the caller passes the pin or root admins).

Modules, one job each: ``members`` (members, issuer keys), ``agreements`` (recognitions,
repair delegations), ``body`` (one version's content), ``edits`` (the next version),
``signing`` (COSE_Sign with admin signatures), ``chain`` (the hash chain and its
verification), ``trust`` (``Manifest``, the chain as trust material), ``checks``
(recognition and delegation checks). The names below are the public API.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from credex._exports import lazy_exports

if TYPE_CHECKING:
    from credex.ledger.errors import (
        RecognitionRefusedError,
    )
    from credex.ledger.manifest.agreements import (
        Delegation,
        Recognition,
    )
    from credex.ledger.manifest.body import (
        MANIFEST_VERSION,
        MAX_MANIFEST_BYTES,
        ManifestBody,
    )
    from credex.ledger.manifest.chain import (
        CHAIN_FORMAT,
        MAX_CHAIN_BYTES,
        decode_chain,
        encode_chain,
        verify_manifest_chain,
    )
    from credex.ledger.manifest.checks import (
        DelegationTrust,
        RecognitionTrust,
        authorised_repairers,
        check_recognition,
        require_recognition,
    )
    from credex.ledger.manifest.edits import (
        add_delegation,
        add_member,
        add_recognition,
        remove_delegation,
        remove_delegations,
        remove_member,
        remove_recognition,
        remove_recognitions,
        retire_log_key,
        rotate_issuer_key,
        set_quorum,
    )
    from credex.ledger.manifest.members import (
        MAX_CHAIN_PEM_BYTES,
        IssuerKey,
        Member,
        RetiredLogKey,
    )
    from credex.ledger.manifest.signing import (
        COSE_SIGN_TAG,
        MANIFEST_CONTENT_TYPE,
        AdminSignature,
        SignedManifest,
    )
    from credex.ledger.manifest.trust import (
        Manifest,
    )

__all__ = [
    "CHAIN_FORMAT",
    "COSE_SIGN_TAG",
    "MANIFEST_CONTENT_TYPE",
    "MANIFEST_VERSION",
    "MAX_CHAIN_BYTES",
    "MAX_CHAIN_PEM_BYTES",
    "MAX_MANIFEST_BYTES",
    "AdminSignature",
    "Delegation",
    "DelegationTrust",
    "IssuerKey",
    "Manifest",
    "ManifestBody",
    "Member",
    "Recognition",
    "RecognitionRefusedError",
    "RecognitionTrust",
    "RetiredLogKey",
    "SignedManifest",
    "add_delegation",
    "add_member",
    "add_recognition",
    "authorised_repairers",
    "check_recognition",
    "decode_chain",
    "encode_chain",
    "remove_delegation",
    "remove_delegations",
    "remove_member",
    "remove_recognition",
    "remove_recognitions",
    "require_recognition",
    "retire_log_key",
    "rotate_issuer_key",
    "set_quorum",
    "verify_manifest_chain",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "AdminSignature": "credex.ledger.manifest.signing",
        "CHAIN_FORMAT": "credex.ledger.manifest.chain",
        "COSE_SIGN_TAG": "credex.ledger.manifest.signing",
        "Delegation": "credex.ledger.manifest.agreements",
        "DelegationTrust": "credex.ledger.manifest.checks",
        "IssuerKey": "credex.ledger.manifest.members",
        "MANIFEST_CONTENT_TYPE": "credex.ledger.manifest.signing",
        "MANIFEST_VERSION": "credex.ledger.manifest.body",
        "MAX_CHAIN_BYTES": "credex.ledger.manifest.chain",
        "MAX_CHAIN_PEM_BYTES": "credex.ledger.manifest.members",
        "MAX_MANIFEST_BYTES": "credex.ledger.manifest.body",
        "Manifest": "credex.ledger.manifest.trust",
        "ManifestBody": "credex.ledger.manifest.body",
        "Member": "credex.ledger.manifest.members",
        "Recognition": "credex.ledger.manifest.agreements",
        "RecognitionRefusedError": "credex.ledger.errors",
        "RecognitionTrust": "credex.ledger.manifest.checks",
        "RetiredLogKey": "credex.ledger.manifest.members",
        "SignedManifest": "credex.ledger.manifest.signing",
        "add_delegation": "credex.ledger.manifest.edits",
        "add_member": "credex.ledger.manifest.edits",
        "add_recognition": "credex.ledger.manifest.edits",
        "authorised_repairers": "credex.ledger.manifest.checks",
        "check_recognition": "credex.ledger.manifest.checks",
        "decode_chain": "credex.ledger.manifest.chain",
        "encode_chain": "credex.ledger.manifest.chain",
        "remove_delegation": "credex.ledger.manifest.edits",
        "remove_delegations": "credex.ledger.manifest.edits",
        "remove_member": "credex.ledger.manifest.edits",
        "remove_recognition": "credex.ledger.manifest.edits",
        "remove_recognitions": "credex.ledger.manifest.edits",
        "require_recognition": "credex.ledger.manifest.checks",
        "retire_log_key": "credex.ledger.manifest.edits",
        "rotate_issuer_key": "credex.ledger.manifest.edits",
        "set_quorum": "credex.ledger.manifest.edits",
        "verify_manifest_chain": "credex.ledger.manifest.chain",
    },
)
