"""Load test of one ``credex serve`` on loopback: concurrent anonymous readers and
authenticated submitters for a fixed time, RSS sampled, then kill -9, restart and a
check that every acknowledged statement is in the log.

    python scripts/loadtest.py [--seconds 60] [--readers 16] [--submitters 4]
                               [--batch 16] [--pool 20000] [--json]

Prints requests, errors, peak RSS and the number of acknowledged statements lost (0).
Exit 1 if any acknowledged statement was lost. ``tests/integration/test_loadtest.py``
runs a small bounded version.
"""

from __future__ import annotations

import argparse
import json
import sys

from credex.node.bench.loadtest import run_load


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--seconds", type=float, default=60.0)
    p.add_argument("--readers", type=int, default=16)
    p.add_argument("--submitters", type=int, default=4)
    p.add_argument("--batch", type=int, default=16, help="statements per submit request")
    p.add_argument("--pool", type=int, default=20_000, help="statements signed up front")
    p.add_argument("--json", action="store_true")
    args = p.parse_args()
    report = run_load(
        seconds=args.seconds,
        readers=args.readers,
        submitters=args.submitters,
        batch=args.batch,
        pool=args.pool,
        progress=lambda line: print(f"loadtest: {line}", file=sys.stderr),
    )
    out = report.to_json_value()
    if args.json:
        print(json.dumps(out, indent=2))
    else:
        rss = out["rss_kib"]
        print(
            f"{out['seconds']} s, {out['readers']} readers + {out['submitters']} submitters: "
            f"{out['requests']} requests ({out['reads']} reads, {out['submit_requests']} "
            f"submits, {out['acknowledged_statements']} statements acknowledged)\n"
            f"errors: {out['errors'] or 'none'}; failed in flight at kill -9: "
            f"{out['failed_in_flight_at_kill_9'] or 'none'}\n"
            f"server RSS: first {rss['first'] // 1024} MiB, peak {rss['peak'] // 1024} MiB, "
            f"last {rss['last'] // 1024} MiB, growth second -> last quarter "
            f"{rss['growth_second_to_last_quarter'] // 1024} MiB ({rss['samples']} samples)\n"
            f"after kill -9 and restart: {out['lost_after_kill_9']} acknowledged statements "
            f"lost, log size {out['log_size_after_restart']}"
            + (
                f"\n(the {args.pool} pre-signed statements ran out after "
                f"{out['pool_exhausted_after_s']} s: raise --pool for a longer submit load)"
                if out["pool_exhausted_after_s"] is not None
                else ""
            )
        )
    return 1 if report.lost != 0 else 0


if __name__ == "__main__":
    sys.exit(main())
