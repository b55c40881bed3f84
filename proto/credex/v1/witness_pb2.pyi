from google.protobuf.internal import containers as _containers
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable
from typing import ClassVar as _ClassVar, Optional as _Optional

DESCRIPTOR: _descriptor.FileDescriptor

class AddCheckpointRequest(_message.Message):
    __slots__ = ("old_size", "consistency_proof", "checkpoint")
    OLD_SIZE_FIELD_NUMBER: _ClassVar[int]
    CONSISTENCY_PROOF_FIELD_NUMBER: _ClassVar[int]
    CHECKPOINT_FIELD_NUMBER: _ClassVar[int]
    old_size: int
    consistency_proof: _containers.RepeatedScalarFieldContainer[bytes]
    checkpoint: str
    def __init__(self, old_size: _Optional[int] = ..., consistency_proof: _Optional[_Iterable[bytes]] = ..., checkpoint: _Optional[str] = ...) -> None: ...

class AddCheckpointResponse(_message.Message):
    __slots__ = ("cosignature",)
    COSIGNATURE_FIELD_NUMBER: _ClassVar[int]
    cosignature: str
    def __init__(self, cosignature: _Optional[str] = ...) -> None: ...
