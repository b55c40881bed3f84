"""Finding 9: one bad checkpoint stopped federation.

``Checkpoint.from_text`` checked the tree size with ``str.isdigit``, which is true for
"²" and "١٢": ``int("²")`` then raised a bare ``ValueError`` before any signature was
checked, the ``credex serve --follow`` thread (which caught only credex errors) died, and
the node stopped syncing and cosigning for good. "١٢" was worse in a quieter way: it read
as 12, so one checkpoint had many texts. Now every textual format is parsed with
ASCII-only grammars (``test_ascii_grammars.py`` checks the code for ``isdigit`` and
Unicode ``\\d``), and every loop that talks to peers survives anything one peer does:
it logs one line, records the reason in the peer's status and goes on.

The follow loop is tested against a real misbehaving gRPC server (real TLS, the member's
own certificate) serving a checkpoint whose size is "³" and answering witness requests
with garbage, beside an honest member.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from credex.ledger.checkpoint import Checkpoint, SignedNote, sign_checkpoint
from credex.ledger.errors import NoteError
from credex.ledger.keys import SigningKey
from credex.ledger.trust import TrustedLog
from credex.ledger.witness import MemoryWitnessStore, PeerLogState, Witness
from credex.node.federation.follow import follow_round
from credex.node.federation.peers import PeerRegistry
from credex.node.rpc.tls import NodeTls
from tests.security._federation import Trio, issue, trio
from tests.security._rogue import RogueLog, RogueWitness, rogue_server

LOG = SigningKey(b"\x07" * 32)
ORIGIN = "example.org/log"
ROOT = bytes(range(32))
#: bounds the wait for the loop's rounds; the assertion is on what happened, not when
DEADLINE_S = 60.0

_SUPERSCRIPT = str.maketrans("0123456789", "⁰¹²³⁴⁵⁶⁷⁸⁹")


def _note(size_text: str) -> str:
    good = sign_checkpoint(Checkpoint(ORIGIN, 12, ROOT), ORIGIN, LOG).to_text()
    return good.replace("\n12\n", f"\n{size_text}\n", 1)


@pytest.mark.parametrize(
    "size_text",
    ["²", "١٢", "１２", "۱۲", "12\u200b", "1_2", "+12", " 12", "12 ", "012", "0x0c", "1" * 21],
    ids=[
        "superscript",
        "arabic-indic",
        "fullwidth",
        "persian",
        "zero-width",
        "underscore",
        "plus",
        "leading-space",
        "trailing-space",
        "leading-zero",
        "hex",
        "too-long",
    ],
)
def test_a_size_that_is_not_ascii_decimal_is_a_note_error(size_text: str) -> None:
    with pytest.raises(NoteError, match="tree size must be ASCII decimal digits") as e:
        SignedNote.from_text(_note(size_text))
    assert "\n" not in str(e.value)


def test_the_same_checkpoint_has_one_text() -> None:
    assert SignedNote.from_text(_note("12")).checkpoint.size == 12
    with pytest.raises(NoteError):  # "١٢" used to read as 12 too
        SignedNote.from_text(_note("١٢"))


def test_root_base64_must_be_canonical() -> None:
    good = sign_checkpoint(Checkpoint(ORIGIN, 12, ROOT), ORIGIN, LOG).to_text()
    root_line = good.split("\n")[2]
    assert root_line.endswith("8=")  # 32 bytes: the last character carries 2 unused bits
    other = root_line[:-2] + "9="  # same bytes, a non-zero unused bit
    with pytest.raises(NoteError, match="not canonical base64"):
        SignedNote.from_text(good.replace(root_line, other))


def test_peer_view_and_witness_refuse_it_and_change_nothing() -> None:
    state = PeerLogState()
    with pytest.raises(NoteError):
        state.accept(_note("²"), [], log_name=ORIGIN, log_key=LOG.public_key)
    assert state.latest(ORIGIN) is None
    store = MemoryWitnessStore()
    witness = Witness(
        "w", SigningKey(b"\x08" * 32), {ORIGIN: TrustedLog(ORIGIN, ORIGIN, LOG.public_key)}, store
    )
    with pytest.raises(NoteError):
        witness.add_checkpoint(0, [], _note("١٢"), 1)
    assert store.latest_cosigned(ORIGIN) is None


# --- the follow loop against a real misbehaving peer -------------------------------------


@pytest.fixture
def rogue_a(tmp_path: Path) -> Iterator[Trio]:
    """A serves checkpoints whose size is written in superscript digits and answers
    every witness request with garbage; B and C are honest."""

    def superscript(note: str) -> str:
        head, size, rest = note.split("\n", 2)
        return f"{head}\n{size.translate(_SUPERSCRIPT)}\n{rest}"

    with trio(tmp_path) as t:
        issue(t.a, 3, seed=1)
        issue(t.c, 2, seed=3)
        assert t.a.node is not None
        log = RogueLog(t.a.node, superscript)
        witness = RogueWitness(lambda note: "— garbage ³\n" * 3)
        tls = NodeTls(t.a.home.path, name=t.a.home.region)
        with rogue_server(tls, t.a.public, t.a.mtls, log, witness):
            yield t


def test_one_round_survives_the_rogue_and_serves_the_honest(rogue_a: Trio) -> None:
    t = rogue_a
    assert t.b.node is not None and t.c.node is not None
    failed = follow_round(t.b.home, t.b.node, t.manifest, lambda: 1_800_000_000)
    assert "tree size must be ASCII decimal digits" in failed[t.a.origin]
    assert t.c.origin not in failed  # the honest peer after it was synced
    reg = PeerRegistry(t.b.home)
    assert reg.get(t.c.origin).status["mirrored_size"] == t.c.node.log.size
    assert reg.get(t.a.origin).status.get("mirrored_size", 0) == 0  # nothing of A kept
    assert "ASCII" in reg.get(t.a.origin).status["error"]
    # cosigning went on: C cosigned B's checkpoint, A's garbage was not kept
    assert f"witness {t.a.origin}" in failed
    note = t.b.node.latest_checkpoint()
    assert note is not None
    c_member = t.manifest.latest.member(t.c.home.region)
    assert c_member is not None
    assert [s.name for s in note.signatures] == [t.b.origin, c_member.witness_name]


def test_the_serve_follow_thread_keeps_going(rogue_a: Trio) -> None:
    """The thread ``credex serve --follow`` runs: after A's bad checkpoint it is still
    alive and fails A again in the next round (the event the test awaits)."""
    from credex.node.federation.follow import follow_until

    t = rogue_a
    assert t.b.node is not None
    seen: list[str] = []
    twice = threading.Event()

    class Lines(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            line = record.getMessage()
            assert "\n" not in line
            if t.a.origin in line:
                seen.append(line)
                if len(seen) >= 2:
                    twice.set()

    handler = Lines(logging.WARNING)
    logger = logging.getLogger("credex.federation")
    logger.addHandler(handler)
    stop = threading.Event()
    loop = threading.Thread(
        target=follow_until,
        args=(t.b.home, t.b.node, lambda: t.manifest, 0.01, stop, lambda: 1_800_000_000),
        daemon=True,
    )
    loop.start()
    try:
        assert twice.wait(DEADLINE_S), "the follow loop stopped after the rogue's checkpoint"
        assert loop.is_alive()
    finally:
        stop.set()
        loop.join(DEADLINE_S)
        logger.removeHandler(handler)
    assert not loop.is_alive()
    assert any("ASCII decimal digits" in line for line in seen)
    assert t.c.node is not None
    assert PeerRegistry(t.b.home).get(t.c.origin).status["mirrored_size"] == t.c.node.log.size
