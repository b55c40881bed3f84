"""Applying a policy: ``apply_policy`` (source body -> derived body), ``check_source`` and
``replay`` (verify step 8: a derived record is exactly what source and policy give; the
first field that differs is named, never its value). Pure.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from credex.ledger.errors import (
    ConversionError,
    DerivationMismatchError,
)
from credex.ledger.policy._common import (
    COMMON_LEVEL_SCHEME,
    is_int,
)
from credex.ledger.policy.rules import (
    BandTableRule,
    FieldSpec,
    PiecewiseLinearRule,
    Policy,
)
from credex.ledger.policy.scale import Scale, ScaleBand
from credex.ledger.record import Record

__all__ = [
    "apply_policy",
    "check_source",
    "replay",
]


def _lookup(body: Mapping[str, Any], path: str) -> tuple[bool, Any]:
    head, _, rest = path.partition(".")
    if head not in body:
        return False, None
    value = body[head]
    if not rest:
        return True, value
    if not isinstance(value, dict) or rest not in value:
        return False, None
    return True, value[rest]


def _source_band(scale: Scale, body: Mapping[str, Any]) -> ScaleBand:
    if body.get("scheme") != scale.id:
        raise ConversionError(
            f"policy: source scheme differs: expected {scale.id!r}, got {body.get('scheme')!r}"
        )
    if "band" in body:  # score.city
        band = scale.band_named(body["band"])
        score = body.get("score")
        if scale.numeric and is_int(score) and scale.band_of(score) != band:
            raise ConversionError(f"policy: source band does not match its score in {scale.id}")
        return band
    if "grade" in body:  # rating.enterprise
        return scale.band_named(body["grade"])
    raise ConversionError("policy: source has neither band nor grade")


def _convert_field(spec: FieldSpec, value: Any) -> Any:
    if spec.type == "text":
        if not isinstance(value, str):
            raise ConversionError(f"policy: source field {spec.source!r} is not text")
        return value
    if spec.type == "int":
        if not is_int(value):
            raise ConversionError(f"policy: source field {spec.source!r} is not an integer")
        return value
    if spec.type == "enum":
        assert spec.enum is not None
        if not isinstance(value, str) or value not in spec.enum:
            raise ConversionError(
                f"policy: source field {spec.source!r} has a value outside the enum of "
                f"{spec.target!r}"
            )
        return spec.enum[value]
    assert spec.unit is not None
    if not is_int(value):
        raise ConversionError(
            f"policy: source field {spec.source!r} is not an integer amount "
            f"in {spec.unit.from_unit}"
        )
    return {"amount": value * spec.unit.num // spec.unit.den, "currency": spec.unit.to_unit}


def apply_policy(policy: Policy, source_body: Mapping[str, Any]) -> dict[str, Any]:
    """The derived body for one source record body. Deterministic; lists, never tuples.
    When the policy or its scales state a provenance, the body carries the weakest grade
    as ``provenance`` (``Policy.grade``).

    Raises:
        ConversionError: the source does not fit the policy (module docstring).
    """
    out = _apply(policy, source_body)
    grade = policy.grade
    if grade is not None:
        out["provenance"] = grade
    return out


def _apply(policy: Policy, source_body: Mapping[str, Any]) -> dict[str, Any]:
    rule = policy.rule
    if isinstance(rule, BandTableRule):
        band = _source_band(rule.source, source_body)
        key = band.name if rule.keyed_by == "band" else band.level
        assert key is not None  # keyed by level only when every band has one
        level = rule.table[key]
        out: dict[str, Any] = {
            "scheme": COMMON_LEVEL_SCHEME if rule.target is None else rule.target.id,
            "level": level,
        }
        if rule.target is not None:
            names = [b.name for b in rule.target.bands if b.level == level]
            if len(names) == 1:
                out["band"] = names[0]
        return out
    if isinstance(rule, PiecewiseLinearRule):
        _source_band(rule.source, source_body)
        score = source_body.get("score")
        if not is_int(score):
            raise ConversionError("policy: source has no integer score")
        y = rule.map(score)
        tband = rule.target.band_of(y)
        assert tband.level is not None  # checked in validate_policy
        return {"scheme": rule.target.id, "score": y, "band": tband.name, "level": tband.level}
    items: dict[str, Any] = {}
    for spec in rule.fields:
        present, value = _lookup(source_body, spec.source)
        if present:
            items[spec.target] = _convert_field(spec, value)
    specific: dict[str, Any] = {}
    for path in rule.keep_specific:
        present, value = _lookup(source_body, path)
        if present:
            specific[path] = value
    if specific:
        items["specific"] = specific
    return {"format": rule.format, "items": items}


def check_source(policy: Policy, source: Record) -> None:
    """Raises ConversionError if ``source``'s kind is not one the policy converts."""
    if source.kind not in policy.source_kinds:
        raise ConversionError(
            f"policy: source kind not converted by this policy: expected one of "
            f"{', '.join(policy.source_kinds)}, got {source.kind!r}"
        )


def _show(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 48 else text[:45] + "..."


def _first_difference(
    expected: Mapping[str, Any], got: Mapping[str, Any], prefix: str = ""
) -> tuple[str, str, str] | None:
    for name in [*expected, *sorted(k for k in got if k not in expected)]:
        if name in expected and name in got:
            e, g = expected[name], got[name]
            if isinstance(e, dict) and isinstance(g, dict):
                inner = _first_difference(e, g, f"{prefix}{name}.")
                if inner:
                    return inner
            elif e != g or type(e) is not type(g):
                return f"{prefix}{name}", _show(e), _show(g)
        elif name in expected:
            return f"{prefix}{name}", _show(expected[name]), "nothing"
        else:
            return f"{prefix}{name}", "nothing", _show(got[name])
    return None


def replay(policy: Policy, sources: Sequence[Record], derived: Record) -> None:
    """Check that ``derived`` is exactly what ``policy`` gives for ``sources``.

    Raises:
        DerivationMismatchError: wrong number or kind of sources, a field (``kind``,
            ``subject``, ``valid_until`` or a body field, dotted for nested maps) that
            does not replay; names the first such field.
    """
    if len(sources) != 1:
        raise DerivationMismatchError(
            f"derivation: expected exactly 1 source record, got {len(sources)}"
        )
    source = sources[0]
    try:
        check_source(policy, source)
        expected = apply_policy(policy, source.body)
    except ConversionError as e:
        raise DerivationMismatchError(f"derivation: source does not convert: {e}") from e

    def mismatch(name: str, e: str, g: str) -> DerivationMismatchError:
        # values stay out of the message: they may be a person's credit data
        del e, g
        return DerivationMismatchError(
            f"derivation: field {name!r} does not replay from the source and the policy"
        )

    if derived.kind != policy.output_kind:
        raise mismatch("kind", repr(policy.output_kind), repr(derived.kind))
    if derived.subject != source.subject:
        raise mismatch("subject", "the source's subject", "another subject")
    if source.valid_until is not None and (
        derived.valid_until is None or derived.valid_until > source.valid_until
    ):
        raise mismatch("valid_until", f"<= {source.valid_until}", repr(derived.valid_until))
    diff = _first_difference(expected, derived.body)
    if diff:
        raise mismatch(*diff)
