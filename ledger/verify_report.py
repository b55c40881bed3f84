"""What a verification found: one ``StepResult`` per numbered step, and the verdict.

``VerificationReport`` is what ``credex verify`` prints (and ``--json``); ``Run`` records
each step's success or its failure (the first failing step and its error). Values only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from credex.ledger.errors import CredexError

__all__ = ["STEPS", "Run", "StepResult", "VerificationReport"]

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
