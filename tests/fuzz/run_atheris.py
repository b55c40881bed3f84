"""Deep, coverage-guided fuzzing of one target with atheris (libFuzzer), outside CI.

::

    pip install atheris
    python -m tests.fuzz.run_atheris TARGET [libFuzzer options, e.g. -runs=100000
                                             -max_total_time=300 -max_len=65536]

The credex package is instrumented (``atheris.instrument_imports``), the target's seed
corpus (``corpus/TARGET/``) is copied to a scratch directory that libFuzzer grows, and a
``CredexError`` is the expected refusal; any other exception stops the run with the
input written to ``crash-*`` in the working directory (add it to the corpus once fixed).
libFuzzer prints the number of executions (``#N DONE``). ``--list`` names the targets.
"""

from __future__ import annotations

import shutil
import sys
import tempfile
from pathlib import Path


def main(argv: list[str]) -> None:
    import atheris

    if len(argv) < 2 or argv[1] in ("-h", "--help", "--list"):
        from tests.fuzz.targets import TARGETS

        print("targets:", " ".join(sorted(TARGETS)))
        return
    name = argv[1]
    with atheris.instrument_imports(include=["credex"]):
        from tests.fuzz.targets import CORPUS, TARGETS, run_one
    target = TARGETS[name]
    scratch = Path(tempfile.mkdtemp(prefix=f"credex-atheris-{name}-"))
    for seed in (CORPUS / name).iterdir():
        shutil.copy(seed, scratch / seed.name)

    def one(data: bytes) -> None:
        run_one(target, data)

    atheris.Setup([argv[0], *argv[2:], str(scratch)], one)
    atheris.Fuzz()


if __name__ == "__main__":
    main(sys.argv)
