"""A SubmitStatements stream had no overall limit.

Each request was capped (1024 statements, 4 MiB), but one stream could carry requests for
ever, and a client could open streams and send nothing, holding a server thread each.
A stream is now bounded in statements, bytes and time (``StreamLimits``): over the
statement or byte limit the call ends with RESOURCE_EXHAUSTED (``StreamLimitError``)
before the request that crossed it is validated, so nothing of it is logged while every
earlier acknowledgement stands; a stream that waits too long for its next request, or
stays open too long, is cancelled. ``PeerClient.submit`` opens as many streams as the
limits need.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from credex.ledger.errors import StreamLimitError
from credex.node.rpc.limits import (
    MAX_STREAM_BYTES,
    MAX_STREAM_IDLE_S,
    MAX_STREAM_S,
    MAX_STREAM_STATEMENTS,
    StreamLimits,
)
from credex.v1 import submit_pb2, submit_pb2_grpc
from tests.security._nodes import Served, init_home, served, statements

DEADLINE_S = 60.0


def _stub(s: Served) -> tuple[grpc.Channel, submit_pb2_grpc.SubmitStub]:
    key, cert, _ = s.tls.issue_client("raw-issuer", "issuer", now=int(time.time()))
    creds = grpc.ssl_channel_credentials(s.tls.ca_pem(), key, cert)
    channel = grpc.secure_channel(s.mtls, creds)
    return channel, submit_pb2_grpc.SubmitStub(channel)  # type: ignore[no-untyped-call]


def _requests(batches: list[list[bytes]]) -> Iterator[submit_pb2.SubmitStatementsRequest]:
    for b in batches:
        yield submit_pb2.SubmitStatementsRequest(statements=b)


def test_the_defaults_are_documented_numbers() -> None:
    limits = StreamLimits()
    assert (limits.statements, limits.bytes) == (MAX_STREAM_STATEMENTS, MAX_STREAM_BYTES)
    assert (limits.seconds, limits.idle_seconds) == (MAX_STREAM_S, MAX_STREAM_IDLE_S)
    assert MAX_STREAM_STATEMENTS == 65_536 and MAX_STREAM_BYTES == 64 * 1024 * 1024


def test_statements_per_stream_at_the_limit_and_one_past(tmp_path: Path) -> None:
    home = init_home(tmp_path / "home")
    with served(home, submit_limits=StreamLimits(statements=10)) as s:
        data = statements(s.node, 21)
        channel, stub = _stub(s)
        with channel:
            at_limit = list(stub.SubmitStatements(_requests([data[:5], data[5:10]])))
            assert sum(len(r.results) for r in at_limit) == 10
            got: list[submit_pb2.SubmitStatementsResponse] = []
            with pytest.raises(grpc.RpcError) as e:
                for r in stub.SubmitStatements(
                    _requests([data[10:15], data[15:20], data[20:21]]), timeout=DEADLINE_S
                ):
                    got.append(r)
        assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert "too many statements in one stream: expected <= 10, got 11" in (
            e.value.details() or ""
        )
        assert dict(e.value.trailing_metadata() or ())["x-credex-error"] == "stream_limit"
        assert sum(len(r.results) for r in got) == 10  # acknowledged before the limit
        assert s.node.log.size == 20  # the request that crossed it: nothing logged


def test_bytes_per_stream_at_the_limit_and_one_past(tmp_path: Path) -> None:
    home = init_home(tmp_path / "home")
    with served(home) as probe:
        data = statements(probe.node, 4)
    limit = sum(len(d) for d in data[:3])
    with served(home, submit_limits=StreamLimits(bytes=limit)) as s, s.client("issuer") as c:
        assert len(c.submit(data[:3])) == 3  # the client keeps to the default limits
        channel, stub = _stub(s)
        with channel, pytest.raises(grpc.RpcError) as e:
            list(stub.SubmitStatements(_requests([data[:3], data[3:]]), timeout=DEADLINE_S))
        assert e.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        assert f"too many bytes in one stream: expected <= {limit}" in (e.value.details() or "")
        assert s.node.log.size == 3


def test_the_client_opens_as_many_streams_as_the_limits_need(tmp_path: Path) -> None:
    home = init_home(tmp_path / "home")
    limits = StreamLimits(statements=10)
    with served(home, submit_limits=limits) as s:
        data = statements(s.node, 25)
        with s.client("issuer", stream_limits=limits) as c:
            assert [a.leaf_index for a in c.submit(data, batch=4)] == list(range(25))
        with s.client("issuer-2") as c, pytest.raises(StreamLimitError):  # one stream of 25
            c.submit(statements(s.node, 25, seed=1))


def test_an_idle_stream_is_cancelled(tmp_path: Path) -> None:
    home = init_home(tmp_path / "home")
    with served(home, submit_limits=StreamLimits(idle_seconds=0.5)) as s:
        data = statements(s.node, 2)
        release = threading.Event()

        def slow() -> Iterator[submit_pb2.SubmitStatementsRequest]:
            yield submit_pb2.SubmitStatementsRequest(statements=data[:1])
            release.wait(DEADLINE_S)  # a client that never sends its next request
            yield submit_pb2.SubmitStatementsRequest(statements=data[1:])

        channel, stub = _stub(s)
        got = []
        with channel, pytest.raises(grpc.RpcError) as e:
            try:
                for r in stub.SubmitStatements(slow(), timeout=DEADLINE_S):
                    got.append(r)
            finally:
                release.set()
        assert e.value.code() == grpc.StatusCode.CANCELLED
        assert len(got) == 1 and s.node.log.size == 1
