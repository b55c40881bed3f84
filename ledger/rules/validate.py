"""``validate_rule``: a rule's name, version and ``rules`` map parsed once into a ``Rule``,
refusing floats, unknown fields, kinds a rule may not read, body fields a kind does not
have, conditions naming undefined facts, results outside the declared ones and decision
lists without their final ``otherwise`` (a rule must be total). docs/rules.md is the
grammar. Pure.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any, Final, cast

from credex.ledger import encoding
from credex.ledger.errors import RecordError, RuleDefinitionError
from credex.ledger.provenance import Provenance
from credex.ledger.record import KIND_SPECS
from credex.ledger.rules.model import (
    EVIDENCE_KINDS,
    OPS,
    OUTCOME_KINDS,
    PURPOSE_RESULTS,
    All,
    Any_,
    Clause,
    Compare,
    Condition,
    Count,
    DaysSinceFirst,
    Fact,
    Not,
    PointItem,
    Points,
    Rank,
    Rule,
    Selector,
)

__all__ = [
    "FACT_RE",
    "MAX_INT",
    "NAME_RE",
    "validate_rule",
]

NAME_RE: Final = re.compile(r"^[A-Z][A-Z0-9_]{0,63}\Z")
FACT_RE: Final = re.compile(r"^[a-z][a-z0-9_]{0,31}\Z")
#: every integer in a rule lies in [-MAX_INT, MAX_INT]
MAX_INT: Final = 1_000_000
_MAX_FACTS: Final = 32
_MAX_CLAUSES: Final = 32
_MAX_PARTS: Final = 16
_MAX_DEPTH: Final = 6
_MAX_TEXT: Final = 200
_MAX_VALID_DAYS: Final = 3660


def _err(msg: str) -> RuleDefinitionError:
    return RuleDefinitionError(f"rule: {msg}")


def _keys(value: Any, where: str, required: set[str], optional: set[str] | None = None) -> None:
    if not isinstance(value, dict):
        raise _err(f"{where} must be a map")
    opt = optional or set()
    bad = sorted(str(k) for k in value if k not in required and k not in opt)
    if bad:
        raise _err(f"{where} has unknown fields: {', '.join(bad)}")
    missing = sorted(required - set(value))
    if missing:
        raise _err(f"{where} is missing required fields: {', '.join(missing)}")


def _find_float(value: Any, where: str, depth: int = 0) -> str | None:
    if depth > encoding.MAX_CBOR_DEPTH:
        raise _err("nested too deeply")
    if isinstance(value, float):
        return where
    if isinstance(value, dict):
        for k, v in value.items():
            found = _find_float(v, f"{where}.{k}", depth + 1)
            if found:
                return found
    if isinstance(value, list | tuple):
        for i, v in enumerate(value):
            found = _find_float(v, f"{where}[{i}]", depth + 1)
            if found:
                return found
    return None


def _int(value: Any, where: str, lo: int = -MAX_INT, hi: int = MAX_INT) -> int:
    if type(value) is not int or not lo <= value <= hi:
        raise _err(f"{where} must be an integer in {lo}..{hi}, got {str(value)[:32]!r}")
    return value


def _text(value: Any, where: str, limit: int = _MAX_TEXT) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= limit:
        raise _err(f"{where} must be 1-{limit} characters of text")
    return value


def _list(value: Any, where: str, lo: int, hi: int) -> list[Any]:
    if not isinstance(value, list) or not lo <= len(value) <= hi:
        raise _err(f"{where} must be a list of {lo}-{hi} items")
    return value


def _field_type(kind: str, field: str) -> str | None:
    spec = KIND_SPECS[kind]
    return spec.required.get(field) or spec.optional.get(field)


def _selector(value: Any, where: str) -> Selector:
    _keys(value, where, {"kinds"}, {"where", "outcome"})
    kinds: list[str] = []
    for i, k in enumerate(_list(value["kinds"], f"{where}.kinds", 1, _MAX_PARTS)):
        if k not in KIND_SPECS:
            raise _err(f"{where}.kinds[{i}] names unknown kind {str(k)[:40]!r}")
        if k not in EVIDENCE_KINDS:
            raise _err(
                f"{where}.kinds[{i}]: a rule reads facts about a subject, not {k!r} "
                f"(expected one of {', '.join(EVIDENCE_KINDS)})"
            )
        if k in kinds:
            raise _err(f"{where}.kinds names {k!r} twice")
        kinds.append(k)
    matches: dict[str, tuple[str, ...]] = {}
    raw_where = value.get("where", {})
    if not isinstance(raw_where, dict) or len(raw_where) > _MAX_PARTS:
        raise _err(f"{where}.where must be a map of at most {_MAX_PARTS} fields")
    for field, accepted in raw_where.items():
        for k in kinds:
            t = _field_type(k, str(field))
            if t not in ("text", "list"):
                raise _err(
                    f"{where}.where refers to {str(field)[:40]!r}, which is not a text or "
                    f"list field of {k}"
                )
        values = [accepted] if isinstance(accepted, str) else accepted
        vals = _list(values, f"{where}.where.{field}", 1, 64)
        matches[str(field)] = tuple(_text(v, f"{where}.where.{field}") for v in vals)
    outcome = value.get("outcome")
    if outcome is not None:
        if outcome not in ("KEPT", "BREACHED", "NONE"):
            raise _err(f"{where}.outcome must be KEPT, BREACHED or NONE, got {str(outcome)!r}")
        if any(k not in OUTCOME_KINDS for k in kinds):
            raise _err(f"{where}.outcome applies to {', '.join(OUTCOME_KINDS)} only")
    return Selector(tuple(kinds), matches, outcome)


def _fact(value: Any, where: str) -> Fact:
    if not isinstance(value, dict) or not value:
        raise _err(f"{where} must be a map")
    if "count" in value:
        _keys(value, where, {"count"})
        return Count(_selector(value["count"], f"{where}.count"))
    if "days_since_first" in value:
        _keys(value, where, {"days_since_first"})
        return DaysSinceFirst(_selector(value["days_since_first"], f"{where}.days_since_first"))
    if "rank" in value:
        _keys(value, where, {"rank", "field", "order"})
        sel = _selector(value["rank"], f"{where}.rank")
        field = _text(value["field"], f"{where}.field", 64)
        for k in sel.kinds:
            if _field_type(k, field) != "text":
                raise _err(f"{where}.field {field!r} is not a text field of {k}")
        order = [_text(v, f"{where}.order") for v in _list(value["order"], f"{where}.order", 1, 32)]
        if len(set(order)) != len(order):
            raise _err(f"{where}.order names a value twice")
        return Rank(sel, field, tuple(order))
    if "points" in value:
        _keys(value, where, {"points"})
        p = value["points"]
        w = f"{where}.points"
        _keys(p, w, {"base", "add", "min", "max"})
        lo, hi = _int(p["min"], f"{w}.min"), _int(p["max"], f"{w}.max")
        if lo > hi:
            raise _err(f"{w}: min {lo} is above max {hi}")
        items: list[PointItem] = []
        for i, item in enumerate(_list(p["add"], f"{w}.add", 1, _MAX_PARTS)):
            iw = f"{w}.add[{i}]"
            _keys(item, iw, {"match", "each"}, {"cap"})
            cap = None if "cap" not in item else _int(item["cap"], f"{iw}.cap", 1, MAX_INT)
            items.append(
                PointItem(
                    _selector(item["match"], f"{iw}.match"), _int(item["each"], f"{iw}.each"), cap
                )
            )
        return Points(_int(p["base"], f"{w}.base"), tuple(items), lo, hi)
    raise _err(
        f"{where}: unknown fact type: expected one of count, days_since_first, rank, points, "
        f"got {', '.join(sorted(str(k) for k in value))}"
    )


def _condition(value: Any, where: str, facts: Mapping[str, Fact], depth: int = 0) -> Condition:
    if depth > _MAX_DEPTH:
        raise _err(f"{where}: conditions nest deeper than {_MAX_DEPTH} levels")
    if not isinstance(value, dict) or not value:
        raise _err(f"{where} must be a map")
    if "all" in value or "any" in value:
        key = "all" if "all" in value else "any"
        _keys(value, where, {key})
        parts = tuple(
            _condition(c, f"{where}.{key}[{i}]", facts, depth + 1)
            for i, c in enumerate(_list(value[key], f"{where}.{key}", 1, _MAX_PARTS))
        )
        return All(parts) if key == "all" else Any_(parts)
    if "not" in value:
        _keys(value, where, {"not"})
        return Not(_condition(value["not"], f"{where}.not", facts, depth + 1))
    _keys(value, where, {"fact", "op", "value"})
    name = value["fact"]
    if name not in facts:
        raise _err(f"{where}.fact names undefined fact {str(name)[:40]!r}")
    if value["op"] not in OPS:
        raise _err(f"{where}.op must be one of {' '.join(OPS)}, got {str(value['op'])[:8]!r}")
    return Compare(name, value["op"], _int(value["value"], f"{where}.value"))


def _clauses(value: Any, facts: Mapping[str, Fact], results: tuple[str, ...]) -> tuple[Clause, ...]:
    raw = _list(value, "rules.decide", 1, _MAX_CLAUSES)
    out: list[Clause] = []
    for i, c in enumerate(raw):
        where = f"rules.decide[{i}]"
        last = i == len(raw) - 1
        if isinstance(c, dict) and "otherwise" in c:
            _keys(c, where, {"otherwise", "because"})
            if not last:
                raise _err(
                    f"{where}: otherwise must be the last clause (clauses after it never apply)"
                )
            then, when = c["otherwise"], None
        else:
            if last:
                raise _err(
                    "rule is not total: rules.decide must end with an otherwise clause "
                    "(a result for every evidence)"
                )
            _keys(c, where, {"when", "then", "because"})
            then, when = c["then"], _condition(c["when"], f"{where}.when", facts)
        if then not in results:
            raise _err(f"{where}: result {str(then)[:40]!r} is not one of {', '.join(results)}")
        out.append(Clause(when, then, _text(c["because"], f"{where}.because")))
    return tuple(out)


def validate_rule(name: Any, version: Any, value: Any) -> Rule:
    """Parse and check one rule (docs/rules.md).

    Raises:
        RuleDefinitionError: floats anywhere; unknown or missing fields; a bad name,
            version or integer; an unknown kind, a kind a rule may not read or a field
            the kind does not have; an undefined fact; a result not declared; no final
            ``otherwise`` (not total); bad provenance.
    """
    found = _find_float(value, "rules")
    if found:
        raise _err(f"floats are not allowed: found one at {found}")
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise _err(f"name must match {NAME_RE.pattern}, got {str(name)[:40]!r}")
    if type(version) is not int or not 1 <= version <= MAX_INT:
        raise _err(f"version must be an integer >= 1, got {str(version)[:20]!r}")
    _keys(
        value,
        "rules",
        {"type", "subject", "results", "provenance", "valid_days", "facts", "decide"},
        {"scheme"},
    )
    rtype = value["type"]
    if rtype not in ("grade", "purpose"):
        raise _err(f"rules.type must be grade or purpose, got {str(rtype)[:20]!r}")
    subject = value["subject"]
    if subject not in ("org", "person", "any"):
        raise _err(f"rules.subject must be org, person or any, got {str(subject)[:20]!r}")
    results = tuple(
        _text(r, "rules.results", 32) for r in _list(value["results"], "rules.results", 2, 16)
    )
    if len(set(results)) != len(results):
        raise _err("rules.results names a result twice")
    scheme = value.get("scheme")
    if rtype == "purpose":
        if results not in PURPOSE_RESULTS:
            raise _err(
                'a purpose rule\'s results must be ["deny", "allow"] or '
                '["deny", "allow", "priority"]'
            )
        if scheme is not None:
            raise _err("rules.scheme is for grade rules (a purpose rule is named by its purpose)")
    elif not isinstance(scheme, str) or not NAME_RE.match(scheme):
        raise _err(f"a grade rule needs rules.scheme matching {NAME_RE.pattern}")
    try:
        provenance = Provenance.from_value(value["provenance"], "rules.provenance")
    except RecordError as e:
        raise _err(str(e)) from None
    valid_days = _int(value["valid_days"], "rules.valid_days", 1, _MAX_VALID_DAYS)
    raw_facts = value["facts"]
    if not isinstance(raw_facts, dict) or len(raw_facts) > _MAX_FACTS:
        raise _err(f"rules.facts must be a map of at most {_MAX_FACTS} facts")
    facts: dict[str, Fact] = {}
    for fname, fval in raw_facts.items():
        if not isinstance(fname, str) or not FACT_RE.match(fname):
            raise _err(
                f"rules.facts: fact name must match {FACT_RE.pattern}, got {str(fname)[:40]!r}"
            )
        facts[fname] = _fact(fval, f"rules.facts.{fname}")
    decide = _clauses(value["decide"], facts, results)
    return Rule(
        name=name,
        version=version,
        type=cast(Any, rtype),
        subject=cast(Any, subject),
        results=results,
        scheme=scheme,
        provenance=provenance,
        valid_days=valid_days,
        facts=facts,
        decide=decide,
        value=value,
    )
