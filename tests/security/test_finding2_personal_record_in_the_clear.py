"""Finding 2: a person's record logged in the clear.

A statement about a ``person`` subject signed as an ordinary COSE_Sign1 (its record in
the payload) instead of an RFC 9995 hash envelope was accepted by Submit, by peer sync
and by ``credex verify``: the body then sat on the public log and in every mirror. Now
``credex.ledger.envelope.should_envelope`` decides, and every entry point refuses such a
statement with ``NotEnvelopedError``: the strict statement parser (so Submit, sync,
verify step 1 and every reader of a leaf), and ``LocalNode.append``.
"""

from __future__ import annotations

from pathlib import Path

import cbor2
import pytest

from credex.ledger import encoding
from credex.ledger.bundle import Bundle
from credex.ledger.checkpoint import Checkpoint, sign_checkpoint
from credex.ledger.errors import NotEnvelopedError
from credex.ledger.log import AppendOnlyLog, NewLeaf
from credex.ledger.merkle import leaf_hash
from credex.ledger.receipt import build_receipt
from credex.ledger.record import Record, Subject
from credex.ledger.statement import CONTENT_TYPE, Claims, Statement, sig_structure
from credex.ledger.storage.sql import SqlStore
from credex.ledger.subject import person_subject_id
from credex.ledger.verify import run_verification
from credex.node.federation.sync import PeerSync
from credex.node.home import NodeHome
from credex.node.local import LocalNode

from .support import T0, db_of, make_home, serve

RID = "11010519491231002X"


def _clear_person_statement(home: NodeHome) -> bytes:
    """What an attacker (or a careless tool) builds: the platform issuer's key signs a
    person's score as a plain COSE_Sign1, the record itself as the payload."""
    record = Record(
        "score.city",
        home.region,
        Subject("person", person_subject_id(home.subject_key(), RID)),
        {"scheme": "NINGBO_TIANYI_PLACEHOLDER", "score": 700, "band": "p-4", "as_of": "2026-05-31"},
        T0,
    )
    key = home.issuer_signing_key(home.platform_issuer, "score.city", T0)
    protected = encoding.encode(
        {
            1: -8,
            3: CONTENT_TYPE,
            4: key.kid,
            15: {1: home.platform_issuer, 2: record.subject.id, 6: T0},
        }
    )
    payload = record.to_bytes()
    signature = key.sign(sig_structure(protected, payload))
    return encoding.encode(cbor2.CBORTag(18, [protected, {}, payload, signature]))


@pytest.fixture
def home(tmp_path: Path, store_url: str) -> NodeHome:
    return make_home(tmp_path / "ningbo", db=db_of(store_url))


def test_every_decoder_refuses_a_clear_personal_record(home: NodeHome) -> None:
    data = _clear_person_statement(home)
    with pytest.raises(NotEnvelopedError, match="must be an rfc 9995 hash envelope"):
        Statement.from_bytes(data)


def test_submit_refuses_it_and_logs_nothing(home: NodeHome) -> None:
    data = _clear_person_statement(home)
    with serve(home) as s, s.registered("court-tool", "issuer") as c:
        with pytest.raises(NotEnvelopedError) as e:
            c.submit([data])
        assert "\n" not in str(e.value) and RID not in str(e.value)
        assert s.node.log.size == 0


def test_local_append_refuses_it(home: NodeHome) -> None:
    data = _clear_person_statement(home)
    # a Statement object built without the parser (as a caller holding the parts could)
    value = encoding.decode(data)
    protected, _, payload, signature = value.value
    record = Record.from_bytes(payload)
    st = Statement(
        protected,
        payload,
        signature,
        -8,
        home.issuer_signing_key(home.platform_issuer, "score.city", T0).kid,
        Claims(home.platform_issuer, record.subject.id, T0),
        record,
    )
    with LocalNode(home) as node:
        with pytest.raises(NotEnvelopedError):
            node.append([st])
        assert node.log.size == 0 and node.bodies.counts().held == 0


def test_sync_refuses_to_mirror_it(home: NodeHome, tmp_path: Path, store_url: str) -> None:
    data = _clear_person_statement(home)
    with serve(home) as s:
        # the attacker's own log holds it (appended below every check)
        s.node.log.append_many([NewLeaf(data, "score.city", home.platform_issuer, T0)])
        store = SqlStore(f"sqlite:///{tmp_path / 'mirror.sqlite'}")
        try:
            with AppendOnlyLog(store) as mirror, s.anonymous() as peer:
                sync = PeerSync(home.origin, peer, home.trust(), mirror)
                r = sync.sync_once(T0)
                assert r.error is not None and r.error.startswith("entry 0: ")
                assert "hash envelope" in r.error and RID not in r.error
                assert (r.new_entries, mirror.size) == (0, 0)
        finally:
            store.close()


def _bundle_of(home: NodeHome, data: bytes) -> bytes:
    """A complete bundle for the clear statement: the attacker's log signs it all."""
    log = home.log_key()
    h = leaf_hash(data)
    note = sign_checkpoint(Checkpoint(home.origin, 1, h), home.origin, log)
    receipt = build_receipt(log, 1, 0, [], h)
    st = encoding.decode(data).value
    carried = encoding.encode(cbor2.CBORTag(18, [st[0], {394: [receipt.to_bytes()]}, st[2], st[3]]))
    return Bundle(carried, note.to_text()).to_bytes()


def test_verify_refuses_it_at_step_1(home: NodeHome) -> None:
    report = run_verification(_bundle_of(home, _clear_person_statement(home)), home.trust())
    assert report.failed_step == 1
    assert isinstance(report.error, NotEnvelopedError)
    assert "score.city" in str(report.error) and RID not in str(report.error)


def test_bad_input_one_named_error_and_nothing_stored(home: NodeHome) -> None:
    with LocalNode(home) as node:
        before = (node.log.size, node.bodies.counts())
        with pytest.raises(NotEnvelopedError) as e:
            Statement.from_bytes(_clear_person_statement(home))
        assert str(e.value).count("\n") == 0 and e.value.code == "not_enveloped"
        assert (node.log.size, node.bodies.counts()) == before
