"""Finding 8: raw resident ID numbers on the log.

About 3 % of valid resident identity numbers (GB 11643) also pass the USCC check
(GB 32100), so ``credex issue --subject <ID>`` and a bank's Lookup by ``subject`` logged a
raw ID as an ``org`` subject in a public, mirrored leaf; and the USCC error messages
echoed characters of the rejected number. Now any org id that is also a valid resident ID
(birth date, region code, check digit) is refused, and no identifier error names a
character of its input.
"""

from __future__ import annotations

import re
from datetime import date
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as hs
from integration.clirunner import Cli, log_size, make_cli

from credex.ledger.errors import IdentifierError
from credex.ledger.identifiers import (
    USCC_CHARSET,
    resident_id_check_char,
    uscc_check_char,
    validate_org_id,
    validate_uscc,
)
from credex.ledger.record import Subject

from .support import make_home, serve

#: a valid resident ID (Beijing Chaoyang, born 1949-12-31) whose check digit 9 is also
#: its USCC check character: before the fix it was accepted as an organisation
RID_AS_USCC = "110105194912310409"


def _digit_runs(text: str) -> set[str]:
    """Every run of 6 or more consecutive digits in ``text`` (and its 6-digit windows)."""
    runs = set()
    for m in re.finditer(r"\d{6,}", text):
        s = m.group()
        runs |= {s[i : i + 6] for i in range(len(s) - 5)}
    return runs


def _assert_not_echoed(message: str, value: str) -> None:
    leaked = _digit_runs(value) & _digit_runs(message)
    assert not leaked, f"message echoes digits of its input: {message!r}"


def test_the_example_passes_both_checks_as_numbers() -> None:
    # the premise of the finding: a resident ID whose USCC check character matches
    assert resident_id_check_char(RID_AS_USCC[:17]) == RID_AS_USCC[17]
    assert uscc_check_char(RID_AS_USCC[:17]) == RID_AS_USCC[17]


def test_a_resident_id_is_refused_as_an_org_id_everywhere() -> None:
    for parse in (validate_org_id, validate_uscc, lambda v: Subject("org", v)):
        with pytest.raises(IdentifierError, match="resident identity number") as e:
            parse(RID_AS_USCC)
        _assert_not_echoed(str(e.value), RID_AS_USCC)


def test_uscc_errors_name_positions_never_characters() -> None:
    cases = {
        "91330200MA0YX0016Z": "uscc: check character mismatch at position 18",
        "91330200MA0YXI0163": "uscc: invalid character at position 14",
        "9133A200MA0YX00163": "uscc: invalid character at position 5",
    }
    for value, message in cases.items():
        with pytest.raises(IdentifierError) as e:
            validate_uscc(value)
        text = str(e.value)
        assert text.startswith(message), text
        assert "got" not in text and "'" not in text, text  # no character of the input


def test_bad_input_one_named_error_and_nothing_logged(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    cli: Cli = make_cli(capsys, monkeypatch)
    home = tmp_path / "home"
    assert cli("init", home, "--region", "cn-zj-ningbo", "--origin", "o.example/log").code == 0
    body = '{"scheme": "tianyi", "score": 700, "band": "A", "as_of": "2026-05-31"}'
    args = ("issue", "--home", home, "--kind", "score.city", "--body", body)
    r = cli(*args, "--subject", RID_AS_USCC)
    assert r.code != 0 and r.err.count("\n") == 1
    assert "resident identity number" in r.err
    _assert_not_echoed(r.err, RID_AS_USCC)
    assert log_size(cli, home) == 0


def test_a_bank_lookup_by_subject_refuses_it_and_logs_nothing(tmp_path: Path) -> None:
    with serve(make_home(tmp_path / "ningbo")) as s, s.registered("bank-1", "bank") as bank:
        with pytest.raises(IdentifierError) as e:
            bank.lookup(subject=RID_AS_USCC, purpose="eligibility", authorisation="loan:1")
        _assert_not_echoed(str(e.value), RID_AS_USCC)
        assert s.node.log.size == 0  # no audit.lookup naming it either


# --- properties -------------------------------------------------------------------------

#: GB/T 2260 province-level codes (and 81-83: Hong Kong, Macao and Taiwan residents'
#: residence permits, which use the same number format)
PROVINCES = [
    str(n)
    for lo, hi in ((11, 15), (21, 23), (31, 37), (41, 46), (50, 54), (61, 65), (71, 71), (81, 83))
    for n in range(lo, hi + 1)
]
_BIRTH = hs.dates(min_value=date(1900, 1, 1), max_value=date(2030, 12, 31))


@hs.composite
def resident_ids(draw: hs.DrawFn) -> str:
    """A valid 18-character resident ID: province code, 4 address digits, birth date,
    sequence, check character."""
    province = draw(hs.sampled_from(PROVINCES))
    address = draw(hs.text("0123456789", min_size=4, max_size=4))
    born: date = draw(_BIRTH)
    seq = draw(hs.text("0123456789", min_size=3, max_size=3))
    first17 = f"{province}{address}{born:%Y%m%d}{seq}"
    return first17 + resident_id_check_char(first17)


@settings(max_examples=3000, deadline=None)
@given(resident_ids())
def test_no_valid_resident_id_is_accepted_as_an_org_id(rid: str) -> None:
    with pytest.raises(IdentifierError) as e:
        validate_org_id(rid)
    _assert_not_echoed(str(e.value), rid)
    with pytest.raises(IdentifierError):
        validate_org_id(rid.lower())  # an "x" check character is upper-cased first


_ID_CHARS = USCC_CHARSET + "IOSVZ-: x"


@settings(max_examples=3000, deadline=None)
@given(
    hs.one_of(
        hs.text(_ID_CHARS, min_size=0, max_size=24),
        hs.text("0123456789X", min_size=14, max_size=20),
        resident_ids().map(lambda r: r[:17] + ("X" if r[17] != "X" else "0")),
        resident_ids().map(lambda r: "HK-BR:" + r[:8] + "-" + r[8:11] + "-13-25-1"),
    )
)
def test_no_identifier_error_echoes_six_digits_of_its_input(value: str) -> None:
    try:
        validate_org_id(value)
    except IdentifierError as e:
        _assert_not_echoed(str(e), value)
        assert "\n" not in str(e)


def test_valid_usccs_are_still_accepted() -> None:
    # sample and golden codes keep working: the refusal only hits resident-ID look-alikes
    for code in ("91330200MA0YX00163", "91330100MA0YX0016X", "91350211M0000XUF46"):
        assert validate_org_id(code).id == code
