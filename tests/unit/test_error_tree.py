"""The one error tree: every ``CredexError`` is in ``credex.ledger.errors`` with a unique
code, and the gRPC edge maps each back to the same class (server ``abort_with`` ->
status and ``x-credex-error`` trailer -> client ``error_from_rpc``).

Every module of the package is imported first, so a class defined anywhere else is
found. The server context and the client's ``RpcError`` are small fakes that record
what the real gRPC objects would carry.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

import grpc
import pytest
from package_modules import package_modules

from credex.ledger import errors
from credex.ledger.errors import CredexError, PeerError, PeerUnavailableError
from credex.node.rpc.errors import error_from_rpc, status_for


def _import_everything() -> None:
    for name in package_modules():
        if name != "credex.__main__":  # runs the command line
            importlib.import_module(name)


def _all_subclasses(cls: type) -> set[type]:
    out: set[type] = set()
    for sub in cls.__subclasses__():
        out |= {sub, *_all_subclasses(sub)}
    return out


_import_everything()
CLASSES = sorted(_all_subclasses(CredexError) | {CredexError}, key=lambda c: c.__name__)


def test_every_module_was_imported() -> None:
    import sys

    assert "credex.node.rpc.server" in sys.modules and "credex.cli.main" in sys.modules


def test_every_error_class_is_in_the_catalogue() -> None:
    outside = [f"{c.__module__}.{c.__name__}" for c in CLASSES if c.__module__ != errors.__name__]
    assert outside == []
    missing = [c.__name__ for c in CLASSES if c.__name__ not in errors.__all__]
    assert missing == []


def test_the_tree_drawing_names_every_class() -> None:
    doc = errors.__doc__ or ""
    assert [c.__name__ for c in CLASSES if c.__name__ not in doc] == []


def test_codes_are_unique() -> None:
    codes: dict[str, str] = {}
    for c in CLASSES:
        assert c.code not in codes, f"{c.__name__} reuses code {c.code!r} of {codes.get(c.code)}"
        codes[c.code] = c.__name__


class _Aborted(Exception):
    pass


@dataclass
class _Item:
    key: str
    value: str


class _ServerContext:
    """What ``abort_with`` uses of a grpc.ServicerContext."""

    def __init__(self) -> None:
        self.trailers: tuple[tuple[str, str], ...] = ()
        self.code: grpc.StatusCode | None = None
        self.details = ""

    def set_trailing_metadata(self, trailers: tuple[tuple[str, str], ...]) -> None:
        self.trailers = trailers

    def abort(self, code: grpc.StatusCode, details: str) -> None:
        self.code, self.details = code, details
        raise _Aborted


class _RpcError(grpc.RpcError):  # type: ignore[misc]
    """A failed call as the client sees it."""

    def __init__(self, ctx: _ServerContext) -> None:
        self._ctx = ctx

    def code(self) -> grpc.StatusCode | None:
        return self._ctx.code

    def details(self) -> str:
        return self._ctx.details

    def trailing_metadata(self) -> list[_Item]:
        return [_Item(k, v) for k, v in self._ctx.trailers]


def _instance(cls: type[CredexError]) -> CredexError:
    return cls("test: something failed")


@pytest.mark.parametrize("cls", CLASSES, ids=lambda c: c.__name__)
def test_grpc_round_trip(cls: type[CredexError]) -> None:
    from credex.node.rpc.errors import abort_with

    ctx = _ServerContext()
    with pytest.raises(_Aborted):
        abort_with(ctx, _instance(cls), "/credex.v1.Log/GetEntries")
    assert ctx.code == status_for(_instance(cls))
    back: Any = error_from_rpc(_RpcError(ctx), "test")
    if issubclass(cls, PeerError):  # transient on the wire: the client retries
        assert isinstance(back, PeerUnavailableError)
    else:
        assert type(back) is cls
