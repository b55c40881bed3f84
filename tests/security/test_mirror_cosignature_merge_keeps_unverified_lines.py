"""Mirror cosignature merging kept unverified lines and could grow a note past its limit.

A mirror re-reading a peer's checkpoint of the same size kept the *union* of the held and
the served notes' signature lines, checking none of them; a peer (or anyone in its place)
could add lines each round until the stored note was over the 64 KiB note limit, after
which the mirror could no longer serve bundles of that log. The node collecting
cosignatures kept every line a witness returned with the witness's name, too. Both now
keep only lines that verify: the log's signature and one cosignature per trusted witness
key (``credex.ledger.checkpoint.merge_verified``), so a stored note is bounded whatever
peers send.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

from credex.ledger.checkpoint import (
    COSIGNATURE_TYPE,
    MAX_NOTE_BYTES,
    Checkpoint,
    NoteSignature,
    SignedNote,
    cosign_checkpoint,
    merge_verified,
    note_key_id,
    sign_checkpoint,
)
from credex.ledger.keys import SigningKey
from credex.ledger.log import AppendOnlyLog
from credex.ledger.storage.sql import SqlStore
from credex.ledger.verify import run_verification
from credex.node import federation as federate
from credex.node.federation.peers import mirror_url
from credex.node.federation.witnessing import witness_backend
from credex.node.rpc.tls import NodeTls
from tests.security._federation import Trio, issue, trio
from tests.security._rogue import RogueLog, RogueWitness, rogue_server

T = 1_800_000_000


def _junk(names_and_keys: list[tuple[str, bytes]], n: int) -> str:
    """``n`` well-formed cosignature lines that do not verify: the witnesses' own names
    and key ids (so only a signature check tells them apart) and strangers."""
    lines = []
    for i in range(n):
        if i % 2 and names_and_keys:
            name, key = names_and_keys[i % len(names_and_keys)]
            kid = note_key_id(name, key, COSIGNATURE_TYPE)
        else:
            name, kid = f"stranger-{os.urandom(4).hex()}", os.urandom(4)
        lines.append(NoteSignature(name, kid, os.urandom(72)).to_line())
    return "".join(lines)


def test_merge_keeps_one_verified_line_per_key_only() -> None:
    log, w1, w2 = SigningKey(b"\x01" * 32), SigningKey(b"\x02" * 32), SigningKey(b"\x03" * 32)
    note = sign_checkpoint(Checkpoint("o/log", 5, bytes(32)), "o/log", log)
    early = note.with_signature(cosign_checkpoint(note, "w1", w1, T))
    late = note.with_signature(cosign_checkpoint(note, "w1", w1, T + 5))
    junk = SignedNote.from_text(
        note.to_text() + _junk([("w1", w1.public_key), ("w2", w2.public_key)], 200)
    )
    merged = merge_verified(
        [early, junk, late],
        ("o/log", log.public_key),
        [("w1", w1.public_key), ("w2", w2.public_key)],
    )
    assert merged.signatures == (note.signatures[0], late.signatures[1])


def _served_with_junk(t: Trio, per_serve: int) -> Callable[[str], str]:
    witnesses = [(w.name, w.public_key) for w in t.manifest.witnesses_for(t.a.origin)]
    return lambda genuine: genuine + _junk(witnesses, per_serve)


def test_a_peer_cannot_grow_the_mirrored_note(tmp_path: Path) -> None:
    with trio(tmp_path) as t:
        issue(t.a, 3, seed=1)
        t.a.collect(t.manifest)  # B and C cosign A's checkpoint (A's own witness does not count)
        assert t.a.node is not None
        genuine = t.a.node.latest_checkpoint()
        assert genuine is not None and len(genuine.signatures) == 3
        log = RogueLog(t.a.node, _served_with_junk(t, 150))
        tls = NodeTls(t.a.home.path, name=t.a.home.region)
        with rogue_server(tls, t.a.public, t.a.mtls, log, RogueWitness(lambda _: "")):
            for _ in range(6):  # 6 x 150 junk lines: far past 64 KiB if they were kept
                r = federate.sync_peer(t.b.home, t.a.origin, T, manifest=t.manifest)
                assert r.error is None, r.error
            assert log.served >= 6
            with t.b.client() as bank:
                data = bank.get_bundle(1, origin=t.a.origin)
        store = SqlStore(mirror_url(t.b.home, t.a.origin))
        try:
            with AppendOnlyLog(store) as mirror:
                held = mirror.latest_checkpoint()
        finally:
            store.close()
        assert held is not None
        kept = SignedNote.from_text(held.note)
        assert sorted(s.to_line() for s in kept.signatures) == sorted(
            s.to_line() for s in genuine.signatures
        )
        assert len(held.note.encode()) < MAX_NOTE_BYTES
        # the mirror still serves A's records with a checkpoint that meets the quorum
        # (a person's score is an envelope whose body A keeps: steps 1-6 are what counts)
        report = run_verification(data, t.manifest, as_of=T)
        assert all(step.ok for step in report.steps[:6]), report.to_json_value()


def test_a_witness_cannot_add_lines_to_our_note(tmp_path: Path) -> None:
    """A's witness answers with its real cosignature followed by junk in its own name."""
    with trio(tmp_path) as t:
        issue(t.b, 2, seed=2)
        issue(t.a, 1, seed=1)  # opens A's node (its log is served as is)
        real = witness_backend(t.a.home, t.manifest, clock=lambda: T)
        a_member = t.manifest.latest.member(t.a.home.region)
        assert a_member is not None
        mine = [(a_member.witness_name, a_member.witness_key)]

        def answer(note_text: str) -> str:
            return real.add_checkpoint(0, [], note_text) + _junk(mine, 100)

        assert t.a.node is not None
        tls = NodeTls(t.a.home.path, name=t.a.home.region)
        log = RogueLog(t.a.node, lambda genuine: genuine)
        try:
            with rogue_server(tls, t.a.public, t.a.mtls, log, RogueWitness(answer)):
                assert t.b.collect(t.manifest) == {}
        finally:
            real.close()
        assert t.b.node is not None
        note = t.b.node.latest_checkpoint()
        assert note is not None
        assert len(note.signatures) == 3  # B's log, A's one valid cosignature, C's
        assert sum(s.name == a_member.witness_name for s in note.signatures) == 1
