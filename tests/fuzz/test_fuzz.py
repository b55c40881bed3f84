"""The fuzz targets in CI: each runs its seed corpus, then a bounded number of generated
inputs (byte mutations of the seeds and structure-aware inputs, ``strategies.py``).

A target may refuse an input only with a ``CredexError`` (the named errors); any other
exception fails the test, and hypothesis shrinks the input it failed on. Inputs are
derandomised (the same ones every run, so CI is reproducible); ``CREDEX_FUZZ_EXAMPLES=N``
runs N per target and ``CREDEX_FUZZ_RANDOM=1`` new ones each run. The executions each
target ran are printed at the end of the session (``conftest.py``). Deep, coverage-guided
runs: ``python -m tests.fuzz.run_atheris TARGET`` (atheris, local).
"""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, given, settings

from tests.fuzz.strategies import inputs_for
from tests.fuzz.targets import CORPUS, COUNTS, TARGETS, run_one

#: generated inputs per target in CI (well under 90 s for all targets on one busy core)
EXAMPLES = int(os.environ.get("CREDEX_FUZZ_EXAMPLES", "250"))
#: targets that talk to a real node store are slower per input
SLOW = {"grpc_submit": 0.5, "grpc_log": 0.7, "bundle": 0.8, "bundle_manifest": 0.8}


def _seeds(name: str) -> list[bytes]:
    return [p.read_bytes() for p in sorted((CORPUS / name).iterdir())]


def test_every_target_has_a_seed_corpus() -> None:
    assert sorted(p.name for p in CORPUS.iterdir() if p.is_dir()) == sorted(TARGETS)
    assert all(_seeds(name) for name in TARGETS)


@pytest.mark.parametrize("name", sorted(TARGETS))
def test_fuzz(name: str) -> None:
    target = TARGETS[name]
    seeds = _seeds(name)
    count = COUNTS.setdefault(name, [0, 0])
    for seed in seeds:  # the corpus first: none of it may crash
        count[0] += 1
        count[1] += run_one(target, seed)

    @settings(
        max_examples=max(1, int(EXAMPLES * SLOW.get(name, 1.0))),
        deadline=None,
        database=None,
        derandomize=os.environ.get("CREDEX_FUZZ_RANDOM") != "1",
        suppress_health_check=list(HealthCheck),
    )
    @given(inputs_for(target.kind, seeds))
    def run(data: bytes) -> None:
        count[0] += 1
        count[1] += run_one(target, data)

    run()
    assert count[0] > len(seeds)
