"""Attacks on GetInclusionProofs, the batch proof RPC of the public Log service (A46-A49).

- A46: an oversized batch (more entries than ``MAX_PROOFS_BATCH``, or a message of
  millions of packed indices) to make one call cost unbounded node reads: refused by
  name before any entry is looked up (``OversizeError``), or by the message limit.
- A47: indices past the tree, a tree past the log, the largest uint64, an unknown or
  short leaf hash, an empty request: one named error for the whole call, never a
  partial answer, and the log is unchanged.
- A48: a caller without TLS, or without a client certificate on the mTLS port: the
  plaintext call never reaches the server, the mTLS port refuses the handshake; the
  public port answers without a client certificate (the Log service is open, as a
  transparency log is: it serves only hashes anyone may recompute from the log).
- A49: a lying server that answers with proofs of other entries, another tree, a
  missing or extra proof: ``PeerClient.get_inclusion_proofs`` refuses the answer.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent import futures
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import grpc
import pytest

from credex.ledger.errors import FormatError, NotFoundError, OutOfRangeError, OversizeError
from credex.ledger.merkle import leaf_hash
from credex.node.rpc.client import PeerClient
from credex.node.rpc.convert import MAX_PROOFS_BATCH
from credex.node.rpc.log_servicer import LogServicer
from credex.v1 import log_pb2, log_pb2_grpc
from tests.security._nodes import Served, init_home, served, statements

METHOD = "/credex.v1.Log/GetInclusionProofs"


@contextmanager
def _node(tmp_path: Path, n: int = 40, **kw: Any) -> Iterator[Served]:
    home = init_home(tmp_path / "home")
    with served(home, **kw) as s:
        if n:
            with s.client("issuer-1") as c:
                c.submit(statements(s.node, n))
        yield s


def _raw(s: Served, request: bytes) -> grpc.RpcError:
    creds = grpc.ssl_channel_credentials(s.tls.ca_pem())
    with grpc.secure_channel(s.public, creds) as ch, pytest.raises(grpc.RpcError) as e:
        ch.unary_unary(METHOD)(request, timeout=30)
    return e.value


def _code(e: grpc.RpcError) -> tuple[grpc.StatusCode, str]:
    return e.code(), dict(e.trailing_metadata() or ())["x-credex-error"]


# --- A46 -------------------------------------------------------------------------------------


def test_a46_one_entry_past_the_batch_bound_is_refused_by_name(tmp_path: Path) -> None:
    with _node(tmp_path) as s, s.client() as c:
        assert len(c.get_inclusion_proofs([1] * MAX_PROOFS_BATCH, 40)[1]) == MAX_PROOFS_BATCH
        with pytest.raises(OversizeError, match=r"expected <= 256, got 257"):
            c.get_inclusion_proofs([1] * MAX_PROOFS_BATCH + [leaf_hash(b"x")], 40)
        # counted before anything is looked up: 257 unknown hashes are still "too many"
        e = _raw(
            s,
            log_pb2.GetInclusionProofsRequest(leaf_hashes=[b"\x00" * 32] * 257).SerializeToString(),
        )
        assert _code(e) == (grpc.StatusCode.INVALID_ARGUMENT, "oversize")


def test_a46_a_message_of_a_million_indices_is_refused_by_size(tmp_path: Path) -> None:
    with _node(tmp_path, max_message_bytes=1 << 20) as s:
        flood = log_pb2.GetInclusionProofsRequest(leaf_indices=[1 << 40] * 1_000_000)
        e = _raw(s, flood.SerializeToString())
        assert e.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
        with s.client() as c:  # the server goes on
            assert c.get_inclusion_proofs([0], 40)[0] == 40


# --- A47 -------------------------------------------------------------------------------------


def test_a47_entries_or_trees_past_the_log_fail_the_whole_call(tmp_path: Path) -> None:
    with _node(tmp_path) as s, s.client() as c:
        root = s.node.log.root()
        known = leaf_hash(s.node.log.entry(3).leaf)
        with pytest.raises(OutOfRangeError, match="expected 0 <= index < 40, got 40"):
            c.get_inclusion_proofs([0, 1, 40], 40)
        with pytest.raises(OutOfRangeError, match="expected 0 <= index < 10, got 12"):
            c.get_inclusion_proofs([12, known], 10)
        with pytest.raises(OutOfRangeError, match="tree size out of range"):
            c.get_inclusion_proofs([0], 41)
        with pytest.raises(OutOfRangeError):
            c.get_inclusion_proofs([(1 << 64) - 1])
        with pytest.raises(OutOfRangeError):
            c.get_inclusion_proofs([0], (1 << 64) - 1)
        with pytest.raises(NotFoundError, match="leaf hash not found"):
            c.get_inclusion_proofs([known, leaf_hash(b"never logged")])
        with pytest.raises(FormatError, match="leaf hash has wrong length"):
            c.get_inclusion_proofs([0, b"\x00" * 31])
        assert (s.node.log.size, s.node.log.root()) == (40, root)
    with _node(tmp_path / "b") as s:
        assert _code(_raw(s, b"")) == (grpc.StatusCode.INVALID_ARGUMENT, "format")
        assert _code(_raw(s, b"\x0a\xff")) == (grpc.StatusCode.INVALID_ARGUMENT, "format")


def test_a47_an_empty_log_answers_out_of_range(tmp_path: Path) -> None:
    with _node(tmp_path, n=0) as s, s.client() as c, pytest.raises(OutOfRangeError):
        c.get_inclusion_proofs([0])


# --- A48 -------------------------------------------------------------------------------------


def test_a48_no_tls_no_answer_and_the_mtls_port_wants_a_certificate(tmp_path: Path) -> None:
    request = log_pb2.GetInclusionProofsRequest(leaf_indices=[0]).SerializeToString()
    with _node(tmp_path) as s:
        for address in (s.public, s.mtls):
            with grpc.insecure_channel(address) as ch:
                with pytest.raises(grpc.RpcError) as e:
                    ch.unary_unary(METHOD)(request, timeout=10)
                assert e.value.code() == grpc.StatusCode.UNAVAILABLE
        creds = grpc.ssl_channel_credentials(s.tls.ca_pem())
        with grpc.secure_channel(s.mtls, creds) as ch:
            with pytest.raises(grpc.RpcError) as e:
                ch.unary_unary(METHOD)(request, timeout=10)
            assert e.value.code() == grpc.StatusCode.UNAVAILABLE
        with s.client() as c:  # no client certificate: the public Log service answers
            assert c.get_inclusion_proofs([0])[0] == 40


# --- A49 -------------------------------------------------------------------------------------


class LyingLog(LogServicer):
    """The node's real Log service; GetInclusionProofs' genuine answer is rewritten."""

    def __init__(self, served: Served, lie: str) -> None:
        super().__init__(served.node, clock=lambda: int(time.time()))
        self.lie = lie

    def GetInclusionProofs(
        self, request: log_pb2.GetInclusionProofsRequest, context: Any
    ) -> log_pb2.GetInclusionProofsResponse:
        msg = super().GetInclusionProofs(request, context)
        proofs = list(msg.proofs)
        if self.lie == "swap":
            proofs.reverse()
        elif self.lie == "drop":
            proofs.pop()
        elif self.lie == "extra":
            proofs.append(proofs[0])
        elif self.lie == "size":
            msg.tree_size -= 1
        elif self.lie == "proof-size":
            proofs[0].tree_size -= 1
        elif self.lie == "short-hash":
            proofs[0].leaf_hash = proofs[0].leaf_hash[:31]
        del msg.proofs[:]
        msg.proofs.extend(proofs)
        return msg


@contextmanager
def _lying(s: Served, lie: str) -> Iterator[PeerClient]:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=2))
    log_pb2_grpc.add_LogServicer_to_server(LyingLog(s, lie), server)  # type: ignore[no-untyped-call]
    creds = grpc.ssl_server_credentials([(s.tls.server_key_pem(), s.tls.server_cert_pem())])
    port = server.add_secure_port("127.0.0.1:0", creds)
    server.start()
    try:
        with PeerClient(f"127.0.0.1:{port}", ca_pem=s.tls.ca_pem(), timeout_s=30) as c:
            yield c
    finally:
        server.stop(None).wait()


@pytest.mark.parametrize("lie", ["swap", "drop", "extra", "size", "proof-size", "short-hash"])
def test_a49_an_answer_for_other_entries_or_trees_is_refused(tmp_path: Path, lie: str) -> None:
    with _node(tmp_path) as s:
        refs: list[int | bytes] = [leaf_hash(s.node.log.entry(2).leaf), 5, 9]
        with _lying(s, "none") as honest:
            assert [i for i, _, _ in honest.get_inclusion_proofs(refs, 40)[1]] == [2, 5, 9]
        with _lying(s, lie) as c, pytest.raises(FormatError):
            c.get_inclusion_proofs(refs, 40)
