"""Peak resident memory of ``credex serve`` and of a follower during a full peer sync.

    python scripts/sync_memory.py [N ...] [--json]

For each N (default 100000 1000000): build a source log of N entries, serve it with
``credex serve`` (a child process), and let a follower child process mirror all of it
with ``PeerSync`` (every entry verified, batches committed durably) into an empty SQLite
mirror; prints the peak RSS (``VmHWM`` / ``ru_maxrss``) of both processes, so that runs
at two sizes show whether memory grows with the log (issue 13, point 4; docs/scale.md).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

from credex.node.bench.rpc import sync_memory


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("sizes", type=int, nargs="*", default=[100_000, 1_000_000])
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    out = []
    with tempfile.TemporaryDirectory(prefix="credex-sync-memory-") as tmp:
        for n in args.sizes:
            r = sync_memory(
                Path(tmp), n, progress=lambda line: print(f"sync_memory: {line}", file=sys.stderr)
            )
            out.append(r)
            if not args.json:
                print(
                    f"{n} entries: source credex serve peak {r['source_serve_peak_mib']} MiB "
                    f"(after start {r['source_serve_after_start_mib']} MiB), follower peak "
                    f"{r['follower_peak_mib']} MiB; sync {r['sync_per_s']:.0f} entries/s, "
                    f"build {r['build_seconds']:.0f} s"
                )
    if args.json:
        print(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
