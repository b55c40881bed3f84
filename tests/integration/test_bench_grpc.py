"""Smoke test of the gRPC benchmarks (P2, P3, P5) at tiny sizes: report structure only.

Nothing is timed or compared with a goal here: the figures are whatever this machine does.
"""

from __future__ import annotations

from pathlib import Path

from credex.node.bench.rpc import p2_submit, p3_proofs, p5_sync, source_node


def _rate(d: dict[str, float]) -> None:
    assert set(d) == {"median", "min", "max"}
    assert all(isinstance(v, float) and v > 0 for v in d.values())


def test_grpc_benchmarks_report_structure(tmp_path: Path) -> None:
    p2 = p2_submit(tmp_path, 12, clients=2, batch=4, reps=1)
    _rate(p2["submit_per_s"])
    assert (p2["statements"], p2["clients"], p2["batch"]) == (12, 2, 4)
    assert p2["client_sign_per_s"] > 0

    with source_node(tmp_path, 20) as src:
        p3 = p3_proofs(src, 8, clients=2, batch=3, batch_factor=2, reps=1)
        p5 = p5_sync(tmp_path, src, reps=1)
    assert (p3["log_size"], p3["clients"], p3["rpcs"]) == (20, 2, 8)
    for key in ("proof_rpc_per_s", "echo_rpc_per_s"):
        _rate(p3["single"][key])
    for key in ("proof_rpc_per_s", "in_process_proof_per_s", "in_process_one_by_one_per_s"):
        _rate(p3["batched"][key])
    assert (p3["batched"]["proofs"], p3["batched"]["batch"]) == (16, 3)
    _rate(p5["sync_per_s"])
    _rate(p5["in_process_sync_per_s"])
    assert p5["entries"] == 20


def test_bench_report_has_p2_p3_p5(tmp_path: Path) -> None:
    from credex.node.bench.runner import _grpc

    raw = {"median": 1000.0, "min": 1000.0, "max": 1000.0}
    report = _grpc(tmp_path, True, 1, raw, raw, lambda _: None, sizes=(8, 12, 8))
    assert set(report) == {"P2", "P3", "P5"}
    for key, ratios in (("P2", ["ratio"]), ("P3", ["ratio", "batched_ratio"]), ("P5", ["ratio"])):
        entry = report[key]
        assert "goal" in entry
        for r in ratios:
            assert isinstance(entry[r], float) and entry[r] > 0
    assert report["P3"]["batched_goal"] == 0.50
    memory = report["P2"]["server_memory"]
    assert 0 < memory["after_start_mib"] <= memory["peak_mib"]
    assert memory["statements"] == 8
    assert report["P5"]["raw_verify_per_s"] == 1000.0
