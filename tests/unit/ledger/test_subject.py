from __future__ import annotations

import hashlib
import hmac

import pytest

from credex.ledger.errors import FormatError, IdentifierError
from credex.ledger.record import PERSON_ID_RE, Subject
from credex.ledger.subject import SubjectKey, mask_name, person_subject_id

SECRET = bytes(range(32))
RID = "11010519491231002X"


def test_key_id_derived_from_secret() -> None:
    key = SubjectKey.from_secret(SECRET)
    assert key.key_id == hashlib.sha256(b"credex-subject-key-v1" + SECRET).hexdigest()[:8]
    assert key.secret == SECRET


def test_repr_hides_secret() -> None:
    key = SubjectKey.from_secret(SECRET)
    assert "secret" not in repr(key)
    assert SECRET.hex() not in repr(key)
    assert str(SECRET) not in repr(key)


@pytest.mark.parametrize(
    ("key_id", "secret", "message"),
    [
        ("ABCDEF01", SECRET, "key id must be 8 lowercase hex digits"),
        ("abc", SECRET, "key id must be 8 lowercase hex digits"),
        ("abcdef01", b"short", "secret must be 32 bytes: expected 32, got 5"),
    ],
)
def test_key_validation(key_id: str, secret: bytes, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        SubjectKey(key_id, secret)


def test_person_subject_id_is_hmac_of_normalised_id() -> None:
    key = SubjectKey.from_secret(SECRET)
    sid = person_subject_id(key, RID)
    mac = hmac.new(SECRET, RID.encode(), hashlib.sha256).hexdigest()
    assert sid == f"hmac:{key.key_id}:{mac}"
    assert PERSON_ID_RE.match(sid)
    assert Subject("person", sid).id == sid
    # 15-digit form, lower-case x and spaces all name the same person
    assert person_subject_id(key, "110105491231002") == sid
    assert person_subject_id(key, " 11010519491231002x ") == sid


def test_person_subject_id_depends_on_key() -> None:
    a = person_subject_id(SubjectKey.from_secret(SECRET), RID)
    b = person_subject_id(SubjectKey.from_secret(bytes(32)), RID)
    assert a != b
    assert RID not in a


def test_person_subject_id_rejects_invalid_without_echo() -> None:
    with pytest.raises(IdentifierError, match="check character mismatch at position 18") as e:
        person_subject_id(SubjectKey.from_secret(SECRET), "110105194912310021")
    assert "11010519491231002" not in str(e.value)


@pytest.mark.parametrize(
    ("name", "masked"), [("张三", "张*"), ("欧阳小明", "欧***"), ("李", "*"), ("", "*")]
)
def test_mask_name(name: str, masked: str) -> None:
    assert mask_name(name) == masked
