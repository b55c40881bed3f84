"""The JavaScript verifier's building blocks against the Python ones and published vectors:
the strict deterministic CBOR decoder (docs/spec.md §1) on a conformance table, RFC 9162
inclusion and consistency proofs on the transparency-dev vectors, and signed-note key ids
and verifier keys."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from credex.ledger import encoding
from credex.ledger.errors import CborError, CredexError
from credex.ledger.merkle import verify_consistency, verify_inclusion

from . import jsrunner

VECTORS = Path(__file__).resolve().parents[1] / "vectors"
_SAFE = 2**53 - 1

#: (hex, what it is): decoded by both, with the same value or the same refusal
CBOR_TABLE = [
    ("00", "uint 0"),
    ("17", "uint 23, one byte"),
    ("1818", "uint 24"),
    ("190100", "uint 256"),
    ("1a00010000", "uint 65536"),
    ("1b0000000100000000", "uint 2^32"),
    ("1b001fffffffffffff", "uint 2^53 - 1, largest safe"),
    ("1b0020000000000000", "uint 2^53"),
    ("1bffffffffffffffff", "uint 2^64 - 1"),
    ("20", "nint -1"),
    ("3bffffffffffffffff", "nint -2^64"),
    ("40", "empty bstr"),
    ("4401020304", "bstr"),
    ("60", "empty text"),
    ("62c3bc", "text ü"),
    ("63efbbbf", "text BOM U+FEFF, kept"),
    ("63efbfbf", "text U+FFFF"),
    ("f4", "false"),
    ("f5", "true"),
    ("f6", "null"),
    ("80", "empty array"),
    ("83010203", "array"),
    ("a0", "empty map"),
    ("a201020304", "map, int keys in order"),
    ("a2010220 03".replace(" ", ""), "map, 1 before -1 (0x01 < 0x20)"),
    ("a2616101616202", "map, text keys in order"),
    ("a201026161 01".replace(" ", ""), "map, int key before text key"),
    ("a2616101616102", "map, duplicate text key"),
    ("a201020102", "map, duplicate int key"),
    ("a2030401 02".replace(" ", ""), "map, int keys out of order"),
    ("a2616202616101", "map, text keys out of order"),
    ("a2626161016162 02".replace(" ", ""), "map, longer key first"),
    ("a2616101 0102".replace(" ", ""), "map, text key before int key"),
    ("1817", "non-shortest head 23"),
    ("190017", "non-shortest head, 2 bytes"),
    ("1a0000ffff", "non-shortest head, 4 bytes"),
    ("1b00000000ffffffff", "non-shortest head, 8 bytes"),
    ("3817", "non-shortest negative"),
    ("5801ff", "non-shortest bstr length"),
    ("780161", "non-shortest text length"),
    ("9801 00".replace(" ", ""), "non-shortest array length"),
    ("5f4101ff", "indefinite bstr"),
    ("7f6161ff", "indefinite text"),
    ("9f01ff", "indefinite array"),
    ("bf0102ff", "indefinite map"),
    ("", "empty input"),
    ("18", "truncated head"),
    ("4201", "truncated bstr"),
    ("8301", "truncated array"),
    ("0000", "trailing byte"),
    ("9a7fffffff", "array longer than the input"),
    ("5a7fffffff00", "bstr longer than the input"),
    ("bb0000000100000000", "map longer than the input"),
    ("f90000", "half float"),
    ("fa00000000", "single float"),
    ("fb0000000000000000", "double float"),
    ("f7", "undefined"),
    ("e0", "simple value 0"),
    ("f820", "simple value 32"),
    ("ff", "break outside an indefinite item"),
    ("1c", "reserved additional information 28"),
    ("5c", "reserved additional information in a bstr"),
    ("61ff", "text not utf-8"),
    ("63eda080", "text with a surrogate (CESU)"),
    ("62c0af", "text with an overlong encoding"),
    ("81" * 16 + "00", "16 levels of nesting: the limit"),
    ("81" * 16 + "80", "an empty array at level 16"),
    ("81" * 16 + "8100", "17 levels of nesting"),
    ("81" * 17 + "00", "17 levels of nesting, deeper"),
    ("a1616181" + "81" * 14 + "00", "a map value at level 16"),
    ("a1616181" + "81" * 15 + "00", "a map value at level 17"),
]

#: refused by the JavaScript decoder, accepted by Python's (which leaves them to the
#: callers, who refuse them as the wrong type): docs/spec.md §1 says so
JS_STRICTER = [
    ("d24100", "tag 18 where no tag is expected"),
    ("c100", "tag 1 (epoch time)"),
    ("c24101", "tag 2 (bignum)"),
    ("a1410000", "a bstr map key"),
    ("a1810000", "an array map key"),
    ("a1f500", "a bool map key"),
]


def _plain(v: Any) -> Any:
    """Python's decoded value in the runner's JSON form (bytes hex, big ints as text)."""
    if isinstance(v, dict):
        return {str(k): _plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [_plain(x) for x in v]
    if isinstance(v, bytes):
        return v.hex()
    if type(v) is int and abs(v) > _SAFE:
        return str(v)
    return v


def _python(hexdata: str) -> dict[str, Any]:
    try:
        return {"ok": True, "value": _plain(encoding.decode(bytes.fromhex(hexdata)))}
    except CredexError as e:
        return {"ok": False, "type": type(e).__name__}


@pytest.fixture(scope="module")
def js_cbor() -> dict[str, dict[str, Any]]:
    items = [h for h, _ in CBOR_TABLE + JS_STRICTER]
    out = jsrunner.run("cbor", {"items": items})
    return dict(zip(items, out, strict=True))


@pytest.mark.parametrize(("hexdata", "what"), CBOR_TABLE, ids=[w for _, w in CBOR_TABLE])
def test_cbor_decoders_agree(hexdata: str, what: str, js_cbor: dict[str, Any]) -> None:
    py, js = _python(hexdata), js_cbor[hexdata]
    assert js["ok"] == py["ok"], (what, py, js)
    if py["ok"]:
        assert js["value"] == py["value"]
    else:
        assert js["error"]["type"] == py["type"], (what, py, js)
        assert js["error"]["message"].startswith("cbor: ")


@pytest.mark.parametrize(("hexdata", "what"), JS_STRICTER, ids=[w for _, w in JS_STRICTER])
def test_javascript_decoder_refuses_what_credex_never_encodes(
    hexdata: str, what: str, js_cbor: dict[str, Any]
) -> None:
    assert js_cbor[hexdata]["ok"] is False, what
    assert js_cbor[hexdata]["error"]["type"] == "CborError"


def test_a_tag_is_read_only_as_the_outermost_item_where_one_is_expected() -> None:
    out = jsrunner.run("cbor", {"items": ["d24100", "81d24100", "d2d24100"], "tags": [18]})
    assert out[0] == {"ok": True, "value": {"tag": 18, "value": "00"}}
    assert [o["ok"] for o in out[1:]] == [False, False]


@pytest.mark.parametrize("n", [2**16 - 1, 2**16], ids=["at-the-limit", "one-past"])
def test_item_count_is_bounded(n: int) -> None:
    # an array of n items is n + 1 data items: 65536 is the bound in both decoders, checked
    # before a hostile length can allocate (docs/spec.md §1)
    # the array head in its shortest form (a longer one is refused as not deterministic)
    head = "99" + n.to_bytes(2, "big").hex() if n < 2**16 else "9a" + n.to_bytes(4, "big").hex()
    data = head + "00" * n
    [out] = jsrunner.run("cbor", {"items": [data]})
    if n + 1 <= 2**16:
        assert out["ok"] is True
        assert len(encoding.decode(bytes.fromhex(data))) == n
    else:
        assert out["ok"] is False and "items" in out["error"]["message"]
        with pytest.raises(CborError, match="items"):
            encoding.decode(bytes.fromhex(data))


def _merkle_vectors() -> dict[str, list[dict[str, Any]]]:
    doc = json.loads((VECTORS / "rfc9162-merkle.json").read_text(encoding="utf-8"))
    probes = doc["verifier_probes"]
    inclusion = [
        *doc["inclusion_proofs"],
        *doc["derived_exhaustive"]["inclusion_proofs"],
        *[
            {
                "leaf_index": p["leafIdx"],
                "tree_size": p["treeSize"],
                "leaf_hash": p["leafHash"],
                "root": p["root"],
                "proof": p["proof"],
            }
            for p in probes["inclusion"]
        ],
    ]
    consistency = [
        *doc["consistency_proofs"],
        *doc["derived_exhaustive"]["consistency_proofs"],
        *[
            {k: p[k] for k in ("size1", "size2", "root1", "root2", "proof")}
            for p in probes["consistency"]
        ],
    ]
    return {"inclusion": inclusion, "consistency": consistency}


def _py_ok(fn: Any, *args: Any) -> bool:
    try:
        fn(*args)
    except CredexError:
        return False
    return True


def test_merkle_proofs_agree_with_python_on_the_transparency_dev_vectors() -> None:
    vectors = _merkle_vectors()
    out = jsrunner.run("merkle", vectors)
    inc = [
        _py_ok(
            verify_inclusion,
            bytes.fromhex(c["leaf_hash"]),
            c["leaf_index"],
            c["tree_size"],
            [bytes.fromhex(p) for p in c["proof"]],
            bytes.fromhex(c["root"]),
        )
        for c in vectors["inclusion"]
    ]
    con = [
        _py_ok(
            verify_consistency,
            c["size1"],
            c["size2"],
            bytes.fromhex(c["root1"]),
            bytes.fromhex(c["root2"]),
            [bytes.fromhex(p) for p in c["proof"]],
        )
        for c in vectors["consistency"]
    ]
    assert [r["ok"] for r in out["inclusion"]] == inc
    assert [r["ok"] for r in out["consistency"]] == con
    # the happy paths do verify, and the probes that must fail do fail
    assert sum(inc) > 40 and sum(con) > 40 and not all(inc) and not all(con)
