"""Subject reports: every record of one subject in a log, and the proof nothing is left out.

A ``.credex-report`` (docs/formats.md, docs/spec.md §5.4) is a COSE_Sign1 signed by the
compiling node's log key::

    18([protected = {1: -8, 3: "application/vnd.credex.report+cbor", 4: log kid},
        unprotected = {},
        payload = {"v": 2,                       ; 1: no "reasons" (still read)
                   "subject": tstr,              ; USCC, HK number or person pseudonym
                   "as_of": uint,                ; Unix seconds the statuses are judged at
                   "parts": [+ part]},           ; one per log, origins distinct
        signature = Ed25519(["Signature1", protected, h'', payload])])

    part = {"origin": tstr,
            "checkpoint": tstr,                  ; the log's signed note (with cosignatures)
            "proof": bstr,                       ; index lookup proof of the subject key
            "entries": [* [uint, bstr .size 32, tstr, tstr]],  ; index, leaf, kind, state
            "bundles": [* bstr],                 ; one per "in-force" entry, index order
            "reasons": [* [uint, bstr, [* bstr]]]}  ; v2: index, status proof, statements

``entries`` lists every entry about the subject below the checkpoint's size, in index
order, with its state: ``in-force`` (its bundle follows), a withholding reason
(``repaired``, ``expired``, ``erased``, ``withdrawn``, ``corrected``, ``superseded``:
never content, only index, leaf hash and kind), or ``statement`` (a lifecycle or audit
entry about the subject, not a record). The verifier recomputes the subject's hash chain
(§5.1) from the entries and checks it against the value the proof proves under the index
root the checkpoint commits to: a dropped, added or repeated entry changes the chain.

``reasons`` (version 2) carries, for a withheld entry, the evidence of its reason: the
index lookup proof of the record's status key at the part's checkpoint and the bundles
of the lifecycle statements about it (public status statements: never the record). The
verifier checks the proof lists exactly the statements carried from the part's log, and
that they make the record what the entry says (``repaired``, ``withdrawn``,
``corrected``, ``superseded``; for ``expired``: none of those); otherwise
``ReportReasonError``. A withheld entry without evidence (``erased`` always: an erasure
is the issuer's act, off the log) is a claim, shown as such.
Pure: the caller verifies bundles (``verify_report`` takes a bundle verifier).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Final

import cbor2

from credex.ledger import encoding
from credex.ledger.checkpoint import SignedNote
from credex.ledger.errors import (
    FormatError,
    IndexProofError,
    ReportIncompleteError,
    ReportReasonError,
    ReportSubjectError,
    StatusNotProvenError,
    WrongLogError,
)
from credex.ledger.index_map import parse_index_extension, subject_key, subject_value
from credex.ledger.keys import SigningKey, verify_ed25519
from credex.ledger.lifecycle.model import TERMINAL_STATES
from credex.ledger.lifecycle.rules import fold
from credex.ledger.log_signed import parse_log_signed
from credex.ledger.statement import ALG_EDDSA, COSE_SIGN1_TAG, Statement, sig_structure
from credex.ledger.status_proof import check_status_proof
from credex.ledger.vindex.proof import LookupProof
from credex.ledger.vindex.verify import verify_lookup

__all__ = [
    "IN_FORCE",
    "MAX_STATEMENTS",
    "NOT_HELD",
    "PROVABLE_REASONS",
    "REPORT_CONTENT_TYPE",
    "REPORT_VERSION",
    "STATEMENT",
    "WITHHELD_REASONS",
    "BundleCheck",
    "CheckedPart",
    "ReasonEvidence",
    "ReportEntry",
    "ReportPart",
    "StatusCheck",
    "SubjectReport",
    "check_part",
    "reason_label",
    "reason_state",
    "sign_report",
]

REPORT_CONTENT_TYPE: Final = "application/vnd.credex.report+cbor"
MAX_REPORT_BYTES: Final = 64 * 1024 * 1024
MAX_ENTRIES: Final = 100_000
MAX_PARTS: Final = 64
IN_FORCE: Final = "in-force"
STATEMENT: Final = "statement"
#: a person's record mirrored without its body: only its origin serves it (a lookup)
NOT_HELD: Final = "not-held"
WITHHELD_REASONS: Final = frozenset(
    {"repaired", "expired", "erased", "withdrawn", "corrected", "superseded", NOT_HELD}
)
#: reasons the log's lifecycle statements prove (a terminal state); evidence for an
#: "expired" entry proves only that none of those applies
PROVABLE_REASONS: Final = frozenset(TERMINAL_STATES)
REPORT_VERSION: Final = 2
MAX_STATEMENTS: Final = 64
_STATES: Final = frozenset({IN_FORCE, STATEMENT, *WITHHELD_REASONS})
_PART_FIELDS: Final = frozenset({"origin", "checkpoint", "proof", "entries", "bundles"})
_PART_FIELDS_V2: Final = _PART_FIELDS | {"reasons"}
_FIELDS: Final = frozenset({"v", "subject", "as_of", "parts"})
_UINT64: Final = 2**64
_KIND_RE: Final = re.compile(r"[!-~]{1,255}", re.ASCII)


@dataclass(frozen=True, slots=True)
class ReportEntry:
    index: int
    leaf: bytes
    kind: str
    state: str


@dataclass(frozen=True, slots=True)
class ReasonEvidence:
    """Why a withheld entry is withheld, proven: the status proof of the record at the
    part's checkpoint and the bundles of the lifecycle statements about it."""

    index: int
    status_proof: bytes
    statements: tuple[bytes, ...]


@dataclass(frozen=True, slots=True)
class ReportPart:
    origin: str
    checkpoint: str
    proof: bytes
    entries: tuple[ReportEntry, ...]
    bundles: tuple[bytes, ...]
    reasons: tuple[ReasonEvidence, ...] = ()

    def to_value(self, version: int = REPORT_VERSION) -> dict[str, Any]:
        value: dict[str, Any] = {
            "origin": self.origin,
            "checkpoint": self.checkpoint,
            "proof": self.proof,
            "entries": [[e.index, e.leaf, e.kind, e.state] for e in self.entries],
            "bundles": list(self.bundles),
        }
        if version >= 2:
            value["reasons"] = [[r.index, r.status_proof, list(r.statements)] for r in self.reasons]
        return value


@dataclass(frozen=True, slots=True)
class SubjectReport:
    subject: str
    as_of: int
    parts: tuple[ReportPart, ...]
    kid: bytes = b""
    protected: bytes = b""
    payload: bytes = b""
    signature: bytes = b""
    version: int = REPORT_VERSION

    def to_value(self) -> dict[str, Any]:
        return {
            "v": self.version,
            "subject": self.subject,
            "as_of": self.as_of,
            "parts": [p.to_value(self.version) for p in self.parts],
        }

    def to_bytes(self) -> bytes:
        return encoding.encode(
            cbor2.CBORTag(COSE_SIGN1_TAG, [self.protected, {}, self.payload, self.signature])
        )

    def verify_signature(self, public_key: bytes) -> None:
        """Raises SignatureError unless ``public_key`` signed this report."""
        verify_ed25519(
            public_key, sig_structure(self.protected, self.payload), self.signature, what="report"
        )

    @classmethod
    def from_bytes(cls, data: bytes) -> SubjectReport:
        """Strictly parse a report (signature not checked).

        Raises:
            OversizeError / CborError: too large, or not deterministic CBOR.
            CoseError: not a COSE_Sign1 with exactly the headers above.
            FormatError: a payload that is not the map above.
        """
        signed = parse_log_signed(
            data, what="report", max_size=MAX_REPORT_BYTES, content_type=REPORT_CONTENT_TYPE
        )
        kid, protected, payload, signature = (
            signed.kid,
            signed.protected,
            signed.payload,
            signed.signature,
        )
        version, subject, as_of, parts = _body(
            encoding.decode(payload, what="report payload", max_size=MAX_REPORT_BYTES)
        )
        return cls(subject, as_of, parts, kid, protected, payload, signature, version)


def _uint(v: Any, name: str) -> int:
    if type(v) is not int or not 0 <= v < _UINT64:
        raise FormatError(f"report: {name} must be a uint")
    return v


def _text(v: Any, name: str) -> str:
    if not isinstance(v, str) or not v or len(v) > 4096:
        raise FormatError(f"report: {name} must be non-empty text")
    return v


def _entry(v: Any, n: int) -> ReportEntry:
    if not isinstance(v, list) or len(v) != 4:
        raise FormatError(f"report: entry {n} must be [index, leaf, kind, state]")
    index = _uint(v[0], f"entry {n} index")
    leaf = v[1]
    if not isinstance(leaf, bytes) or len(leaf) != 32:
        raise FormatError(f"report: entry {n} leaf must be a 32-byte bstr")
    kind = _text(v[2], f"entry {n} kind")
    if not _KIND_RE.fullmatch(kind):  # the index chains it as u8 length || ASCII
        raise FormatError(f"report: entry {n} kind must be 1..255 printable ascii characters")
    state = v[3]
    if state not in _STATES:
        raise FormatError(f"report: entry {n} state must be one of {sorted(_STATES)}")
    return ReportEntry(index, leaf, kind, state)


def _reason(v: Any, n: int, i: int) -> ReasonEvidence:
    if not isinstance(v, list) or len(v) != 3:
        raise FormatError(f"report: part {n} reason {i} must be [index, status proof, statements]")
    proof, statements = v[1], v[2]
    if not isinstance(proof, bytes) or not proof:
        raise FormatError(f"report: part {n} reason {i} status proof must be a non-empty bstr")
    if (
        not isinstance(statements, list)
        or len(statements) > MAX_STATEMENTS
        or not all(isinstance(b, bytes) and b for b in statements)
    ):
        raise FormatError(
            f"report: part {n} reason {i} statements must be an array of at most "
            f"{MAX_STATEMENTS} non-empty bstr"
        )
    return ReasonEvidence(_uint(v[0], f"part {n} reason {i} index"), proof, tuple(statements))


def _part(v: Any, n: int, version: int) -> ReportPart:
    fields = _PART_FIELDS if version == 1 else _PART_FIELDS_V2
    if not isinstance(v, dict) or set(v) != fields:
        raise FormatError(f"report: part {n} must be a map with keys {sorted(fields)}")
    reasons = v.get("reasons", [])
    if not isinstance(reasons, list) or len(reasons) > MAX_ENTRIES:
        raise FormatError(f"report: part {n} reasons must be an array of at most {MAX_ENTRIES}")
    entries, bundles, proof = v["entries"], v["bundles"], v["proof"]
    if not isinstance(entries, list) or len(entries) > MAX_ENTRIES:
        raise FormatError(f"report: part {n} entries must be an array of at most {MAX_ENTRIES}")
    if not isinstance(bundles, list) or not all(isinstance(b, bytes) and b for b in bundles):
        raise FormatError(f"report: part {n} bundles must be an array of non-empty bstr")
    if not isinstance(proof, bytes) or not proof:
        raise FormatError(f"report: part {n} proof must be a non-empty bstr")
    return ReportPart(
        _text(v["origin"], f"part {n} origin"),
        _text_note(v["checkpoint"], n),
        proof,
        tuple(_entry(e, i) for i, e in enumerate(entries)),
        tuple(bundles),
        tuple(_reason(r, n, i) for i, r in enumerate(reasons)),
    )


def _text_note(v: Any, n: int) -> str:
    if not isinstance(v, str) or not v or len(v) > 64 * 1024:
        raise FormatError(f"report: part {n} checkpoint must be a signed note (text)")
    return v


def _body(v: Any) -> tuple[int, str, int, tuple[ReportPart, ...]]:
    if not isinstance(v, dict) or set(v) != _FIELDS:
        raise FormatError(f"report: payload must be a map with keys {sorted(_FIELDS)}")
    version = v["v"]
    if type(version) is not int or version not in (1, 2):
        raise FormatError(f"report: unsupported version: expected 1 or 2, got {version!r}")
    parts = v["parts"]
    if not isinstance(parts, list) or not 0 < len(parts) <= MAX_PARTS:
        raise FormatError(f"report: parts must be an array of 1..{MAX_PARTS} parts")
    out = tuple(_part(p, n, version) for n, p in enumerate(parts))
    origins = [p.origin for p in out]
    if len(set(origins)) != len(origins):
        raise FormatError("report: two parts for the same log")
    return version, _text(v["subject"], "subject"), _uint(v["as_of"], "as_of"), out


def sign_report(
    key: SigningKey,
    subject: str,
    as_of: int,
    parts: Sequence[ReportPart],
    *,
    version: int = REPORT_VERSION,
) -> SubjectReport:
    """The report, signed by the compiling node's log key ``key`` (``version`` 1: without
    the parts' ``reasons``, as written before version 2)."""
    body = SubjectReport(subject, as_of, tuple(parts), version=version)
    protected = encoding.encode({1: ALG_EDDSA, 3: REPORT_CONTENT_TYPE, 4: key.kid})
    payload = encoding.encode(body.to_value())
    signature = key.sign(sig_structure(protected, payload))
    return SubjectReport(
        subject, as_of, tuple(parts), key.kid, protected, payload, signature, version
    )


@dataclass(frozen=True, slots=True)
class BundleCheck:
    """What the caller's bundle verifier found (steps 1-8 passed)."""

    origin: str
    index: int
    tree_size: int
    leaf: bytes
    kind: str
    issuer: str
    subject: str
    status: str
    #: the record's ``valid_from`` (its date: a decision's day, a score's as-of)
    valid_from: int


@dataclass(frozen=True, slots=True)
class StatusCheck:
    """A lifecycle statement's bundle the caller verified: where it is logged, and it."""

    origin: str
    index: int
    statement: Statement


@dataclass(frozen=True, slots=True)
class CheckedPart:
    origin: str
    size: int
    records: tuple[BundleCheck, ...]
    withheld: tuple[ReportEntry, ...]
    statements: int
    #: indices of the withheld entries whose reason the report's evidence proves
    proven: frozenset[int] = frozenset()


def check_part(
    subject: str,
    part: ReportPart,
    note: SignedNote,
    verify_bundle: Callable[[bytes], BundleCheck],
    served: Sequence[bytes] | None = None,
    *,
    verify_status: Callable[[bytes], StatusCheck] | None = None,
    as_of: int | None = None,
) -> CheckedPart:
    """Check one part whose checkpoint ``note`` the caller has verified (log signature
    and witness quorum under its trust): the proof, the chain, each bundle.

    ``served``: a lookup's completeness proof (its parts carry no bundles): the bundles
    the node served from this log, each matched to a listed in-force (or ``not-held``)
    entry by index and leaf, on any checkpoint of the log.

    ``verify_status`` (with ``as_of``, the report's time): verifies the bundle of a
    lifecycle statement the part's ``reasons`` carry (see ``_check_reasons``); without
    it, evidence is not read and every withheld reason is a claim.

    Raises:
        WrongLogError: the checkpoint is not the part's log.
        IndexProofError: no index root, a proof for another key, or one that does not
            verify under the committed root.
        ReportIncompleteError: entries out of order or repeated, an entry at or past the
            size, an in-force entry without its bundle, or a list whose chain is not the
            proven value (a record dropped or added).
        ReportSubjectError: a bundle about another subject, or for no listed entry.
        ReportReasonError: a withheld reason its evidence contradicts.
    """
    cp = note.checkpoint
    where = f"{part.origin} size {cp.size}"
    if cp.origin != part.origin:
        raise WrongLogError(f"report: part {part.origin}: checkpoint is of log {cp.origin}")
    root = parse_index_extension(cp.extensions)
    if root is None:
        raise IndexProofError(
            f"report: {where}: the checkpoint commits to no index root (no credex-index/v1 line)"
        )
    key = subject_key(subject)
    proof = LookupProof.from_bytes(part.proof)
    if proof.key != key:
        raise IndexProofError(
            f"report: {where}: proof for another key: expected the subject key "
            f"{key.hex()[:16]}… of {subject}, got {proof.key.hex()[:16]}…"
        )
    try:
        verify_lookup(root, key, proof.value, proof)
    except IndexProofError as e:
        raise IndexProofError(
            f"report: {where}: subject proof does not verify against the index root: {e}"
        ) from e
    previous = -1
    for listed in part.entries:
        if listed.index <= previous:
            raise ReportIncompleteError(
                f"report: {where}: entry {listed.index} is repeated or out of index order"
            )
        if listed.index >= cp.size:
            raise ReportIncompleteError(
                f"report: {where}: entry {listed.index} is past the checkpoint size {cp.size}"
            )
        previous = listed.index
    items = [(e.index, e.leaf, e.kind) for e in part.entries]
    if proof.value is None:
        if items:
            raise ReportIncompleteError(
                f"report: {where}: the index holds no entry about {subject}, but the report "
                f"lists {len(items)} (first: index {items[0][0]})"
            )
    elif subject_value(items) != proof.value:
        raise ReportIncompleteError(
            f"report: {where}: the {len(items)} entries listed are not the ones the index "
            f"lists for {subject} (an entry is missing, added or from another subject)"
        )
    in_force = {e.index: e for e in part.entries if e.state == IN_FORCE}
    servable = {e.index: e for e in part.entries if e.state in (IN_FORCE, NOT_HELD)}
    if served is not None and part.bundles:
        raise ReportSubjectError(f"report: {where}: a lookup's proof part carries bundles")
    records: list[BundleCheck] = []
    seen: set[int] = set()
    for data in part.bundles if served is None else served:
        got = verify_bundle(data)
        if got.subject != subject:
            raise ReportSubjectError(
                f"report: {where}: a bundle (index {got.index}) is about another subject"
            )
        same_checkpoint = got.tree_size == cp.size or served is not None
        if got.origin != part.origin or not same_checkpoint:
            raise ReportSubjectError(
                f"report: {where}: bundle of index {got.index} is on {got.origin} size "
                f"{got.tree_size}, not this part's checkpoint"
            )
        entry = (in_force if served is None else servable).get(got.index)
        if entry is None or entry.leaf != got.leaf or entry.kind != got.kind:
            raise ReportSubjectError(
                f"report: {where}: bundle of index {got.index} is not an in-force entry listed"
            )
        if got.index in seen:
            raise ReportIncompleteError(f"report: {where}: bundle of index {got.index} repeated")
        seen.add(got.index)
        records.append(got)
    missing = sorted(set(in_force) - seen)
    if missing:
        raise ReportIncompleteError(
            f"report: {where}: record at index {missing[0]} is listed in force but its "
            f"bundle is {'missing' if served is None else 'not served'} "
            f"({len(missing)} missing)"
        )
    withheld = tuple(e for e in part.entries if e.state in WITHHELD_REASONS)
    statements = sum(1 for e in part.entries if e.state == STATEMENT)
    proven: frozenset[int] = frozenset()
    if verify_status is not None:
        proven = _check_reasons(part, note, verify_status, as_of)
    return CheckedPart(part.origin, cp.size, tuple(records), withheld, statements, proven)


def reason_label(state: str, proven: bool) -> str:
    """How a verifier shows a withheld entry's reason: proven by the evidence, or a claim
    (an erasure is always one: the issuer's act, off the log)."""
    if proven:
        return f"{state} (proven by the log: lifecycle statements and status proof)"
    if state == "erased":
        return "erased (claimed by the issuer, not provable)"
    if state == NOT_HELD:
        return f"{NOT_HELD} (a person's record: only its origin serves it, through a lookup)"
    return f"{state} (claimed by the node, not proven)"


def reason_state(statements: Sequence[tuple[int, Statement]], as_of: int | None) -> str | None:
    """The terminal state (``repaired``, ``withdrawn``, ``superseded``, ``corrected``)
    that lifecycle statements ``(log index, statement)`` about one record make it, those
    signed after ``as_of`` left out, taken in (iat, index, leaf hash) order; None if none.
    Whether each statement's issuer may make it needs the record, which a report does not
    carry: the statements' own verification (issuer trusted for the kind) stands for it."""
    ordered = sorted(
        (p for p in statements if as_of is None or p[1].claims.iat <= as_of),
        key=lambda p: (p[1].claims.iat, p[0], p[1].leaf_hash),
    )
    found = fold([st for _, st in ordered]).found
    return next((t for t in TERMINAL_STATES if t in found), None)


def _check_reasons(
    part: ReportPart,
    note: SignedNote,
    verify_status: Callable[[bytes], StatusCheck],
    as_of: int | None,
) -> frozenset[int]:
    """Check each withheld entry's evidence (docs/spec.md §5.4, "Reasons"); returns the
    indices whose reason it proves.

    Raises:
        ReportReasonError: evidence for an entry not withheld (or twice), a statement
            about another record, statements the status proof does not list exactly, or
            a reason they contradict.
        IndexProofError: a status proof for another key, root or size.
    """
    cp = note.checkpoint
    where = f"{part.origin} size {cp.size}"
    withheld = {e.index: e for e in part.entries if e.state in WITHHELD_REASONS}
    proven: set[int] = set()
    seen: set[int] = set()
    for ev in part.reasons:
        entry = withheld.get(ev.index)
        if entry is None or ev.index in seen:
            raise ReportReasonError(
                f"report: {where}: evidence for index {ev.index}, which is not a withheld "
                "entry listed (or has evidence twice)"
            )
        seen.add(ev.index)
        i = ev.index
        checked = [verify_status(b) for b in ev.statements]
        for c in checked:
            refs = c.statement.record.refs
            if not refs or refs[0] != entry.leaf:
                raise ReportReasonError(
                    f"report: {where}: a lifecycle statement given as evidence for index "
                    f"{ev.index} is about another record (refs[0])"
                )
        carried = [(c.origin, c.index, c.statement.leaf_hash) for c in checked]
        try:
            check_status_proof(
                entry.leaf, cp, carried, ev.status_proof, what=f"report: {where}: index {i}: status"
            )
        except StatusNotProvenError as e:
            raise ReportReasonError(f"{e} (so its reason, {entry.state}, is not proven)") from e
        state = reason_state([(c.index, c.statement) for c in checked], as_of)
        if entry.state in PROVABLE_REASONS and state != entry.state:
            raise ReportReasonError(
                f"report: {where}: index {ev.index} is withheld as {entry.state}, but the "
                f"lifecycle statements its status proof lists make it "
                f"{state or 'neither repaired, withdrawn, superseded nor corrected'}"
            )
        if entry.state == "expired" and state is not None:
            raise ReportReasonError(
                f"report: {where}: index {ev.index} is withheld as expired, but its "
                f"lifecycle statements make it {state}"
            )
        if entry.state in PROVABLE_REASONS:
            proven.add(ev.index)
    return frozenset(proven)
