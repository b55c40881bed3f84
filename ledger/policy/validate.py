"""``validate_policy``: a policy's ``rules`` map parsed once into a ``Policy``, refusing
floats, unknown fields, and rules that are not total over the source scale or not
monotonic. Pure.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any, Literal

from credex.ledger import encoding
from credex.ledger.errors import RecordError
from credex.ledger.policy._common import (
    FIELD_TYPES,
    LEVELS,
    MAX_LIST,
    check_keys,
    err,
    is_int,
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
from credex.ledger.policy.scale import Scale
from credex.ledger.provenance import Provenance
from credex.ledger.record import KIND_SPECS

__all__ = [
    "validate_policy",
]


def _find_float(value: Any, where: str, depth: int = 0) -> str | None:
    if depth > encoding.MAX_CBOR_DEPTH:
        raise err("nested too deeply")
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


def _text(value: Any, where: str) -> str:
    if not isinstance(value, str) or not value:
        raise err(f"{where} must be non-empty text")
    return value


def _resolve(
    scheme_id: Any, where: str, embedded: Mapping[str, Scale], registry: Mapping[str, Scale]
) -> Scale:
    sid = _text(scheme_id, where)
    found = embedded.get(sid) or registry.get(sid)
    if found is None:
        raise err(f"{where} names unknown scheme {sid!r} (embed it under schemes)")
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
        raise err(f"floats are not allowed: found one at {found}")
    if not isinstance(value, dict):
        raise err("rules must be a map")
    kind = value.get("type")
    allowed: dict[str, tuple[set[str], set[str]]] = {
        "band_table": (
            {"type", "source_scheme", "table"},
            {"target_scheme", "schemes", "provenance"},
        ),
        "piecewise_linear": (
            {"type", "source_scheme", "target_scheme", "breakpoints"},
            {"schemes", "provenance"},
        ),
        "field_map": ({"type", "source_kind", "format", "fields"}, {"keep_specific", "provenance"}),
    }
    if kind not in allowed:
        raise err(f"unknown rule type: expected one of {', '.join(sorted(allowed))}, got {kind!r}")
    required, optional = allowed[kind]
    check_keys(value, "rules", required=required, optional=optional)
    embedded: dict[str, Scale] = {}
    raw_schemes = value.get("schemes", {})
    if not isinstance(raw_schemes, dict):
        raise err("rules.schemes must be a map")
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
    provenance = None
    if "provenance" in value:
        try:
            provenance = Provenance.from_value(value["provenance"], "rules.provenance")
        except RecordError as e:
            raise err(str(e)) from None
    return Policy(rule, value, provenance)


def _band_table(
    value: dict[str, Any], embedded: Mapping[str, Scale], reg: Mapping[str, Scale]
) -> BandTableRule:
    source = _resolve(value["source_scheme"], "rules.source_scheme", embedded, reg)
    target = None
    if "target_scheme" in value:
        target = _resolve(value["target_scheme"], "rules.target_scheme", embedded, reg)
    table = value["table"]
    if not isinstance(table, dict) or not table:
        raise err("rules.table must be a non-empty map")
    band_names = [b.name for b in source.bands]
    levels = list(dict.fromkeys(b.level for b in source.bands if b.level is not None))
    keyed_by: Literal["band", "level"]
    if all(k in band_names for k in table):
        keyed_by, keys = "band", band_names
    elif levels and all(k in levels for k in table):
        keyed_by, keys = "level", levels
    else:
        unknown = sorted(str(k) for k in table if k not in band_names)
        raise err(
            f"rules.table has unknown fields: {', '.join(unknown)} "
            f"(not a band{' or level' if levels else ''} of {source.id})"
        )
    target_levels = None if target is None else {b.level for b in target.bands}
    for k in keys:
        if k not in table:
            raise err(f"band_table is not total over {source.id}: {keyed_by} {k!r} has no entry")
        v = table[k]
        if v not in LEVELS:
            raise err(f"rules.table[{k!r}] must be a level L1..L5, got {v!r}")
        if target_levels is not None and target is not None and v not in target_levels:
            raise err(f"rules.table[{k!r}]: level {v!r} is not a level of {target.id}")
    for a, b in itertools.pairwise(keys):
        if table[b] < table[a]:
            raise err(
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
            raise err(f"piecewise_linear needs numeric scales; {s.id} has named grades only")
    if any(b.level is None for b in target.bands):
        raise err(f"piecewise_linear target {target.id} must give every band a level")
    raw = value["breakpoints"]
    if not isinstance(raw, list) or not 2 <= len(raw) <= MAX_LIST:
        raise err("rules.breakpoints must be a list of at least 2 [x, y] pairs")
    points: list[tuple[int, int]] = []
    for i, p in enumerate(raw):
        if not isinstance(p, list) or len(p) != 2 or not all(is_int(v) for v in p):
            raise err(f"rules.breakpoints[{i}] must be a pair of integers [x, y]")
        points.append((p[0], p[1]))
    for (x0, y0), (x1, y1) in itertools.pairwise(points):
        if x1 <= x0:
            raise err(f"piecewise_linear x values must increase: {x0} then {x1}")
        if y1 < y0:
            raise err(f"piecewise_linear is not monotonic: [{x0}, {y0}] then [{x1}, {y1}]")
    if points[0][0] > source.lo:
        raise err(
            f"piecewise_linear is not total over {source.id}: values "
            f"{source.lo}-{points[0][0] - 1} are not covered"
        )
    if points[-1][0] < source.hi:
        raise err(
            f"piecewise_linear is not total over {source.id}: values "
            f"{points[-1][0] + 1}-{source.hi} are not covered"
        )
    if points[0][0] < source.lo or points[-1][0] > source.hi:
        raise err(f"piecewise_linear x values must lie in {source.id} {source.lo}-{source.hi}")
    for x, y in points:
        if not target.lo <= y <= target.hi:
            raise err(
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
        raise err(f"{where} refers to unknown field {p!r} of {kind}")
    if rest and "." in rest:
        raise err(f"{where}: paths go at most one level into a map, got {p!r}")
    return p


def _field_map(value: dict[str, Any]) -> FieldMapRule:
    kind = _text(value["source_kind"], "rules.source_kind")
    if kind not in KIND_SPECS:
        raise err(f"rules.source_kind names unknown kind {kind!r}")
    fmt = _text(value["format"], "rules.format")
    raw = value["fields"]
    if not isinstance(raw, list) or not 0 < len(raw) <= MAX_LIST:
        raise err("rules.fields must be a non-empty list")
    fields: list[FieldSpec] = []
    targets: set[str] = set()
    for i, f in enumerate(raw):
        where = f"rules.fields[{i}]"
        check_keys(f, where, required={"from", "to", "type"}, optional={"enum", "unit"})
        src = _check_path(f["from"], kind, f"{where}.from")
        to = _text(f["to"], f"{where}.to")
        if to in targets or to == "specific":
            raise err(f"{where}.to {to!r} is used twice or reserved")
        targets.add(to)
        ftype = f["type"]
        if ftype not in FIELD_TYPES:
            raise err(f"{where}.type must be one of {', '.join(FIELD_TYPES)}, got {ftype!r}")
        if ("enum" in f) != (ftype == "enum"):
            raise err(f"{where}: enum is required for type enum and only for it")
        if ("unit" in f) != (ftype == "money"):
            raise err(f"{where}: unit is required for type money and only for it")
        enum = None
        if "enum" in f:
            enum = f["enum"]
            if (
                not isinstance(enum, dict)
                or not enum
                or not all(isinstance(k, str) and isinstance(v, str) for k, v in enum.items())
            ):
                raise err(f"{where}.enum must be a non-empty map of text to text")
        unit = None
        if "unit" in f:
            u = f["unit"]
            check_keys(u, f"{where}.unit", required={"from_unit", "to_unit", "num", "den"})
            if not (is_int(u["num"]) and is_int(u["den"]) and u["num"] > 0 and u["den"] > 0):
                raise err(f"{where}.unit num and den must be positive integers")
            unit = Unit(
                _text(u["from_unit"], f"{where}.unit.from_unit"),
                _text(u["to_unit"], f"{where}.unit.to_unit"),
                u["num"],
                u["den"],
            )
        fields.append(FieldSpec(src, to, ftype, enum, unit))
    keep = value.get("keep_specific", [])
    if not isinstance(keep, list):
        raise err("rules.keep_specific must be a list")
    kept = tuple(_check_path(p, kind, f"rules.keep_specific[{i}]") for i, p in enumerate(keep))
    return FieldMapRule(kind, fmt, tuple(fields), kept)
