"""Textual input is read with ASCII-only grammars (the root of finding 9).

Python's ``str.isdigit`` is true for "²" and "١٢", ``int`` reads "١٢", "1_0" and " 12 ",
a regex ``\\d`` matches every Unicode digit unless compiled with ``re.ASCII``, and ``$``
matches before a trailing newline. Each let two texts stand for one value, or let a
``ValueError`` escape where a named error belonged. This module checks the code for
them (every ``re`` pattern, every ``is*digit`` call, every numeric command-line
parameter) and tries the inputs that broke it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer

from credex.cli.main import build_app
from credex.ledger.dates import parse_date, parse_time
from credex.ledger.errors import (
    CredexError,
    DateFormatError,
    FormatError,
    IdentifierError,
    RecordError,
)
from credex.ledger.identifiers import validate_hk_brn, validate_hk_cr, validate_org_id
from credex.ledger.record import Record, Subject
from tests.integration.clirunner import make_cli

ROOT = Path(__file__).resolve().parents[2]
SOURCES = ("ledger", "node", "cli", "adapters", "pkg")
_RE_FUNCS = {
    "compile",
    "match",
    "fullmatch",
    "search",
    "sub",
    "subn",
    "split",
    "findall",
    "finditer",
}


def _modules() -> Iterator[tuple[Path, ast.Module]]:
    for top in SOURCES:
        for path in sorted((ROOT / top).rglob("*.py")):
            yield path, ast.parse(path.read_text(encoding="utf-8"), str(path))


def _patterns() -> Iterator[tuple[str, str, str]]:
    """(where, pattern, flags source) of every ``re.<func>("literal", ...)`` call."""
    for path, tree in _modules():
        for node in ast.walk(tree):
            if not (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and isinstance(node.func.value, ast.Name)
                and node.func.value.id == "re"
                and node.func.attr in _RE_FUNCS
                and node.args
                and isinstance(node.args[0], ast.Constant)
            ):
                continue
            pattern = node.args[0].value
            text = pattern.decode("latin-1") if isinstance(pattern, bytes) else str(pattern)
            flags = " ".join(ast.unparse(a) for a in node.args[1:]) + " ".join(
                ast.unparse(k.value) for k in node.keywords if k.arg == "flags"
            )
            yield f"{path.relative_to(ROOT)}:{node.lineno}", text, flags


def test_the_scan_sees_the_patterns() -> None:
    found = list(_patterns())
    assert len(found) > 20
    assert any("checkpoint.py" in where for where, _, _ in found)


def test_digit_and_word_classes_are_ascii() -> None:
    bad = [
        where
        for where, pattern, flags in _patterns()
        if ("\\d" in pattern or "\\w" in pattern)
        and "ASCII" not in flags
        and "re.A" not in flags.split()
    ]
    assert bad == [], "compile with re.ASCII (\\d takes every Unicode digit): " + ", ".join(bad)


def test_no_pattern_ends_with_a_dollar() -> None:
    # "$" matches before a trailing newline: "cn-zj-ningbo\n" matched ^[a-z0-9-]+$
    bad = [
        where
        for where, pattern, _ in _patterns()
        if pattern.endswith("$") and not pattern.endswith("\\$")
    ]
    assert bad == [], "end with \\Z or use fullmatch: " + ", ".join(bad)


def test_no_unicode_digit_predicates() -> None:
    bad = []
    for path, tree in _modules():
        lines = path.read_text(encoding="utf-8").splitlines()
        for node in ast.walk(tree):
            if (
                isinstance(node, ast.Call)
                and isinstance(node.func, ast.Attribute)
                and node.func.attr in ("isdigit", "isdecimal", "isnumeric")
                and "isascii()" not in lines[node.lineno - 1]
            ):
                bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    assert bad == [], "str.isdigit() is true for '²' and '١٢': " + ", ".join(bad)


def test_every_numeric_command_line_parameter_parses_ascii() -> None:
    left = []

    def walk(cmd: object, path: str) -> None:
        for p in getattr(cmd, "params", []):
            if type(p.type).__name__ in (
                "IntParamType",
                "FloatParamType",
                "IntRange",
                "FloatRange",
            ):
                left.append(f"{path} {p.name}")
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, f"{path} {name}")

    walk(typer.main.get_command(build_app()), "credex")
    assert left == [], "use parser=AsciiInt / AsciiFloat (click's int() takes '١٢'): " + str(left)


# --- the inputs that got through -----------------------------------------------------------


@pytest.mark.parametrize("text", ["٢٠٢٦-٠١-٠١", "۲۰۲۶/۱/۱", "２０２６-01-01x", "2026-01-01\n1"])
def test_dates_in_other_digits_are_refused(text: str) -> None:
    with pytest.raises(DateFormatError):
        parse_date(text)


def test_full_width_digits_still_fold_to_ascii() -> None:
    # NFKC folds full-width digits (common in Chinese spreadsheets) before the ASCII grammar
    assert parse_date("２０２６年１１月１日").isoformat() == "2026-11-01"


@pytest.mark.parametrize("text", ["١٧٨٠٢٧٢٠٠٠", "1_780_272_000", "+1780272000"])
def test_times_in_other_digits_are_refused(text: str) -> None:
    with pytest.raises(DateFormatError):
        parse_time(text)


@pytest.mark.parametrize(
    "check",
    [
        lambda: validate_hk_cr("HK-CR:١٢٣٤٥٦٧٨"),
        lambda: validate_hk_brn("HK-BR:١٢٣٤٥٦٧٨"),
        lambda: validate_org_id("HK-BR:12345678-٠٠٠"),
    ],
    ids=["hk-cr", "hk-br", "hk-br-branch"],
)
def test_identifiers_in_other_digits_are_refused(check: object) -> None:
    with pytest.raises(IdentifierError):
        check()  # type: ignore[operator]


def _record(region: str, person: str | None = None) -> Record:
    body = {"scheme": "HANGZHOU_QIANJIANG", "score": 700, "band": "A", "as_of": "2026-11-01"}
    subject = Subject("person", person) if person else Subject("org", "91330100MA0YX0016X")
    return Record("score.city", region, subject, body, 1_780_000_000)


def test_a_trailing_newline_is_not_part_of_an_id() -> None:
    assert _record("cn-zj-hangzhou").region == "cn-zj-hangzhou"
    with pytest.raises(RecordError):
        _record("cn-zj-hangzhou\n")
    person = "hmac:0011aabb:" + "ab" * 32
    assert _record("cn-zj-hangzhou", person)
    with pytest.raises((RecordError, FormatError)):
        _record("cn-zj-hangzhou", person + "\n")


def test_a_command_line_number_in_other_digits_is_a_usage_error(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    cli = make_cli(capsys, monkeypatch)
    for args in (
        ["prove", "inclusion", "١"],
        ["prove", "inclusion", "1_0"],
        ["bundle", "²", "-o", "x"],
    ):
        r = cli(*args, "--home", tmp_path)
        assert r.code == 2, r.text
        assert "expected an integer in ASCII digits" in r.err
    r = cli("serve", "--follow", "١", "--home", tmp_path)
    assert r.code == 2 and "expected a decimal number in ASCII digits" in r.err


def test_errors_are_credex_errors() -> None:
    # what the parsers raise is always in the named family, never a bare ValueError
    for bad in ("²", "١٢", "\x00", "9" * 5000):
        for fn in (parse_date, parse_time, validate_org_id):
            with pytest.raises(CredexError):
                fn(bad)
