"""``/metrics`` (Prometheus text format) and ``/healthz``.

A custom collector reads the node's state at each scrape, so the figures are right even
when another process (the CLI, the gRPC Submit service) appended or signed:

- ``credex_log_appends_total``: entries appended to the log (its size: it never shrinks)
- ``credex_checkpoint_size``, ``credex_checkpoint_age_seconds``: the latest signed checkpoint
- ``credex_checkpoint_cosignatures``: witness cosignatures collected on it
- ``credex_peer_sync_lag_entries{origin}``: a peer's latest verified checkpoint size minus
  what this node has mirrored; ``credex_peer_sync_age_seconds{origin}``: time since the
  last sync round; ``credex_peer_sync_failing{origin}``: 1 if that round was refused
- ``credex_lookups_served_total``, ``credex_lookups_refused_total``: subject lookups
  answered or refused by this process (``credex.node.telemetry``)
- ``credex_errors_total{edge,code}``: errors answered on the gRPC and HTTP edges, by code
- ``credex_http_requests_total{route,status}``: HTTP requests by route template

Labels hold origins, route templates, status and error codes only: never a subject, a
path or a message. ``/healthz`` answers 200 ``{"status": "ok", ...}`` while the log's
store answers, else 503 (``StorageError``).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Response
from prometheus_client import CollectorRegistry, Counter, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from pydantic import BaseModel

from credex.ledger.checkpoint import SignedNote
from credex.ledger.errors import CredexError
from credex.node import telemetry
from credex.node.federation.peers import PeerRegistry
from credex.node.local import LocalNode

from .context import HttpContext, context
from .errors import ErrorBody

__all__ = ["CONTENT_TYPE", "Health", "Metrics", "NodeCollector", "router"]

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"


class NodeCollector(Collector):
    """Reads the node's log, checkpoints, peers and the process counters per scrape."""

    def __init__(self, node: LocalNode, clock: Callable[[], int]) -> None:
        self._node = node
        self._clock = clock

    def collect(self) -> Iterator[Metric]:
        node, now = self._node, self._clock()
        yield CounterMetricFamily(
            "credex_log_appends", "Entries appended to the log.", value=node.log.size
        )
        cp = node.store.latest_checkpoint()
        size = GaugeMetricFamily("credex_checkpoint_size", "Tree size of the latest checkpoint.")
        age = GaugeMetricFamily(
            "credex_checkpoint_age_seconds", "Seconds since the latest checkpoint was recorded."
        )
        cosigs = GaugeMetricFamily(
            "credex_checkpoint_cosignatures", "Witness cosignatures on the latest checkpoint."
        )
        if cp is not None:
            note = SignedNote.from_text(cp.note)
            size.add_metric([], cp.tree_size)
            age.add_metric([], max(0, now - cp.created_at))
            own = node.home.origin
            cosigs.add_metric([], sum(1 for s in note.signatures if s.name != own))
        yield from (size, age, cosigs)
        yield from self._peers(now)
        counts = telemetry.snapshot()
        for name, text in (
            (telemetry.LOOKUPS_SERVED, "Subject lookups answered."),
            (telemetry.LOOKUPS_REFUSED, "Subject lookups refused."),
        ):
            yield CounterMetricFamily(f"credex_{name}", text, value=counts.get((name,), 0))
        errors = CounterMetricFamily(
            "credex_errors", "Errors answered, by edge and code.", labels=["edge", "code"]
        )
        for key, value in sorted(counts.items()):
            if key[0] == "errors" and len(key) == 3:
                errors.add_metric([key[1], key[2]], value)
        yield errors

    def _peers(self, now: int) -> Iterator[Metric]:
        lag = GaugeMetricFamily(
            "credex_peer_sync_lag_entries",
            "Peer's latest verified checkpoint size minus the entries mirrored here.",
            labels=["origin"],
        )
        age = GaugeMetricFamily(
            "credex_peer_sync_age_seconds", "Seconds since the last sync round.", labels=["origin"]
        )
        failing = GaugeMetricFamily(
            "credex_peer_sync_failing", "1 if the last sync round was refused.", labels=["origin"]
        )
        try:
            peers = PeerRegistry(self._node.home).list()
        except CredexError:
            peers = []
        for p in peers:
            s: dict[str, Any] = p.status
            if "updated_at" not in s:
                continue
            lag.add_metric(
                [p.origin],
                max(0, int(s.get("checkpoint_size") or 0) - int(s.get("mirrored_size") or 0)),
            )
            age.add_metric([p.origin], max(0, now - int(s["updated_at"])))
            failing.add_metric([p.origin], 1 if s.get("error") else 0)
        yield from (lag, age, failing)


class Metrics:
    """One app's registry: the node collector and the HTTP request counter."""

    def __init__(self, node: LocalNode, clock: Callable[[], int]) -> None:
        self.registry = CollectorRegistry(auto_describe=False)
        self.registry.register(NodeCollector(node, clock))
        self.requests = Counter(
            "credex_http_requests",
            "HTTP requests answered, by route template and status.",
            ["route", "status"],
            registry=self.registry,
        )

    def render(self) -> bytes:
        return generate_latest(self.registry)


router = APIRouter(tags=["operations"])
Ctx = Annotated[HttpContext, Depends(context)]


def _metrics(request: Request) -> Metrics:
    m: Metrics = request.app.state.metrics
    return m


class Health(BaseModel):
    status: str
    origin: str
    tree_size: int


@router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {"text/plain": {}}}},
    summary="Prometheus metrics",
)
def metrics(m: Annotated[Metrics, Depends(_metrics)]) -> Response:
    return Response(m.render(), media_type=CONTENT_TYPE)


@router.get(
    "/healthz",
    summary="Liveness: the log's store answers",
    responses={503: {"model": ErrorBody, "description": "the log's store does not answer"}},
)
def healthz(ctx: Ctx) -> Health:
    return Health(status="ok", origin=ctx.node.home.origin, tree_size=ctx.node.store.size())
