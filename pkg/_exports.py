"""Lazy re-exports for the ``credex.node`` packages (PEP 562 module ``__getattr__``).

A package's ``__init__`` states its public API (``__all__``, and the same names imported
under ``TYPE_CHECKING`` for type checkers) without importing its modules at start: a
name is imported from its module the first time it is used. So ``credex --help`` does
not load gRPC or SQLAlchemy, and a package's modules may import each other without a
cycle through ``__init__``.
"""

from __future__ import annotations

import importlib
import sys
from collections.abc import Callable, Mapping
from typing import Any

__all__ = ["globals_of", "lazy_exports"]


def lazy_exports(package: str, where: Mapping[str, str]) -> Callable[[str], Any]:
    """A module ``__getattr__`` for ``package`` that imports each public name from the
    module ``where`` names for it (absolute, or relative to ``package``)."""

    def __getattr__(name: str) -> Any:
        module = where.get(name)
        if module is None:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        full = module if module.startswith("credex.") else f"{package}.{module}"
        value = getattr(importlib.import_module(full), name)
        globals_of(package)[name] = value  # later lookups skip this hook
        return value

    return __getattr__


def globals_of(package: str) -> dict[str, Any]:
    """The namespace of the (imported) module ``package``."""
    return vars(sys.modules[package])
