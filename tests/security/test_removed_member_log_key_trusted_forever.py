"""Old log keys of removed members were trusted forever.

``Manifest`` kept every log key of every version with no window: after a member is removed
(or replaced with a new key), whoever holds its old log key could sign receipts and
checkpoints that verifiers still accepted, for as long as the chain is used. A log key
that left the federation (retired by ``retire_log_key`` or dropped with its member) now
vouches only for checkpoints the witnesses cosigned before it left; with a quorum of 0 at
least one such cosignature is needed, since nothing else attests when a note was signed.
"""

from __future__ import annotations

import pytest

from credex.ledger.errors import KeyValidityError
from credex.ledger.keys import SigningKey
from credex.ledger.manifest import Manifest, add_member, retire_log_key, verify_manifest_chain
from credex.ledger.verify import verify_bundle
from tests.security._federation_chain import (
    HZ,
    LOGS,
    NB,
    T0,
    XM,
    bundle_of,
    member,
    signed,
    v1,
)

LEFT = T0 + 100 * 86400  # when the key left the federation


def _replaced() -> Manifest:
    """Version 2 replaces Hangzhou's member entry with one under a new log key (the old
    key is dropped, not retired: the form a removal and re-admission takes)."""
    body = v1()
    new = member(HZ, 0, log=SigningKey(b"\x51" * 32))
    return verify_manifest_chain([signed(body), signed(add_member(body, new, LEFT))])


def test_a_dropped_log_key_keeps_what_was_cosigned_before_it_left() -> None:
    m = _replaced()
    assert verify_bundle(bundle_of(LOGS[HZ], [NB, XM], LEFT - 1), m).ok


def test_a_dropped_log_key_cannot_vouch_for_anything_later() -> None:
    m = _replaced()
    with pytest.raises(KeyValidityError, match="left the trust material") as e:
        verify_bundle(bundle_of(LOGS[HZ], [NB, XM], LEFT + 1), m)
    assert e.value.step == 6


def test_without_a_quorum_a_dropped_key_needs_one_earlier_cosignature() -> None:
    body = v1(quorum=0)
    new = member(HZ, 0, log=SigningKey(b"\x51" * 32))
    m = verify_manifest_chain([signed(body), signed(add_member(body, new, LEFT))])
    with pytest.raises(KeyValidityError, match="expected 1 witness cosignatures"):
        verify_bundle(bundle_of(LOGS[HZ], [], LEFT + 1), m)
    assert verify_bundle(bundle_of(LOGS[HZ], [NB], LEFT - 1), m).ok


def test_a_retired_log_key_is_closed_at_its_retirement() -> None:
    body = v1()
    v2 = retire_log_key(body, HZ, SigningKey(b"\x52" * 32).public_key, LEFT, LEFT)
    m = verify_manifest_chain([signed(body), signed(v2)])
    assert verify_bundle(bundle_of(LOGS[HZ], [NB, XM], LEFT - 1), m).ok
    with pytest.raises(KeyValidityError):
        verify_bundle(bundle_of(LOGS[HZ], [NB, XM], LEFT), m)
    # one witness cosigned in time, the other after: the quorum of 2 is not met in time
    late = bundle_of(LOGS[HZ], [NB], LEFT - 1)
    with pytest.raises(KeyValidityError, match="expected 2 witness cosignatures"):
        verify_bundle(late, m)


def test_the_current_log_key_is_unaffected() -> None:
    m = _replaced()
    log = m.log_for_origin("credex.cn-zj-hangzhou.example/log")
    assert log is not None and log.valid_until is None
    new_key = SigningKey(b"\x51" * 32)
    assert verify_bundle(bundle_of(new_key, [NB, XM], LEFT + 10**6), m).ok
