"""A64: strict JSON's speed-ups (stop 22, ``ledger/strict_json.py``) attacked. The depth
walk is skipped when a document has no more opening brackets than ``MAX_JSON_DEPTH``,
and each thread reuses its decoders. An attacker sending a trust file, a node info or a
records line hopes to slip a document one level too deep past the shortcut (mixing
objects and arrays, hiding brackets in strings, padding with whitespace), or to make one
thread's refusal (a duplicate key, a float) leak into another thread's parse of a good
document, or the other way round."""

from __future__ import annotations

import threading

import pytest

from credex.ledger import strict_json
from credex.ledger.errors import FormatError

DEPTH = strict_json.MAX_JSON_DEPTH


def _mixed(levels: int) -> str:
    doc = "1"
    for i in range(levels):
        doc = f'{{"k{i}": {doc}}}' if i % 2 else f"[ {doc} ]"
    return doc


def test_a_document_one_level_too_deep_never_slips_past_the_shortcut() -> None:
    assert strict_json.loads(_mixed(DEPTH), "t", max_bytes=1 << 16) is not None
    with pytest.raises(FormatError, match="nested too deeply"):
        strict_json.loads(_mixed(DEPTH + 1), "t", max_bytes=1 << 16)
    # brackets hidden in strings only make the document walked, never skipped wrongly
    shallow = '{"a": "' + "[{" * 500 + '", "b": [1, 2]}'
    assert strict_json.loads(shallow, "t", max_bytes=1 << 16)["b"] == [1, 2]
    with pytest.raises(FormatError, match="nested too deeply"):
        strict_json.loads(
            '{"s": "' + "}]" * 100 + '", "d": ' + _mixed(DEPTH) + "}", "t", max_bytes=1 << 16
        )


def test_threads_sharing_nothing_refuse_and_accept_their_own_documents() -> None:
    good = '{"a": 1, "b": [1, 2, {"c": "d"}]}'
    cases = [
        (good, False, None),
        ('{"a": 1, "a": 2}', False, "duplicate key"),
        ('{"x": 1.5}', False, "fraction or exponent"),
        ('{"x": 1.5}', True, None),
        ("\ufeff{}", False, "bom"),
    ]
    errors: list[str] = []

    def work(k: int) -> None:
        for i in range(2000):
            doc, floats, refused = cases[(i + k) % len(cases)]
            try:
                strict_json.loads(doc, "t", max_bytes=1000, allow_floats=floats)
                got = None
            except FormatError as e:
                got = str(e)
            if (refused is None) != (got is None) or (refused and refused not in got.lower()):
                errors.append(f"{doc!r} floats={floats}: {got}")

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
