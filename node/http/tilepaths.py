"""C2SP tlog-tiles paths and bytes: the strict grammar of ``tile/<L>/<N>[.p/<W>]`` and
``tile/entries/<N>[.p/<W>]``, which tree nodes a tile holds, and entry bundles.

Grammar (c2sp.org/tlog-tiles), refused otherwise with ``FormatError`` (HTTP 400):

- ``<L>``: a decimal ASCII integer 0..63 without leading zeros;
- ``<N>``: zero-padded 3-digit ASCII path elements, every one but the last prefixed with
  ``x``, in canonical form (no leading ``x000`` element), at most 7 elements (an index
  below 10^21, far beyond any log: sizes are below 2^63);
- ``.p/<W>``: a decimal ASCII integer 1..255 without leading zeros.

The *n*-th tile at level *l* holds the hashes of the perfect subtrees of ``256**l``
leaves ``n*256 .. n*256+W-1``, i.e. tree nodes at RFC 9162 height ``8*l``; an entry
bundle holds the same entries' statements, each prefixed by its big-endian uint16
length. Whether a tile may be served (inside the latest checkpoint) is ``tile_span``'s
caller's decision. Pure: no I/O.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final

from credex.ledger.errors import FormatError, OversizeError

__all__ = [
    "TILE_HEIGHT",
    "TILE_PATH_PATTERN",
    "TILE_WIDTH",
    "TilePath",
    "encode_entry_bundle",
    "parse_tile_path",
    "tile_index_path",
]

#: tree levels per tile, and hashes in a full tile
TILE_HEIGHT: Final = 8
TILE_WIDTH: Final = 1 << TILE_HEIGHT
_MAX_LEVEL: Final = 63
_MAX_ELEMENTS: Final = 7
_LEVEL_RE: Final = re.compile(r"(?:0|[1-9][0-9]?)", re.ASCII)
_WIDTH_RE: Final = re.compile(r"[1-9][0-9]{0,2}", re.ASCII)
_ELEMENT_RE: Final = re.compile(r"x?[0-9]{3}", re.ASCII)
#: the same grammar as one regular expression, for the OpenAPI document (the parser above
#: is what decides; a test checks both agree)
TILE_PATH_PATTERN: Final = (
    r"^(?:[0-9]|[1-5][0-9]|6[0-3]|entries)/"
    r"(?:x(?:00[1-9]|0[1-9][0-9]|[1-9][0-9]{2})/(?:x[0-9]{3}/){0,5})?[0-9]{3}"
    r"(?:\.p/(?:[1-9]|[1-9][0-9]|1[0-9]{2}|2[0-4][0-9]|25[0-5]))?$"
)


@dataclass(frozen=True, slots=True)
class TilePath:
    """A parsed tile path: ``level`` None for an entry bundle, ``width`` 256 when full."""

    level: int | None
    index: int
    width: int

    @property
    def partial(self) -> bool:
        return self.width < TILE_WIDTH

    @property
    def tree_level(self) -> int:
        """The RFC 9162 height of the hashes the tile holds (entry bundles: 0)."""
        return TILE_HEIGHT * (self.level or 0)

    @property
    def end_size(self) -> int:
        """The smallest tree size that holds every hash (or entry) of this tile."""
        return (self.index * TILE_WIDTH + self.width) << self.tree_level

    def path(self) -> str:
        """The canonical path (without a leading slash)."""
        what = "entries" if self.level is None else str(self.level)
        tail = "" if not self.partial else f".p/{self.width}"
        return f"tile/{what}/{tile_index_path(self.index)}{tail}"


def tile_index_path(n: int) -> str:
    """``<N>`` as path elements: 1234067 -> ``x001/x234/067``."""
    if n < 0:
        raise FormatError(f"tiles: tile index must be >= 0, got {n}")
    parts = [f"{n % 1000:03d}"]
    n //= 1000
    while n:
        parts.append(f"x{n % 1000:03d}")
        n //= 1000
    return "/".join(reversed(parts))


def _bad(what: str) -> FormatError:
    return FormatError(f"tiles: malformed tile path: {what}")


def parse_tile_path(path: str) -> TilePath:
    """Parse the part of a URL path after ``tile/`` (``0/x001/234.p/7``, ``entries/005``).

    Raises:
        FormatError: anything but the canonical grammar above.
    """
    if not path.isascii() or len(path) > 64:
        raise _bad("expected at most 64 ASCII characters")
    parts = path.split("/")
    if len(parts) < 2:
        raise _bad("expected <L>/<N> or entries/<N>")
    head, rest = parts[0], parts[1:]
    if head == "entries":
        level = None
    elif _LEVEL_RE.fullmatch(head) and int(head) <= _MAX_LEVEL:
        level = int(head)
    else:
        raise _bad("level must be 0..63 without leading zeros, or 'entries'")
    width = TILE_WIDTH
    if len(rest) >= 2 and rest[-2].endswith(".p"):
        w = rest[-1]
        if not _WIDTH_RE.fullmatch(w) or not 1 <= int(w) < TILE_WIDTH:
            raise _bad("partial width must be 1..255 without leading zeros")
        width = int(w)
        rest = [*rest[:-2], rest[-2][: -len(".p")]]
    if not 1 <= len(rest) <= _MAX_ELEMENTS:
        raise _bad(f"index must have 1..{_MAX_ELEMENTS} path elements")
    index = 0
    for i, element in enumerate(rest):
        last = i == len(rest) - 1
        if not _ELEMENT_RE.fullmatch(element) or element.startswith("x") == last:
            raise _bad("index elements are 3 digits, every one but the last prefixed 'x'")
        index = index * 1000 + int(element.removeprefix("x"))
    tile = TilePath(level, index, width)
    if tile.path() != f"tile/{path}":
        raise _bad("index is not in canonical form (no leading x000 element)")
    return tile


def encode_entry_bundle(leaves: list[bytes]) -> bytes:
    """Entries as C2SP entry bundles carry them: big-endian uint16 length, then bytes.

    Raises:
        OversizeError: an entry longer than 65535 bytes (the log never stores one).
    """
    out = bytearray()
    for leaf in leaves:
        if len(leaf) > 0xFFFF:
            raise OversizeError(
                f"tiles: entry too large for an entry bundle: expected <= 65535 bytes, "
                f"got {len(leaf)}"
            )
        out += len(leaf).to_bytes(2, "big") + leaf
    return bytes(out)
