"""Declarative conversion policies: validation, application and replay (issue #4 point 2).

A conversion policy is data, never code: the ``rules`` map of a ``policy.conversion``
record. ``validate_policy`` parses that map once into a ``Policy`` (refusing floats,
unknown fields, rules that are not total over the source scale and rules that are not
monotonic); ``apply_policy`` turns one source record body into the derived body;
``replay`` checks that a derived record is exactly what source + policy give.

Rule types (the ``type`` field; one rule per policy, one source record per derivation):

- ``band_table``: ``source_scheme``, optional ``target_scheme``, ``table`` keyed by every
  band name (or every level ``L1``..``L5``) of the source scale -> target level. Gives a
  ``derived.score`` ``{scheme, level[, band]}``; ``scheme`` is the target scheme or
  ``COMMON_LEVEL``; ``band`` only when exactly one target band has that level.
- ``piecewise_linear``: ``source_scheme``, ``target_scheme``, ``breakpoints`` ``[[x, y],
  ...]`` (integers; x strictly increasing from the source range's low end to its high
  end; y non-decreasing, inside the target range). Between breakpoints
  ``y = y0 + (x - x0) * (y1 - y0) // (x1 - x0)``: exact integer arithmetic, rounded down
  (floor; never negative operands, so also toward zero); at a shared breakpoint the
  left segment is used (both give the same value). Gives ``{scheme, score, band, level}``.
- ``field_map``: ``source_kind``, ``format``, ``fields`` ``[{from, to, type, enum?,
  unit?}]``, optional ``keep_specific`` (source paths copied under ``items.specific``).
  Paths are a top-level body field of ``source_kind`` or ``items.<name>``. Types:
  ``text``, ``int``, ``enum`` (value looked up in ``enum``), ``money`` (integer minor
  units times ``num`` // ``den``, floor, output ``{amount, currency}``). A source field
  that is absent is left out of the output. Gives a ``derived.report``.

Scales are embedded in the policy (``schemes``: id -> ``{"bands": [{name, lo?, hi?,
level?}, ...]}``, worst band first) so that a verifier replays a conversion from the
signed policy alone; callers that hold a registry (``credex.adapters.schemes``) may pass
it as ``registry`` for ids the policy does not embed.

Provenance (issue #12): a policy and each embedded scheme may state ``provenance``
``{"grade": "published"|"reported"|"illustrative", "source": text}``; a derived body then
carries ``provenance``, the weakest grade of the policy and its source and target scales
(``Policy.grade``), and replay checks it like any other field. A policy that states none
derives bodies without it, exactly as before.

This package does not sign, log, store or read the clock; it never imports adapters.
Modules: ``scale`` (scales), ``rules`` (parsed rules), ``validate`` (``validate_policy``),
``apply`` (``apply_policy``, ``check_source``, ``replay``), ``record`` (the policy record).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from credex._exports import lazy_exports

if TYPE_CHECKING:
    from credex.ledger.errors import (
        ConversionError,
        DerivationMismatchError,
        PolicyDefinitionError,
    )
    from credex.ledger.policy._common import (
        COMMON_LEVEL_SCHEME,
        LEVELS,
    )
    from credex.ledger.policy.apply import (
        apply_policy,
        check_source,
        replay,
    )
    from credex.ledger.policy.record import (
        build_policy_record,
        policy_subject_id,
    )
    from credex.ledger.policy.rules import (
        BandTableRule,
        FieldMapRule,
        FieldSpec,
        PiecewiseLinearRule,
        Policy,
        Rule,
        Unit,
    )
    from credex.ledger.policy.scale import (
        Scale,
        ScaleBand,
    )
    from credex.ledger.policy.validate import (
        validate_policy,
    )

__all__ = [
    "COMMON_LEVEL_SCHEME",
    "LEVELS",
    "BandTableRule",
    "ConversionError",
    "DerivationMismatchError",
    "FieldMapRule",
    "FieldSpec",
    "PiecewiseLinearRule",
    "Policy",
    "PolicyDefinitionError",
    "Rule",
    "Scale",
    "ScaleBand",
    "Unit",
    "apply_policy",
    "build_policy_record",
    "check_source",
    "policy_subject_id",
    "replay",
    "validate_policy",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "BandTableRule": "credex.ledger.policy.rules",
        "COMMON_LEVEL_SCHEME": "credex.ledger.policy._common",
        "ConversionError": "credex.ledger.errors",
        "DerivationMismatchError": "credex.ledger.errors",
        "FieldMapRule": "credex.ledger.policy.rules",
        "FieldSpec": "credex.ledger.policy.rules",
        "LEVELS": "credex.ledger.policy._common",
        "PiecewiseLinearRule": "credex.ledger.policy.rules",
        "Policy": "credex.ledger.policy.rules",
        "PolicyDefinitionError": "credex.ledger.errors",
        "Rule": "credex.ledger.policy.rules",
        "Scale": "credex.ledger.policy.scale",
        "ScaleBand": "credex.ledger.policy.scale",
        "Unit": "credex.ledger.policy.rules",
        "apply_policy": "credex.ledger.policy.apply",
        "build_policy_record": "credex.ledger.policy.record",
        "check_source": "credex.ledger.policy.apply",
        "policy_subject_id": "credex.ledger.policy.record",
        "replay": "credex.ledger.policy.apply",
        "validate_policy": "credex.ledger.policy.validate",
    },
)
