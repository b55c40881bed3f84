from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class LookupRequest(_message.Message):
    __slots__ = ("subject", "person_id", "purpose", "authorisation")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    PERSON_ID_FIELD_NUMBER: _ClassVar[int]
    PURPOSE_FIELD_NUMBER: _ClassVar[int]
    AUTHORISATION_FIELD_NUMBER: _ClassVar[int]
    subject: str
    person_id: str
    purpose: str
    authorisation: str
    def __init__(self, subject: _Optional[str] = ..., person_id: _Optional[str] = ..., purpose: _Optional[str] = ..., authorisation: _Optional[str] = ...) -> None: ...

class LookupRecord(_message.Message):
    __slots__ = ("origin", "leaf_index", "kind", "bundle", "withheld")
    ORIGIN_FIELD_NUMBER: _ClassVar[int]
    LEAF_INDEX_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    BUNDLE_FIELD_NUMBER: _ClassVar[int]
    WITHHELD_FIELD_NUMBER: _ClassVar[int]
    origin: str
    leaf_index: int
    kind: str
    bundle: bytes
    withheld: str
    def __init__(self, origin: _Optional[str] = ..., leaf_index: _Optional[int] = ..., kind: _Optional[str] = ..., bundle: _Optional[bytes] = ..., withheld: _Optional[str] = ...) -> None: ...

class LookupResponse(_message.Message):
    __slots__ = ("subject", "records", "audit_index", "audit_leaf_hash", "completeness")
    SUBJECT_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    AUDIT_INDEX_FIELD_NUMBER: _ClassVar[int]
    AUDIT_LEAF_HASH_FIELD_NUMBER: _ClassVar[int]
    COMPLETENESS_FIELD_NUMBER: _ClassVar[int]
    subject: str
    records: _containers.RepeatedCompositeFieldContainer[LookupRecord]
    audit_index: int
    audit_leaf_hash: bytes
    completeness: bytes
    def __init__(self, subject: _Optional[str] = ..., records: _Optional[_Iterable[_Union[LookupRecord, _Mapping]]] = ..., audit_index: _Optional[int] = ..., audit_leaf_hash: _Optional[bytes] = ..., completeness: _Optional[bytes] = ...) -> None: ...
