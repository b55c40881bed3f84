"""``/metrics`` reads the node's state at each scrape: appends, the latest checkpoint's
size, age and cosignatures, each peer's sync lag, age and failure, and the process's
lookup and error counters."""

from __future__ import annotations

from pathlib import Path

import httpx

from credex.node import telemetry
from credex.node.federation.peers import PeerRegistry
from credex.node.local import LocalNode

from .nodes import NOW, T0, issue_penalties, make_home, served

PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n"


def _value(text: str, name: str) -> float:
    for line in text.splitlines():
        if line.startswith(name + " "):
            return float(line.rsplit(" ", 1)[1])
    raise AssertionError(f"{name} not in metrics")


def test_metrics_follow_the_node(tmp_path: Path) -> None:
    home = make_home(tmp_path / "home")
    peers = PeerRegistry(home)
    peers.add("credex.hangzhou.example/log", "127.0.0.1:1", PEM, T0)
    peers.record_status(
        "credex.hangzhou.example/log",
        {"checkpoint_size": 40, "mirrored_size": 33, "error": None, "updated_at": NOW - 90},
    )
    peers.add("credex.xiamen.example/log", "127.0.0.1:2", PEM, T0)
    peers.record_status(
        "credex.xiamen.example/log",
        {"checkpoint_size": 5, "mirrored_size": 5, "error": "peer unreachable", "updated_at": NOW},
    )
    with LocalNode(home) as n, served(n) as s:
        issue_penalties(n, 4)
        n.publish_checkpoint(NOW - 30)
        before = telemetry.snapshot().get(("lookups_refused",), 0)
        telemetry.count(telemetry.LOOKUPS_REFUSED)
        telemetry.count_error("grpc", "lookup_not_authorised")
        text = httpx.get(f"{s.url}/metrics").text
    assert _value(text, "credex_log_appends_total") == 4
    assert _value(text, "credex_checkpoint_size") == 4
    assert _value(text, "credex_checkpoint_age_seconds") == 30
    assert _value(text, "credex_checkpoint_cosignatures") == 0
    hz, xm = 'origin="credex.hangzhou.example/log"', 'origin="credex.xiamen.example/log"'
    assert _value(text, f"credex_peer_sync_lag_entries{{{hz}}}") == 7
    assert _value(text, f"credex_peer_sync_age_seconds{{{hz}}}") == 90
    assert _value(text, f"credex_peer_sync_failing{{{hz}}}") == 0
    assert _value(text, f"credex_peer_sync_failing{{{xm}}}") == 1
    assert _value(text, "credex_lookups_refused_total") == before + 1
    assert _value(text, 'credex_errors_total{code="lookup_not_authorised",edge="grpc"}') >= 1
