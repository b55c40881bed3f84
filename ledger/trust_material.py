"""Trust material from bytes: a ``credex-trust/1`` JSON file or a federation manifest chain.

``credex verify --trust FILE`` (and every other command that takes trust) accepts either
form; the bytes say which: a JSON object starts with ``{``, a manifest chain file (from
``credex federation export``) is CBOR. A manifest chain is verified from its version 1;
``pin`` (the SHA-256 of version 1, as the federation publishes it) makes that version the
trusted root instead of taking it on trust. Pure: the caller reads the file.
"""

from __future__ import annotations

from credex.ledger.errors import FormatError
from credex.ledger.trust import TrustPolicy, TrustStore

__all__ = ["load_trust"]


def load_trust(data: bytes, *, pin: bytes | None = None) -> TrustPolicy:
    """The trust policy in ``data``.

    Raises:
        FormatError: neither a trust file nor a manifest chain, or a trust file with
            ``pin`` (a pin names a manifest's first version).
        VerificationError / PolicyError: a manifest chain that does not verify, or whose
            version 1 is not the pinned one.
    """
    if data.lstrip()[:1] != b"{":
        # the manifest code is loaded only for a manifest (a trust file needs none of it)
        from credex.ledger.manifest.chain import decode_chain, verify_manifest_chain

        return verify_manifest_chain(decode_chain(data), pinned_hash=pin)
    if pin is not None:
        raise FormatError("trust: --pin names a manifest's version 1; this is a trust file")
    return TrustStore.from_json(data)
