"""Repair delegations in the federation manifest and the lifecycle gaps of issue #4 point 5:
the delegation layout and its exact bytes (a manifest without delegations keeps its bytes),
``Manifest.repair_authorised`` feeding ``status_at``, same-second lifecycle statements
ordered by log position, and verify step 8 applying the status rule to each source."""

from __future__ import annotations

import dataclasses
import hashlib

import pytest

from credex.ledger import encoding
from credex.ledger.attestation import sign_attestation
from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import SignedNote, sign_checkpoint
from credex.ledger.derive import build_derived_record
from credex.ledger.errors import FormatError, PolicyError, VerificationError
from credex.ledger.keys import SigningKey
from credex.ledger.lifecycle import status_at
from credex.ledger.manifest import (
    Delegation,
    IssuerKey,
    Manifest,
    ManifestBody,
    Member,
    Recognition,
    SignedManifest,
    add_delegation,
    authorised_repairers,
    remove_delegation,
    verify_manifest_chain,
)
from credex.ledger.merkle import MerkleTree
from credex.ledger.policy import build_policy_record
from credex.ledger.receipt import Receipt, build_receipt
from credex.ledger.record import Record, Subject
from credex.ledger.statement import Statement, sign_statement
from credex.ledger.trust import TrustedIssuer, TrustedLog, TrustStore
from credex.ledger.verify import run_verification

from .index_support import indexed_checkpoint, status_proof


def _key(n: int) -> SigningKey:
    return SigningKey(bytes([n]) * 32)


ADMINS = [_key(0x10), _key(0x11), _key(0x12)]
HZ, NB, XM = "cn-zj-hangzhou", "cn-zj-ningbo", "cn-fj-xiamen"
REGIONS = [HZ, NB, XM]
HZ_ISS, NB_ISS = "cn-zj-hangzhou/platform", "cn-zj-ningbo/platform"
T0 = 1_780_000_000
SWITCH = 1_790_000_000
ORG = Subject("org", "91330100MA0YX0016X")
#: pinned in test_agreements.py: manifests without delegations keep these hashes
GOLDEN_V1 = "b15f68c4569d3acba6e9640b25b286567941ae5988fe89de708aee41c6d646b9"
GOLDEN_V1_OLD_AGREEMENT = "22010f4ad56a09b0cd3f6d49d881e0573c5d1aca0bcf08659b15ed16a7b1d64a"
NB_KEY, HZ_KEY = _key(0x41), _key(0x40)
LIFECYCLE_KINDS = ("lifecycle.repair", "lifecycle.objection", "lifecycle.objection-resolved")


def _origin(region: str) -> str:
    return f"credex.{region}.example/log"


def _member(region: str, i: int, *, nb: bool = False) -> Member:
    issuers: tuple[IssuerKey, ...] = ()
    if region == HZ:
        issuers = (IssuerKey(HZ_ISS, HZ_KEY.public_key, 0, None, ("score.city",)),)
    elif region == NB and nb:
        issuers = (IssuerKey(NB_ISS, NB_KEY.public_key, 0, None, ("penalty.admin",)),)
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


def _v1(
    *delegations: Delegation, recognitions: tuple[Recognition, ...] = (), nb: bool = False
) -> ManifestBody:
    return ManifestBody(
        federation="yangtze-delta",
        version=1,
        prev=None,
        issued_at=T0,
        members=tuple(_member(r, i, nb=nb) for i, r in enumerate(REGIONS)),
        quorum=2,
        admins=tuple(a.public_key for a in ADMINS),
        admin_threshold=2,
        recognitions=recognitions,
        delegations=delegations,
    )


def _manifest(*bodies: ManifestBody) -> Manifest:
    return verify_manifest_chain([SignedManifest.create(b, ADMINS[:2]) for b in bodies])


DELEGATION = Delegation(NB, HZ_ISS, ("penalty.admin",), T0, SWITCH)


# --- bytes ----------------------------------------------------------------------------------


def test_a_manifest_without_delegations_keeps_its_exact_bytes() -> None:
    assert _v1().hash.hex() == GOLDEN_V1
    old = _v1(recognitions=(Recognition(HZ, NB, ("score.city",)),))
    assert old.hash.hex() == GOLDEN_V1_OLD_AGREEMENT
    assert "delegations" not in encoding.decode(_v1().to_bytes())
    assert ManifestBody.from_bytes(_v1().to_bytes()).delegations == ()


def test_a_delegation_round_trips_with_defaults_omitted() -> None:
    body = _v1(DELEGATION, Delegation(NB, HZ_ISS, ("court.dishonest-debtor",)))
    data = body.to_bytes()
    assert body.hash.hex() != GOLDEN_V1
    value = encoding.decode(data)["delegations"]
    assert value == [
        {"region": NB, "issuer": HZ_ISS, "kinds": ["court.dishonest-debtor"]},
        {
            "region": NB,
            "issuer": HZ_ISS,
            "kinds": ["penalty.admin"],
            "valid_from": T0,
            "valid_until": SWITCH,
        },
    ]
    again = ManifestBody.from_bytes(data)
    assert again == body and again.delegations[1] == DELEGATION


@pytest.mark.parametrize(
    ("change", "match"),
    [
        (lambda v: v.update(delegations=[]), "delegations must be absent, not empty"),
        (lambda v: v["delegations"][0].update(extra=1), "delegation must be a map with keys"),
        (lambda v: v["delegations"][0].update(valid_from=0), "canonical order"),
        (lambda v: v["delegations"][0].update(region="cn-x"), "not a member: cn-x"),
        (lambda v: v["delegations"][0].update(issuer="nobody"), "no member lists: nobody"),
        (lambda v: v["delegations"][0].update(kinds=[]), "kinds must not be empty"),
        (lambda v: v["delegations"].append(v["delegations"][0]), "duplicate delegation"),
    ],
    ids=["empty", "extra-key", "default-written", "region", "issuer", "no-kinds", "duplicate"],
)
def test_malformed_delegations_are_refused(change, match) -> None:  # type: ignore[no-untyped-def]
    value = encoding.decode(_v1(Delegation(NB, HZ_ISS, ("penalty.admin",))).to_bytes())
    change(value)
    with pytest.raises(FormatError, match=match):
        ManifestBody.from_bytes(encoding.encode(value))


def test_add_and_remove_delegation() -> None:
    v1 = _v1()
    v2 = add_delegation(v1, DELEGATION, T0 + 10)
    assert v2.version == 2 and v2.delegations == (DELEGATION,)
    with pytest.raises(FormatError, match="delegation already listed"):
        add_delegation(v2, DELEGATION, T0 + 20)
    v3 = remove_delegation(v2, DELEGATION, T0 + 20)
    assert v3.delegations == () and v3.to_value().keys() == v1.to_value().keys()
    with pytest.raises(FormatError, match="no such delegation"):
        remove_delegation(v3, DELEGATION, T0 + 30)


def test_delegation_windows_and_a_dropped_delegation() -> None:
    open_ended = Delegation(NB, HZ_ISS, ("penalty.admin",), T0)
    v1 = _v1(open_ended)
    m = _manifest(v1)
    assert m.delegation_for(NB, HZ_ISS, "penalty.admin", T0) == open_ended
    assert m.delegation_for(NB, HZ_ISS, "penalty.admin", T0 - 1) is None
    assert m.delegation_for(NB, HZ_ISS, "score.city", T0) is None
    assert m.delegation_for(HZ, HZ_ISS, "penalty.admin", T0) is None
    assert m.delegation_for(NB, "cn-zj-ningbo/other", "penalty.admin", T0) is None
    v2 = remove_delegation(v1, open_ended, SWITCH)
    m2 = _manifest(v1, v2)
    # statements signed while it was listed stay authorised; later ones are not
    assert m2.delegation_for(NB, HZ_ISS, "penalty.admin", SWITCH - 1) is not None
    assert m2.delegation_for(NB, HZ_ISS, "penalty.admin", SWITCH) is None
    assert m2.delegations == (dataclasses.replace(open_ended, valid_until=SWITCH),)


# --- status with delegations ------------------------------------------------------------------


def _penalty(decision: str = "2025-01-10") -> Statement:
    body: dict[str, object] = {
        "decision_no": "甬市监罚〔2025〕1号",
        "decision_date": decision,
        "penalty_types": ["罚款"],
        "content": "罚款",
        "authority": "宁波市市场监督管理局",
        "authority_uscc": "11330200MB1234567X",
    }
    rec = Record("penalty.admin", NB, ORG, body, T0 - 100)
    return sign_statement(rec, NB_ISS, NB_KEY, T0 - 100)


def _life(tgt: Statement, kind: str, body: dict[str, object], iat: int, *, hz: bool) -> Statement:
    rec = Record(kind, NB, ORG, body, iat, refs=(tgt.leaf_hash,))
    return sign_statement(rec, HZ_ISS if hz else NB_ISS, HZ_KEY if hz else NB_KEY, iat)


def test_a_delegated_repair_counts_and_an_undelegated_one_is_ignored() -> None:
    tgt = _penalty()
    rep = _life(
        tgt, "lifecycle.repair", {"route": "fine paid", "decided_on": "2026-05-01"}, T0, hz=True
    )
    delegated = _manifest(_v1(Delegation(NB, HZ_ISS, ("penalty.admin",)), nb=True))
    st = status_at(tgt, [rep], T0 + 1, authorised_repairers=authorised_repairers(delegated))
    assert st.state == "repaired" and st.evidence == (rep.leaf_hash.hex(),)
    # another kind delegated only, no manifest, or trust without delegations: ignored
    other_kind = _manifest(_v1(Delegation(NB, HZ_ISS, ("score.city",)), nb=True))
    for hook in (authorised_repairers(other_kind), None, authorised_repairers(TrustStore((), ()))):
        st = status_at(tgt, [rep], T0 + 1, authorised_repairers=hook)
        assert st.state == "active" and st.evidence == ()
        assert any("only the issuer that made the finding" in r for r in st.ignored)


# --- same-second order --------------------------------------------------------------------------


def test_same_second_statements_count_in_log_order() -> None:
    tgt = _penalty()
    obj = _life(tgt, "lifecycle.objection", {"raised_on": "2026-05-01"}, T0, hz=False)
    res = _life(
        tgt,
        "lifecycle.objection-resolved",
        {"outcome": "REJECTED", "closed_on": "2026-05-01"},
        T0,
        hz=False,
    )
    assert obj.claims.iat == res.claims.iat
    # logged objection first: the resolution closes it
    for given in ([(7, res), (6, obj)], [res, obj]):
        positions = None if isinstance(given[0], tuple) else {obj.leaf_hash: 6, res.leaf_hash: 7}
        st = status_at(tgt, given, T0, positions=positions)  # type: ignore[arg-type]
        assert st.state == "active"
        assert st.evidence == (obj.leaf_hash.hex(), res.leaf_hash.hex())
    # logged the other way round: the resolution has nothing to close, the objection stays
    st = status_at(tgt, [obj, res], T0, positions={res.leaf_hash: 6, obj.leaf_hash: 7})
    assert st.state == "under-objection" and st.evidence == (obj.leaf_hash.hex(),)
    assert any("no open objection" in r for r in st.ignored)


# --- step 8: each source's status ---------------------------------------------------------------

LOG = _key(0x01)
ORIGIN = _origin(HZ)
IAT = 1_790_000_000


def _log_bundles(statements: list[Statement]) -> list[Bundle]:
    tree = MerkleTree()
    tree.append_hash(hashlib.sha256(b"filler").digest())
    for st in statements:
        tree.append_hash(st.leaf_hash)
    body = indexed_checkpoint(
        ORIGIN, tree.size, tree.root(), {i: st for i, st in enumerate(statements, 1)}
    )
    note = sign_checkpoint(body, ORIGIN, LOG)
    out = []
    for i, st in enumerate(statements, 1):
        r = build_receipt(LOG, tree.size, i, tree.inclusion_proof(i), tree.root())
        out.append(Bundle(st.with_receipts([r.to_bytes()]).to_bytes(), note.to_text()))
    return out


def _derived_with_source_status(
    lifecycle: str | None,
) -> tuple[bytes, TrustStore, Statement]:
    kinds = ["score.city", "policy.conversion", "derived.score", "lifecycle.repair"]
    kinds += ["lifecycle.withdrawal"]
    trust = TrustStore(
        (TrustedLog(ORIGIN, ORIGIN, LOG.public_key),),
        (TrustedIssuer(HZ_ISS, HZ, HZ_KEY.public_key, 0, None, frozenset(kinds)),),
    )
    bands = [
        {"name": f"t{i + 1}", "level": f"L{i + 1}", "lo": lo, "hi": hi}
        for i, (lo, hi) in enumerate(((0, 399), (400, 549), (550, 649), (650, 799), (800, 1000)))
    ]
    rules = {
        "type": "band_table",
        "source_scheme": "NINGBO_TIANYI",
        "table": {f"t{i}": f"L{i}" for i in range(1, 6)},
        "schemes": {"NINGBO_TIANYI": {"bands": bands}},
    }
    person = Subject("person", "hmac:0badc0de:" + "ab" * 32)
    body = {"scheme": "NINGBO_TIANYI", "score": 700, "band": "t4", "as_of": "2026-03-01"}
    src = sign_statement(
        Record("score.city", HZ, person, body, IAT - 100, IAT + 10_000), HZ_ISS, HZ_KEY, IAT
    )
    pol = sign_statement(build_policy_record("tianyi", 1, rules, HZ, IAT), HZ_ISS, HZ_KEY, IAT)
    derived = build_derived_record(
        pol.record, pol.leaf_hash, [(src.record, src.leaf_hash)], HZ, IAT
    )
    good = sign_statement(derived, HZ_ISS, HZ_KEY, IAT)
    statements = [src, pol, good]
    if lifecycle == "repair":
        life_body: dict[str, object] = {"route": "fine paid", "decided_on": "2026-09-23"}
    else:
        life_body = {"reason": "entered twice", "withdrawn_on": "2026-09-23"}
    if lifecycle is not None:
        kind = f"lifecycle.{'repair' if lifecycle == 'repair' else 'withdrawal'}"
        rec = Record(kind, HZ, person, life_body, IAT + 50, refs=(src.leaf_hash,))
        statements.append(sign_statement(rec, HZ_ISS, HZ_KEY, IAT + 50))
    b_src, b_pol, b_good, *rest = _log_bundles(statements)
    # a person's records are hash envelopes: each bundle carries its body (preimage); the
    # log attests the status statements of the source and of the derived record
    source = Bundle(
        b_src.statement,
        b_src.checkpoint,
        status=tuple(rest),
        preimage=src.preimage,
        attestation=_attest(b_src, [s.leaf_hash for s in statements[3:]]),
        status_proof=status_proof(b_src.checkpoint, src.leaf_hash),
    )
    out = Bundle(
        b_good.statement,
        b_good.checkpoint,
        sources=(source,),
        policy=b_pol,
        preimage=good.preimage,
        attestation=_attest(b_good, []),
        status_proof=status_proof(b_good.checkpoint, good.leaf_hash),
    )
    return out.to_bytes(), trust, src


def _attest(b: Bundle, status: list[bytes]) -> bytes:
    """The log's attestation that ``status`` are all the lifecycle statements about the
    entry of ``b``, as of its checkpoint."""
    st = Statement.from_bytes(b.statement)
    receipt = Receipt.from_bytes(st.receipts[0])
    cp = SignedNote.from_text(b.checkpoint).checkpoint
    return sign_attestation(
        LOG,
        origin=cp.origin,
        size=cp.size,
        root=cp.root,
        leaf=st.leaf_hash,
        index=receipt.leaf_index,
        status=status,
        logged_after=0,
        logged_by=IAT,
    )


def test_a_source_without_lifecycle_passes_step_8_for_every_purpose() -> None:
    data, trust, _ = _derived_with_source_status(None)
    for purpose in (None, "punitive", "eligibility"):
        report = run_verification(data, trust, purpose=purpose)
        assert report.ok, report.steps


def test_a_repaired_source_fails_step_8_for_punitive_naming_it() -> None:
    data, trust, src = _derived_with_source_status("repair")
    report = run_verification(data, trust, purpose="punitive")
    assert report.failed_step == 8 and isinstance(report.error, PolicyError)
    msg = str(report.error)
    assert msg.startswith(
        f"derivation: source 0 (score.city {src.leaf_hash.hex()[:16]}…) is not usable for "
        "punitive: it is repaired as of"
    )
    assert "repaired on 2026-09-23 by cn-zj-hangzhou/platform" in msg
    plain = run_verification(data, trust)
    assert plain.failed_step == 8 and isinstance(plain.error, VerificationError)
    assert "source 0 (score.city" in str(plain.error) and "is repaired" in str(plain.error)
    # as of before the repair was signed, the source was usable
    assert run_verification(data, trust, purpose="punitive", as_of=IAT + 10).ok


def test_a_withdrawn_source_fails_step_8_without_purpose() -> None:
    data, trust, _ = _derived_with_source_status("withdrawal")
    report = run_verification(data, trust)
    assert report.failed_step == 8 and "is withdrawn as of its checkpoint" in str(report.error)
    report = run_verification(data, trust, purpose="eligibility")
    assert report.failed_step == 8 and "not usable for eligibility" in str(report.error)
