"""Every package states its public API: a sorted ``__all__`` whose every name resolves
(the ``credex.node`` and ``credex.ledger`` packages import their names lazily, so this
also checks each lazy entry points at a module that has the name)."""

from __future__ import annotations

import importlib

import pytest
from package_modules import packages

PACKAGES = packages()


def _sort_key(name: str) -> tuple[bool, bool, str]:
    return (not name.isupper(), name[0].islower(), name)


def test_every_package_is_listed() -> None:
    assert {"credex.ledger", "credex.node", "credex.node.services", "credex.cli"} <= set(PACKAGES)


@pytest.mark.parametrize("name", PACKAGES)
def test_package_all_resolves(name: str) -> None:
    pkg = importlib.import_module(name)
    exported = getattr(pkg, "__all__", None)
    assert exported is not None, f"{name} has no __all__"
    assert list(exported) == sorted(exported, key=_sort_key), f"{name}.__all__ is not sorted"
    missing = [n for n in exported if getattr(pkg, n, None) is None]
    assert missing == []


def test_unknown_names_are_attribute_errors() -> None:
    import credex.node

    with pytest.raises(AttributeError, match="no attribute"):
        _ = credex.node.NoSuchThing  # type: ignore[attr-defined]
