"""Hand-built CBOR for attack tests: heads and value-sharing bombs (no cbor2 involved,
so the bytes are exactly what an attacker would send)."""

from __future__ import annotations

__all__ = ["head", "sharing_bomb", "small_shared"]


def head(major: int, n: int) -> bytes:
    """The shortest CBOR head of major type ``major`` with argument ``n``."""
    if n < 24:
        return bytes([major << 5 | n])
    for ai, size in ((24, 1), (25, 2), (26, 4), (27, 8)):
        if n < 1 << (8 * size):
            return bytes([major << 5 | ai]) + n.to_bytes(size, "big")
    raise ValueError("argument too large")


def sharing_bomb(levels: int = 13, fan_out: int = 10) -> bytes:
    """An array of ``levels`` shareable arrays (tag 28), each holding ``fan_out``
    references (tag 29) to the one before: about 400 bytes that expand to
    ``fan_out ** levels`` items when the references are resolved, within 16 levels."""

    def level(k: int) -> bytes:
        out = head(6, 28) + head(4, fan_out)
        if k == 0:
            return out + b"\x01" * fan_out
        return out + (head(6, 29) + head(0, k - 1)) * fan_out

    return head(4, levels) + b"".join(level(k) for k in range(levels))


def small_shared() -> bytes:
    """``[28([1, 2]), 29(0)]``: one shared array referenced once (harmless in size; what
    matters is that it is refused, not expanded)."""
    return head(4, 2) + head(6, 28) + head(4, 2) + b"\x01\x02" + head(6, 29) + head(0, 0)
