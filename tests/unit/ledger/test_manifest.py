"""The federation manifest: exact bytes, the signed version chain, and the manifest as the
trust policy of bundle verification (issuer key rotation, log key rotation, witness quorum)."""

from __future__ import annotations

import dataclasses
import hashlib

import cbor2
import pytest

from credex.ledger import encoding
from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import Checkpoint, SignedNote, cosign_checkpoint, sign_checkpoint
from credex.ledger.dates import cst_second
from credex.ledger.errors import (
    CheckpointError,
    CoseError,
    FormatError,
    KeyValidityError,
    PolicyError,
    SignatureError,
    UntrustedKeyError,
    VerificationError,
)
from credex.ledger.keys import SigningKey
from credex.ledger.manifest import (
    IssuerKey,
    Manifest,
    ManifestBody,
    Member,
    SignedManifest,
    add_member,
    decode_chain,
    encode_chain,
    retire_log_key,
    rotate_issuer_key,
    verify_manifest_chain,
)
from credex.ledger.merkle import MerkleTree
from credex.ledger.receipt import build_receipt
from credex.ledger.record import Record, Subject
from credex.ledger.statement import sign_statement
from credex.ledger.verify import verify_bundle


def _key(n: int) -> SigningKey:
    return SigningKey(bytes([n]) * 32)


ADMINS = [_key(0x10), _key(0x11), _key(0x12)]
ROGUE = _key(0x1F)
REGIONS = ["cn-zj-hangzhou", "cn-zj-ningbo", "cn-fj-xiamen"]
LOGS = {r: _key(0x20 + i) for i, r in enumerate(REGIONS)}
WITNESSES = {r: _key(0x30 + i) for i, r in enumerate(REGIONS)}
ISS_OLD, ISS_NEW = _key(0x40), _key(0x41)
NEW_LOG = _key(0x50)
HZ = "cn-zj-hangzhou"
ISS = "cn-zj-hangzhou/platform"
T0 = 1_780_000_000
SWITCH = 1_790_000_000
ORG = "91330100MA0YX0016X"


def _origin(region: str) -> str:
    return f"credex.{region}.example/log"


def _member(region: str, i: int) -> Member:
    issuers = (
        (IssuerKey(ISS, ISS_OLD.public_key, 0, None, ("score.city",)),) if region == HZ else ()
    )
    return Member(
        region=region,
        origin=_origin(region),
        endpoint=f"127.0.0.1:{7001 + i}",
        tls_cert_sha256=hashlib.sha256(region.encode()).digest(),
        log_key=LOGS[region].public_key,
        log_note_name=_origin(region),
        witness_name=f"witness.{region}",
        witness_key=WITNESSES[region].public_key,
        issuers=issuers,
    )


def _v1(quorum: int = 2) -> ManifestBody:
    return ManifestBody(
        federation="yangtze-delta",
        version=1,
        prev=None,
        issued_at=T0,
        members=tuple(_member(r, i) for i, r in enumerate(REGIONS)),
        quorum=quorum,
        admins=tuple(a.public_key for a in ADMINS),
        admin_threshold=2,
    )


def _signed(body: ManifestBody, keys: list[SigningKey] = ADMINS[:2]) -> SignedManifest:
    return SignedManifest.create(body, keys)


def _rotated_chain() -> tuple[list[SignedManifest], Manifest]:
    v1 = _v1()
    v2 = rotate_issuer_key(v1, HZ, ISS, ISS_NEW.public_key, SWITCH, issued_at=SWITCH - 86400)
    chain = [_signed(v1), _signed(v2)]
    return chain, verify_manifest_chain(chain)


# --- bytes ----------------------------------------------------------------------------------


def test_round_trip_bytes_exactly() -> None:
    signed = _signed(_v1())
    data = signed.to_bytes()
    assert data[:2] == b"\xd8\x62"  # tag 98: COSE_Sign
    again = SignedManifest.from_bytes(data)
    assert again == signed and again.to_bytes() == data
    assert again.body == _v1() and again.body.to_bytes() == signed.payload
    assert again.hash == hashlib.sha256(signed.payload).digest() == _v1().hash
    chain = encode_chain([signed])
    assert [s.to_bytes() for s in decode_chain(chain)] == [data]
    assert decode_chain(data) == [signed]  # a single version reads as a chain of one


def test_signing_order_does_not_change_bytes_or_hash() -> None:
    a = SignedManifest.create(_v1(), [ADMINS[0], ADMINS[1]])
    b = SignedManifest.create(_v1(), [ADMINS[1], ADMINS[0]])
    assert a.to_bytes() == b.to_bytes()
    assert SignedManifest.create(_v1()).hash == a.hash  # signatures never change the hash


def test_body_layout_is_the_documented_map() -> None:
    value = encoding.decode(_v1().to_bytes())
    assert list(value) == [
        "v",
        "prev",
        "admins",
        "quorum",
        "members",
        "version",
        "issued_at",
        "federation",
        "recognitions",
        "admin_threshold",
    ]
    assert value["quorum"] == {"k": 2, "n": 2} and value["prev"] is None
    assert sorted(value["members"][0]) == sorted(
        [
            "region",
            "origin",
            "endpoint",
            "tls_cert_sha256",
            "log_key",
            "log_note_name",
            "retired_log_keys",
            "witness_name",
            "witness_key",
            "issuers",
        ]
    )


def test_non_canonical_member_order_is_refused() -> None:
    value = encoding.decode(_v1().to_bytes())
    value["members"].reverse()
    with pytest.raises(FormatError, match="not in canonical order"):
        ManifestBody.from_bytes(encoding.encode(value))


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"v": 2}, "unsupported version: expected 1, got 2"),
        ({"prev": b"\x00" * 32}, "prev must be null exactly in version 1"),
        ({"admin_threshold": 4}, r"admin_threshold out of range: expected 1\.\.3, got 4"),
        ({"quorum": {"k": 1, "n": 5}}, "quorum n must be the member count - 1"),
        ({"extra": 1}, "body must be a map with keys"),
    ],
    ids=["version", "prev", "threshold", "quorum-n", "extra-key"],
)
def test_bad_bodies_are_refused(change: dict[str, object], message: str) -> None:
    value = encoding.decode(_v1().to_bytes())
    value.update(change)
    with pytest.raises(FormatError, match=message):
        ManifestBody.from_bytes(encoding.encode(value))


def test_duplicate_witness_key_is_refused() -> None:
    a, b = _member(REGIONS[0], 0), _member(REGIONS[1], 1)
    b = dataclasses.replace(b, witness_key=a.witness_key)
    with pytest.raises(FormatError, match="duplicate witness key"):
        dataclasses.replace(_v1(), members=(a, b))


def test_wrong_cose_tag_is_refused() -> None:
    value = encoding.decode(_signed(_v1()).to_bytes())
    data = encoding.encode(cbor2.CBORTag(18, value.value))  # COSE_Sign1
    with pytest.raises(CoseError, match="expected 98 \\(COSE_Sign\\), got 18"):
        SignedManifest.from_bytes(data)


# --- the chain ------------------------------------------------------------------------------


def test_chain_of_two_versions_verifies() -> None:
    chain, m = _rotated_chain()
    assert m.latest.version == 2 and m.latest.prev == chain[0].hash
    assert m.federation == "yangtze-delta" and m.hash == chain[1].hash


def test_version_2_without_enough_admin_signatures_is_refused() -> None:
    v1 = _v1()
    v2 = add_member(v1, dataclasses.replace(_member(HZ, 0), endpoint="10.0.0.1:1"), T0 + 1)
    with pytest.raises(PolicyError, match="not enough admin signatures: expected 2 of version 1"):
        verify_manifest_chain([_signed(v1), _signed(v2, [ADMINS[0]])])


def test_rogue_signatures_do_not_count() -> None:
    v1 = _v1()
    v2 = add_member(v1, dataclasses.replace(_member(HZ, 0), endpoint="10.0.0.1:1"), T0 + 1)
    with pytest.raises(PolicyError, match="expected 2 of version 1's admins, got 1"):
        verify_manifest_chain([_signed(v1), _signed(v2, [ADMINS[0], ROGUE])])


def test_new_admin_set_must_also_sign() -> None:
    v1 = _v1()
    v2 = v1.next_version(T0 + 1, admins=(ROGUE.public_key,), admin_threshold=1)
    with pytest.raises(PolicyError, match="expected 1 of version 2's own admins, got 0"):
        verify_manifest_chain([_signed(v1), _signed(v2)])
    m = verify_manifest_chain([_signed(v1), _signed(v2, [*ADMINS[:2], ROGUE])])
    assert m.latest.admins == (ROGUE.public_key,)


def test_wrong_prev_hash_is_refused() -> None:
    v1 = _v1()
    v2 = dataclasses.replace(v1.next_version(T0 + 1), prev=b"\x01" * 32)
    with pytest.raises(VerificationError, match="version 2 does not chain: prev expected"):
        verify_manifest_chain([_signed(v1), _signed(v2)])


def test_skipped_version_is_refused() -> None:
    v1 = _v1()
    v3 = dataclasses.replace(v1.next_version(T0 + 1), version=3)
    with pytest.raises(VerificationError, match="versions do not follow: expected 2, got 3"):
        verify_manifest_chain([_signed(v1), _signed(v3)])


def _flip(data: bytes, needle: bytes) -> bytes:
    pos = data.index(needle)
    return data[:pos] + bytes([data[pos] ^ 0x01]) + data[pos + 1 :]


@pytest.mark.parametrize("index", [0, 1], ids=["version-1", "version-2"])
def test_a_tampered_byte_is_a_signature_error(index: int) -> None:
    chain, _ = _rotated_chain()
    tampered = _flip(chain[index].to_bytes(), b"127.0.0.1:7002")  # '1' -> '0'
    chain[index] = SignedManifest.from_bytes(tampered)  # still well-formed
    with pytest.raises(SignatureError, match=r"manifest: signature by admin .* does not verify"):
        verify_manifest_chain(chain)


def test_pinned_hash_and_root_admins() -> None:
    chain, _ = _rotated_chain()
    verify_manifest_chain(chain, pinned_hash=chain[0].hash)
    with pytest.raises(VerificationError, match="version 1 is not the pinned one"):
        verify_manifest_chain(chain, pinned_hash=b"\x00" * 32)
    verify_manifest_chain(chain, root_admins=[ADMINS[1].public_key])
    with pytest.raises(PolicyError, match="expected 1 of the root admins, got 0"):
        verify_manifest_chain(chain, root_admins=[ROGUE.public_key])


def test_empty_chain_is_refused() -> None:
    with pytest.raises(VerificationError, match="the chain is empty"):
        verify_manifest_chain([])


# --- as trust policy: bundles ---------------------------------------------------------------


def _record() -> Record:
    body = {"scheme": "HANGZHOU_QIANJIANG", "score": 700, "band": "A", "as_of": "2026-11-01"}
    return Record("score.city", HZ, Subject("org", ORG), body, T0)


def _cosigned(note: SignedNote, regions: list[str], at: int = SWITCH + 10) -> SignedNote:
    for r in regions:
        note = note.with_signature(cosign_checkpoint(note, f"witness.{r}", WITNESSES[r], at))
    return note


def _bundle(
    key: SigningKey,
    iat: int,
    *,
    witnesses: list[str] = REGIONS[1:],
    log: SigningKey = LOGS[HZ],
    cosigned_at: int = SWITCH + 10,
) -> bytes:
    st = sign_statement(_record(), ISS, key, iat)
    tree = MerkleTree()
    tree.append_hash(hashlib.sha256(b"filler").digest())
    tree.append_hash(st.leaf_hash)
    origin = _origin(HZ)
    note = _cosigned(
        sign_checkpoint(Checkpoint(origin, 2, tree.root()), origin, log), witnesses, cosigned_at
    )
    r = build_receipt(log, 2, 1, tree.inclusion_proof(1), tree.root())
    return Bundle(st.with_receipts([r.to_bytes()]).to_bytes(), note.to_text()).to_bytes()


def test_rotation_keeps_old_bundles_verifiable() -> None:
    _, m = _rotated_chain()
    old = verify_bundle(_bundle(ISS_OLD, SWITCH - 1), m)
    new = verify_bundle(_bundle(ISS_NEW, SWITCH), m)
    assert old.ok and new.ok
    start, switch = "-∞", cst_second(SWITCH)
    assert f"[{start}, {switch})" in old.steps[1].detail
    assert f"[{switch}, ∞)" in new.steps[1].detail


def test_old_key_after_its_window_fails_at_step_2() -> None:
    _, m = _rotated_chain()
    switch, start = cst_second(SWITCH), "-∞"
    with pytest.raises(KeyValidityError, match=f"iat {switch} not in \\[{start}, {switch}\\)") as e:
        verify_bundle(_bundle(ISS_OLD, SWITCH), m)
    assert e.value.step == 2
    with pytest.raises(KeyValidityError):  # and the new key is not valid before the switch
        verify_bundle(_bundle(ISS_NEW, SWITCH - 1), m)


def test_a_key_dropped_by_a_later_version_is_closed_at_that_version() -> None:
    v1 = _v1()
    hz = v1.member(HZ)
    assert hz is not None
    dropped_at = SWITCH
    v2 = add_member(v1, dataclasses.replace(hz, issuers=()), dropped_at)
    m = verify_manifest_chain([_signed(v1), _signed(v2)])
    assert verify_bundle(_bundle(ISS_OLD, dropped_at - 1), m).ok
    with pytest.raises(KeyValidityError):
        verify_bundle(_bundle(ISS_OLD, dropped_at), m)


def test_unknown_issuer_key_is_untrusted() -> None:
    _, m = _rotated_chain()
    with pytest.raises(UntrustedKeyError):
        verify_bundle(_bundle(ROGUE, SWITCH), m)


def test_log_key_rotation_keeps_old_checkpoints_verifiable() -> None:
    v1 = _v1()
    v2 = retire_log_key(v1, HZ, NEW_LOG.public_key, SWITCH, SWITCH)
    m = verify_manifest_chain([_signed(v1), _signed(v2)])
    # the retired key vouches for checkpoints the witnesses cosigned before it retired
    assert verify_bundle(_bundle(ISS_OLD, T0, log=LOGS[HZ], cosigned_at=SWITCH - 1), m).ok
    assert verify_bundle(_bundle(ISS_OLD, T0, log=NEW_LOG), m).ok
    trusted = m.log_for_origin(_origin(HZ))
    assert trusted is not None and trusted.public_key == NEW_LOG.public_key


def test_witness_quorum_k_of_the_other_members() -> None:
    _, m = _rotated_chain()
    assert m.quorum_for(_origin(HZ)) == 2
    assert [w.name for w in m.witnesses_for(_origin(HZ))] == [
        "witness.cn-fj-xiamen",
        "witness.cn-zj-ningbo",
    ]
    assert verify_bundle(_bundle(ISS_OLD, T0, witnesses=REGIONS[1:]), m).ok
    with pytest.raises(CheckpointError, match="witness quorum not met: expected 2, got 1") as e:
        verify_bundle(_bundle(ISS_OLD, T0, witnesses=REGIONS[1:2]), m)
    assert e.value.step == 6


def test_the_logs_own_witness_does_not_count() -> None:
    _, m = _rotated_chain()
    with pytest.raises(CheckpointError, match="expected 2, got 1"):
        verify_bundle(_bundle(ISS_OLD, T0, witnesses=[HZ, REGIONS[1]]), m)
