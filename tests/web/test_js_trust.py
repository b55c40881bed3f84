"""Trust material in the JavaScript verifier: the ``credex-trust/1`` file (docs/formats.md)
and the federation manifest chain (docs/manifest.md), against ``credex.ledger.trust`` and
``credex.ledger.manifest``: the same keys, windows, kinds, logs, witnesses and quorum, the
same chains refused, and bundles judged at the same step under a manifest."""

from __future__ import annotations

import dataclasses
import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import cbor2
import pytest

from credex.ledger import encoding
from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import Checkpoint, cosign_checkpoint, sign_checkpoint
from credex.ledger.errors import CredexError
from credex.ledger.keys import SigningKey
from credex.ledger.manifest import (
    Delegation,
    IssuerKey,
    Manifest,
    ManifestBody,
    Member,
    Recognition,
    SignedManifest,
    add_delegation,
    add_member,
    add_recognition,
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
from credex.ledger.trust import TrustStore
from credex.ledger.verify import run_verification

from . import jsrunner
from .golden_edit import GOLDEN, TRUST_TEXT


def _key(n: int) -> SigningKey:
    return SigningKey(bytes([n]) * 32)


ADMINS = [_key(0x10), _key(0x11), _key(0x12)]
REGIONS = ["cn-zj-hangzhou", "cn-zj-ningbo", "cn-fj-xiamen"]
LOGS = {r: _key(0x20 + i) for i, r in enumerate(REGIONS)}
WITNESSES = {r: _key(0x30 + i) for i, r in enumerate(REGIONS)}
ISS_OLD, ISS_NEW, NEW_LOG = _key(0x40), _key(0x41), _key(0x50)
HZ, NB = "cn-zj-hangzhou", "cn-zj-ningbo"
ISS = "cn-zj-hangzhou/platform"
T0, SWITCH = 1_780_000_000, 1_790_000_000
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
        mtls_endpoint=f"127.0.0.1:{8001 + i}" if region == NB else None,
    )


def _v1() -> ManifestBody:
    return ManifestBody(
        federation="yangtze-delta",
        version=1,
        prev=None,
        issued_at=T0,
        members=tuple(_member(r, i) for i, r in enumerate(REGIONS)),
        quorum=2,
        admins=tuple(a.public_key for a in ADMINS),
        admin_threshold=2,
    )


def _signed(body: ManifestBody, keys: list[SigningKey] = ADMINS[:2]) -> SignedManifest:
    return SignedManifest.create(body, keys)


def _chain() -> list[ManifestBody]:
    """Five versions: key rotation, log key rotation, an agreement, a delegation."""
    v1 = _v1()
    v2 = rotate_issuer_key(v1, HZ, ISS, ISS_NEW.public_key, SWITCH, issued_at=SWITCH - 86400)
    v3 = retire_log_key(v2, HZ, NEW_LOG.public_key, SWITCH, SWITCH)
    v4 = add_recognition(
        v3, Recognition(NB, HZ, ("score.city",), valid_from=SWITCH), issued_at=SWITCH + 1
    )
    v5 = add_delegation(v4, Delegation(NB, ISS, ("penalty.admin",)), SWITCH + 2)
    return [v1, v2, v3, v4, v5]


def _write(tmp: Path, name: str, data: bytes | str) -> str:
    f = tmp / name
    if isinstance(data, str):
        f.write_text(data, encoding="utf-8")
    else:
        f.write_bytes(data)
    return str(f)


def _js_trust(tmp: Path, files: list[bytes | str], pin: str | None = None) -> list[Any]:
    cases = []
    for i, data in enumerate(files):
        case: dict[str, Any] = {
            "trust": _write(tmp, f"t{i}", data),
            "origins": [_origin(r) for r in REGIONS],
        }
        if pin is not None:
            case["pin"] = pin
        cases.append(case)
    out = jsrunner.run("trust", {"cases": cases})
    assert isinstance(out, list)
    return out


def _issuers_of(policy: Any) -> list[dict[str, Any]]:
    return [
        {
            "issuer_id": i.issuer_id,
            "region": i.region,
            "kid": i.kid.hex(),
            "valid_from": i.valid_from,
            "valid_until": i.valid_until,
            "kinds": sorted(i.kinds),
        }
        for i in (policy.issuers if isinstance(policy, TrustStore) else _manifest_issuers(policy))
    ]


def _manifest_issuers(m: Manifest) -> list[Any]:
    seen: list[Any] = []
    for body in m.bodies:
        for member in body.members:
            for i in member.issuers:
                for t in m.issuers_for_kid(hashlib.sha256(i.key).digest()):
                    if t not in seen:
                        seen.append(t)
    return seen


# --- credex-trust/1 ------------------------------------------------------------------------
def test_golden_trust_file_reads_the_same(tmp_path: Path) -> None:
    [out] = _js_trust(tmp_path, [TRUST_TEXT])
    py = TrustStore.from_json(TRUST_TEXT)
    assert out["ok"] and out["kind"] == "credex-trust/1"
    assert out["issuers"] == _issuers_of(py)
    assert [g["kid"] for g in out["logs"]] == [g.kid.hex() for g in py.logs]
    assert out["witnesses"][_origin(HZ)] == {"quorum": 1, "names": ["golden.witness.example"]}


def _doc(change: Callable[[dict[str, Any]], None]) -> str:
    doc = json.loads(TRUST_TEXT)
    change(doc)
    return json.dumps(doc)


REFUSED_BY_BOTH: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("wrong-format", lambda d: d.update(format="credex-trust/2")),
    ("issuer-key-not-hex", lambda d: d["issuers"][0].update(public_key="zz" * 32)),
    ("issuer-kid-mismatch", lambda d: d["issuers"][0].update(kid="00" * 32)),
    ("log-key-short", lambda d: d["logs"][0].update(public_key="00" * 31)),
    ("valid-from-text", lambda d: d["issuers"][0].update(valid_from="0")),
    ("valid-from-float", lambda d: d["issuers"][0].update(valid_from=0.5)),
    ("kinds-not-a-list", lambda d: d["issuers"][0].update(kinds="score.city")),
    ("quorum-above-witnesses", lambda d: d.update(quorum=2)),
    ("quorum-negative", lambda d: d.update(quorum=-1)),
    ("empty-origin", lambda d: d["logs"][0].update(origin="")),
]
#: refused by the JavaScript reader only (docs/formats.md "Trust file"); Python's is laxer
REFUSED_BY_JS: list[tuple[str, Callable[[dict[str, Any]], None]]] = [
    ("unknown-key", lambda d: d.update(extra=1)),
    ("integral-float", lambda d: d["issuers"][0].update(valid_from=1.0)),
    ("duplicate-witness", lambda d: d["witnesses"].append(dict(d["witnesses"][0]))),
    (
        "note-verifier-key-mismatch",
        lambda d: d["logs"][0].update(note_verifier_key="x+00000000+AA=="),
    ),
    ("duplicate-log", lambda d: d["logs"].append(dict(d["logs"][0]))),
    ("witnesses-null", lambda d: d.update(witnesses=None)),
]


def test_bad_trust_files_are_refused(tmp_path: Path) -> None:
    files = [_doc(fn) for _, fn in REFUSED_BY_BOTH + REFUSED_BY_JS] + ["not json", "[]"]
    out = _js_trust(tmp_path, files)
    for (name, _), r in zip(REFUSED_BY_BOTH + REFUSED_BY_JS, out, strict=False):
        assert r["ok"] is False and r["error"]["type"] == "FormatError", (name, r)
        assert r["error"]["message"].startswith("trust: ")
    assert [r["ok"] for r in out[-2:]] == [False, False]
    for name, fn in REFUSED_BY_BOTH:
        with pytest.raises(CredexError):
            TrustStore.from_json(_doc(fn))
        assert name


def test_witnesses_and_quorum_may_be_left_out(tmp_path: Path) -> None:
    text = _doc(lambda d: [d.pop("witnesses"), d.pop("quorum")])
    [out] = _js_trust(tmp_path, [text])
    assert out["ok"] and out["witnesses"][_origin(HZ)] == {"quorum": 0, "names": []}
    assert TrustStore.from_json(text).quorum == 0


# --- the manifest chain ---------------------------------------------------------------------
def test_manifest_chain_gives_the_same_trust(tmp_path: Path) -> None:
    bodies = _chain()
    chain = encode_chain([_signed(b) for b in bodies])
    m = verify_manifest_chain(decode_chain(chain))
    pin = hashlib.sha256(bodies[0].to_bytes()).hexdigest()
    [out] = _js_trust(tmp_path, [chain], pin=pin)
    assert out["ok"], out
    assert out["kind"] == "credex-manifest"
    assert out["info"]["version"] == 5 and out["info"]["hash"] == m.hash.hex()
    assert (out["info"]["recognitions"], out["info"]["delegations"]) == (1, 1)
    assert sorted(map(json.dumps, out["issuers"])) == sorted(map(json.dumps, _issuers_of(m)))
    old = next(i for i in out["issuers"] if i["kid"] == ISS_OLD.kid.hex())
    assert (old["valid_from"], old["valid_until"]) == (0, SWITCH)
    js_logs = {(g["origin"], g["note_key_name"], g["kid"]) for g in out["logs"]}
    py_logs = {
        (g.origin, g.note_key_name, g.kid.hex())
        for key in (*LOGS.values(), NEW_LOG)
        if (g := m.log_for_kid(key.kid)) is not None
    }
    assert js_logs == py_logs and len(js_logs) == 4
    for region in REGIONS:
        origin = _origin(region)
        assert out["witnesses"][origin] == {
            "quorum": m.quorum_for(origin),
            "names": [w.name for w in m.witnesses_for(origin)],
        }


def _tampered_chains() -> list[tuple[str, bytes | Callable[[], bytes]]]:
    v1, v2, *_ = _chain()
    good = [_signed(v1), _signed(v2)]

    def raw(versions: list[bytes]) -> bytes:
        return encoding.encode({"format": "credex-manifest-chain/1", "versions": versions})

    def body_bytes(body: ManifestBody, fn: Callable[[dict[str, Any]], None]) -> bytes:
        value = cbor2.loads(body.to_bytes())
        fn(value)
        return encoding.encode(value)

    def resign(payload: bytes, keys: list[SigningKey] = ADMINS[:2]) -> bytes:
        signed = SignedManifest(payload)
        for k in keys:
            signed = signed.sign(k)
        return signed.to_bytes()

    flipped = bytearray(good[1].to_bytes())
    flipped[-70] ^= 1  # inside a signature
    v2_other = dataclasses.replace(v2, prev=b"\x01" * 32)
    v3_skip = dataclasses.replace(v2, version=3)
    renamed = dataclasses.replace(v2, federation="other")
    backwards = dataclasses.replace(v2, issued_at=T0 - 1)
    return [
        ("good", encode_chain(good)),
        ("single-version", good[0].to_bytes()),
        ("empty-chain", raw([])),
        ("signature-flipped", raw([good[0].to_bytes(), bytes(flipped)])),
        ("one-admin-signature", raw([good[0].to_bytes(), _signed(v2, ADMINS[:1]).to_bytes()])),
        ("wrong-prev", raw([good[0].to_bytes(), _signed(v2_other).to_bytes()])),
        ("skipped-version", raw([good[0].to_bytes(), _signed(v3_skip).to_bytes()])),
        ("renamed-federation", raw([good[0].to_bytes(), _signed(renamed).to_bytes()])),
        ("issued-before-previous", raw([good[0].to_bytes(), _signed(backwards).to_bytes()])),
        ("starts-at-version-2", raw([good[1].to_bytes()])),
        ("members-unsorted", raw([resign(body_bytes(v1, lambda b: b["members"].reverse()))])),
        ("empty-delegations", raw([resign(body_bytes(v1, lambda b: b.update(delegations=[])))])),
        ("quorum-n-wrong", raw([resign(body_bytes(v1, lambda b: b["quorum"].update(n=5)))])),
        ("unknown-body-key", raw([resign(body_bytes(v1, lambda b: b.update(x=1)))])),
        (
            "duplicate-witness-key",
            raw(
                [
                    resign(
                        body_bytes(
                            v1,
                            lambda b: b["members"][1].update(
                                witness_key=b["members"][0]["witness_key"]
                            ),
                        )
                    )
                ]
            ),
        ),
        (
            "issuer-window-inverted",
            raw(
                [
                    resign(
                        body_bytes(
                            v1, lambda b: b["members"][1]["issuers"][0].update(valid_until=0)
                        )
                    )
                ]
            ),
        ),
        ("wrong-format", encoding.encode({"format": "x", "versions": [good[0].to_bytes()]})),
        ("wrong-tag", encoding.encode(cbor2.CBORTag(18, cbor2.loads(good[0].to_bytes()).value))),
    ]


def _py_chain(data: bytes, pin: bytes | None = None) -> str | None:
    try:
        verify_manifest_chain(decode_chain(data), pinned_hash=pin)
    except CredexError as e:
        return type(e).__name__
    return None


def test_manifest_chains_refused_by_both(tmp_path: Path) -> None:
    table = _tampered_chains()
    out = _js_trust(tmp_path, [data for _, data in table])  # type: ignore[misc]
    for (name, data), r in zip(table, out, strict=True):
        py = _py_chain(data)  # type: ignore[arg-type]
        js = None if r["ok"] else r["error"]["type"]
        assert js == py, (name, r, py)
    assert [name for (name, _), r in zip(table, out, strict=True) if r["ok"]] == [
        "good",
        "single-version",
    ]


def test_pin_of_version_1(tmp_path: Path) -> None:
    v1, v2, *_ = _chain()
    chain = encode_chain([_signed(v1), _signed(v2)])
    good = hashlib.sha256(v1.to_bytes()).hexdigest()
    [ok] = _js_trust(tmp_path, [chain], pin=good)
    [bad] = _js_trust(tmp_path, [chain], pin="00" * 32)
    assert ok["ok"] and not bad["ok"] and bad["error"]["type"] == "VerificationError"
    assert _py_chain(chain, b"\x00" * 32) == "VerificationError"


def _bundle(
    key: SigningKey,
    iat: int,
    witnesses: list[str],
    log: SigningKey = LOGS[HZ],
    cosigned_at: int = SWITCH - 1,
) -> bytes:
    """A score bundle; the witnesses cosign at ``cosigned_at`` (the old log key, retired at
    SWITCH, vouches only for checkpoints cosigned before then)."""
    body = {"scheme": "HANGZHOU_QIANJIANG", "score": 700, "band": "A", "as_of": "2026-11-01"}
    st = sign_statement(Record("score.city", HZ, Subject("org", ORG), body, T0), ISS, key, iat)
    tree = MerkleTree()
    tree.append_hash(hashlib.sha256(b"filler").digest())
    tree.append_hash(st.leaf_hash)
    origin = _origin(HZ)
    note = sign_checkpoint(Checkpoint(origin, 2, tree.root()), origin, log)
    for r in witnesses:
        note = note.with_signature(
            cosign_checkpoint(note, f"witness.{r}", WITNESSES[r], cosigned_at)
        )
    receipt = build_receipt(log, 2, 1, tree.inclusion_proof(1), tree.root())
    return Bundle(st.with_receipts([receipt.to_bytes()]).to_bytes(), note.to_text()).to_bytes()


def test_bundles_under_a_manifest_fail_at_the_same_step(tmp_path: Path) -> None:
    chain = encode_chain([_signed(b) for b in _chain()])
    m = verify_manifest_chain(decode_chain(chain))
    others = [NB, "cn-fj-xiamen"]
    table = [
        ("old-key-before-switch", _bundle(ISS_OLD, SWITCH - 1, others), None),
        ("new-key-after-switch", _bundle(ISS_NEW, SWITCH, others), None),
        ("old-key-after-switch", _bundle(ISS_OLD, SWITCH, others), 2),
        ("new-key-before-switch", _bundle(ISS_NEW, SWITCH - 1, others), 2),
        ("unknown-key", _bundle(_key(0x1F), SWITCH, others), 2),
        ("retired-log-key", _bundle(ISS_OLD, T0, others, LOGS[HZ]), None),
        ("new-log-key", _bundle(ISS_OLD, T0, others, NEW_LOG), None),
        ("one-witness", _bundle(ISS_OLD, T0, [NB]), 6),
        ("own-witness-does-not-count", _bundle(ISS_OLD, T0, [HZ, NB]), 6),
        ("retired-log-key-cosigned-at-switch", _bundle(ISS_OLD, T0, others, cosigned_at=SWITCH), 6),
        # the witnesses saw the entry before the key's window opened (less the tolerance)
        (
            "new-key-logged-before-its-window",
            _bundle(ISS_NEW, SWITCH, others, cosigned_at=SWITCH - 601),
            2,
        ),
    ]
    trust = _write(tmp_path, "chain.cbor", chain)
    cases = [{"trust": trust, "bundle": _write(tmp_path, f"{n}.credex", b)} for n, b, _ in table]
    out = jsrunner.run("verify", {"cases": cases})
    for (name, data, step), js in zip(table, out, strict=True):
        py = run_verification(data, m)
        assert py.failed_step == step, (name, py.error)
        assert js["failedStep"] == step, (name, js["error"])
        if step is not None:
            assert js["error"]["type"] == type(py.error).__name__, name


def test_golden_bundles_under_their_trust_file_path(tmp_path: Path) -> None:
    # loadTrust tells JSON from CBOR by the first non-space byte, as `credex verify` does
    out = jsrunner.run(
        "verify",
        {
            "cases": [
                {"trust": str(GOLDEN / "trust.json"), "bundle": str(GOLDEN / "bundle-0.credex")}
            ]
        },
    )
    assert out[0]["verdict"] == "valid"
    spaced = _write(tmp_path, "spaced.json", "\n  " + TRUST_TEXT)
    out = jsrunner.run(
        "verify", {"cases": [{"trust": spaced, "bundle": str(GOLDEN / "bundle-0.credex")}]}
    )
    assert out[0]["verdict"] == "valid"
    assert add_member  # the chain helpers above are the ones docs/manifest.md names
