"""Hypothesis strategies for fuzzing: byte mutations of seeds, and structure-aware inputs.

- ``mutated(seeds)``: a seed with a few libFuzzer-style edits (bit flips, interesting
  bytes, CBOR heads, inserted / deleted / duplicated ranges, splices of two seeds,
  truncation).
- ``cbor_items``: arbitrary CBOR built from Python values (any tag, including value
  sharing 28/29, bignums, floats, indefinite lengths), and ``bundle_like``: bundles
  whose parts are mutated seeds, so decoding gets past the first step.
- ``note_like``: signed-note text with a mutated line (Unicode digits in the size,
  extra or repeated signature lines, stray whitespace).
- ``json_like``: JSON documents (duplicate keys, NaN, deep nesting, big numbers) and
  seeds with a JSON value replaced.
- ``csv_like``, ``text_like``, ``proto_like``: line edits of CSV, short text with
  Unicode digits, protobuf field edits.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import cbor2
from hypothesis import strategies as st

from credex.ledger import encoding

__all__ = ["inputs_for"]

_INTERESTING = (
    0x00,
    0x01,
    0x17,
    0x18,
    0x19,
    0x1A,
    0x1B,
    0x1F,
    0x20,
    0x3F,
    0x40,
    0x5F,
    0x60,
    0x7F,
    0x80,
    0x9F,
    0xA0,
    0xBF,
    0xC0,
    0xC2,
    0xD2,
    0xD8,
    0xDC,
    0xDD,
    0xF4,
    0xF6,
    0xF7,
    0xF9,
    0xFB,
    0xFF,
)
_DIGITS = ("²", "١٢", "１２", "۱۲", "٣", "⁹", "𝟙", "1_0", " 1", "+1", "-1", "0x1", "1e3", "١")


@st.composite
def _mutate(draw: st.DrawFn, seeds: Sequence[bytes]) -> bytes:
    data = bytearray(draw(st.sampled_from(seeds)))
    for _ in range(draw(st.integers(1, 4))):
        op = draw(st.integers(0, 8))
        n = len(data)
        pos = draw(st.integers(0, max(n - 1, 0)))
        if op == 0 and n:  # flip a bit
            data[pos] ^= 1 << draw(st.integers(0, 7))
        elif op == 1 and n:  # an interesting byte (CBOR heads, breaks, tags)
            data[pos] = draw(st.sampled_from(_INTERESTING))
        elif op == 2:  # insert random bytes
            data[pos:pos] = draw(st.binary(min_size=1, max_size=16))
        elif op == 3 and n:  # delete a range
            del data[pos : pos + draw(st.integers(1, 32))]
        elif op == 4 and n:  # duplicate a range elsewhere
            chunk = data[pos : pos + draw(st.integers(1, 64))]
            at = draw(st.integers(0, n))
            data[at:at] = chunk
        elif op == 5:  # splice with another seed
            other = draw(st.sampled_from(seeds))
            cut = draw(st.integers(0, len(other)))
            data = data[:pos] + bytearray(other[cut:])
        elif op == 6 and n:  # truncate
            del data[pos:]
        elif op == 7 and n:  # an integer as a big-endian run (lengths, sizes)
            width = draw(st.sampled_from((1, 2, 4, 8)))
            value = draw(
                st.sampled_from((0, 1, 2**7, 2**8 - 1, 2**16 - 1, 2**32 - 1, 2**63, 2**64 - 1))
            )
            data[pos : pos + width] = (value % (1 << (8 * width))).to_bytes(width, "big")
        elif op == 8:  # a text edit: a Unicode digit or whitespace
            data[pos:pos] = draw(
                st.sampled_from((*_DIGITS, "\r", "\t", "\n", "\u2014 ", "="))
            ).encode()
    return bytes(data)


def mutated(seeds: Sequence[bytes]) -> st.SearchStrategy[bytes]:
    return _mutate(seeds)


# --- CBOR ---------------------------------------------------------------------------------------

_scalars = st.one_of(
    st.integers(-(2**70), 2**70),
    st.binary(max_size=40),
    st.text(max_size=20),
    st.booleans(),
    st.none(),
    st.floats(allow_nan=True),
    st.sampled_from(
        [
            "v",
            "statement",
            "checkpoint",
            "status",
            "sources",
            "policy",
            "preimage",
            "kind",
            "region",
            "subject",
            "body",
            "valid_from",
            "refs",
            "format",
            "versions",
        ]
    ),
)


def _tagged(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    tags = st.sampled_from((18, 98, 28, 29, 2, 3, 24, 25, 256, 0, 1, 55799, 258))
    return st.builds(cbor2.CBORTag, tags, children)


cbor_values: st.SearchStrategy[Any] = st.recursive(
    _scalars,
    lambda children: st.one_of(
        st.lists(children, max_size=6),
        st.dictionaries(
            st.one_of(st.text(max_size=8), st.integers(-30, 400)), children, max_size=6
        ),
        _tagged(children),
    ),
    max_leaves=30,
)


@st.composite
def _cbor_bytes(draw: st.DrawFn) -> bytes:
    value = draw(cbor_values)
    try:
        if draw(st.booleans()):
            return encoding.encode(value)
        return bytes(cbor2.dumps(value, canonical=draw(st.booleans())))
    except Exception:  # a value neither encoder takes: still a test of the decoder
        return b"\x9f" + bytes(cbor2.dumps(0)) + b"\xff"


@st.composite
def _bundle_like(draw: st.DrawFn, seeds: Sequence[bytes]) -> bytes:
    """A bundle map whose statement / checkpoint / nested bundles come from mutated seed
    parts, deterministically encoded (gets past decoding into the later steps)."""
    from credex.ledger.bundle import Bundle

    parts = []
    for s in seeds:
        try:
            parts.append(Bundle.from_bytes(s))
        except Exception:
            continue
    if not parts:
        return draw(_cbor_bytes())
    base = draw(st.sampled_from(parts)).to_value()
    value: dict[str, Any] = dict(base)
    field = draw(
        st.sampled_from(
            ("statement", "checkpoint", "status", "sources", "policy", "preimage", "v", "extra")
        )
    )
    if field in ("statement", "preimage"):
        value[field] = draw(mutated([base["statement"]]))
    elif field == "checkpoint":
        value[field] = draw(mutated([base["checkpoint"].encode()])).decode("utf-8", "replace")
    elif field in ("status", "sources"):
        value[field] = [dict(base) for _ in range(draw(st.integers(0, 3)))]
    elif field == "policy":
        value[field] = dict(base) if draw(st.booleans()) else draw(cbor_values)
    elif field == "v":
        value["v"] = draw(st.sampled_from((0, 2, -1, "1", 2**64 - 1)))
    else:
        value[draw(st.text(max_size=6))] = draw(cbor_values)
    try:
        return encoding.encode(value)
    except Exception:
        return draw(_cbor_bytes())


# --- text formats -------------------------------------------------------------------------------


@st.composite
def _note_like(draw: st.DrawFn, seeds: Sequence[bytes]) -> bytes:
    lines = draw(st.sampled_from(seeds)).decode("utf-8", "replace").split("\n")
    op = draw(st.integers(0, 4))
    i = draw(st.integers(0, max(len(lines) - 1, 0)))
    if op == 0:  # the size line with other digits
        if len(lines) > 1:
            lines[1] = draw(st.sampled_from((*_DIGITS, "", "0", "00", "18446744073709551616")))
    elif op == 1:  # a line replaced by arbitrary text
        lines[i] = draw(st.text(max_size=40))
    elif op == 2:  # a signature line repeated
        sig = [ln for ln in lines if ln.startswith("\u2014 ")]
        if sig:
            lines[-1:-1] = sig * draw(st.integers(1, 50))
    elif op == 3:  # a line inserted
        lines.insert(
            i, draw(st.sampled_from(("", " ", "\u2014 ", "\u2014 a b", "\u2014 a +", "==")))
        )
    else:
        del lines[i]
    return "\n".join(lines).encode("utf-8", "surrogatepass")


json_values: st.SearchStrategy[Any] = st.recursive(
    st.one_of(st.integers(-(2**70), 2**70), st.text(max_size=12), st.booleans(), st.none()),
    lambda c: st.one_of(
        st.lists(c, max_size=5), st.dictionaries(st.text(max_size=8), c, max_size=5)
    ),
    max_leaves=25,
)


@st.composite
def _json_like(draw: st.DrawFn, seeds: Sequence[bytes]) -> bytes:
    op = draw(st.integers(0, 4))
    if op == 0:
        return json.dumps(draw(json_values)).encode()
    if op == 1:  # texts plain json accepts and strict json must not
        return draw(
            st.sampled_from(
                (
                    b'{"a": 1, "a": 2}',
                    b'{"quorum": NaN}',
                    b'{"q": Infinity}',
                    b'{"q": 1.5}',
                    b'{"q": 1e999}',
                    b"[" * 2000 + b"]" * 2000,
                    b'{"q": ' + b"9" * 5000 + b"}",
                    b'{"format": "credex-trust/1", "witnesses": [1]}',
                    b"\xef\xbb\xbf{}",
                    b'{"\\ud800": 1}',
                )
            )
        )
    try:
        doc = json.loads(draw(st.sampled_from(seeds)))
    except ValueError:
        return draw(st.sampled_from(seeds))
    if op == 2 and isinstance(doc, dict) and doc:  # one value replaced
        doc[draw(st.sampled_from(sorted(doc)))] = draw(json_values)
    elif op == 3 and isinstance(doc, list) and doc:
        doc[draw(st.integers(0, len(doc) - 1))] = draw(json_values)
    elif isinstance(doc, dict):  # a key added
        doc[draw(st.text(max_size=8))] = draw(json_values)
    return json.dumps(doc, ensure_ascii=draw(st.booleans())).encode()


@st.composite
def _csv_like(draw: st.DrawFn, seeds: Sequence[bytes]) -> bytes:
    lines = draw(st.sampled_from(seeds)).decode("utf-8", "replace").splitlines()
    i = draw(st.integers(0, max(len(lines) - 1, 0)))
    op = draw(st.integers(0, 3))
    if op == 0 and lines:  # a field replaced
        fields = lines[i].split(",")
        j = draw(st.integers(0, len(fields) - 1))
        fields[j] = draw(st.one_of(st.text(max_size=20), st.sampled_from(_DIGITS)))
        lines[i] = ",".join(fields)
    elif op == 1:  # quotes, separators, line breaks
        lines.insert(i, draw(st.sampled_from(('"', '""', ",,,,", '"a\nb"', "\ufeff", "\x00"))))
    elif op == 2 and lines:
        lines[i] = lines[i] + "," * draw(st.integers(1, 5))
    elif lines:
        del lines[i]
    encoding_name = draw(st.sampled_from(("utf-8", "gb18030", "utf-16")))
    return "\n".join(lines).encode(encoding_name, "replace")


_text_like = st.one_of(
    st.text(max_size=30),
    st.sampled_from(_DIGITS).map(lambda d: d.encode()),
    st.binary(max_size=30),
).map(lambda v: v if isinstance(v, bytes) else v.encode("utf-8", "surrogatepass"))


@st.composite
def _proto_like(draw: st.DrawFn, seeds: Sequence[bytes]) -> bytes:
    """A seed with a protobuf field appended: varint, length-delimited or fixed."""
    data = draw(st.sampled_from(seeds))
    field = draw(st.integers(1, 12))
    wire = draw(st.sampled_from((0, 1, 2, 5)))
    key = bytes([(field << 3) | wire])
    if wire == 0:
        v = draw(st.integers(0, 2**64 - 1))
        out = bytearray()
        while True:
            b, v = v & 0x7F, v >> 7
            out.append(b | (0x80 if v else 0))
            if not v:
                break
        tail = bytes(out)
    elif wire == 2:
        payload = draw(st.one_of(st.binary(max_size=64), st.sampled_from(seeds)))[:120]
        tail = bytes([len(payload)]) + payload if len(payload) < 128 else b"\x7f" + payload[:127]
    else:
        tail = draw(st.binary(min_size=8 if wire == 1 else 4, max_size=8 if wire == 1 else 4))
    return data + key + tail


def inputs_for(kind: str, seeds: Sequence[bytes]) -> st.SearchStrategy[bytes]:
    """What to feed a target of ``kind``: mostly mutated seeds, plus structure."""
    plain = mutated(seeds)
    structured: dict[str, st.SearchStrategy[bytes]] = {
        "cbor": st.one_of(_cbor_bytes(), _bundle_like(seeds)),
        "note": _note_like(seeds),
        "json": _json_like(seeds),
        "csv": _csv_like(seeds),
        "text": _text_like,
        "proto": _proto_like(seeds),
    }
    return st.one_of(plain, structured[kind], st.binary(max_size=64))
