"""What a verification found: one ``StepResult`` per numbered step, and the verdict.

``VerificationReport`` is what ``credex verify`` prints (and ``--json``); ``Run`` records
each step's success or its failure (the first failing step and its error). A valid
report also carries the record it verified (``record``: kind, region, subject, body,
validity, refs; a person's body only because the bundle carried it, or step 7 would
have failed) and, for a derived record, the sources and policy it replayed
(``derivation``, ``described``); an invalid one carries neither. Values only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final

from credex.ledger import errors as _errors
from credex.ledger.errors import CredexError, VerificationError
from credex.ledger.record_json import record_json
from credex.ledger.statement import Statement

__all__ = [
    "STEPS",
    "Compact",
    "Run",
    "StepResult",
    "VerificationReport",
    "compact",
    "described",
    "from_compact",
]

STEPS: Final = (
    (1, "decode"),
    (2, "issuer"),
    (3, "signature"),
    (4, "inclusion"),
    (5, "receipt"),
    (6, "checkpoint"),
    (7, "status"),
    (8, "derivation"),
)
_STEP_NAMES: Final = dict(STEPS)


@dataclass(frozen=True, slots=True)
class StepResult:
    number: int
    name: str
    ok: bool
    detail: str


@dataclass(slots=True)
class VerificationReport:
    steps: list[StepResult] = field(default_factory=list)
    error: CredexError | None = None
    failed_step: int | None = None
    kind: str = ""
    issuer: str = ""
    subject: str = ""
    origin: str = ""
    leaf_index: int = -1
    tree_size: int = -1
    leaf_hash: str = ""
    status: str = ""
    #: the verified record (``record_json``), once every step passed
    record: dict[str, Any] | None = None
    #: a derived record's verified sources and policy (``described``)
    derivation: dict[str, Any] | None = None

    @property
    def ok(self) -> bool:
        return self.error is None

    def to_json_value(self) -> dict[str, object]:
        return {
            "verdict": "valid" if self.ok else "invalid",
            "failed_step": self.failed_step,
            "error": None
            if self.error is None
            else {
                "code": self.error.code,
                "type": type(self.error).__name__,
                "message": str(self.error),
            },
            "steps": [
                {"step": s.number, "name": s.name, "ok": s.ok, "detail": s.detail}
                for s in self.steps
            ],
            "statement": {
                "kind": self.kind,
                "issuer": self.issuer,
                "subject": self.subject,
                "leaf_hash": self.leaf_hash,
                "leaf_index": self.leaf_index,
                "tree_size": self.tree_size,
                "origin": self.origin,
                "status": self.status,
            },
            "record": self.record if self.ok else None,
            "derivation": self.derivation if self.ok else None,
        }


def described(st: Statement, origin: str, leaf_index: int) -> dict[str, Any]:
    """A verified source or policy of a derived record: where it is logged, who signed
    it, and its record (a person's source only with the body its bundle carried)."""
    return {
        "origin": origin,
        "leaf_index": leaf_index,
        "leaf_hash": st.leaf_hash.hex(),
        "kind": st.kind,
        "issuer": st.claims.iss,
        "record": record_json(st.record) if st.has_body else None,
    }


class Run:
    """One verification: each ``step`` either records success or the failure."""

    def __init__(self, report: VerificationReport) -> None:
        self.report = report

    def ok(self, number: int, detail: str) -> None:
        self.report.steps.append(StepResult(number, _STEP_NAMES[number], True, detail))

    def fail(self, number: int, err: CredexError) -> None:
        self.report.steps.append(StepResult(number, _STEP_NAMES[number], False, str(err)))
        self.report.error = err
        self.report.failed_step = number
        err.step = number


#: a report as plain values (``compact``): what a worker process sends back
Compact = tuple[Any, ...]


def compact(report: VerificationReport) -> Compact:
    """``report`` as a tuple of plain values (strings, numbers, the record's JSON), cheap
    to pickle: the error as its class name and message, the steps as tuples."""
    err = report.error
    return (
        report.failed_step,
        None if err is None else (type(err).__name__, str(err)),
        tuple((s.number, s.ok, s.detail) for s in report.steps),
        report.kind,
        report.issuer,
        report.subject,
        report.origin,
        report.leaf_index,
        report.tree_size,
        report.leaf_hash,
        report.status,
        report.record,
        report.derivation,
    )


def _error(name: str, message: str) -> CredexError:
    """The ``CredexError`` class called ``name`` (``credex.ledger.errors``) with
    ``message``; an unknown name gives a ``VerificationError`` naming it."""
    cls = getattr(_errors, name, None) if name in _errors.__all__ else None
    if isinstance(cls, type) and issubclass(cls, CredexError):
        return cls(message)
    return VerificationError(f"{message} ({name})")


def from_compact(value: Compact) -> VerificationReport:
    """The report ``compact`` made: equal field by field, the error of the same class
    and message with its ``step`` set.

    Raises:
        ValueError: not a compact report.
    """
    if not isinstance(value, tuple) or len(value) != 13:
        raise ValueError("verify: not a compact report")
    failed, err, steps = value[0], value[1], value[2]
    report = VerificationReport(
        steps=[StepResult(n, _STEP_NAMES[n], ok, detail) for n, ok, detail in steps],
        failed_step=failed,
        kind=value[3],
        issuer=value[4],
        subject=value[5],
        origin=value[6],
        leaf_index=value[7],
        tree_size=value[8],
        leaf_hash=value[9],
        status=value[10],
        record=value[11],
        derivation=value[12],
    )
    if err is not None:
        report.error = _error(err[0], err[1])
        report.error.step = failed
    elif failed is not None:
        raise ValueError("verify: a compact report with a failed step and no error")
    return report
