"""Recognition agreements in the federation manifest (issue #4 point 4): the layout and
its exact bytes, the matching rules (kinds, issuers, policies, window edges), agreements
dropped by a later version, and the refusal ``check_recognition`` raises at step 8."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import pytest

from credex.ledger import encoding
from credex.ledger.dates import cst_time
from credex.ledger.derive import build_derived_record
from credex.ledger.errors import FormatError, PolicyError
from credex.ledger.keys import SigningKey
from credex.ledger.manifest import (
    IssuerKey,
    Manifest,
    ManifestBody,
    Member,
    Recognition,
    RecognitionRefusedError,
    SignedManifest,
    add_recognition,
    check_recognition,
    remove_recognition,
    require_recognition,
    rotate_issuer_key,
    verify_manifest_chain,
)
from credex.ledger.policy import build_policy_record
from credex.ledger.record import Record, Subject
from credex.ledger.statement import Statement, sign_statement
from credex.ledger.trust import TrustStore


def _key(n: int) -> SigningKey:
    return SigningKey(bytes([n]) * 32)


ADMINS = [_key(0x10), _key(0x11), _key(0x12)]
HZ, NB, XM = "cn-zj-hangzhou", "cn-zj-ningbo", "cn-fj-xiamen"
REGIONS = [HZ, NB, XM]
ISS = "cn-zj-hangzhou/platform"
NB_ISS, NB_OTHER = "cn-zj-ningbo/platform", "cn-zj-ningbo/bureau"
T0 = 1_780_000_000
SWITCH = 1_790_000_000
POLICY = hashlib.sha256(b"policy-a").digest()
OTHER_POLICY = hashlib.sha256(b"policy-b").digest()
PERSON = Subject("person", "hmac:0badc0de:" + "ab" * 32)

#: hashes of test_manifest.py's version 1 and its rotation, taken before agreements had
#: more than {region, recognises, kinds}: manifests without recognitions keep their bytes
GOLDEN_V1 = "b15f68c4569d3acba6e9640b25b286567941ae5988fe89de708aee41c6d646b9"
GOLDEN_V2 = "e2d3590051a7338899e7d86ecccec378df42b0f01b5fd0e799e0dad980288fef"
#: version 1 with the old three-key agreement HZ <- NB score.city, same moment
GOLDEN_V1_OLD_AGREEMENT = "22010f4ad56a09b0cd3f6d49d881e0573c5d1aca0bcf08659b15ed16a7b1d64a"


def _origin(region: str) -> str:
    return f"credex.{region}.example/log"


def _member(region: str, i: int) -> Member:
    issuers = (
        (IssuerKey(ISS, _key(0x40).public_key, 0, None, ("score.city",)),) if region == HZ else ()
    )
    return Member(
        region=region,
        origin=_origin(region),
        endpoint=f"127.0.0.1:{7001 + i}",
        tls_cert_sha256=hashlib.sha256(region.encode()).digest(),
        log_key=_key(0x20 + i).public_key,
        log_note_name=_origin(region),
        witness_name=f"witness.{region}",
        witness_key=_key(0x30 + i).public_key,
        issuers=issuers,
    )


def _v1(*recognitions: Recognition) -> ManifestBody:
    return ManifestBody(
        federation="yangtze-delta",
        version=1,
        prev=None,
        issued_at=T0,
        members=tuple(_member(r, i) for i, r in enumerate(REGIONS)),
        quorum=2,
        admins=tuple(a.public_key for a in ADMINS),
        admin_threshold=2,
        recognitions=recognitions,
    )


def _manifest(*bodies: ManifestBody) -> Manifest:
    return verify_manifest_chain([SignedManifest.create(b, ADMINS[:2]) for b in bodies])


AGREEMENT = Recognition(
    HZ, NB, ("score.city", "rating.enterprise"), (NB_ISS,), (POLICY,), T0, SWITCH
)


# --- bytes ----------------------------------------------------------------------------------


def test_a_manifest_without_recognitions_keeps_its_exact_bytes() -> None:
    v1 = _v1()
    assert v1.hash.hex() == GOLDEN_V1
    v2 = rotate_issuer_key(v1, HZ, ISS, _key(0x41).public_key, SWITCH, issued_at=SWITCH - 86400)
    assert v2.hash.hex() == GOLDEN_V2
    assert encoding.decode(v1.to_bytes())["recognitions"] == []


def test_an_old_three_key_agreement_decodes_and_keeps_its_bytes() -> None:
    old = Recognition(HZ, NB, ("score.city",))
    body = _v1(old)
    assert body.hash.hex() == GOLDEN_V1_OLD_AGREEMENT
    value = encoding.decode(body.to_bytes())
    assert value["recognitions"] == [{"region": HZ, "recognises": NB, "kinds": ["score.city"]}]
    again = ManifestBody.from_bytes(body.to_bytes())
    assert again == body and again.recognitions[0] == old
    # the defaults: any issuer, any policy, from 0, open-ended
    assert (old.issuers, old.policies, old.valid_from, old.valid_until) == ((), (), 0, None)


def test_a_full_agreement_round_trips() -> None:
    body = _v1(AGREEMENT)
    data = body.to_bytes()
    value = encoding.decode(data)["recognitions"][0]
    assert value == {
        "region": HZ,
        "recognises": NB,
        "kinds": ["rating.enterprise", "score.city"],
        "issuers": [NB_ISS],
        "policies": [POLICY],
        "valid_from": T0,
        "valid_until": SWITCH,
    }
    again = ManifestBody.from_bytes(data)
    assert again == body and again.to_bytes() == data
    signed = SignedManifest.create(body, ADMINS[:2])
    assert SignedManifest.from_bytes(signed.to_bytes()).body == body


def test_agreements_have_one_canonical_order() -> None:
    a = Recognition(XM, NB, ("score.city",), valid_from=T0)
    b = Recognition(HZ, NB, ("score.city",), valid_from=SWITCH)
    c = Recognition(HZ, NB, ("score.city",), valid_from=T0)
    one, two = _v1(a, b, c), _v1(c, a, b)
    assert one.to_bytes() == two.to_bytes()
    assert one.recognitions == (a, c, b)  # by region, recognises, valid_from
    value = encoding.decode(one.to_bytes())
    value["recognitions"].reverse()
    with pytest.raises(FormatError, match="not in canonical order"):
        ManifestBody.from_bytes(encoding.encode(value))


def _with_agreement(change: dict[str, Any]) -> bytes:
    value = encoding.decode(_v1(AGREEMENT).to_bytes())
    value["recognitions"][0].update(change)
    return encoding.encode({k: v for k, v in value.items()})


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"issuers": []}, "not in canonical order"),  # defaults are omitted, never written
        ({"valid_from": 0}, "not in canonical order"),
        ({"valid_until": None}, "not in canonical order"),
        ({"policies": [b"\x01" * 31]}, "recognition policy must be a 32-byte bstr: got 31"),
        ({"valid_until": T0}, "valid_until must be after valid_from"),
        ({"valid_from": -1}, "recognition valid_from must be a uint"),
        ({"kinds": []}, "recognition kinds must not be empty"),
        ({"recognises": "cn-gd-shenzhen"}, "not a member: cn-gd-shenzhen"),
        ({"recognises": HZ}, "cannot recognise its own region"),
        ({"extra": 1}, "recognition must be a map with keys"),
    ],
    ids=[
        "empty-issuers",
        "zero-from",
        "null-until",
        "short-policy",
        "empty-window",
        "negative",
        "no-kinds",
        "unknown-region",
        "self",
        "extra-key",
    ],
)
def test_bad_agreements_are_refused(change: dict[str, Any], message: str) -> None:
    with pytest.raises(FormatError, match=message):
        ManifestBody.from_bytes(_with_agreement(change))


def test_duplicate_agreement_is_refused() -> None:
    with pytest.raises(FormatError, match="duplicate recognition: cn-zj-hangzhou <- cn-zj-ningbo"):
        _v1(AGREEMENT, AGREEMENT)
    with pytest.raises(FormatError, match="recognition already listed"):
        add_recognition(_v1(AGREEMENT), AGREEMENT, T0)
    with pytest.raises(FormatError, match="no such recognition"):
        remove_recognition(_v1(), AGREEMENT, T0)


# --- matching -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("args", "found"),
    [
        ((HZ, NB, "score.city", NB_ISS, POLICY, T0), True),  # valid_from is inclusive
        ((HZ, NB, "rating.enterprise", NB_ISS, POLICY, SWITCH - 1), True),
        ((HZ, NB, "score.city", NB_ISS, POLICY, SWITCH), False),  # valid_until is exclusive
        ((HZ, NB, "score.city", NB_ISS, POLICY, T0 - 1), False),
        ((HZ, NB, "penalty.admin", NB_ISS, POLICY, T0), False),  # other kind
        ((HZ, NB, "score.city", NB_OTHER, POLICY, T0), False),  # other issuer
        ((HZ, NB, "score.city", NB_ISS, OTHER_POLICY, T0), False),  # other policy
        ((XM, NB, "score.city", NB_ISS, POLICY, T0), False),  # other recognising region
        ((NB, HZ, "score.city", NB_ISS, POLICY, T0), False),  # agreements have a direction
    ],
    ids=[
        "from-edge",
        "before-until",
        "until-edge",
        "before-from",
        "kind",
        "issuer",
        "policy",
        "region",
        "direction",
    ],
)
def test_matching_rules(args: tuple[str, str, str, str, bytes, int], found: bool) -> None:
    m = _manifest(_v1(AGREEMENT))
    assert (m.recognition_for(*args) == AGREEMENT) is found
    if not found:
        assert m.recognition_for(*args) is None


def test_empty_issuers_and_policies_mean_any() -> None:
    open_ = Recognition(HZ, NB, ("score.city",), valid_from=T0)
    m = _manifest(_v1(open_))
    for issuer in (NB_ISS, NB_OTHER):
        for policy in (POLICY, OTHER_POLICY):
            assert m.recognition_for(HZ, NB, "score.city", issuer, policy, T0 + 10**9) == open_
    assert m.recognition_for(HZ, NB, "score.city", NB_ISS, POLICY, T0 - 1) is None


def test_a_removed_agreement_is_closed_at_the_removing_version() -> None:
    open_ = Recognition(HZ, NB, ("score.city",), valid_from=T0)
    v1 = _v1(open_)
    removed_at = T0 + 5000
    v2 = remove_recognition(v1, open_, removed_at)
    assert v2.recognitions == () and v2.version == 2
    m = _manifest(v1, v2)
    closed = m.recognition_for(HZ, NB, "score.city", NB_ISS, POLICY, removed_at - 1)
    assert closed is not None and closed.valid_until == removed_at
    assert m.recognition_for(HZ, NB, "score.city", NB_ISS, POLICY, removed_at) is None
    # added again later: both windows count
    v3 = add_recognition(v2, dataclasses.replace(open_, valid_from=T0 + 9000), T0 + 9000)
    m = _manifest(v1, v2, v3)
    assert m.recognition_for(HZ, NB, "score.city", NB_ISS, POLICY, T0 + 100) is not None
    assert m.recognition_for(HZ, NB, "score.city", NB_ISS, POLICY, T0 + 6000) is None
    assert m.recognition_for(HZ, NB, "score.city", NB_ISS, POLICY, T0 + 9000) is not None


def test_an_agreement_dropped_before_it_starts_never_applies() -> None:
    later = Recognition(HZ, NB, ("score.city",), valid_from=T0 + 5000)
    v1 = _v1(later)
    m = _manifest(v1, remove_recognition(v1, later, T0 + 100))
    assert m.recognitions == ()


# --- refusals -------------------------------------------------------------------------------


def test_require_recognition_names_the_gap() -> None:
    m = _manifest(_v1(AGREEMENT))
    assert require_recognition(m, HZ, NB, "score.city", NB_ISS, POLICY, T0) == AGREEMENT
    assert require_recognition(m, HZ, HZ, "score.city", ISS, POLICY, T0) is None  # own region
    with pytest.raises(RecognitionRefusedError) as e:
        require_recognition(m, HZ, NB, "score.city", NB_ISS, OTHER_POLICY, T0 + 1)
    assert isinstance(e.value, PolicyError) and e.value.code == "recognition_refused"
    assert str(e.value) == (
        f"recognition: {HZ} has no agreement to recognise score.city from {NB} under policy "
        f"{OTHER_POLICY.hex()[:16]}… at {cst_time(T0 + 1)} (source issuer {NB_ISS})"
    )


TIANYI = {
    "bands": [
        {"name": f"t{i + 1}", "level": f"L{i + 1}", "lo": lo, "hi": hi}
        for i, (lo, hi) in enumerate(((0, 399), (400, 549), (550, 649), (650, 799), (800, 1000)))
    ]
}
RULES: dict[str, Any] = {
    "type": "band_table",
    "source_scheme": "NINGBO_TIANYI",
    "table": {f"t{i}": f"L{i}" for i in range(1, 6)},
    "schemes": {"NINGBO_TIANYI": TIANYI},
}


def _statements(iat: int) -> tuple[Statement, Statement, Statement]:
    """(derived, source, policy): a Ningbo score converted at Hangzhou, signed at ``iat``."""
    body = {"scheme": "NINGBO_TIANYI", "score": 700, "band": "t4", "as_of": "2026-03-01"}
    src = sign_statement(Record("score.city", NB, PERSON, body, T0 - 100), NB_ISS, _key(1), T0)
    pol = sign_statement(build_policy_record("p", 1, RULES, HZ, T0 - 50), ISS, _key(2), T0)
    derived = build_derived_record(
        pol.record, pol.leaf_hash, [(src.record, src.leaf_hash)], HZ, iat
    )
    return sign_statement(derived, ISS, _key(2), iat), src, pol


def test_check_recognition_on_statements() -> None:
    derived, src, pol = _statements(T0 + 10)
    m = _manifest(_v1(Recognition(HZ, NB, ("score.city",), (NB_ISS,), (pol.leaf_hash,), T0)))
    check_recognition(m, derived, [src], pol)  # covered
    check_recognition(TrustStore((), ()), derived, [src], pol)  # a trust file: no agreements
    late, src, pol = _statements(T0 - 10)  # signed before the agreement starts
    with pytest.raises(
        RecognitionRefusedError, match=f"from {NB} under policy .* at {cst_time(T0 - 10)}"
    ):
        check_recognition(m, late, [src], pol)
    with pytest.raises(RecognitionRefusedError, match=r"has no agreement to recognise score\.city"):
        check_recognition(_manifest(_v1()), derived, [src], pol)
