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

This module does not sign, log, store or read the clock; it never imports adapters.
"""

from __future__ import annotations

import hashlib
import itertools
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final, Literal, TypeGuard

from credex.ledger import encoding
from credex.ledger.errors import (
    ConversionError,
    DerivationMismatchError,
    PolicyDefinitionError,
)
from credex.ledger.record import KIND_SPECS, SUBJECTLESS_PREFIX, Record, Subject

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

#: the ``scheme`` of a derived score that carries only the common ordinal level
COMMON_LEVEL_SCHEME: Final = "COMMON_LEVEL"
LEVELS: Final = ("L1", "L2", "L3", "L4", "L5")
_ID_RE: Final = re.compile(r"^[A-Z0-9][A-Z0-9_]{0,63}$")
_FIELD_TYPES: Final = ("text", "int", "enum", "money")
_SCORE_SOURCE_KINDS: Final = ("score.city", "rating.enterprise")
_MAX_LIST: Final = 256


def _err(msg: str) -> PolicyDefinitionError:
    return PolicyDefinitionError(f"policy: {msg}")


def _is_int(v: Any) -> TypeGuard[int]:
    return type(v) is int


# --- scales -------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ScaleBand:
    """One band of a scale; ``lo``/``hi`` inclusive (numeric scales only)."""

    name: str
    level: str | None = None
    lo: int | None = None
    hi: int | None = None

    def to_value(self) -> dict[str, Any]:
        out: dict[str, Any] = {"name": self.name}
        if self.level is not None:
            out["level"] = self.level
        if self.lo is not None and self.hi is not None:
            out["lo"], out["hi"] = self.lo, self.hi
        return out


@dataclass(frozen=True, slots=True)
class Scale:
    """An ordered scale, worst band first: numeric (every band has ``lo``..``hi``,
    contiguous) or named grades. Validated on construction."""

    id: str
    bands: tuple[ScaleBand, ...]

    def __post_init__(self) -> None:
        if not _ID_RE.match(self.id):
            raise _err(f"scheme id invalid: {self.id!r}")
        if not self.bands:
            raise _err(f"scheme {self.id} has no bands")
        names = [b.name for b in self.bands]
        if len(set(names)) != len(names) or not all(names):
            raise _err(f"scheme {self.id} band names must be non-empty and unique")
        numeric = [b.lo is not None and b.hi is not None for b in self.bands]
        if any(numeric) and not all(numeric):
            raise _err(f"scheme {self.id}: either every band has lo and hi or none does")
        prev: ScaleBand | None = None
        for b in self.bands:
            if b.level is not None and b.level not in LEVELS:
                raise _err(f"scheme {self.id} band {b.name!r} has unknown level {b.level!r}")
            if b.lo is not None and b.hi is not None:
                if b.lo > b.hi:
                    raise _err(f"scheme {self.id} band {b.name!r} has lo > hi")
                if prev is not None and prev.hi is not None and b.lo != prev.hi + 1:
                    raise _err(
                        f"scheme {self.id} bands {prev.name!r} and {b.name!r} are not "
                        f"contiguous: expected lo {prev.hi + 1}, got {b.lo}"
                    )
            if (
                prev is not None
                and prev.level is not None
                and b.level is not None
                and b.level < prev.level
            ):
                raise _err(
                    f"scheme {self.id} levels not monotonic: {prev.name!r} -> "
                    f"{prev.level} but the better {b.name!r} -> {b.level}"
                )
            prev = b

    @property
    def numeric(self) -> bool:
        return self.bands[0].lo is not None

    @property
    def lo(self) -> int:
        lo = self.bands[0].lo
        if lo is None:
            raise _err(f"scheme {self.id} is not numeric")
        return lo

    @property
    def hi(self) -> int:
        hi = self.bands[-1].hi
        if hi is None:
            raise _err(f"scheme {self.id} is not numeric")
        return hi

    def band_of(self, score: int) -> ScaleBand:
        """The band holding ``score``.

        Raises:
            ConversionError: not numeric, or ``score`` outside the range.
        """
        for b in self.bands:
            if b.lo is not None and b.hi is not None and b.lo <= score <= b.hi:
                return b
        raise ConversionError(
            f"policy: {self.id} score out of range: expected {self.bands[0].lo}-"
            f"{self.bands[-1].hi}, got {score}"
        )

    def band_named(self, name: str) -> ScaleBand:
        for b in self.bands:
            if b.name == name:
                return b
        raise ConversionError(f"policy: {self.id} has no band {name!r}")

    def to_value(self) -> dict[str, Any]:
        return {"bands": [b.to_value() for b in self.bands]}

    @classmethod
    def from_value(cls, scheme_id: str, value: Any) -> Scale:
        where = f"schemes.{scheme_id}"
        _keys(value, where, required={"bands"})
        bands = value["bands"]
        if not isinstance(bands, list) or not 0 < len(bands) <= _MAX_LIST:
            raise _err(f"{where}.bands must be a non-empty list")
        out: list[ScaleBand] = []
        for i, b in enumerate(bands):
            _keys(b, f"{where}.bands[{i}]", required={"name"}, optional={"level", "lo", "hi"})
            name, level, lo, hi = b["name"], b.get("level"), b.get("lo"), b.get("hi")
            if not isinstance(name, str) or (level is not None and not isinstance(level, str)):
                raise _err(f"{where}.bands[{i}] name and level must be text")
            if ("lo" in b) != ("hi" in b) or any(
                v is not None and not _is_int(v) for v in (lo, hi)
            ):
                raise _err(f"{where}.bands[{i}] lo and hi must both be integers")
            out.append(ScaleBand(name, level, lo, hi))
        return cls(scheme_id, tuple(out))


# --- rules --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class BandTableRule:
    source: Scale
    target: Scale | None
    keyed_by: Literal["band", "level"]
    table: Mapping[str, str]


@dataclass(frozen=True, slots=True)
class PiecewiseLinearRule:
    source: Scale
    target: Scale
    breakpoints: tuple[tuple[int, int], ...]

    def map(self, x: int) -> int:
        """The target score of source score ``x`` (floor rounding, module docstring)."""
        for (x0, y0), (x1, y1) in zip(self.breakpoints, self.breakpoints[1:], strict=False):
            if x0 <= x <= x1:
                return y0 + (x - x0) * (y1 - y0) // (x1 - x0)
        raise ConversionError(
            f"policy: {self.source.id} score out of range: expected "
            f"{self.breakpoints[0][0]}-{self.breakpoints[-1][0]}, got {x}"
        )


@dataclass(frozen=True, slots=True)
class Unit:
    """A unit or currency conversion: ``out = in * num // den`` (floor)."""

    from_unit: str
    to_unit: str
    num: int
    den: int


@dataclass(frozen=True, slots=True)
class FieldSpec:
    source: str
    target: str
    type: str
    enum: Mapping[str, str] | None = None
    unit: Unit | None = None


@dataclass(frozen=True, slots=True)
class FieldMapRule:
    source_kind: str
    format: str
    fields: tuple[FieldSpec, ...]
    keep_specific: tuple[str, ...] = ()


Rule = BandTableRule | PiecewiseLinearRule | FieldMapRule


@dataclass(frozen=True, slots=True)
class Policy:
    """A validated conversion policy (the ``rules`` map of a ``policy.conversion``)."""

    rule: Rule
    value: Mapping[str, Any]

    @property
    def output_kind(self) -> str:
        return "derived.report" if isinstance(self.rule, FieldMapRule) else "derived.score"

    @property
    def source_kinds(self) -> tuple[str, ...]:
        if isinstance(self.rule, FieldMapRule):
            return (self.rule.source_kind,)
        return _SCORE_SOURCE_KINDS


# --- validation ---------------------------------------------------------------------


def _find_float(value: Any, where: str, depth: int = 0) -> str | None:
    if depth > encoding.MAX_CBOR_DEPTH:
        raise _err("nested too deeply")
    if isinstance(value, float):
        return where
    if isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, float):
                return where
            found = _find_float(v, f"{where}.{k}", depth + 1)
            if found:
                return found
    if isinstance(value, list | tuple):
        for i, v in enumerate(value):
            found = _find_float(v, f"{where}[{i}]", depth + 1)
            if found:
                return found
    return None


def _keys(
    value: Any, where: str, *, required: set[str], optional: frozenset[str] | set[str] = frozenset()
) -> None:
    if not isinstance(value, dict):
        raise _err(f"{where} must be a map")
    bad = sorted(str(k) for k in value if k not in required and k not in optional)
    if bad:
        raise _err(f"{where} has unknown fields: {', '.join(bad)}")
    missing = sorted(required - set(value))
    if missing:
        raise _err(f"{where} is missing required fields: {', '.join(missing)}")


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise _err(f"{where} must be non-empty text")
    return value


def _resolve(
    scheme_id: Any, where: str, embedded: Mapping[str, Scale], registry: Mapping[str, Scale]
) -> Scale:
    sid = _text(scheme_id, where)
    found = embedded.get(sid) or registry.get(sid)
    if found is None:
        raise _err(f"{where} names unknown scheme {sid!r} (embed it under schemes)")
    return found


def validate_policy(value: Any, registry: Mapping[str, Scale] | None = None) -> Policy:
    """Parse and check a policy's ``rules`` map.

    Raises:
        PolicyDefinitionError: floats anywhere; unknown or missing fields; an unknown
            scheme, kind or field; a rule not total over its source scale (names the
            uncovered band or values); a rule not monotonic (names the offending pair).
    """
    found = _find_float(value, "rules")
    if found:
        raise _err(f"floats are not allowed: found one at {found}")
    if not isinstance(value, dict):
        raise _err("rules must be a map")
    kind = value.get("type")
    allowed: dict[str, tuple[set[str], set[str]]] = {
        "band_table": ({"type", "source_scheme", "table"}, {"target_scheme", "schemes"}),
        "piecewise_linear": (
            {"type", "source_scheme", "target_scheme", "breakpoints"},
            {"schemes"},
        ),
        "field_map": ({"type", "source_kind", "format", "fields"}, {"keep_specific"}),
    }
    if kind not in allowed:
        raise _err(f"unknown rule type: expected one of {', '.join(sorted(allowed))}, got {kind!r}")
    required, optional = allowed[kind]
    _keys(value, "rules", required=required, optional=optional)
    embedded: dict[str, Scale] = {}
    raw_schemes = value.get("schemes", {})
    if not isinstance(raw_schemes, dict):
        raise _err("rules.schemes must be a map")
    for sid, sval in raw_schemes.items():
        embedded[str(sid)] = Scale.from_value(str(sid), sval)
    reg = registry or {}
    rule: Rule
    if kind == "band_table":
        rule = _band_table(value, embedded, reg)
    elif kind == "piecewise_linear":
        rule = _piecewise(value, embedded, reg)
    else:
        rule = _field_map(value)
    return Policy(rule, value)


def _band_table(
    value: dict[str, Any], embedded: Mapping[str, Scale], reg: Mapping[str, Scale]
) -> BandTableRule:
    source = _resolve(value["source_scheme"], "rules.source_scheme", embedded, reg)
    target = None
    if "target_scheme" in value:
        target = _resolve(value["target_scheme"], "rules.target_scheme", embedded, reg)
    table = value["table"]
    if not isinstance(table, dict) or not table:
        raise _err("rules.table must be a non-empty map")
    band_names = [b.name for b in source.bands]
    levels = list(dict.fromkeys(b.level for b in source.bands if b.level is not None))
    keyed_by: Literal["band", "level"]
    if all(k in band_names for k in table):
        keyed_by, keys = "band", band_names
    elif levels and all(k in levels for k in table):
        keyed_by, keys = "level", levels
    else:
        unknown = sorted(str(k) for k in table if k not in band_names)
        raise _err(
            f"rules.table has unknown fields: {', '.join(unknown)} "
            f"(not a band{' or level' if levels else ''} of {source.id})"
        )
    target_levels = None if target is None else {b.level for b in target.bands}
    for k in keys:
        if k not in table:
            raise _err(f"band_table is not total over {source.id}: {keyed_by} {k!r} has no entry")
        v = table[k]
        if v not in LEVELS:
            raise _err(f"rules.table[{k!r}] must be a level L1..L5, got {v!r}")
        if target_levels is not None and target is not None and v not in target_levels:
            raise _err(f"rules.table[{k!r}]: level {v!r} is not a level of {target.id}")
    for a, b in itertools.pairwise(keys):
        if table[b] < table[a]:
            raise _err(
                f"band_table is not monotonic: {a!r} -> {table[a]} but the better "
                f"{b!r} -> {table[b]}"
            )
    return BandTableRule(source, target, keyed_by, dict(table))


def _piecewise(
    value: dict[str, Any], embedded: Mapping[str, Scale], reg: Mapping[str, Scale]
) -> PiecewiseLinearRule:
    source = _resolve(value["source_scheme"], "rules.source_scheme", embedded, reg)
    target = _resolve(value["target_scheme"], "rules.target_scheme", embedded, reg)
    for s in (source, target):
        if not s.numeric:
            raise _err(f"piecewise_linear needs numeric scales; {s.id} has named grades only")
    if any(b.level is None for b in target.bands):
        raise _err(f"piecewise_linear target {target.id} must give every band a level")
    raw = value["breakpoints"]
    if not isinstance(raw, list) or not 2 <= len(raw) <= _MAX_LIST:
        raise _err("rules.breakpoints must be a list of at least 2 [x, y] pairs")
    points: list[tuple[int, int]] = []
    for i, p in enumerate(raw):
        if not isinstance(p, list) or len(p) != 2 or not all(_is_int(v) for v in p):
            raise _err(f"rules.breakpoints[{i}] must be a pair of integers [x, y]")
        points.append((p[0], p[1]))
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if x1 <= x0:
            raise _err(f"piecewise_linear x values must increase: {x0} then {x1}")
        if y1 < y0:
            raise _err(f"piecewise_linear is not monotonic: [{x0}, {y0}] then [{x1}, {y1}]")
    if points[0][0] > source.lo:
        raise _err(
            f"piecewise_linear is not total over {source.id}: values "
            f"{source.lo}-{points[0][0] - 1} are not covered"
        )
    if points[-1][0] < source.hi:
        raise _err(
            f"piecewise_linear is not total over {source.id}: values "
            f"{points[-1][0] + 1}-{source.hi} are not covered"
        )
    if points[0][0] < source.lo or points[-1][0] > source.hi:
        raise _err(f"piecewise_linear x values must lie in {source.id} {source.lo}-{source.hi}")
    for x, y in points:
        if not target.lo <= y <= target.hi:
            raise _err(
                f"piecewise_linear y value {y} (at x {x}) is outside {target.id} "
                f"{target.lo}-{target.hi}"
            )
    return PiecewiseLinearRule(source, target, tuple(points))


def _check_path(path: Any, kind: str, where: str) -> str:
    p = _text(path, where)
    spec = KIND_SPECS[kind]
    known = set(spec.required) | set(spec.optional)
    head, _, rest = p.partition(".")
    if head not in known or (rest and spec.required.get(head, spec.optional.get(head)) != "map"):
        raise _err(f"{where} refers to unknown field {p!r} of {kind}")
    if rest and "." in rest:
        raise _err(f"{where}: paths go at most one level into a map, got {p!r}")
    return p


def _field_map(value: dict[str, Any]) -> FieldMapRule:
    kind = _text(value["source_kind"], "rules.source_kind")
    if kind not in KIND_SPECS:
        raise _err(f"rules.source_kind names unknown kind {kind!r}")
    fmt = _text(value["format"], "rules.format")
    raw = value["fields"]
    if not isinstance(raw, list) or not 0 < len(raw) <= _MAX_LIST:
        raise _err("rules.fields must be a non-empty list")
    fields: list[FieldSpec] = []
    targets: set[str] = set()
    for i, f in enumerate(raw):
        where = f"rules.fields[{i}]"
        _keys(f, where, required={"from", "to", "type"}, optional={"enum", "unit"})
        src = _check_path(f["from"], kind, f"{where}.from")
        to = _text(f["to"], f"{where}.to")
        if to in targets or to == "specific":
            raise _err(f"{where}.to {to!r} is used twice or reserved")
        targets.add(to)
        ftype = f["type"]
        if ftype not in _FIELD_TYPES:
            raise _err(f"{where}.type must be one of {', '.join(_FIELD_TYPES)}, got {ftype!r}")
        if ("enum" in f) != (ftype == "enum"):
            raise _err(f"{where}: enum is required for type enum and only for it")
        if ("unit" in f) != (ftype == "money"):
            raise _err(f"{where}: unit is required for type money and only for it")
        enum = None
        if "enum" in f:
            enum = f["enum"]
            if (
                not isinstance(enum, dict)
                or not enum
                or not all(isinstance(k, str) and isinstance(v, str) for k, v in enum.items())
            ):
                raise _err(f"{where}.enum must be a non-empty map of text to text")
        unit = None
        if "unit" in f:
            u = f["unit"]
            _keys(u, f"{where}.unit", required={"from_unit", "to_unit", "num", "den"})
            if not (_is_int(u["num"]) and _is_int(u["den"]) and u["num"] > 0 and u["den"] > 0):
                raise _err(f"{where}.unit num and den must be positive integers")
            unit = Unit(
                _text(u["from_unit"], f"{where}.unit.from_unit"),
                _text(u["to_unit"], f"{where}.unit.to_unit"),
                u["num"],
                u["den"],
            )
        fields.append(FieldSpec(src, to, ftype, enum, unit))
    keep = value.get("keep_specific", [])
    if not isinstance(keep, list):
        raise _err("rules.keep_specific must be a list")
    kept = tuple(_check_path(p, kind, f"rules.keep_specific[{i}]") for i, p in enumerate(keep))
    return FieldMapRule(kind, fmt, tuple(fields), kept)


# --- application --------------------------------------------------------------------


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
        if scale.numeric and _is_int(score) and scale.band_of(score) != band:
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
        if not _is_int(value):
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
    if not _is_int(value):
        raise ConversionError(
            f"policy: source field {spec.source!r} is not an integer amount "
            f"in {spec.unit.from_unit}"
        )
    return {"amount": value * spec.unit.num // spec.unit.den, "currency": spec.unit.to_unit}


def apply_policy(policy: Policy, source_body: Mapping[str, Any]) -> dict[str, Any]:
    """The derived body for one source record body. Deterministic; lists, never tuples.

    Raises:
        ConversionError: the source does not fit the policy (module docstring).
    """
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
        if not _is_int(score):
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


# --- policy records -----------------------------------------------------------------


def policy_subject_id(name: str, version: int, rules: Mapping[str, Any]) -> str:
    """``hmac:00000000:<sha256 hex of the deterministic CBOR of the policy body>``."""
    body = {"name": name, "version": version, "rules": dict(rules)}
    return SUBJECTLESS_PREFIX + hashlib.sha256(encoding.encode(body)).hexdigest()


def build_policy_record(
    name: str,
    version: int,
    rules: Mapping[str, Any],
    region: str,
    now: int,
    registry: Mapping[str, Scale] | None = None,
) -> Record:
    """A ``policy.conversion`` record for ``rules`` (validated first).

    Raises:
        PolicyDefinitionError: ``rules`` is not a valid policy (see validate_policy).
        RecordError: a bad name, version or region.
    """
    validate_policy(dict(rules), registry)
    return Record(
        kind="policy.conversion",
        region=region,
        subject=Subject("person", policy_subject_id(name, version, rules)),
        body={"name": name, "version": version, "rules": dict(rules)},
        valid_from=now,
    )
