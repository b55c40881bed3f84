"""Records that disagree across regions: conflict detection over views of logs (issue #4.8).

A **view** is one copy of one origin's log as some node holds it: the node's own log, or
its mirror of a peer (``View.holder`` holds a copy of ``View.origin``'s log, ``size``
entries). The input is what was observed in those views: the records of interest (red /
black lists, court lists, penalties, scores, derived records) and the lifecycle
statements, each tagged with its view and leaf index. A record's status at ``as_of`` is
computed from the lifecycle statements found **in the same view** (``status_at``).

Rules (``ConflictType``); "in force" means iat <= as_of, valid_from <= as_of and state
``active`` at as_of (not under objection, repaired, withdrawn, superseded, corrected or
expired). Cross-region rules use, for each origin, its **freshest** view (the largest
size; the origin's own log on a tie); older copies are judged by ``stale-mirror`` alone.

- ``listed-red-and-black``: a subject has an in-force ``list.red`` issued in region A
  and an in-force ``list.black`` issued in region B != A. Severity high.
- ``red-list-vs-dishonest-debtor``: an in-force ``list.red`` in region A and an in-force
  ``court.dishonest-debtor`` in region B != A (a 失信被执行人 is excluded from 守信激励).
  Severity high.
- ``red-list-vs-serious-penalty``: an in-force ``list.red`` in region A and an in-force
  ``penalty.admin`` of severity serious (``infer_severity``) in region B != A. Medium.
- ``repaired-but-used``: a record R is repaired, withdrawn, superseded or corrected at
  as_of in the freshest view of its origin, while an in-force ``derived.*`` record of
  another region names R among its sources (``refs[:-1]``). Severity high.
- ``stale-mirror``: two views of one origin, the smaller one still has a record in force
  that the larger one holds as repaired, withdrawn, superseded or corrected (the record
  is "still served elsewhere"). Severity medium.
- ``score-divergence``: a subject's common levels (``L1``-``L5``) from in-force
  ``score.city`` / ``derived.score`` records differ by at least ``score_threshold``
  levels between two regions (per region the latest in-force score by iat). Severity
  low, medium from 3 levels.

Persons are keyed pseudonyms (``hmac:<keyid>:<hex>``): records match on the subject id
string only, so persons match across regions only when the regions share the subject
key. A statement whose record cannot be read (an enveloped body not held here:
``Statement.record`` raises a ``CredexError``) or whose status cannot be computed is
counted in ``ConflictReport.not_comparable`` and skipped.

Reasons never carry record bodies or subject ids: kinds, regions, states and days only.
This package does not read logs, the clock or files, and does not print. Modules:
``model`` (the values), ``views`` (records and their status per view), ``rules`` (the
rules and ``find_conflicts``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from credex._exports import lazy_exports

if TYPE_CHECKING:
    from credex.ledger.conflicts.model import (
        CONFLICT_TYPES,
        INTEREST_KINDS,
        Conflict,
        ConflictReport,
        ConflictType,
        Observed,
        Severity,
        View,
    )
    from credex.ledger.conflicts.rules import (
        find_conflicts,
    )

__all__ = [
    "CONFLICT_TYPES",
    "INTEREST_KINDS",
    "Conflict",
    "ConflictReport",
    "ConflictType",
    "Observed",
    "Severity",
    "View",
    "find_conflicts",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "CONFLICT_TYPES": "model",
        "INTEREST_KINDS": "model",
        "Conflict": "model",
        "ConflictReport": "model",
        "ConflictType": "model",
        "Observed": "model",
        "Severity": "model",
        "View": "model",
        "find_conflicts": "rules",
    },
)
