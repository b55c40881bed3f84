"""Attack: a witness signs a cosignature whose time is past 2^63 - 1.

C2SP tlog-cosignature writes the time as a uint64, so the line verifies; kept, it would
stand for a moment no clock reads (a witness "from the future" outlives every key
window) and overflow the BIGINT column that stores it. Verification refuses it by
name, and merging a note's lines drops it, as any line that does not verify.
"""

from __future__ import annotations

import pytest

from credex.ledger.checkpoint import (
    MAX_COSIGNATURE_TIME,
    Checkpoint,
    SignedNote,
    cosign_checkpoint,
    merge_verified,
    sign_checkpoint,
    verify_cosignature,
)
from credex.ledger.errors import SignatureError
from credex.ledger.keys import SigningKey

LOG = SigningKey(b"\x01" * 32)
WITNESS = SigningKey(b"\x02" * 32)
ORIGIN = "credex.example/log"


def _note() -> SignedNote:
    return sign_checkpoint(Checkpoint(ORIGIN, 3, b"\x07" * 32), ORIGIN, LOG)


@pytest.mark.parametrize("when", [2**63, 2**64 - 1])
def test_cosignature_time_past_bigint_is_refused(when: int) -> None:
    note = _note()
    line = cosign_checkpoint(note, "w", WITNESS, when)
    cosigned = SignedNote(note.body, (*note.signatures, line))
    with pytest.raises(SignatureError, match="cosignature time out of range"):
        verify_cosignature(cosigned, "w", WITNESS.public_key)
    merged = merge_verified([cosigned], (ORIGIN, LOG.public_key), [("w", WITNESS.public_key)])
    assert merged.signatures == note.signatures


def test_the_last_bigint_second_still_verifies() -> None:
    note = _note()
    line = cosign_checkpoint(note, "w", WITNESS, MAX_COSIGNATURE_TIME)
    cosigned = SignedNote(note.body, (*note.signatures, line))
    assert verify_cosignature(cosigned, "w", WITNESS.public_key) == MAX_COSIGNATURE_TIME
