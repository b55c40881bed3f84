from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class SubmitStatementsRequest(_message.Message):
    __slots__ = ("statements", "preimages")
    STATEMENTS_FIELD_NUMBER: _ClassVar[int]
    PREIMAGES_FIELD_NUMBER: _ClassVar[int]
    statements: _containers.RepeatedScalarFieldContainer[bytes]
    preimages: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, statements: _Optional[_Iterable[bytes]] = ..., preimages: _Optional[_Iterable[bytes]] = ...) -> None: ...

class SubmitStatementsResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[SubmitResult]
    def __init__(self, results: _Optional[_Iterable[_Union[SubmitResult, _Mapping]]] = ...) -> None: ...

class SubmitResult(_message.Message):
    __slots__ = ("leaf_index", "leaf_hash", "is_new", "receipt")
    LEAF_INDEX_FIELD_NUMBER: _ClassVar[int]
    LEAF_HASH_FIELD_NUMBER: _ClassVar[int]
    IS_NEW_FIELD_NUMBER: _ClassVar[int]
    RECEIPT_FIELD_NUMBER: _ClassVar[int]
    leaf_index: int
    leaf_hash: bytes
    is_new: bool
    receipt: bytes
    def __init__(self, leaf_index: _Optional[int] = ..., leaf_hash: _Optional[bytes] = ..., is_new: _Optional[bool] = ..., receipt: _Optional[bytes] = ...) -> None: ...
