"""``credex serve`` as a real process for tests: started, awaited, stopped with SIGTERM.

``ServeProcess(home, *args)`` runs ``credex serve --home HOME --listen 127.0.0.1:0
--mtls-listen 127.0.0.1:0 ARGS`` through the console entry point, collects its stderr
(the server's log) line by line, and parses the bound addresses from its ``listening
on`` line. ``wait_for(text)`` awaits a log line (an event, not a sleep).
"""

from __future__ import annotations

import queue
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

__all__ = ["DEADLINE_S", "ServeProcess", "wait_until"]

DEADLINE_S = 60.0


def wait_until(predicate, what: str, deadline_s: float = DEADLINE_S) -> None:  # type: ignore[no-untyped-def]
    """Poll ``predicate`` (cheap, in-process reads) until it holds; fail after the deadline."""
    end = time.monotonic() + deadline_s
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"never happened: {what}")
        time.sleep(0.05)


class ServeProcess:
    def __init__(self, home: Path, *args: str, listen: str = "127.0.0.1:0") -> None:
        host = listen.rpartition(":")[0]
        self.proc = subprocess.Popen(
            [
                sys.executable,
                "-c",
                "from credex.cli.main import main; main()",
                "serve",
                "--home",
                str(home),
                "--listen",
                listen,
                "--mtls-listen",
                f"{host}:0",
                *args,
            ],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._pump = threading.Thread(target=self._read, daemon=True)
        self._pump.start()
        self.public = self.mtls = ""

    def started(self) -> ServeProcess:
        line = self.wait_for("listening on")
        addrs = line.split("listening on ", 1)[1]
        self.public = addrs.split(" ")[0]
        self.mtls = addrs.split("(mtls ", 1)[1].rstrip(")\n")
        return self

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line)

    def wait_for(self, text: str, deadline_s: float = DEADLINE_S) -> str:
        """The first log line (from now on, or already seen and not yet consumed)
        containing ``text``."""
        end = time.monotonic() + deadline_s
        while time.monotonic() < end:
            if self.proc.poll() is not None and self.lines.empty():
                break
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no {text!r} from credex serve: {self.log()}")

    def log(self) -> str:
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return "".join(self.seen)

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=DEADLINE_S)
        self._pump.join(10)
        assert self.proc.stderr is not None
        self.proc.stderr.close()
        self.log()
        return code

    def __enter__(self) -> ServeProcess:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
