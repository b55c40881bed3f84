"""A throwaway PostgreSQL primary and hot standby on this machine, for replica tests.

``PgCluster.start()`` runs initdb, starts a primary on a free 127.0.0.1 port with
``wal_level=replica`` and ``host replication all 127.0.0.1/32 trust``, takes a
``pg_basebackup -R -X stream -c fast`` of it and starts that as a hot standby on a second free
port. Tests run as root, PostgreSQL refuses to: every server command runs through
``runuser -u postgres --`` in a temporary directory owned by postgres. ``stop()`` stops
both (fast shutdown) and removes the directory. ``PgCluster(standby=False)``: the primary
alone. ``PG_BIN`` missing: ``missing()`` says
why (the only reason a replica test may skip).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Final

from credex.node.demo.federation import free_port

__all__ = ["PG_BIN", "PgCluster", "missing", "require_cluster_tools"]

PG_BIN: Final = Path("/usr/lib/postgresql/15/bin")
_TOOLS: Final = ("initdb", "pg_ctl", "pg_basebackup", "psql", "postgres")


def missing() -> str | None:
    """Why no cluster can be started here (None: it can)."""
    absent = [t for t in _TOOLS if not (PG_BIN / t).exists()]
    if absent:
        return f"PostgreSQL 15 binaries not found in {PG_BIN}: {', '.join(absent)}"
    try:
        pwd.getpwnam("postgres")
    except KeyError:
        return "no postgres system user to run the PostgreSQL servers as"
    return None


def require_cluster_tools() -> None:
    """Skip when no cluster can be started here, except in CI (``CREDEX_REQUIRE_PG_CLUSTER``,
    set by .ci/run, which installs the tools): there it fails."""
    import pytest

    why = missing()
    if why is None:
        return
    if os.environ.get("CREDEX_REQUIRE_PG_CLUSTER"):
        pytest.fail(f"{why} (CI installs them: .ci/run)")
    pytest.skip(why)


class PgCluster:
    def __init__(self, *, standby: bool = True) -> None:
        self.with_standby = standby
        self.dir = Path(tempfile.mkdtemp(prefix="credex-pg-"))
        pw = pwd.getpwnam("postgres")
        os.chown(self.dir, pw.pw_uid, pw.pw_gid)
        self.primary_port = free_port()
        self.standby_port = free_port()
        self._started: list[Path] = []

    def _run(self, *args: str) -> str:
        cmd = ["runuser", "-u", "postgres", "--", *args] if os.geteuid() == 0 else list(args)
        r = subprocess.run(cmd, capture_output=True, text=True, timeout=120, cwd=self.dir)
        if r.returncode != 0:
            raise RuntimeError(f"{args[0]} failed: {r.stderr.strip() or r.stdout.strip()}")
        return r.stdout

    def url(self, port: int, db: str = "credex") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{port}/{db}"

    @property
    def primary_url(self) -> str:
        return self.url(self.primary_port)

    @property
    def standby_url(self) -> str:
        return self.url(self.standby_port)

    def _start(self, data: Path, port: int) -> None:
        self._run(
            str(PG_BIN / "pg_ctl"), "-D", str(data), "-l", str(data.with_suffix(".log")),
            "-o", f"-p {port} -k {self.dir} -c listen_addresses=127.0.0.1",
            "-w", "-t", "60", "start",
        )  # fmt: skip
        self._started.append(data)

    def start(self) -> PgCluster:
        primary, standby = self.dir / "primary", self.dir / "standby"
        self._run(str(PG_BIN / "initdb"), "-D", str(primary), "-U", "postgres", "-A", "trust", "-N")
        with (primary / "postgresql.conf").open("a") as f:
            f.write("wal_level = replica\nmax_wal_senders = 4\nhot_standby = on\nfsync = off\n")
        with (primary / "pg_hba.conf").open("a") as f:
            f.write("host replication all 127.0.0.1/32 trust\nhost all all 127.0.0.1/32 trust\n")
        self._start(primary, self.primary_port)
        self._run(
            str(PG_BIN / "psql"), "-h", "127.0.0.1", "-p", str(self.primary_port),
            "-U", "postgres", "-d", "postgres", "-c", "CREATE DATABASE credex",
        )  # fmt: skip
        if not self.with_standby:
            return self
        self._run(
            str(PG_BIN / "pg_basebackup"), "-h", "127.0.0.1", "-p", str(self.primary_port),
            "-U", "postgres", "-D", str(standby), "-R", "-X", "stream", "-c", "fast", "-N",
        )  # fmt: skip
        self._start(standby, self.standby_port)
        return self

    def stop(self) -> None:
        for data in reversed(self._started):
            with contextlib.suppress(RuntimeError, subprocess.TimeoutExpired):
                self._run(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        self._started.clear()
        shutil.rmtree(self.dir, ignore_errors=True)

    def __enter__(self) -> PgCluster:
        try:
            return self.start()
        except BaseException:
            self.stop()
            raise

    def __exit__(self, *exc: object) -> None:
        self.stop()
