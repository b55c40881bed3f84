"""Fuzz targets: every decoder that takes bytes from outside, as a function of bytes.

A target feeds its input to the real code path (decode, then the checks that follow:
verification, witness logic, the Log servicer against a real node) and may end in a
``CredexError``: that is the named refusal the code promises. Any other exception is a
bug. Targets are shared by the CI harness (``test_fuzz.py``, hypothesis, bounded) and
the deep runner (``run_atheris.py``, coverage-guided, local).

Each target has a ``kind`` that picks the structure-aware strategies used beside byte
mutations of its seed corpus (``corpus/<name>/``): ``cbor``, ``note``, ``json``, ``csv``,
``text`` or ``proto``.
"""

from __future__ import annotations

import functools
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from credex.adapters.base import AdapterContext
from credex.adapters.registry import ADAPTERS
from credex.ledger import encoding, strict_json
from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import (
    Checkpoint,
    SignedNote,
    verify_cosignature,
    verify_note_signature,
)
from credex.ledger.dates import parse_date, parse_time
from credex.ledger.errors import CredexError
from credex.ledger.evidence import Evidence, verify_evidence
from credex.ledger.identifiers import validate_org_id
from credex.ledger.keys import SigningKey
from credex.ledger.manifest import decode_chain, verify_manifest_chain
from credex.ledger.receipt import Receipt
from credex.ledger.record import Record
from credex.ledger.statement import Statement, verify_statement_signature
from credex.ledger.subject import SubjectKey
from credex.ledger.trust import TrustedLog, TrustStore
from credex.ledger.trust_material import load_trust
from credex.ledger.verify import run_verification
from credex.ledger.witness import MemoryWitnessStore, Witness
from credex.node.local import LocalNode
from credex.node.rpc import convert
from credex.node.rpc.auth import _checked, _lenient
from credex.node.rpc.log_servicer import LogServicer
from credex.node.services.intake import Intake
from credex.node.services.lookup import Caller, authorise, resolve_subject
from credex.node.services.recognition import policy_file_parts, policy_file_value
from credex.v1 import log_pb2, query_pb2, submit_pb2, witness_pb2

__all__ = ["CORPUS", "COUNTS", "GOLDEN", "TARGETS", "Target", "run_one"]

HERE: Final = Path(__file__).resolve().parent
CORPUS: Final = HERE / "corpus"
GOLDEN: Final = HERE.parent / "vectors" / "golden"
NOW: Final = 1_780_272_000
#: target -> [executions, refused with a named error], filled by the harness
COUNTS: Final[dict[str, list[int]]] = {}


@dataclass(frozen=True, slots=True)
class Target:
    name: str
    kind: str
    run: Callable[[bytes], None]


def _text(data: bytes) -> str:
    """Bytes as the text a peer could send (gRPC strings are UTF-8)."""
    return data.decode("utf-8", "replace")


@functools.cache
def _trust() -> TrustStore:
    return TrustStore.from_json((GOLDEN / "trust.json").read_text(encoding="utf-8"))


@functools.cache
def _manifest() -> Any:
    from tests.security._federation_chain import signed, v1

    return verify_manifest_chain([signed(v1())])


@functools.cache
def _node() -> LocalNode:
    """A real node (SQLite, in a temporary home kept for the session) with a few entries."""
    from credex.adapters.sample import score_records
    from tests.security._nodes import AS_OF, T0, init_home

    home = init_home(Path(_TMP.name) / "home")
    node = LocalNode(home)
    node.issue(score_records(home.region, home.subject_key(), 5, seed=1, as_of=AS_OF), iat=T0)
    node.publish_checkpoint(T0)
    return node


_TMP = tempfile.TemporaryDirectory(prefix="credex-fuzz-")


# --- ledger decoders -------------------------------------------------------------------------


def cbor(data: bytes) -> None:
    encoding.decode(data)


def _verified(data: bytes, trust: Any, purpose: str | None = None) -> None:
    """``run_verification`` never raises a ``CredexError``: its report names it."""
    report = run_verification(data, trust, as_of=NOW, purpose=purpose)
    if not report.ok:
        assert isinstance(report.error, CredexError), report.error
        raise report.error


def bundle(data: bytes) -> None:
    _verified(data, _trust())


def bundle_manifest(data: bytes) -> None:
    Bundle.from_bytes(data)
    _verified(data, _manifest(), "punitive")


def statement(data: bytes) -> None:
    st = Statement.from_bytes(data)
    verify_statement_signature(st, _trust().issuers[0].public_key)


def receipt(data: bytes) -> None:
    r = Receipt.from_bytes(data)
    r.verify_signature(_trust().logs[0].public_key, bytes(32))


def record(data: bytes) -> None:
    Record.from_bytes(data)


def checkpoint(data: bytes) -> None:
    note = SignedNote.from_text(_text(data))
    Checkpoint.from_text(note.body)
    log = _trust().logs[0]
    try:
        verify_note_signature(note, log.note_key_name, log.public_key)
    finally:
        w = _trust().witnesses[0]
        verify_cosignature(note, w.name, w.public_key)


def witness(data: bytes) -> None:
    """tlog-witness add-checkpoint over the golden log (fresh state each time)."""
    log = _trust().logs[0]
    w = Witness(
        "fuzz-witness",
        SigningKey(b"\x09" * 32),
        {log.origin: TrustedLog(log.origin, log.note_key_name, log.public_key)},
        MemoryWitnessStore(),
    )
    old = data[0] if data else 0
    w.add_checkpoint(old, [], _text(data[1:]), NOW)


def evidence(data: bytes) -> None:
    ev = Evidence.from_bytes(data)
    verify_evidence(ev)


def manifest_chain(data: bytes) -> None:
    verify_manifest_chain(decode_chain(data))


def trust_material(data: bytes) -> None:
    load_trust(data)


def trust_file(data: bytes) -> None:
    TrustStore.from_json(data)


def policy_file(data: bytes) -> None:
    policy_file_parts(policy_file_value(data))


def strict_json_doc(data: bytes) -> None:
    strict_json.loads(data, "fuzz", max_bytes=1 << 20)


def dates(data: bytes) -> None:
    text = _text(data)
    try:
        parse_date(text)
    finally:
        parse_time(text)


def identifiers(data: bytes) -> None:
    validate_org_id(_text(data))


# --- adapters ---------------------------------------------------------------------------------


def _adapter(name: str) -> Callable[[bytes], None]:
    ctx = AdapterContext("cn-zj-ningbo", SubjectKey("00000001", b"\x02" * 32))

    def run(data: bytes) -> None:
        for _ in ADAPTERS[name].parse(data, ctx):
            pass

    run.__name__ = name.replace("-", "_")
    return run


# --- gRPC: requests as the server parses them, responses as the client does ----------------


class _Context:
    """What a servicer method asks of its gRPC context here (nothing that matters)."""

    def is_active(self) -> bool:
        return True


_LOG_METHODS: Final = (
    ("GetCheckpoint", log_pb2.GetCheckpointRequest),
    ("GetEntries", log_pb2.GetEntriesRequest),
    ("GetInclusionProof", log_pb2.GetInclusionProofRequest),
    ("GetConsistencyProof", log_pb2.GetConsistencyProofRequest),
    ("GetBundle", log_pb2.GetBundleRequest),
    ("GetReceipt", log_pb2.GetReceiptRequest),
)


def _parse(message: Any, data: bytes) -> Any:
    """The server's own request parsing (``node.rpc.auth``): DecodeError -> FormatError."""
    parse = _lenient(message.FromString)
    assert parse is not None
    return _checked(parse(data))


def grpc_log(data: bytes) -> None:
    """First byte: the method; the rest: its request, run against a real node."""
    if not data:
        return
    name, message = _LOG_METHODS[data[0] % len(_LOG_METHODS)]
    request = _parse(message, data[1:])
    servicer = LogServicer(_node(), clock=lambda: NOW)
    out = getattr(servicer, name)(request, _Context())
    if name == "GetEntries":
        for _ in out:
            pass


def grpc_submit(data: bytes) -> None:
    request = _parse(submit_pb2.SubmitStatementsRequest, data)
    statements = convert.submit_statements_from_proto(request)
    preimages = convert.submit_preimages_from_proto(request)
    Intake(_node(), clock=lambda: NOW).submit(statements, preimages)


def grpc_witness(data: bytes) -> None:
    request = _parse(witness_pb2.AddCheckpointRequest, data)
    old, proof, note = convert.add_checkpoint_from_proto(request)
    log = _trust().logs[0]
    w = Witness(
        "fuzz-witness",
        SigningKey(b"\x09" * 32),
        {log.origin: TrustedLog(log.origin, log.note_key_name, log.public_key)},
        MemoryWitnessStore(),
    )
    w.add_checkpoint(old, proof, note, NOW)


def grpc_query(data: bytes) -> None:
    request = _parse(query_pb2.LookupRequest, data)
    authorise(Caller("fuzz-bank", "bank", "00" * 32), request.purpose, request.authorisation)
    resolve_subject(_node(), request.subject, request.person_id)


_RESPONSES: Final = (
    log_pb2.GetCheckpointResponse,
    submit_pb2.SubmitStatementsResponse,
    log_pb2.GetInclusionProofResponse,
    log_pb2.GetConsistencyProofResponse,
    witness_pb2.AddCheckpointResponse,
)


def grpc_responses(data: bytes) -> None:
    """What a client decodes from a peer (``PeerClient``): first byte picks the message."""
    if not data:
        return
    message = _RESPONSES[data[0] % len(_RESPONSES)]
    msg = _parse(message, data[1:])
    if message is log_pb2.GetCheckpointResponse:
        convert.checkpoint_from_proto(msg)
    elif message is submit_pb2.SubmitStatementsResponse:
        convert.submit_acks_from_proto(msg)
    elif message is witness_pb2.AddCheckpointResponse:
        SignedNote.from_text(msg.cosignature)
    else:
        convert.hashes_from_proto(msg.hashes, "proof")


TARGETS: Final[dict[str, Target]] = {
    t.name: t
    for t in (
        Target("cbor", "cbor", cbor),
        Target("bundle", "cbor", bundle),
        Target("bundle_manifest", "cbor", bundle_manifest),
        Target("statement", "cbor", statement),
        Target("receipt", "cbor", receipt),
        Target("record", "cbor", record),
        Target("evidence", "cbor", evidence),
        Target("manifest_chain", "cbor", manifest_chain),
        Target("checkpoint", "note", checkpoint),
        Target("witness", "note", witness),
        Target("trust_file", "json", trust_file),
        Target("trust_material", "json", trust_material),
        Target("policy_file", "json", policy_file),
        Target("strict_json", "json", strict_json_doc),
        Target("adapter_penalty_csv", "csv", _adapter("penalty-csv")),
        Target("adapter_hk_report_json", "json", _adapter("hk-report-json")),
        Target("dates", "text", dates),
        Target("identifiers", "text", identifiers),
        Target("grpc_log", "proto", grpc_log),
        Target("grpc_submit", "proto", grpc_submit),
        Target("grpc_witness", "proto", grpc_witness),
        Target("grpc_query", "proto", grpc_query),
        Target("grpc_responses", "proto", grpc_responses),
    )
}


def run_one(target: Target, data: bytes) -> bool:
    """Run ``target`` on ``data``; True if it was refused with a named error. Anything but
    a ``CredexError`` propagates (a finding)."""
    try:
        target.run(data)
    except CredexError:
        return True
    return False
