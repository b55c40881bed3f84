"""``free_port`` (the demo's and the tests' federation endpoints, chosen before the
servers start): a port below the kernel's ephemeral range, so that no outgoing
connection takes it before the server binds it (one did: ``cannot listen on
127.0.0.1:50041`` in a full test run), free when returned, and never the same port twice
in one process (two draws of one federation once collided: ``cannot listen on
127.0.0.1:29821``)."""

from __future__ import annotations

import socket
from pathlib import Path

from credex.node.demo.federation import free_port


def test_ports_come_from_below_the_ephemeral_range_and_are_free() -> None:
    low = int(Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split()[0])
    ports = [free_port() for _ in range(50)]
    assert all(10_000 <= p < min(low, 32_768) for p in ports)
    assert len(set(ports)) > 40  # drawn at random, not one port again and again
    for p in ports[:5]:
        with socket.socket() as s:
            s.bind(("127.0.0.1", p))


def test_no_port_is_handed_out_twice_in_one_process() -> None:
    ports = [free_port() for _ in range(2_000)]
    assert len(set(ports)) == len(ports)
