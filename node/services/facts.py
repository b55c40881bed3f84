"""One source per fact (一数一源, seed 003; issue #12 point 5).

The same decision reported by two sources or two regions is one fact. A decision is
known by its *fact key* (``fact_key``): the document number and the deciding authority
(文书号 + authority USCC for penalties and licences; 执行案号 + court for the court list;
list name + basis document (or listing day) + authority for red and black lists; scheme
+ period + rater for ratings), always about the same subject. Numbers are compared after
NFKC, without whitespace, with every bracket form (〔〕［］【】[]) as one.

``FactIndex.classify`` looks a new record up among the records already held about its
subject: this node's log and every peer mirror (a person's record is compared only where
its body is held). The answer:

- ``new``: no record with that key (or the very same record: logging is idempotent);
- ``duplicate``: the same decision with the same substance (fields other than who
  reported it: ``SOURCE_FIELDS``) is already held: the row is linked to the first
  report (``prior``) and not logged again;
- ``correction``: this issuer already logged that decision with other substance: the
  new record is logged and supersedes the old one (``lifecycle.supersession``);
- ``conflict``: another issuer or region holds that decision with other substance: not
  logged; the differing fields are named (values are not shown).

This module only reads; the importer logs.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final, Literal

from credex.ledger.indexing import lifecycle_in
from credex.ledger.lifecycle import TERMINAL_STATES, status_at
from credex.ledger.record import Record
from credex.ledger.statement import Statement
from credex.node.federation.mirrors import MirrorBundles
from credex.node.local import LocalNode

__all__ = [
    "SOURCE_FIELDS",
    "Classified",
    "FactIndex",
    "Prior",
    "fact_key",
    "normalise_number",
    "substance",
]

#: body fields that say who reported a fact, not what the fact is
SOURCE_FIELDS: Final = frozenset(
    {"source_unit", "source_unit_uscc", "note", "subject_flags", "subject_name"}
)
#: (subject, kind) lookups kept, oldest dropped first
_CACHE_MAX: Final = 4096
_BRACKETS: Final = str.maketrans("〔〕［］【】（）", "[][][]()")


def normalise_number(text: Any) -> str:
    """A document number as compared: NFKC, no whitespace, one bracket form, upper case."""
    if not isinstance(text, str):
        return ""
    s = unicodedata.normalize("NFKC", text).translate(_BRACKETS)
    return re.sub(r"\s+", "", s).upper()


def fact_key(record: Record) -> tuple[str, ...] | None:
    """The key of the decision ``record`` reports, or None for kinds that are not
    decisions of an authority (scores, reports, derived and lifecycle records)."""
    b, kind = record.body, record.kind
    if kind in ("penalty.admin", "license.admin"):
        return (kind, normalise_number(b.get("decision_no")), str(b.get("authority_uscc")))
    if kind == "court.dishonest-debtor":
        return (kind, normalise_number(b.get("case_no")), normalise_number(b.get("court")))
    if kind in ("list.red", "list.black"):
        basis = normalise_number(b.get("basis_doc_no")) or str(b.get("listed_on"))
        return (
            kind,
            normalise_number(b.get("list_name")),
            basis,
            normalise_number(b.get("authority")),
        )
    if kind == "rating.enterprise":
        period = str(b.get("period") or b.get("rated_on"))
        return (kind, str(b.get("scheme")), period, normalise_number(b.get("rater")))
    return None


#: document numbers, compared as ``normalise_number`` writes them
_NUMBER_FIELDS: Final = frozenset({"decision_no", "case_no", "basis_doc_no"})


def substance(record: Record) -> dict[str, Any]:
    """What the fact says: the body without ``SOURCE_FIELDS``, document numbers
    normalised (``甬市监罚〔2026〕88号`` and ``甬市监罚[2026]88号`` are one number)."""
    return {
        k: normalise_number(v) if k in _NUMBER_FIELDS else v
        for k, v in record.body.items()
        if k not in SOURCE_FIELDS
    }


@dataclass(frozen=True, slots=True)
class Prior:
    """A record already held with the same fact key."""

    origin: str
    index: int
    statement: Statement
    #: still active (not superseded, withdrawn, repaired or corrected)
    current: bool

    def describe(self) -> str:
        st = self.statement
        return (
            f"{self.origin}#{self.index} ({st.record.region}, issuer {st.claims.iss}, "
            f"leaf {st.leaf_hash.hex()[:16]}…)"
        )


@dataclass(frozen=True, slots=True)
class Classified:
    verdict: Literal["new", "duplicate", "correction", "conflict"]
    prior: Prior | None = None
    differs: tuple[str, ...] = ()


def _same(a: Record, b: Record) -> bool:
    """The same record, the envelope salt a node adds to a person's record aside."""
    va, vb = a.to_value(), b.to_value()
    va.pop("salt", None)
    vb.pop("salt", None)
    return va == vb


def _differs(a: Mapping[str, Any], b: Mapping[str, Any]) -> tuple[str, ...]:
    return tuple(sorted(k for k in set(a) | set(b) if a.get(k) != b.get(k)))


@dataclass
class FactIndex:
    """The records a node holds, looked up by subject and fact key (cached per subject)."""

    node: LocalNode
    now: int
    _cache: dict[tuple[str, str], list[Prior]] = field(default_factory=dict)
    _mirrors: MirrorBundles | None = None
    _origins: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self._mirrors = MirrorBundles(self.node.home)
        self._origins = self._mirrors.origins()

    def _held(self, subject: str, kind: str) -> list[Prior]:
        found = self._cache.get((subject, kind))
        if found is not None:
            return found
        node, out = self.node, []
        for e in node.log.by_subject(subject, [kind]):
            st = node.statement_at(e.index)
            if st.has_body:
                state = status_at(st, lifecycle_in(node.log, st.leaf_hash), self.now).state
                out.append(Prior(node.home.origin, e.index, st, state not in TERMINAL_STATES))
        assert self._mirrors is not None
        for origin in self._origins:
            with self._mirrors.view(origin) as view:
                for e in view.log.by_subject(subject, [kind], end=view.size):
                    st = Statement.from_bytes(e.leaf)
                    if st.has_body:
                        life = lifecycle_in(view.log, st.leaf_hash, view.size)
                        state = status_at(st, life, self.now).state
                        out.append(Prior(origin, e.index, st, state not in TERMINAL_STATES))
        if len(self._cache) >= _CACHE_MAX:  # bounded: a file may name millions of subjects
            self._cache.pop(next(iter(self._cache)))
        self._cache[(subject, kind)] = out
        return out

    def forget(self, subject: str, kind: str) -> None:
        """Drop the cache of one subject and kind (after logging to it)."""
        self._cache.pop((subject, kind), None)

    def classify(self, record: Record, issuer: str) -> Classified:
        """How ``record`` (to be logged by ``issuer``) relates to what is held."""
        key = fact_key(record)
        if key is None:
            return Classified("new")
        matches = [
            p
            for p in self._held(record.subject.id, record.kind)
            if fact_key(p.statement.record) == key
        ]
        if not matches:
            return Classified("new")
        mine = [
            p
            for p in matches
            if p.origin == self.node.home.origin and p.statement.claims.iss == issuer
        ]
        if any(_same(p.statement.record, record) for p in mine):
            return Classified("new")  # the very same record: the log deduplicates it
        want = substance(record)
        current = [p for p in mine if p.current]
        if current:
            latest = current[-1]
            diff = _differs(substance(latest.statement.record), want)
            if diff:
                return Classified("correction", latest, diff)
            return Classified("duplicate", latest)
        for p in matches:
            if not _differs(substance(p.statement.record), want):
                return Classified("duplicate", p)
        if mine:  # every report of ours is superseded: a new version of the fact
            return Classified("new")
        return Classified(
            "conflict", matches[0], _differs(substance(matches[0].statement.record), want)
        )
