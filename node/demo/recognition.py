"""Recognition and lifecycle across the federation (``credex demo``, part 3; issue #4).

Runs on the five members part 2 (``credex.node.demo.federation``) already started, with
their manifest; it starts no server of its own:

1. agreements: Hangzhou and Qianhai log their conversion policies; a new manifest version
   lists two recognition agreements (Hangzhou accepts Ningbo's ``score.city`` under the
   天一分 -> 钱江分-level policy, Qianhai accepts HK's ``report.hk`` under the HK ->
   mainland policy), proposed at Ningbo and installed on every member as ``credex
   federation recognize-add`` does. Xiamen, with no agreement, is refused and logs nothing.
2. Hangzhou's platform looks a Ningbo score up (mTLS, audited: the body leaves Ningbo
   only so), recognises it, collects cosignatures; a bank verifies the derived bundle
   offline against the manifest.
3. Qianhai converts an HK company report; a Shenzhen bank verifies the whole chain.
4. a derived value tampered in the bundle fails step 3; a *validly signed* derived record
   whose level does not follow from source and policy fails step 8, naming the field.
5. Ningbo repairs a penalty whose minimum publication window has passed; the bank's
   bundle with status is refused for punitive use at step 7; Hangzhou syncs Ningbo and
   refuses it from its own mirror (``hangzhou_refuses``).

Returns a summary (``ok`` says it all held). Time comes from the clock passed in.
"""

from __future__ import annotations

import json
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import credex.adapters
from credex.adapters.base import AdapterContext, ParsedRow
from credex.adapters.registry import ADAPTERS
from credex.adapters.sample import penalty_csv
from credex.ledger.bundle import Bundle
from credex.ledger.dates import cst_day
from credex.ledger.errors import CredexError, RecordWithheldError
from credex.ledger.indexing import lifecycle_in
from credex.ledger.lifecycle import publication_window, status_at
from credex.ledger.log import AppendOnlyLog
from credex.ledger.manifest import Manifest, Recognition, RecognitionRefusedError, add_recognition
from credex.ledger.record import Record
from credex.ledger.statement import Statement
from credex.ledger.storage.sql import SqlStore
from credex.ledger.subject import SubjectKey
from credex.ledger.verify import VerificationReport, run_verification
from credex.node.demo.reports import federation_report
from credex.node.federation import manifests as fed
from credex.node.federation.follow import sync_peer
from credex.node.federation.peers import mirror_url
from credex.node.home import NodeHome
from credex.node.services.lifecycle import add_lifecycle
from credex.node.services.recognition import add_policy, recognize

if TYPE_CHECKING:
    from credex.node.demo.federation import FederationMember

__all__ = ["HK_POLICY_FILE", "TIANYI_POLICY", "hangzhou_refuses", "run_recognition_demo"]

NINGBO, HANGZHOU, XIAMEN, QIANHAI, HK = (
    "cn-zj-ningbo",
    "cn-zj-hangzhou",
    "cn-fj-xiamen",
    "cn-gd-qianhai",
    "hk",
)
_POLICIES: Final = Path(credex.adapters.__file__).parent / "policies"
#: Hangzhou's policy: a Ningbo 天一分 band -> the common level L1 (worst) … L5
#: (``adapters/policies/tianyi_to_qianjiang.json``; the same rules as the policy
#: tests/integration/test_recognition_cli.py adds)
TIANYI_POLICY: Final[dict[str, Any]] = json.loads(
    (_POLICIES / "tianyi_to_qianjiang.json").read_text(encoding="utf-8")
)
#: Xiamen's policy for the refused recognition: it has no agreement covering it
_XIAMEN_POLICY: Final[dict[str, Any]] = {
    "name": "tianyi-to-bailu",
    "version": 1,
    "rules": {**TIANYI_POLICY["rules"], "target_scheme": "XIAMEN_BAILU_PLACEHOLDER"},
}
HK_POLICY_FILE: Final = _POLICIES / "hk_to_mainland.json"
#: converted report items shown in the summary (organisation facts, no personal data)
_COMMON_SHOWN: Final = ("经营状态", "企业类型", "授信笔数", "评级")
_FIELD_RE: Final = re.compile(r"field '([^']+)' does not replay")


def _verdict(report: VerificationReport) -> dict[str, Any]:
    """The short form of a verification report for the summary."""
    failed = report.failed_step
    return {
        "verdict": "valid" if report.ok else "invalid",
        "failed_step": failed,
        "step_name": None if failed is None else report.steps[-1].name,
        "steps": [s.number for s in report.steps if s.ok],
        "error": None if report.error is None else str(report.error),
    }


def _by_region(members: Sequence[FederationMember]) -> dict[str, FederationMember]:
    return {m.home.region: m for m in members}


def _collect(m: FederationMember, manifest: Manifest) -> None:
    errors = m.collect(manifest)
    if errors:
        raise CredexError(f"demo: witnesses refused {m.home.region}: {sorted(errors)}")


def _agreements(
    ms: dict[str, FederationMember], manifest: Manifest, now: int
) -> tuple[Manifest, dict[str, Any], dict[str, bytes]]:
    """Step 1: policies logged, then one manifest version per agreement, installed on
    every member."""
    policies: dict[str, bytes] = {}
    hz, qh = ms[HANGZHOU].node, ms[QIANHAI].node
    assert hz is not None and qh is not None
    policies[HANGZHOU] = add_policy(hz, TIANYI_POLICY, now=now).leaf_hash
    hk_policy = json.loads(HK_POLICY_FILE.read_text(encoding="utf-8"))
    policies[QIANHAI] = add_policy(qh, hk_policy, now=now).leaf_hash
    agreements = (
        Recognition(
            HANGZHOU,
            NINGBO,
            ("score.city",),
            (ms[NINGBO].home.platform_issuer,),
            (policies[HANGZHOU],),
            now,
        ),
        Recognition(
            QIANHAI, HK, ("report.hk",), (ms[HK].home.platform_issuer,), (policies[QIANHAI],), now
        ),
    )
    # as `credex federation recognize-add` does, once per agreement: the next version,
    # signed with the admin key (Ningbo's) and installed there, then on every other member
    admin = ms[NINGBO].home
    for agreement in agreements:
        proposal = fed.propose(
            admin, add_recognition(fed.load_manifest(admin).latest, agreement, now), now
        )
        if not proposal.installed:
            raise CredexError(f"demo: manifest version {proposal.body.version} not installed")
        for region, m in ms.items():
            if region != NINGBO:
                fed.install(m.home, proposal.signed, now)
    new = fed.load_manifest(admin)
    # each install logged the version through its own handle on the node's database;
    # the running servers hold the old manifest and a log that has not seen that entry,
    # so each member restarts on the new manifest (as `credex serve` must, too)
    for m in ms.values():
        m.close()
        m.start(new)
    out = {
        "versions": [manifest.latest.version + 1, new.latest.version],
        "installed_on": sorted(ms),
        "agreements": [a.describe() for a in agreements],
        "policies": {r: h.hex() for r, h in policies.items()},
    }
    return new, out, policies


def _refused(
    ms: dict[str, FederationMember], source: bytes, manifest: Manifest, now: int
) -> dict[str, Any]:
    """Step 1, the other side: Xiamen recognising a Ningbo score without an agreement."""
    node = ms[XIAMEN].node
    assert node is not None
    policy = add_policy(node, _XIAMEN_POLICY, now=now).leaf_hash
    before = node.log.size
    out: dict[str, Any] = {"region": XIAMEN, "recognises": NINGBO, "kind": "score.city"}
    try:
        recognize(node, source, policy, manifest, now=now)
        out["refused"], out["error"] = False, None
    except RecognitionRefusedError as e:
        out["refused"], out["error"] = True, str(e)
    out["log_size_before"], out["log_size_after"] = before, node.log.size
    return out


def _recognise(
    m: FederationMember, source: bytes, policy: bytes, manifest: Manifest, now: int
) -> tuple[Bundle, dict[str, Any]]:
    """Recognise ``source`` at ``m``, collect cosignatures for the log holding the derived
    record, and return the derived bundle (cosigned: it meets the quorum) and its entry."""
    assert m.node is not None
    rec = recognize(m.node, source, policy, manifest, now=now)
    _collect(m, manifest)
    own = m.node.bundle_with_status(rec.result.index, now, with_body=True)  # its own record
    policy_index = m.node.log.index_of(rec.policy.leaf_hash)
    bundle = Bundle(
        own.statement,
        own.checkpoint,
        status=own.status,
        sources=rec.bundle.sources,
        policy=m.node.bundle(policy_index, now),
        preimage=own.preimage,
        attestation=own.attestation,
        status_proof=own.status_proof,
    )
    return bundle, {
        "source_region": rec.source.record.region,
        "source_kind": rec.source.record.kind,
        "derived_index": rec.result.index,
        "derived_kind": rec.result.kind,
        "recognised_at": m.home.origin,
    }


def _score(
    ms: dict[str, FederationMember], manifest: Manifest, policy: bytes, now: int
) -> tuple[Bundle, bytes, dict[str, Any]]:
    """Step 2: a Ningbo score recognised at Hangzhou, verified by a bank."""
    ningbo = ms[NINGBO]
    index = int(ningbo.stats["first_score_index"]) + 2
    # a person's score: its body leaves Ningbo only through a lookup (mTLS, audited);
    # Hangzhou's platform asks its own node, which forwards to Ningbo
    with ningbo.client() as c:
        subject = Statement.from_bytes(Bundle.from_bytes(c.get_bundle(index)).statement)
    with ms[HANGZHOU].bank("hangzhou-recognition") as c:
        answer = c.lookup(
            subject=subject.claims.sub, purpose="eligibility", authorisation="demo:recognition-1"
        )
    source = next(
        r.bundle
        for r in answer.records
        if r.origin == ningbo.home.origin and r.leaf_index == index and r.bundle
    )
    bundle, out = _recognise(ms[HANGZHOU], source, policy, manifest, now)
    src_b = Bundle.from_bytes(source)
    src = Statement.from_bytes(src_b.statement, src_b.preimage).record
    derived = Statement.from_bytes(bundle.statement, bundle.preimage).record
    out.update(
        fetched_from=ningbo.home.origin,
        source_index=index,
        source_band=src.body["band"],
        level=derived.body["level"],
        scheme=derived.body["scheme"],
        provenance=derived.body.get("provenance"),
        bytes=len(bundle.to_bytes()),
        verify=_verdict(run_verification(bundle.to_bytes(), manifest)),
    )
    return bundle, source, out


def _hk_report(
    ms: dict[str, FederationMember], manifest: Manifest, policy: bytes, now: int
) -> dict[str, Any]:
    """Step 3: an HK company report converted at Qianhai, verified by a Shenzhen bank."""
    hk = ms[HK]
    assert hk.node is not None
    index = next(e.index for e in hk.node.log.entries(0, hk.node.log.size) if e.kind == "report.hk")
    with hk.client() as c:
        source = c.get_bundle(index)
    bundle, out = _recognise(ms[QIANHAI], source, policy, manifest, now)
    items = dict(Statement.from_bytes(bundle.statement).record.body["items"])
    specific = dict(items.pop("specific", {}))
    out.update(
        fetched_from=hk.home.origin,
        source_index=index,
        format=Statement.from_bytes(bundle.statement).record.body["format"],
        provenance=Statement.from_bytes(bundle.statement).record.body.get("provenance"),
        common={k: items[k] for k in _COMMON_SHOWN if k in items},
        common_fields=sorted(items),
        specific_fields=sorted(specific),
        bytes=len(bundle.to_bytes()),
        verified_by="a Shenzhen bank (the manifest only)",
        verify=_verdict(run_verification(bundle.to_bytes(), manifest)),
    )
    return out


def _flip_level_byte(bundle: Bundle) -> Bundle:
    """The derived level's text, one byte changed: in the body a person's record carries
    beside its hash envelope (step 1 catches it), or else inside the signed statement
    (step 3)."""
    target = bundle.preimage if bundle.preimage is not None else bytes(bundle.statement)
    level = Statement.from_bytes(bundle.statement, bundle.preimage).record.body["level"]
    pos = target.index(b"\x62" + level.encode(), target.index(b"level"))  # text(2) "Lx"
    other = b"1" if level != "L1" else b"5"
    forged = target[: pos + 2] + other + target[pos + 3 :]
    if bundle.preimage is not None:
        return replace(bundle, preimage=forged)
    return replace(bundle, statement=forged)


def _tampered(
    ms: dict[str, FederationMember], good: Bundle, manifest: Manifest, now: int
) -> list[dict[str, Any]]:
    """Step 4: a byte flipped in the derived value (step 1 for a person's record: the body
    no longer matches its hash envelope; step 3 otherwise) and a validly signed, logged
    and cosigned derived record whose level does not replay (step 8, naming the field)."""
    out = []
    bad = run_verification(_flip_level_byte(good).to_bytes(), manifest)
    out.append({"tamper": "derived level byte flipped in the bundle", **_verdict(bad)})
    hz = ms[HANGZHOU]
    assert hz.node is not None
    rec = Statement.from_bytes(good.statement, good.preimage).record
    wrong = "L5" if rec.body["level"] != "L5" else "L1"
    forged = Record(
        rec.kind,
        rec.region,
        rec.subject,
        {**rec.body, "level": wrong},
        rec.valid_from,
        rec.valid_until,
        rec.refs,
    )
    # Hangzhou's node signs and logs a wrong conversion; witnesses cosign its log as
    # usual (they check consistency, not arithmetic): steps 1-7 pass, step 8 replays
    res = hz.node.issue([forged], iat=now)[0]
    _collect(hz, manifest)
    own = hz.node.bundle_with_status(res.index, now, with_body=True)
    signed = Bundle(
        own.statement,
        own.checkpoint,
        status=own.status,
        sources=good.sources,
        policy=good.policy,
        preimage=own.preimage,
        attestation=own.attestation,
        status_proof=own.status_proof,
    )
    report = run_verification(signed.to_bytes(), manifest)
    found = _FIELD_RE.search(str(report.error or ""))
    out.append(
        {
            "tamper": f"validly signed derived record, level {rec.body['level']} -> {wrong}",
            "logged_index": res.index,
            "field": None if found is None else found.group(1),
            **_verdict(report),
        }
    )
    return out


def hangzhou_refuses(
    home: NodeHome, origin: str, target_leaf_hash: bytes, as_of: int, purpose: str = "punitive"
) -> dict[str, Any]:
    """The viewer ``home``'s decision on a record of ``origin`` for ``purpose``, from what
    it holds: the record and its lifecycle statements in its mirror of ``origin`` (each
    entry was verified when mirrored), folded by ``status_at``. Read-only.

    Its server answers the same way: ``GetBundle`` of the record at Hangzhou refuses it once
    the repair is mirrored (``credex.node.services.sharing``); see ``_hangzhou_serves``.

    Raises:
        NotFoundError: the record is not in the mirror.
    """
    store = SqlStore(mirror_url(home, origin))
    try:
        with AppendOnlyLog(store) as mirror:
            size = mirror.size
            target = Statement.from_bytes(mirror.entry(mirror.index_of(target_leaf_hash)).leaf)
            lifecycle = [st for _, st in lifecycle_in(mirror, target_leaf_hash, size)]
    finally:
        store.close()
    status = status_at(target, lifecycle, as_of)
    why = status.refusal(purpose)
    first = status.reasons[0].removeprefix(f"{status.state}: ") if status.reasons else ""
    return {
        "viewer": home.origin,
        "mirror_of": origin,
        "mirrored_size": size,
        "lifecycle_statements": len(lifecycle),
        "state": status.state,
        "refused": why is not None,
        "reason": f"refused for {purpose} use: {first}" if why else None,
    }


#: sample seeds the demo tries, in order, for a Ningbo penalty file it can repair
_SEEDS: Final = range(3, 23)


def repairable_sample(region: str, today: date, now: int, rows: int = 12) -> bytes:
    """The demo's sample penalty file of the day for ``region``: the first seed whose
    file holds an organisation's penalty past its minimum publication window and still
    published at ``now`` (a repair decided today is on time; a person's penalty is a
    hash envelope and cannot be picked). The sample data is generated relative to the
    day and its severities are inferred from random rows, so one fixed seed leaves a
    few days a year without one (the demo then stopped with an error).

    Raises:
        CredexError: no seed gives one (not seen over ten years of days).
    """
    ctx = AdapterContext(region, SubjectKey("00000000", bytes(32)))
    for seed in _SEEDS:
        csv = penalty_csv(region, rows=rows, seed=seed, reference_date=today)
        for row in ADAPTERS["penalty-csv"].parse(csv, ctx):
            if isinstance(row, ParsedRow) and row.record.subject.type == "org":
                w = publication_window(row.record)
                if w.min_until <= now and (w.max_until is None or now < w.max_until):
                    return csv
    raise CredexError("demo: no repairable penalty in the sample data")


def _repairable(m: FederationMember, now: int) -> tuple[int, Statement]:
    """A Ningbo penalty whose minimum publication window has passed and that is still
    published: a repair decided today is on time."""
    assert m.node is not None
    for e in m.node.log.entries(0, m.node.log.size):
        if e.kind != "penalty.admin":
            continue
        st = Statement.from_bytes(e.leaf)
        if st.is_envelope:  # a person's penalty: its body is off-log, not in this entry
            continue
        w = publication_window(st.record)
        if w.min_until <= now and (w.max_until is None or now < w.max_until):
            return e.index, st
    raise CredexError("demo: no repairable penalty in the sample data")


def _lifecycle(
    ms: dict[str, FederationMember], manifest: Manifest, clock: Callable[[], int]
) -> dict[str, Any]:
    """Step 5: a Ningbo penalty repaired; refused for punitive use by a bank and by Hangzhou."""
    ningbo, hz = ms[NINGBO], ms[HANGZHOU]
    assert ningbo.node is not None
    now = clock()
    index, target = _repairable(ningbo, now)
    _collect(ningbo, manifest)  # Ningbo's log grew (manifest versions): cosign it first
    before = ningbo.node.bundle_with_status(index, now).to_bytes()
    before_v = run_verification(before, manifest, purpose="punitive")
    # statements about a record need increasing times: sign the repair after the record
    t = max(clock(), target.claims.iat + 1)
    decided_on = cst_day(t)
    repair = add_lifecycle(
        ningbo.node,
        target.leaf_hash,
        "lifecycle.repair",
        {"decided_on": decided_on, "route": "fine paid, commitment signed"},
        now=t,
    )
    _collect(ningbo, manifest)
    sync = sync_peer(hz.home, ningbo.home.origin, t, manifest=manifest)
    data = ningbo.node.bundle_with_status(index, t).to_bytes()
    punitive = run_verification(data, manifest, purpose="punitive")
    plain = run_verification(data, manifest)
    earlier = run_verification(data, manifest, purpose="punitive", as_of=t - 1)
    return {
        "record_of": ningbo.home.origin,
        "target_index": index,
        "target_kind": target.record.kind,
        "subject": target.claims.sub,
        "repair_index": repair.index,
        "decided_on": decided_on,
        "before_repair_punitive": _verdict(before_v),
        "status_bundles": len(Bundle.from_bytes(data).status),
        "punitive": _verdict(punitive),
        "no_purpose": _verdict(plain),
        "as_of_before_repair_punitive": _verdict(earlier),
        "hangzhou_sync": {"new_entries": sync.new_entries, "error": sync.error},
        "hangzhou": hangzhou_refuses(hz.home, ningbo.home.origin, target.leaf_hash, t),
        "hangzhou_before_repair": hangzhou_refuses(
            hz.home, ningbo.home.origin, target.leaf_hash, t - 1
        ),
        "hangzhou_server": _hangzhou_serves(hz, ningbo.home.origin, index),
    }


def _hangzhou_serves(hz: FederationMember, origin: str, index: int) -> dict[str, Any]:
    """What Hangzhou's server answers for the repaired record (GetBundle with origin)."""
    try:
        with hz.client() as anyone:
            anyone.get_bundle(index, origin=origin)
    except RecordWithheldError as e:
        return {"served": False, "reason": str(e).split("failed_precondition: ", 1)[-1]}
    return {"served": True, "reason": None}


def run_recognition_demo(
    members: Sequence[FederationMember],
    manifest: Manifest,
    progress: Callable[[str], None] = lambda _: None,
    *,
    clock: Callable[[], int] = lambda: int(time.time()),
) -> dict[str, Any]:
    """Part 3 on the running ``members`` of part 2 and their ``manifest``."""
    t0 = time.perf_counter()
    ms = _by_region(members)
    out: dict[str, Any] = {}
    try:
        progress("recognition: policies and two agreements in a new manifest version")
        manifest, out["agreements"], policies = _agreements(ms, manifest, clock())
        progress("recognition: a Ningbo score recognised in Hangzhou, verified by a bank")
        derived, source, out["score"] = _score(ms, manifest, policies[HANGZHOU], clock())
        out["refused"] = _refused(ms, source, manifest, clock())
        progress("recognition: an HK report converted at Qianhai, verified by a Shenzhen bank")
        out["hk_report"] = _hk_report(ms, manifest, policies[QIANHAI], clock())
        progress("recognition: tampered derived values")
        out["tampered"] = _tampered(ms, derived, manifest, clock())
        progress("lifecycle: a Ningbo penalty repaired, refused for punitive use")
        out["lifecycle"] = _lifecycle(ms, manifest, clock)
        progress("report: a Hangzhou bank's complete federation report on a Ningbo company")
        lc = out["lifecycle"]
        out["report"] = federation_report(
            ms[NINGBO], ms[HANGZHOU], manifest, lc["subject"], lc["target_index"], clock
        )
        out["error"] = None
    except CredexError as e:
        out["error"] = f"{type(e).__name__}: {e}"
    out["seconds"] = round(time.perf_counter() - t0, 2)
    out["ok"] = out["error"] is None and _all_held(out)
    return out


def _all_held(out: dict[str, Any]) -> bool:
    refused, lc = out["refused"], out["lifecycle"]
    flipped, signed = out["tampered"]
    return bool(
        refused["refused"]
        and refused["log_size_before"] == refused["log_size_after"]
        and out["score"]["verify"]["verdict"] == "valid"
        and out["hk_report"]["verify"]["verdict"] == "valid"
        and (flipped["verdict"], flipped["failed_step"]) == ("invalid", 1)  # body vs hash
        and (signed["verdict"], signed["failed_step"], signed["field"]) == ("invalid", 8, "level")
        and lc["before_repair_punitive"]["verdict"] == "valid"
        and lc["as_of_before_repair_punitive"]["verdict"] == "valid"
        and (lc["punitive"]["verdict"], lc["punitive"]["failed_step"]) == ("invalid", 7)
        and lc["hangzhou_sync"]["error"] is None
        and lc["hangzhou"]["refused"]
        and lc["hangzhou"]["state"] == "repaired"
        and not lc["hangzhou_before_repair"]["refused"]
        and not lc["hangzhou_server"]["served"]
        and "repaired" in (lc["hangzhou_server"]["reason"] or "")
        and out["report"]["ok"]
    )
