"""The tamper table: bundles made from the golden vectors, each changed in one way, with the
docs/spec.md step it must fail at (``None``: it must verify).

Both verifiers (``credex.ledger.verify`` and the JavaScript one in node/web/static/verify)
must reach the same verdict at the same step for every case (tests/web/test_js_verifier.py).
Most cases change bytes of tests/vectors/golden (tamper_decode: step 1; tamper_proofs:
steps 2-6); the re-signed ones (tamper_resigned: steps 7, 8) log new statements under the
golden test keys; tamper_attested: what the hardened verifiers added (attestation, region,
envelopes, evaluations, null fields).
"""

from __future__ import annotations

from .golden_edit import GOLDEN, Case, enc, golden_map
from .tamper_attested import attested_cases
from .tamper_decode import checkpoint_grammar_cases, decode_cases
from .tamper_proofs import proof_cases
from .tamper_resigned import NOT_EVALUATED_IN_BROWSER, later_step_cases

__all__ = ["GOLDEN", "NOT_EVALUATED_IN_BROWSER", "Case", "cases"]


def cases() -> list[Case]:
    """Every case of the table, in order: the golden bundles first."""
    golden = [
        Case("golden-bundle-0", enc(golden_map(0)), None),
        Case("golden-bundle-1-envelope", enc(golden_map(1)), None),
    ]
    return [
        *golden,
        *decode_cases(),
        *checkpoint_grammar_cases(),
        *proof_cases(),
        *later_step_cases(),
        *attested_cases(),
    ]
