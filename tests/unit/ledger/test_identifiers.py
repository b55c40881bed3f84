from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from credex.ledger.errors import IdentifierError
from credex.ledger.identifiers import (
    LEGACY_USCCS,
    USCC_CHARSET,
    OrgId,
    inner_org_code_ok,
    normalise_resident_id,
    org_code_check_char,
    resident_id_check_char,
    uscc_check_char,
    validate_hk_brn,
    validate_hk_cr,
    validate_org_id,
    validate_uscc,
)

# DOMAIN §1.1 and §8: published or recomputed valid codes.
VALID_USCCS = [
    "91350100M000100Y43",
    "91110000600037341L",
    "91110000101623741K",
    "911101066976941872",
    "91440300708461136T",
    "91330200MA0YX00163",
    "91330200MA0YX0024X",
    "91330100MA0YX0016X",
    "91330100MA0YX0024Q",
    "91350200MA0YX0016B",
    "91350200MA0YX00246",
    "91440300MA0YX00163",
    "92330200MA0YX0091Q",
    "52350200MA0YX00915",
    "12330100MA0YX0091U",
]


@pytest.mark.parametrize("code", VALID_USCCS)
def test_valid_uscc(code: str) -> None:
    assert validate_uscc(code) == OrgId(code, "uscc", legacy_checksum=False)
    assert inner_org_code_ok(code)


def test_uscc_normalised() -> None:
    assert validate_uscc("  91350100 m000100 y43\n").id == "91350100M000100Y43"


def test_uscc_check_mismatch_names_the_position_only() -> None:
    # never a character of the input (finding 8: it may be a resident ID in the wrong field)
    with pytest.raises(IdentifierError, match=r"^uscc: check character mismatch at position 18$"):
        validate_uscc("91350100M000100Y4Z")
    with pytest.raises(IdentifierError, match=r"^uscc: check character mismatch at position 18$"):
        validate_uscc("91310115MA1H8R7C6D")  # invented blog example


def test_uscc_invalid_character_position() -> None:
    with pytest.raises(IdentifierError, match=r"^uscc: invalid character at position 10$"):
        validate_uscc("91350100MI00100Y43")
    with pytest.raises(IdentifierError, match=r"^uscc: invalid character at position 12$"):
        validate_uscc("91330200MA0OX00163")  # O/0 typo


def test_uscc_region_code_must_be_digits() -> None:
    with pytest.raises(IdentifierError, match=r"position 5: expected a digit \(positions 3-8"):
        validate_uscc("9135A100M000100Y43")


@pytest.mark.parametrize("code", ["", "9135010", "91350100M000100Y431"])
def test_uscc_wrong_length(code: str) -> None:
    with pytest.raises(IdentifierError, match="uscc: wrong length: expected 18 characters"):
        validate_uscc(code)


@pytest.mark.parametrize("code", sorted(LEGACY_USCCS))
def test_legacy_fujian_codes_accepted_and_flagged(code: str) -> None:
    org = validate_uscc(code)
    assert org.legacy_checksum is True
    assert org.id == code
    assert uscc_check_char(code[:17]) != code[17]
    assert inner_org_code_ok(code)


def test_uscc_first_char_y_or_n_accepted() -> None:
    # python-stdnum pitfall: codes starting with a letter are legitimate
    for prefix in ("Y1", "N1", "A1"):
        first17 = prefix + "330200MA0YX0016"
        code = first17 + uscc_check_char(first17)
        assert validate_uscc(code).id == code


def test_inner_org_code_is_a_warning_only() -> None:
    first17 = "91330200MA0YX0017"  # inner check is 6, not 7
    code = first17 + uscc_check_char(first17)
    assert validate_uscc(code).legacy_checksum is False
    assert not inner_org_code_ok(code)
    assert not inner_org_code_ok("short")
    assert org_code_check_char("MA0YX001") == "6"


_BODY = st.text(alphabet=USCC_CHARSET, min_size=15, max_size=15)


def _code(first: str, region: str, body: str) -> str:
    first17 = (first + region + body)[:17]
    return first17 + uscc_check_char(first17)


_CODES = st.builds(
    _code,
    st.text(alphabet=USCC_CHARSET, min_size=2, max_size=2),
    st.from_regex(r"\A[0-9]{6}\Z"),
    st.text(alphabet=USCC_CHARSET, min_size=9, max_size=9),
)


@given(_CODES)
def test_every_generated_uscc_validates(code: str) -> None:
    assert validate_uscc(code).id == code


@given(_CODES, st.integers(0, 16), st.characters(codec="ascii", categories=["Lu", "Nd"]))
def test_any_single_change_fails(code: str, pos: int, char: str) -> None:
    if code[pos] == char:
        return
    mutated = code[:pos] + char + code[pos + 1 :]
    try:
        org = validate_uscc(mutated)
    except IdentifierError as e:
        text = str(e)
        assert f"position {pos + 1}" in text or "position 18" in text or "resident" in text
    else:  # only a published legacy code may pass with a wrong check
        assert org.legacy_checksum


# Hong Kong


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("03645219", "HK-CR:03645219"),
        ("f0008739", "HK-CR:F0008739"),
        ("C0486085", "HK-CR:C0486085"),
        ("MF001910", "HK-CR:MF001910"),
        ("hk-cr: 03645219", "HK-CR:03645219"),
    ],
)
def test_hk_cr(raw: str, canonical: str) -> None:
    assert validate_hk_cr(raw) == OrgId(canonical, "hk-cr")
    assert validate_org_id(canonical) == OrgId(canonical, "hk-cr")


@pytest.mark.parametrize("raw", ["0364521", "036452190", "X0008739", "F000873", "MF0019101"])
def test_hk_cr_bad_format(raw: str) -> None:
    with pytest.raises(IdentifierError, match=r"^hk cr no.: invalid format"):
        validate_hk_cr(raw)


@pytest.mark.parametrize(
    ("raw", "canonical"),
    [
        ("41409990", "HK-BR:41409990-000"),
        ("41409990-000", "HK-BR:41409990-000"),
        ("41409990-001", "HK-BR:41409990-001"),
        ("12345678-000-01-11-1", "HK-BR:12345678-000"),
        ("HK-BR:12345678-000", "HK-BR:12345678-000"),
    ],
)
def test_hk_brn(raw: str, canonical: str) -> None:
    assert validate_hk_brn(raw) == OrgId(canonical, "hk-br")
    assert validate_org_id(canonical).id == canonical


def test_hk_brn_bad() -> None:
    with pytest.raises(IdentifierError, match=r"^hk brn: invalid format"):
        validate_hk_brn("1234567-000")
    with pytest.raises(IdentifierError, match=r"expiry month at characters 13-14: expected 01-12$"):
        validate_hk_brn("12345678-000-13-11-1")


def test_org_id_dispatch() -> None:
    assert validate_org_id("91350100m000100y43").scheme == "uscc"
    assert validate_org_id("F0008739").id == "HK-CR:F0008739"
    assert validate_org_id("41409990-000-01-11-1").id == "HK-BR:41409990-000"
    with pytest.raises(IdentifierError, match="ambiguous 8-digit number"):
        validate_org_id("03645219")
    with pytest.raises(IdentifierError, match=r"^org id: unrecognised format"):
        validate_org_id("hello")
    # canonical HK ids carry ':' and '-', outside the USCC set: never read as a USCC
    for hk in ("HK-BR:41409990-000", "HK-CR:03645219"):
        assert validate_org_id(hk).scheme != "uscc"
        with pytest.raises(IdentifierError, match=r"^uscc: "):
            validate_uscc(hk)


# Resident ID


@pytest.mark.parametrize("rid", ["11010519491231002X", "440524188001010014", "360426199101010071"])
def test_resident_id_valid(rid: str) -> None:
    assert normalise_resident_id(rid) == rid


def test_resident_id_normalised() -> None:
    assert normalise_resident_id(" 110105 19491231002x ") == "11010519491231002X"


def test_resident_id_15_digit_converted() -> None:
    # 15-digit form of 11010519491231002X drops the century and the check character
    assert normalise_resident_id("110105491231002") == "11010519491231002X"


RID = "11010519491231002X"


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("11010519491231002Y", r"^resident id: invalid character at position 18$"),
        ("110105194912310021", r"^resident id: check character mismatch at position 18$"),
        ("1101051949123100", r"^resident id: wrong length: expected 15 or 18 characters, got 16$"),
        ("11010519491331002X", r"^resident id: invalid birth date at positions 7-14$"),
        ("11010517001231002X", r"^resident id: invalid birth date at positions 7-14$"),
        ("110105491331002", r"^resident id: invalid birth date at positions 7-12$"),
        ("1101054912310A2", r"^resident id: invalid character at position 14$"),
        ("1101051949X231002X", r"^resident id: invalid character at position 11$"),
    ],
)
def test_resident_id_errors_never_contain_the_number(raw: str, message: str) -> None:
    with pytest.raises(IdentifierError, match=message) as info:
        normalise_resident_id(raw)
    text = str(info.value)
    for n in range(6, len(raw) + 1):  # no run of 6+ characters of the input
        for i in range(len(raw) - n + 1):
            assert raw[i : i + n] not in text


def test_resident_check_char() -> None:
    assert resident_id_check_char(RID[:17]) == "X"
    with pytest.raises(IdentifierError, match="needs 17 digits"):
        resident_id_check_char("123")


@given(
    st.from_regex(
        r"\A[1-6][0-9]{5}(19[0-9]{2}|20[01][0-9])(0[1-9]|1[0-2])(0[1-9]|1[0-9]|2[0-8])[0-9]{3}\Z"
    )
)
def test_generated_resident_ids_roundtrip(first17: str) -> None:
    rid = first17 + resident_id_check_char(first17)
    assert normalise_resident_id(rid.lower()) == rid
    wrong = next(c for c in "0123456789X" if c != rid[17])
    with pytest.raises(IdentifierError, match=r"check character mismatch at position 18$"):
        normalise_resident_id(rid[:17] + wrong)
