"""The legal status of a credit record at a time: publication windows and lifecycle.

Pure functions over already-parsed statements (DOMAIN.md §3):

- ``regime_for`` picks the publication regime from a record's decision date:
  ``RULES_2019`` (发改办财金〔2019〕527号) before 2023-05-01, ``ORDER58_2023`` (NDRC Order 58)
  from 2023-05-01 to 2026-03-31, ``CRM_2026`` (《信用修复管理办法》) from 2026-04-01.
  ``SAMR_2021`` (market regulators' own rule) applies when the penalty names it
  ([A11]). Every regime has its provenance (``REGIME_PROVENANCE``), shown in window
  reasons as ``[reported]`` etc.
- ``workdays``: working days with the State Council's holiday calendars as data, and
  objection deadlines by rule (``objection_due``).
- ``publication_window`` gives a record's minimum and maximum publication ends.
- ``validate_lifecycle`` is the check a node runs before accepting one lifecycle
  statement about a target record (kind, refs, subject, issuer authority, minimum window,
  open objection); ``check_authority`` is its authority rule alone.
- ``status_at`` folds the lifecycle statements signed up to ``as_of`` into a ``Status``:
  state, whether the record may be used for punitive or eligibility purposes, reasons
  and the leaf hashes of the statements that decided it.

Every time is passed in (Unix seconds); dates in record bodies are ISO ``YYYY-MM-DD``
text meaning 00:00 China Standard Time (UTC+8), as ``credex.ledger.dates`` writes them.
This package does not verify signatures, inclusion or trust (``credex.ledger.verify``
does, first), read the clock, store anything or print. Modules: ``model`` (states,
windows, ``Status``), ``windows`` (regimes and publication windows), ``rules``
(``validate_lifecycle`` and the shared ``Fold``), ``status`` (``status_at``).

Assumptions (tagged [A]; DOMAIN.md §3 leaves them open):

- [A1] Decision dates before 2023-05-01 use the 2019 rule (serious 6 months-3 years,
  otherwise 3 months-1 year) whatever the date; a minor penalty counts as general there.
- [A2] Severity comes from the body's ``severity`` (minor/general/serious or
  轻微/一般/严重). Otherwise it is inferred from ``penalty_types`` and ``fine_wan``:
  serious for 吊销 / 限制从业 / 禁止从业 / 责令关闭 or a fine of at least 100 万元 (that
  threshold is illustrative: no source); minor when every type is 警告 / 通报批评 (or 罚款
  with a fine within the 简易程序 ceiling: 0.3 万元 for organisations, 0.02 万元 = 200 元
  for natural persons, 行政处罚法 art. 51); general otherwise.
- [A3] Order 58's one-year minimum for food, drugs, special equipment, work safety and
  fire safety has no body field (``KIND_SPECS`` has no ``sector``); it applies when
  ``basis``, ``violation_type`` or ``note`` names the field (食品, 药品, 特种设备, 安全生产,
  消防) or ``note`` carries ``sector:food|drugs|special-equipment|work-safety|fire-safety``.
- [A4] A penalty's ``valid_until`` (the issuer's 公示截止期) can shorten, never lengthen,
  the legal maximum, and never below the minimum.
- [A5] 失信被执行人: listed from ``listed_on`` for ``period_years`` (default 2, 2-5 allowed
  by the 2017 rule's 1-3 year extension); no minimum (early deletion on performance).
  ``list.black``: ``list_until`` or ``valid_until``, no minimum. Other kinds: from
  ``valid_from`` to ``valid_until``.
- [A6] Objection outcomes: ``CORRECTED`` (the record was wrong) makes it ``corrected``,
  or ``superseded`` when the resolution's refs also name a replacement record;
  ``UPHELD`` (the record is upheld), ``REJECTED`` and ``UNDETERMINED`` restore it. A
  resolution names its objection in ``refs[1:]`` or closes the oldest open one.
- [A7] While under objection a record is never usable for punitive purposes; for
  eligibility it is not usable unless ``objection_suspends_eligibility=False``.
- [A8] A repair is too early when its ``decided_on`` date is before the minimum
  publication end; under ``CRM_2026`` a minor penalty may be repaired at once. The
  other repair conditions (correction, commitment) are the issuer's to check.
- [A9] One authority rule (``check_authority``): every status-changing statement
  (objection, resolution, repair, withdrawal, commitment outcome) is signed by the
  record's issuer or by one a manifest delegation of its region authorises; anything
  else is refused by ``validate_lifecycle`` and ignored by ``status_at``. The first
  commitment outcome counts.
- [A10] Lifecycle statements are ordered by (iat, log position): two signed in the same
  second count in the order they were logged (a statement without a known position
  sorts after the positioned ones of its second, then by leaf hash). One with
  iat > as_of is ignored. A record that is withdrawn, repaired, superseded or corrected
  stays so.
- [A11] ``regime: samr-2021`` (《市场监督管理行政处罚信息公示规定》 art. 13): only for an
  authority named 市场监督管理 / 市场监管 / 工商行政管理 and decisions from 2021-09-01
  (``RegimeError`` otherwise). 通报批评 or a fine within the summary-procedure ceiling
  ("较低数额罚款" is set by each province: [A]) only: published 3 months, no minimum;
  any other penalty: 3 years, repairable after 1 year, longer when 处罚有效期 (a ban) ends
  later. Counted from the decision date (the rule counts from publication) [A].
- [A12] ``lifecycle.supersession`` (refs: the record, then its replacement) makes a
  record ``superseded`` (一数一源: a corrected decision replaces it); by the record's
  issuer or one the federation authorises.
- [A13] Lists: ``removed_on`` (移出, 删除, 屏蔽) ends a court list, black list or red
  list entry's window that day; a court list entry deferred under 暂缓 carries
  ``deferred_until`` and ``valid_from`` that day (rules count it only from then).

Errors (in ``credex.ledger.errors``, re-exported here)::

    PolicyError
    └── LifecycleError
        ├── LifecycleTargetError       refs/subject/kind do not fit the target
        ├── RegimeError                no publication rule applies
        ├── RepairTooEarlyError        repair before the minimum window
        ├── UnauthorisedLifecycleError
        │   └── UnauthorisedRepairError
        ├── NoOpenObjectionError
        └── LifecycleStateError        e.g. a second commitment outcome
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from credex._exports import lazy_exports

if TYPE_CHECKING:
    from credex.ledger.errors import (
        LifecycleError,
        LifecycleStateError,
        LifecycleTargetError,
        NoOpenObjectionError,
        RegimeError,
        RepairTooEarlyError,
        UnauthorisedLifecycleError,
        UnauthorisedRepairError,
    )
    from credex.ledger.lifecycle.model import (
        COMMITMENT_OUTCOMES,
        OBJECTION_OUTCOMES,
        ORDER58_START,
        PURPOSES,
        REGIME_C_START,
        REGIME_PROVENANCE,
        SAMR_REGIME_START,
        STATES,
        STATUS_KINDS,
        TERMINAL_STATES,
        Purpose,
        Regime,
        Severity,
        State,
        Status,
        Window,
    )
    from credex.ledger.lifecycle.rules import (
        Fold,
        check_authority,
        fold,
        validate_lifecycle,
    )
    from credex.ledger.lifecycle.status import (
        status_at,
    )
    from credex.ledger.lifecycle.windows import (
        body_date,
        infer_severity,
        publication_window,
        regime_for,
    )
    from credex.ledger.lifecycle.workdays import (
        HOLIDAY_CALENDARS,
        OBJECTION_RULES,
        add_working_days,
        is_working_day,
        objection_due,
    )

__all__ = [
    "COMMITMENT_OUTCOMES",
    "HOLIDAY_CALENDARS",
    "OBJECTION_OUTCOMES",
    "OBJECTION_RULES",
    "ORDER58_START",
    "PURPOSES",
    "REGIME_C_START",
    "REGIME_PROVENANCE",
    "SAMR_REGIME_START",
    "STATES",
    "STATUS_KINDS",
    "TERMINAL_STATES",
    "Fold",
    "LifecycleError",
    "LifecycleStateError",
    "LifecycleTargetError",
    "NoOpenObjectionError",
    "Purpose",
    "Regime",
    "RegimeError",
    "RepairTooEarlyError",
    "Severity",
    "State",
    "Status",
    "UnauthorisedLifecycleError",
    "UnauthorisedRepairError",
    "Window",
    "add_working_days",
    "body_date",
    "check_authority",
    "fold",
    "infer_severity",
    "is_working_day",
    "objection_due",
    "publication_window",
    "regime_for",
    "status_at",
    "validate_lifecycle",
]

__getattr__ = lazy_exports(
    __name__,
    {
        "COMMITMENT_OUTCOMES": "credex.ledger.lifecycle.model",
        "HOLIDAY_CALENDARS": "credex.ledger.lifecycle.workdays",
        "OBJECTION_RULES": "credex.ledger.lifecycle.workdays",
        "REGIME_PROVENANCE": "credex.ledger.lifecycle.model",
        "SAMR_REGIME_START": "credex.ledger.lifecycle.model",
        "add_working_days": "credex.ledger.lifecycle.workdays",
        "is_working_day": "credex.ledger.lifecycle.workdays",
        "objection_due": "credex.ledger.lifecycle.workdays",
        "Fold": "credex.ledger.lifecycle.rules",
        "check_authority": "credex.ledger.lifecycle.rules",
        "LifecycleError": "credex.ledger.errors",
        "LifecycleStateError": "credex.ledger.errors",
        "LifecycleTargetError": "credex.ledger.errors",
        "NoOpenObjectionError": "credex.ledger.errors",
        "OBJECTION_OUTCOMES": "credex.ledger.lifecycle.model",
        "ORDER58_START": "credex.ledger.lifecycle.model",
        "PURPOSES": "credex.ledger.lifecycle.model",
        "Purpose": "credex.ledger.lifecycle.model",
        "REGIME_C_START": "credex.ledger.lifecycle.model",
        "Regime": "credex.ledger.lifecycle.model",
        "RegimeError": "credex.ledger.errors",
        "RepairTooEarlyError": "credex.ledger.errors",
        "STATES": "credex.ledger.lifecycle.model",
        "STATUS_KINDS": "credex.ledger.lifecycle.model",
        "Severity": "credex.ledger.lifecycle.model",
        "State": "credex.ledger.lifecycle.model",
        "Status": "credex.ledger.lifecycle.model",
        "TERMINAL_STATES": "credex.ledger.lifecycle.model",
        "UnauthorisedLifecycleError": "credex.ledger.errors",
        "UnauthorisedRepairError": "credex.ledger.errors",
        "Window": "credex.ledger.lifecycle.model",
        "body_date": "credex.ledger.lifecycle.windows",
        "fold": "credex.ledger.lifecycle.rules",
        "infer_severity": "credex.ledger.lifecycle.windows",
        "publication_window": "credex.ledger.lifecycle.windows",
        "regime_for": "credex.ledger.lifecycle.windows",
        "status_at": "credex.ledger.lifecycle.status",
        "validate_lifecycle": "credex.ledger.lifecycle.rules",
    },
)
