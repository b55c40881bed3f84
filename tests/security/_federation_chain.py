"""A small signed manifest chain and bundles under it, for attack tests (pure, no I/O).

Three members (Hangzhou, Ningbo, Xiamen), quorum 2 of the others' witnesses, Hangzhou's
issuer for ``score.city``. ``bundle_of`` builds a verifiable bundle of one Hangzhou score
signed by any log key, cosigned by chosen witnesses at a chosen time.
"""

from __future__ import annotations

import hashlib

from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import Checkpoint, cosign_checkpoint, sign_checkpoint
from credex.ledger.keys import SigningKey
from credex.ledger.manifest import IssuerKey, ManifestBody, Member, SignedManifest
from credex.ledger.merkle import MerkleTree
from credex.ledger.receipt import build_receipt
from credex.ledger.record import Record, Subject
from credex.ledger.statement import sign_statement

__all__ = [
    "ADMINS",
    "HZ",
    "ISS",
    "ISSUER",
    "LOGS",
    "NB",
    "REGIONS",
    "T0",
    "WITNESSES",
    "XM",
    "bundle_of",
    "member",
    "origin",
    "signed",
    "v1",
]


def _key(n: int) -> SigningKey:
    return SigningKey(bytes([n]) * 32)


HZ, NB, XM = "cn-zj-hangzhou", "cn-zj-ningbo", "cn-fj-xiamen"
REGIONS = [HZ, NB, XM]
ADMINS = [_key(0x10), _key(0x11)]
LOGS = {r: _key(0x20 + i) for i, r in enumerate(REGIONS)}
WITNESSES = {r: _key(0x30 + i) for i, r in enumerate(REGIONS)}
ISSUER = _key(0x40)
ISS = "cn-zj-hangzhou/platform"
T0 = 1_780_000_000
ORG = "91330100MA0YX0016X"


def origin(region: str) -> str:
    return f"credex.{region}.example/log"


def member(region: str, i: int, *, log: SigningKey | None = None) -> Member:
    issuers = (IssuerKey(ISS, ISSUER.public_key, 0, None, ("score.city",)),) if region == HZ else ()
    return Member(
        region=region,
        origin=origin(region),
        endpoint=f"127.0.0.1:{7001 + i}",
        tls_cert_sha256=hashlib.sha256(region.encode()).digest(),
        log_key=(log or LOGS[region]).public_key,
        log_note_name=origin(region),
        witness_name=f"witness.{region}",
        witness_key=WITNESSES[region].public_key,
        issuers=issuers,
    )


def v1(quorum: int = 2) -> ManifestBody:
    return ManifestBody(
        federation="yangtze-delta",
        version=1,
        prev=None,
        issued_at=T0,
        members=tuple(member(r, i) for i, r in enumerate(REGIONS)),
        quorum=quorum,
        admins=tuple(a.public_key for a in ADMINS),
        admin_threshold=2,
    )


def signed(body: ManifestBody) -> SignedManifest:
    return SignedManifest.create(body, ADMINS)


def bundle_of(
    log: SigningKey, witnesses: list[str], cosigned_at: int, *, iat: int = T0, seed: int = 0
) -> bytes:
    """A bundle of one Hangzhou score in a 2-leaf tree of ``log``, cosigned at
    ``cosigned_at`` by the witnesses of ``witnesses``."""
    body = {"scheme": "HANGZHOU_QIANJIANG", "score": 700 + seed, "band": "A", "as_of": "2026-11-01"}
    st = sign_statement(Record("score.city", HZ, Subject("org", ORG), body, T0), ISS, ISSUER, iat)
    tree = MerkleTree()
    tree.append_hash(hashlib.sha256(b"filler").digest())
    tree.append_hash(st.leaf_hash)
    o = origin(HZ)
    note = sign_checkpoint(Checkpoint(o, 2, tree.root()), o, log)
    for r in witnesses:
        note = note.with_signature(
            cosign_checkpoint(note, f"witness.{r}", WITNESSES[r], cosigned_at)
        )
    r = build_receipt(log, 2, 1, tree.inclusion_proof(1), tree.root())
    return Bundle(st.with_receipts([r.to_bytes()]).to_bytes(), note.to_text()).to_bytes()
