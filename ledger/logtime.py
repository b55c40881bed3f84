"""What time a statement may claim, bounded by what a log attests (docs/spec.md §2, §3 step 2).

An issuer chooses its statement's ``iat``. Checking key validity against ``iat`` alone
lets a retired or compromised key sign today with an ``iat`` inside its old window. So:

- **Intake** (``require_fresh_iat``): a node logs a statement signed elsewhere (Submit)
  only when ``iat`` is within ``MAX_CLOCK_SKEW`` of its own clock, either way. The log
  thereby attests ``iat``: an honest log's entry was logged within 5 minutes of its iat.
- **Logging time**: a log records, for each checkpoint it signs (or, as a mirror, each
  peer checkpoint it verifies), when it first did (``created_at``). An entry at index i
  was logged after the latest such checkpoint of size <= i and by the first one of size
  > i: its *logged window* (``LoggedWindow``). A log states it in its attestation
  (``credex.ledger.attestation``); a witness's cosignature timestamp on a checkpoint that
  contains the entry is another upper bound.
- **Key validity at log time** (``require_key_valid_when_logged``): the signing key's
  window ``[valid_from, valid_until)`` must meet the logged window widened by
  ``CLOCK_TOLERANCE``: a key retired at R cannot have signed a statement that first
  appears in a checkpoint recorded after R + tolerance, and a key whose window opens at F
  cannot have signed one a witness saw before F - tolerance. Applied by verify step 2
  (the window its bundle attests), peer sync (the mirror's own record of when it saw the
  peer without the entry) and, through the intake bound, by every node.
- ``require_not_future``: a peer cannot serve a statement dated after the mirror's clock
  (plus tolerance).

``CLOCK_TOLERANCE`` is two skews: a comparison across two clocks (issuer and log, log and
witness or mirror) allows each its ``MAX_CLOCK_SKEW``. Pure: every time is passed in.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from credex.ledger.errors import LogTimeError
from credex.ledger.trust import TrustedIssuer

__all__ = [
    "CLOCK_TOLERANCE",
    "MAX_CLOCK_SKEW",
    "LoggedWindow",
    "keys_valid_when_logged",
    "require_fresh_iat",
    "require_key_valid_when_logged",
    "require_not_future",
]

#: how far a submitted statement's iat may be from the receiving node's clock (seconds).
#: Five minutes: NTP keeps servers within well under a second, so this absorbs a
#: misconfigured clock and slow batch signing, while a key retired at R stops being
#: usable for new entries 5 minutes after R (not "for ever, with an old iat").
MAX_CLOCK_SKEW: Final = 300
#: comparisons across two clocks (an issuer's and a log's, a log's and a mirror's or a
#: witness's) allow each clock its skew
CLOCK_TOLERANCE: Final = 2 * MAX_CLOCK_SKEW


@dataclass(frozen=True, slots=True)
class LoggedWindow:
    """When an entry was logged, as attested: after ``after`` and by ``by`` (Unix
    seconds; None: no bound), and who says so (``source``, for messages)."""

    after: int | None
    by: int | None
    source: str

    def narrowed(self, by: int | None, source: str) -> LoggedWindow:
        """This window with an extra upper bound (e.g. a witness timestamp)."""
        if by is None or (self.by is not None and self.by <= by):
            return self
        return LoggedWindow(self.after, by, source)


def require_fresh_iat(iat: int, now: int, what: str) -> None:
    """Intake: ``iat`` within ``MAX_CLOCK_SKEW`` of this node's clock ``now``.

    Raises:
        LogTimeError: too far in the past (backdated) or in the future.
    """
    if abs(iat - now) > MAX_CLOCK_SKEW:
        raise LogTimeError(
            f"{what}: iat is not within {MAX_CLOCK_SKEW} s of this node's clock: expected "
            f"{now - MAX_CLOCK_SKEW}..{now + MAX_CLOCK_SKEW}, got {iat}"
        )


def require_not_future(iat: int, now: int, what: str) -> None:
    """A logged statement cannot be dated after ``now`` (another node's clock) by more
    than ``CLOCK_TOLERANCE``.

    Raises:
        LogTimeError: it is.
    """
    if iat > now + CLOCK_TOLERANCE:
        raise LogTimeError(
            f"{what}: iat is in the future of this node's clock: expected <= "
            f"{now + CLOCK_TOLERANCE}, got {iat}"
        )


def keys_valid_when_logged(
    issuers: Sequence[TrustedIssuer], window: LoggedWindow, what: str
) -> list[TrustedIssuer]:
    """The ``issuers`` (trusted entries of one key) whose window meets ``window``.

    Raises:
        LogTimeError: none does (``require_key_valid_when_logged``'s message).
    """
    ok = [i for i in issuers if _fits(i, window)]
    if issuers and not ok:
        require_key_valid_when_logged(issuers[0], window, what)
    return ok


def _fits(issuer: TrustedIssuer, window: LoggedWindow) -> bool:
    until = issuer.valid_until
    if until is not None and window.after is not None and window.after - CLOCK_TOLERANCE >= until:
        return False
    return window.by is None or issuer.valid_from <= window.by + CLOCK_TOLERANCE


def require_key_valid_when_logged(issuer: TrustedIssuer, window: LoggedWindow, what: str) -> None:
    """The key's validity window must meet the attested logged window (± tolerance).

    Raises:
        LogTimeError: the log attests the entry was logged after the key's window closed,
            or before it opened.
    """
    until = issuer.valid_until
    if until is not None and window.after is not None and window.after - CLOCK_TOLERANCE >= until:
        raise LogTimeError(
            f"{what}: key of {issuer.issuer_id!r} was retired at {until}, but {window.source} "
            f"attests the statement was logged after {window.after} (tolerance "
            f"{CLOCK_TOLERANCE} s): a backdated statement"
        )
    if window.by is not None and issuer.valid_from > window.by + CLOCK_TOLERANCE:
        raise LogTimeError(
            f"{what}: key of {issuer.issuer_id!r} is valid from {issuer.valid_from}, but "
            f"{window.source} attests the statement was logged by {window.by} (tolerance "
            f"{CLOCK_TOLERANCE} s)"
        )
