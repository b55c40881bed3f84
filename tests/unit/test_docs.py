"""Docs that must not drift from the code: the records doc, the README's two lines and
.ci/run, and the commands the README lists."""

from __future__ import annotations

import importlib.util
import re
from pathlib import Path

import pytest

from credex.cli.main import main

ROOT = Path(__file__).resolve().parents[2]


def test_records_doc_is_generated_from_kind_specs() -> None:
    spec = importlib.util.spec_from_file_location("gen", ROOT / "scripts" / "gen_records_doc.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    assert (ROOT / "docs" / "records.md").read_text(encoding="utf-8") == mod.render()
    kinds_js = ROOT / "node" / "web" / "static" / "verify" / "kinds.js"
    assert kinds_js.read_text(encoding="utf-8") == mod.render_js()


def _sh_blocks(text: str) -> list[str]:
    return re.findall(r"```sh\n(.*?)```", text, flags=re.S)


def test_readme_two_lines_and_ci_run_the_same_test_line() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    demo_line, test_line = (b.strip() for b in _sh_blocks(readme)[:2])
    assert demo_line.endswith("credex demo") and "\n" not in demo_line
    assert test_line.endswith("pytest") and "\n" not in test_line
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert test_line in ci
    assert any(line.startswith("export CREDEX_TEST_POSTGRES_URL=") for line in ci)


@pytest.mark.parametrize(
    "argv",
    [
        ["init"],
        ["issuer", "add"],
        ["issuer", "list"],
        ["issue"],
        ["import"],
        ["checkpoint"],
        ["info"],
        ["prove", "inclusion"],
        ["prove", "consistency"],
        ["bundle"],
        ["verify"],
        ["trust", "export"],
        ["demo"],
        ["bench"],
        ["serve"],
        ["node", "info"],
        ["client", "add"],
        ["federation", "init"],
        ["peers", "sync"],
        ["evidence", "verify"],
        ["policy", "add"],
        ["recognize"],
        ["lifecycle", "repair"],
        ["lifecycle", "outcome"],
        ["federation", "delegate-add"],
        ["federation", "delegate-remove"],
        ["status"],
        ["lookup"],
        ["lookups"],
        ["conflicts"],
        ["rule", "add"],
        ["evaluate"],
        ["check"],
        ["commitments", "make"],
        ["commitments", "due"],
        ["qr"],
        ["backup"],
        ["restore"],
    ],
    ids=lambda a: "-".join(a),
)
def test_every_readme_command_has_help(argv: list[str], capsys: pytest.CaptureFixture[str]) -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"credex {' '.join(argv)}" in readme or f"`{argv[-1]}" in readme
    with pytest.raises(SystemExit) as e:
        main([*argv, "--help"])
    assert e.value.code == 0
    assert "Usage:" in capsys.readouterr().out
