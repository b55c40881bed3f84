"""Finding 3: CBOR value-sharing bombs.

cbor2 resolves value sharing (tags 28/29) while decoding, and credex then re-encoded the
decoded value to check it was deterministic: a 400-byte file of shared references expands
to 10^13 items and kept ``credex verify`` (and Submit, peer sync, evidence files: the same
decoder) busy for as long as anyone cares to wait. Every tag credex formats do not use is
now refused by a scan of the raw bytes before cbor2 builds anything, and a decode is
bounded in items, not only in depth.

The bomb itself runs in a subprocess with a generous timeout, so that on code without the
fix this test fails (timeout) instead of hanging the suite; the assertion is the named
error, never a duration.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from credex.ledger import encoding
from credex.ledger.bundle import Bundle
from credex.ledger.errors import CborError, FormatError
from credex.ledger.evidence import Evidence
from credex.ledger.manifest.chain import decode_chain
from credex.ledger.receipt import Receipt
from credex.ledger.statement import Statement
from credex.ledger.trust_material import load_trust
from tests.security._cbor import head, sharing_bomb, small_shared
from tests.security._nodes import init_home, served

GOLDEN = Path(__file__).resolve().parents[1] / "vectors" / "golden"
#: generous: the fixed code answers in well under a second; the old one never does
HANG_GUARD_S = 120

DECODERS: dict[str, Callable[[bytes], Any]] = {
    "decode": encoding.decode,
    "bundle": Bundle.from_bytes,
    "statement": Statement.from_bytes,
    "receipt": Receipt.from_bytes,
    "evidence": Evidence.from_bytes,
    "manifest-chain": decode_chain,
    "trust-material": load_trust,
}


def test_the_bomb_is_small_and_would_expand_beyond_any_limit() -> None:
    bomb = sharing_bomb()
    assert len(bomb) < 1024
    assert encoding.MAX_CBOR_ITEMS < 10**13  # fan_out ** levels items once resolved


_RUN_ALL = textwrap.dedent(
    """
    import sys
    from tests.security.test_finding3_cbor_value_sharing_bomb import DECODERS
    from tests.security._cbor import sharing_bomb
    from credex.ledger.errors import CredexError
    bomb = sharing_bomb()
    for name, fn in DECODERS.items():
        try:
            fn(bomb)
            print(name, "accepted")
        except CredexError as e:
            print(name, type(e).__name__, str(e).splitlines()[0])
        sys.stdout.flush()
    """
)


def test_every_decoder_refuses_the_bomb_before_expanding_it() -> None:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [sys.executable, "-c", _RUN_ALL],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(" ", 1) for line in done.stdout.splitlines())
    assert set(lines) == set(DECODERS)
    for name, outcome in lines.items():
        assert outcome.startswith("CborError "), (name, outcome)
        assert "unsupported cbor item: tag 28" in outcome, (name, outcome)


def test_credex_verify_refuses_a_bomb_file_with_one_line(tmp_path: Path) -> None:
    bomb_file = tmp_path / "bomb.credex"
    bomb_file.write_bytes(sharing_bomb())
    done = subprocess.run(
        [
            sys.executable,
            "-c",
            "from credex.cli.main import main; main()",
            "verify",
            str(bomb_file),
            "--trust",
            str(GOLDEN / "trust.json"),
        ],
        capture_output=True,
        text=True,
        timeout=HANG_GUARD_S,
    )
    assert done.returncode == 1
    assert "Traceback" not in done.stdout + done.stderr
    assert "step 1 decode" in done.stdout
    assert "unsupported cbor item: tag 28" in done.stdout


@pytest.mark.parametrize("name", sorted(DECODERS))
def test_sharing_is_refused_not_expanded(name: str) -> None:
    with pytest.raises(CborError, match="unsupported cbor item: tag 28") as e:
        DECODERS[name](small_shared())
    assert "\n" not in str(e.value)


@pytest.mark.parametrize(
    ("tag", "what"),
    [
        (29, "shared reference"),
        (25, "string reference"),
        (256, "stringref namespace"),
        (0, "date/time text"),
        (1, "epoch time"),
        (24, "embedded cbor"),
        (55799, "self-describe"),
    ],
)
def test_every_tag_the_formats_do_not_use_is_refused(tag: int, what: str) -> None:
    data = head(6, tag) + head(0, 0)
    with pytest.raises(CborError, match=f"unsupported cbor item: tag {tag}"):
        encoding.decode(data)


def test_the_cose_tags_still_decode() -> None:
    assert isinstance(encoding.decode((GOLDEN / "statement-0.cbor").read_bytes()), object)
    Statement.from_bytes((GOLDEN / "statement-0.cbor").read_bytes())
    Bundle.from_bytes((GOLDEN / "bundle-1.credex").read_bytes())


def test_items_are_bounded_not_only_depth() -> None:
    # a flat array: depth 1, one item per byte
    limit = encoding.MAX_CBOR_ITEMS
    at_limit = head(4, limit - 1) + b"\x00" * (limit - 1)  # the array itself is one item
    assert len(encoding.decode(at_limit)) == limit - 1
    past = head(4, limit) + b"\x00" * limit
    with pytest.raises(CborError, match=f"too many cbor items: expected <= {limit}"):
        encoding.decode(past)


def test_submit_refuses_a_shared_statement_and_logs_nothing(tmp_path: Path) -> None:
    home = init_home(tmp_path / "home")
    with served(home) as s, s.client("issuer-1") as c:
        with pytest.raises(FormatError, match="tag 28") as e:
            c.submit([small_shared()])
        assert isinstance(e.value, CborError)
        assert s.node.log.size == 0
