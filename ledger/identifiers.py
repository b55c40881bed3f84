"""Organisation and person identifiers: validation and canonical forms.

What this module does:

- **USCC** (统一社会信用代码, GB 32100-2015): normalises (strip, drop inner whitespace,
  upper-case), checks length, the 31-character set, that positions 3-8 (the GB/T 2260
  region code) are digits, and the mod-31 check character. The three published Fujian
  pilot codes that fail the check (DOMAIN §1.1) are accepted with ``legacy_checksum=True``.
  ``inner_org_code_ok`` runs the GB 11714 check over positions 9-17; it is a warning
  signal only and never rejects a code.
- **Hong Kong** numbers, format only (no public check-digit algorithm exists, DOMAIN §1.3).
  An 8-digit HK CR No. and an 8-digit BRN look identical, so the canonical form always
  carries the scheme as a prefix; its ``:`` and ``-`` are outside the USCC character
  set, so no canonical HK id can be mistaken for a USCC:

  ============  ==========================================  ======================
  scheme        accepted input                              canonical ``OrgId.id``
  ============  ==========================================  ======================
  ``hk-cr``     ``03645219``, ``F0008739``, ``C0486085``,   ``HK-CR:03645219``
                ``MF001910`` (8 characters in all)
  ``hk-br``     ``41409990``, ``41409990-000``,             ``HK-BR:41409990-000``
                ``41409990-000-01-11-1`` (certificate no.)
  ============  ==========================================  ======================

  A BRN is identified by its 8-digit base plus the 3-digit branch number (``000`` when
  not given); the certificate's expiry ``MM-YY`` and final digit change at each renewal
  and are dropped. Unprefixed input to ``validate_org_id`` is read as a USCC when it is
  18 characters long, as a BRN when it carries a ``-branch`` suffix, and as a CR No.
  when it starts with ``F``, ``C`` or ``MF``; a bare 8-digit number is ambiguous and
  refused (say ``HK-CR:`` or ``HK-BR:``).
- **Resident identity numbers** (公民身份号码, GB 11643-1999): 18-character numbers with
  the ISO 7064 MOD 11-2 check character, and the 15-digit 1989 form, converted to 18
  characters. The birth date is checked as a calendar date. ``is_resident_id`` says
  whether a text is a valid 18-character resident ID (province code, birth date, check
  character); ``validate_uscc`` refuses every such text, because about 1 in 31 of them
  also passes the USCC check and would be logged, in the clear, as an organisation.
- **No echo.** Every ``IdentifierError`` names positions and lengths only, never a
  character of the rejected input (it may be a resident ID typed into the wrong field).

What it does not do: look anything up in a registry, check that a region code exists,
compare a birth date with today (no clock here), or hash person ids (see ``subject``).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Final, Literal

from credex.ledger.errors import IdentifierError

__all__ = [
    "ISSUER_ID_RE",
    "LEGACY_USCCS",
    "REGION_RE",
    "RESIDENT_REGION_PREFIXES",
    "USCC_CHARSET",
    "OrgId",
    "OrgScheme",
    "inner_org_code_ok",
    "is_resident_id",
    "normalise_resident_id",
    "org_code_check_char",
    "resident_id_check_char",
    "uscc_check_char",
    "validate_hk_brn",
    "validate_hk_cr",
    "validate_org_id",
    "validate_uscc",
]

OrgScheme = Literal["uscc", "hk-cr", "hk-br"]

USCC_CHARSET: Final = "0123456789ABCDEFGHJKLMNPQRTUWXY"
_USCC_VALUE: Final = {c: i for i, c in enumerate(USCC_CHARSET)}
_USCC_WEIGHTS: Final = tuple(pow(3, i, 31) for i in range(17))

#: Real, published Fujian pilot codes whose check character fails GB 32100 (DOMAIN §1.1).
LEGACY_USCCS: Final = frozenset({"91350211M0000XUF46", "91350100M0001TGQXM", "91350203M0001FUE2P"})

_ORG_CODE_CHARSET: Final = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
_ORG_CODE_WEIGHTS: Final = (3, 7, 9, 10, 5, 8, 4, 2)

_RID_WEIGHTS: Final = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
_RID_CHECK: Final = "10X98765432"
#: the first two digits of a resident ID's address code (GB/T 2260 provinces), plus 81-83
#: (the residence permits of Hong Kong, Macao and Taiwan residents use the same format)
_PROVINCE_RANGES: Final = ((11, 15), (21, 23), (31, 37), (41, 46), (50, 54), (61, 65), (71, 71))
RESIDENT_REGION_PREFIXES: Final = frozenset(
    {str(n) for lo, hi in _PROVINCE_RANGES for n in range(lo, hi + 1)} | {"81", "82", "83"}
)
_RID_RE: Final = re.compile(r"^[0-9]{17}[0-9X]\Z")

_WS_RE: Final = re.compile(r"\s+")
_HK_CR_RE: Final = re.compile(r"^(?:\d{8}|[FC]\d{7}|MF\d{6})\Z", re.ASCII)
_HK_BR_RE: Final = re.compile(r"^(\d{8})(?:-(\d{3})(?:-(\d{2})-(\d{2})-(\d))?)?\Z", re.ASCII)

#: a region id: ``cn-zj-ningbo``, ``hk`` (lowercase letters, digits and dashes)
REGION_RE: Final = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}\Z")
#: an issuer id: ``<region>/<name>``, e.g. ``cn-zj-ningbo/court``
ISSUER_ID_RE: Final = re.compile(r"^[a-z0-9][a-z0-9-]{0,62}/[a-z0-9][a-z0-9.-]{0,62}\Z")


@dataclass(frozen=True, slots=True)
class OrgId:
    """A validated organisation identifier in canonical form."""

    id: str
    scheme: OrgScheme
    legacy_checksum: bool = False


def _squash(value: str) -> str:
    return _WS_RE.sub("", value).upper()


def uscc_check_char(first17: str) -> str:
    """The GB 32100 check character for the first 17 characters of a USCC.

    Raises:
        IdentifierError: not 17 characters, or a character outside the USCC set.
    """
    if len(first17) != 17:
        raise IdentifierError(
            f"uscc: wrong length for check computation: expected 17, got {len(first17)}"
        )
    total = 0
    for i, (c, w) in enumerate(zip(first17, _USCC_WEIGHTS, strict=True), start=1):
        v = _USCC_VALUE.get(c)
        if v is None:
            raise IdentifierError(f"uscc: invalid character at position {i}")
        total += v * w
    return USCC_CHARSET[(31 - total % 31) % 31]


def validate_uscc(value: str) -> OrgId:
    """Validate a USCC and return it in canonical form (the last few thousand valid codes
    are remembered: a bulk import checks each subject twice, once from the row and once
    in its ``Record``, and files repeat subjects).

    Raises:
        IdentifierError: wrong length, a character outside the set (by position), a
            non-digit in the region code, a check-character mismatch, or a text that is
            a valid resident identity number (``is_resident_id``: never an organisation,
            whatever its USCC check says). Known legacy codes are accepted, flagged.
            Messages never contain a character of ``value``.
    """
    known = _VALID_USCC.get(value)
    if known is not None:
        return known
    org = _validate_uscc(value)
    if len(_VALID_USCC) >= _VALID_USCC_MAX:
        _VALID_USCC.clear()
    _VALID_USCC[value] = org
    return org


#: valid codes as given -> their ``OrgId`` (bounded; cleared when full)
_VALID_USCC: dict[str, OrgId] = {}
_VALID_USCC_MAX: Final = 8192


def _validate_uscc(value: str) -> OrgId:
    code = _squash(value)
    if len(code) != 18:
        raise IdentifierError(f"uscc: wrong length: expected 18 characters, got {len(code)}")
    if is_resident_id(code):
        raise IdentifierError(
            "uscc: refused: the code is a valid resident identity number (birth date, "
            "region code and check digit), and a person is never logged as an organisation"
        )
    for i, c in enumerate(code[:17], start=1):
        if c not in _USCC_VALUE:
            raise IdentifierError(f"uscc: invalid character at position {i}")
        if 3 <= i <= 8 and c not in "0123456789":
            raise IdentifierError(
                f"uscc: invalid character at position {i}: expected a digit "
                "(positions 3-8 are the region code)"
            )
    # position 18 is judged by the check alone
    if uscc_check_char(code[:17]) != code[17]:
        if code in LEGACY_USCCS:
            return OrgId(code, "uscc", legacy_checksum=True)
        raise IdentifierError("uscc: check character mismatch at position 18")
    return OrgId(code, "uscc")


def org_code_check_char(first8: str) -> str:
    """The GB 11714 check character for the first 8 characters of an organisation code.

    Raises:
        IdentifierError: not 8 characters from ``0-9A-Z``.
    """
    if len(first8) != 8:
        raise IdentifierError(
            f"org code: wrong length for check computation: expected 8, got {len(first8)}"
        )
    total = 0
    for i, (c, w) in enumerate(zip(first8, _ORG_CODE_WEIGHTS, strict=True), start=1):
        v = _ORG_CODE_CHARSET.find(c)
        if v < 0:
            raise IdentifierError(f"org code: invalid character at position {i}")
        total += v * w
    r = 11 - total % 11
    return "X" if r == 10 else "0" if r == 11 else str(r)


def inner_org_code_ok(uscc: str) -> bool:
    """Whether positions 9-17 pass the GB 11714 organisation-code check.

    A warning signal only: a valid USCC may fail it. Returns False for input that is not
    18 characters long or has characters outside ``0-9A-Z`` in positions 9-16.
    """
    code = _squash(uscc)
    if len(code) != 18:
        return False
    try:
        return org_code_check_char(code[8:16]) == code[16]
    except IdentifierError:
        return False


def validate_hk_cr(value: str) -> OrgId:
    """Validate a Hong Kong Companies Registry number (CR No.), with or without ``HK-CR:``.

    Raises:
        IdentifierError: not 8 digits, ``F``/``C`` + 7 digits or ``MF`` + 6 digits.
    """
    code = _squash(value).removeprefix("HK-CR:")
    if not _HK_CR_RE.match(code):
        raise IdentifierError(
            "hk cr no.: invalid format: expected 8 digits, F or C + 7 digits, or MF + 6 digits"
        )
    return OrgId(f"HK-CR:{code}", "hk-cr")


def validate_hk_brn(value: str) -> OrgId:
    """Validate a Hong Kong Business Registration Number, with or without ``HK-BR:``.

    Accepts the 8-digit BRN, BRN-branch, or the full certificate number
    ``BRN-branch-MM-YY-D``; canonical form is ``HK-BR:<8 digits>-<3-digit branch>``.

    Raises:
        IdentifierError: not one of those formats, or a certificate month outside 01-12.
    """
    code = _squash(value).removeprefix("HK-BR:")
    m = _HK_BR_RE.match(code)
    if not m:
        raise IdentifierError(
            "hk brn: invalid format: expected 8 digits, optionally -NNN branch "
            "and -MM-YY-D certificate suffix"
        )
    base, branch, month = m.group(1), m.group(2) or "000", m.group(3)
    if month is not None and not 1 <= int(month) <= 12:
        raise IdentifierError(
            "hk brn: invalid certificate expiry month at characters 13-14: expected 01-12"
        )
    return OrgId(f"HK-BR:{base}-{branch}", "hk-br")


def validate_org_id(value: str) -> OrgId:
    """Validate any organisation id (USCC, HK CR No., HK BRN) and canonicalise it.

    Raises:
        IdentifierError: invalid for its scheme, or a bare 8-digit number (ambiguous
            between a HK CR No. and a BRN).
    """
    code = _squash(value)
    if code.startswith("HK-CR:"):
        return validate_hk_cr(code)
    if code.startswith("HK-BR:"):
        return validate_hk_brn(code)
    if len(code) == 18:
        return validate_uscc(code)
    if "-" in code:
        return validate_hk_brn(code)
    if code.startswith(("F", "C", "MF")):
        return validate_hk_cr(code)
    if re.fullmatch(r"[0-9]{8}", code):
        raise IdentifierError(
            "org id: ambiguous 8-digit number: expected a HK-CR: or HK-BR: prefix"
        )
    raise IdentifierError(
        f"org id: unrecognised format: expected an 18-character uscc or a HK-CR:/HK-BR: "
        f"number, got {len(code)} characters"
    )


def resident_id_check_char(first17: str) -> str:
    """The GB 11643 (ISO 7064 MOD 11-2) check character for 17 digits.

    Raises:
        IdentifierError: not exactly 17 ASCII digits.
    """
    if len(first17) != 17 or not first17.isascii() or not first17.isdigit():
        raise IdentifierError("resident id: check computation needs 17 digits")
    total = sum(int(c) * w for c, w in zip(first17, _RID_WEIGHTS, strict=True))
    return _RID_CHECK[total % 11]


def is_resident_id(text: str) -> bool:
    """Whether ``text`` (already squashed: no spaces, upper case) is a valid 18-character
    resident identity number: 17 digits and a digit or ``X``, a GB/T 2260 province code
    (``RESIDENT_REGION_PREFIXES``), a calendar birth date from 1800 at positions 7-14,
    and the GB 11643 check character. Never raises; says nothing about why not."""
    if not _RID_RE.match(text) or text[:2] not in RESIDENT_REGION_PREFIXES:
        return False
    try:
        _check_birth_date(text[6:14], "7-14")
    except IdentifierError:
        return False
    return resident_id_check_char(text[:17]) == text[17]


def _check_birth_date(yyyymmdd: str, positions: str) -> None:
    try:
        born = date(int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8]))
    except ValueError:
        raise IdentifierError(f"resident id: invalid birth date at positions {positions}") from None
    if born.year < 1800:
        raise IdentifierError(f"resident id: invalid birth date at positions {positions}")


def normalise_resident_id(raw: str) -> str:
    """Validate a resident identity number and return its 18-character form.

    Strips and drops inner whitespace, upper-cases ``x``, and converts a 15-digit
    number by inserting the century ``19`` and computing the check character.

    Raises:
        IdentifierError: wrong length, a non-digit (by position), an invalid birth
            date, or a check-character mismatch. Messages never contain the number.
    """
    rid = _squash(raw)
    if len(rid) == 15:
        for i, c in enumerate(rid, start=1):
            if not ("0" <= c <= "9"):
                raise IdentifierError(f"resident id: invalid character at position {i}")
        _check_birth_date("19" + rid[6:12], "7-12")
        first17 = rid[:6] + "19" + rid[6:]
        return first17 + resident_id_check_char(first17)
    if len(rid) != 18:
        raise IdentifierError(
            f"resident id: wrong length: expected 15 or 18 characters, got {len(rid)}"
        )
    for i, c in enumerate(rid, start=1):
        if not ("0" <= c <= "9" or (i == 18 and c == "X")):
            raise IdentifierError(f"resident id: invalid character at position {i}")
    _check_birth_date(rid[6:14], "7-14")
    if resident_id_check_char(rid[:17]) != rid[17]:
        raise IdentifierError("resident id: check character mismatch at position 18")
    return rid
