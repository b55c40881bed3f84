"""Runs the README's marked shell blocks as written: the README is a test.

A block marked ``<!-- test: run -->`` (the line before its fence) is a list of commands. A
line starting ``#   `` (hash, three spaces) after a command is what that command prints:
each such line must match a line of its output, in order, where ``<name>`` stands for any
text; the first time a name is seen its value is captured and later commands (and
output lines) use it. A trailing comment with ``(wait)`` marks a step that becomes true
after the servers' next follow rounds: it is run again until it holds (up to
``WAIT_S``). ``# exit N`` gives the exit code expected (default 0). A command ending in
``&`` is a server, started in the background and awaited until its documented line
appears. ``export NAME=VALUE`` sets the environment of the commands after it.

What the test substitutes (and nothing else): every ``<host>.example:<port>`` endpoint
becomes ``127.0.0.1:<a free port>``, ``--follow 30`` becomes ``--follow 2``, ``HOME`` is
a temporary directory (so ``~`` is too), and commands run in a temporary working
directory holding the input files the README names.
"""

from __future__ import annotations

import os
import queue
import re
import shlex
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from credex.node.demo.federation import free_port

__all__ = ["Runner", "Step", "doc_line_regex", "match_output", "parse_steps"]

MARK = "<!-- test: run -->"
WAIT_S = 60.0
COMMAND_TIMEOUT_S = 120.0
_PLACEHOLDER = re.compile(r"<([a-z0-9][a-z0-9 -]*)>")
_ENDPOINT = re.compile(r"\b([a-z0-9-]+\.example):(\d{2,5})\b")
_EXIT = re.compile(r"#.*\bexit (\d+)\b")
_WAIT = re.compile(r"#.*\(wait\)")
_BACKGROUND = re.compile(r"&\s*(#.*)?$")


@dataclass
class Step:
    """One command of a marked block and what the README says it prints."""

    line: int
    command: str
    expected: list[str] = field(default_factory=list)
    wait: bool = False
    exit_code: int = 0
    background: bool = False


def _complete(text: str) -> bool:
    if text.rstrip().endswith("\\"):
        return False
    try:
        shlex.split(text, comments=True)
    except ValueError:  # an open quote: the command goes on
        return False
    return True


def parse_steps(readme: str) -> list[Step]:
    """The steps of every marked block, in document order."""
    lines = readme.splitlines()
    steps: list[Step] = []
    i = 0
    while i < len(lines):
        if lines[i].strip() != MARK:
            i += 1
            continue
        if not lines[i + 1].startswith("```sh"):
            raise AssertionError(f"README line {i + 2}: a marked block must be ```sh")
        i += 2
        current: Step | None = None
        while not lines[i].startswith("```"):
            raw = lines[i]
            if raw.startswith("#   ") and current is not None:
                current.expected.append(raw[4:])
            elif raw.strip() and not raw.startswith("#"):
                start, text = i, raw
                while not _complete(text):
                    i += 1
                    text += "\n" + lines[i]
                last = text.splitlines()[-1]
                current = Step(
                    start + 1,
                    text,
                    wait=bool(_WAIT.search(last)),
                    exit_code=int(m.group(1)) if (m := _EXIT.search(last)) else 0,
                    background=bool(_BACKGROUND.search(last)),
                )
                steps.append(current)
            i += 1
        i += 1
    return steps


def doc_line_regex(doc: str, known: dict[str, str]) -> tuple[re.Pattern[str], dict[str, str]]:
    """The regex of one documented output line (``known`` placeholders as literals, new
    ones as groups) and the group name of each new placeholder."""
    out = []
    groups: dict[str, str] = {}
    pos = 0
    for m in _PLACEHOLDER.finditer(doc):
        out.append(re.sub(r"(\\ )+|\s+", r"\\s+", re.escape(doc[pos : m.start()])))
        name = m.group(1)
        if name in known:
            out.append(re.escape(known[name]))
        elif name in groups:
            out.append(f"(?P={groups[name]})")
        else:
            groups[name] = f"g{len(groups)}"
            out.append(f"(?P<{groups[name]}>.+?)")
        pos = m.end()
    out.append(re.sub(r"(\\ )+|\s+", r"\\s+", re.escape(doc[pos:])))
    return re.compile("".join(out).strip() + r"(?:\s.*)?$"), groups


def match_output(expected: list[str], output: str, known: dict[str, str]) -> dict[str, str]:
    """The placeholders ``output`` binds for ``expected`` (each documented line matched by
    an output line, in order).

    Raises:
        AssertionError: a documented line that no output line (after the previous) matches.
    """
    lines = [ln.strip() for ln in output.splitlines()]
    found: dict[str, str] = {}
    at = 0
    for doc in expected:
        regex, groups = doc_line_regex(doc.strip(), {**known, **found})
        for k in range(at, len(lines)):
            m = regex.match(lines[k])
            if m:
                found.update({name: m.group(g) for name, g in groups.items()})
                at = k + 1
                break
        else:
            raise AssertionError(f"no output line matches {doc.strip()!r}")
    return found


class Background:
    """A server started by a ``... &`` step; its stderr is collected line by line."""

    def __init__(self, command: str, env: dict[str, str], cwd: Path) -> None:
        self.command = command
        self.proc = subprocess.Popen(
            ["bash", "-c", "exec " + command],
            env=env,
            cwd=cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._pump = threading.Thread(target=self._read, daemon=True)
        self._pump.start()

    def _read(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line)

    def wait_for(self, expected: list[str], known: dict[str, str]) -> dict[str, str]:
        deadline = time.monotonic() + WAIT_S
        while time.monotonic() < deadline:
            try:
                self.seen.append(self.lines.get(timeout=0.2))
            except queue.Empty:
                if self.proc.poll() is not None:
                    break
                continue
            try:
                return match_output(expected, "".join(self.seen), known)
            except AssertionError:
                continue
        raise AssertionError(f"server {self.command!r} never printed {expected}:\n{self.log()}")

    def stop(self) -> int:
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
        code = self.proc.wait(timeout=60)
        self._pump.join(10)
        assert self.proc.stderr is not None
        self.proc.stderr.close()
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code

    def log(self) -> str:
        return "".join(self.seen)


@dataclass
class Timing:
    line: int
    command: str
    seconds: float
    tries: int


class Runner:
    """Runs parsed steps in ``work`` with ``HOME`` at ``home``."""

    def __init__(self, home: Path, work: Path, *, follow_s: int = 2) -> None:
        self.home, self.work, self.follow_s = home, work, follow_s
        bindir = str(Path(sys.executable).parent)
        self.env = {
            "HOME": str(home),
            "PATH": bindir + os.pathsep + os.environ.get("PATH", ""),
            "LANG": "C.UTF-8",
            "LC_ALL": "C.UTF-8",
            "PYTHONUNBUFFERED": "1",
        }
        for name in ("CREDEX_TEST_POSTGRES_URL", "VIRTUAL_ENV"):
            if name in os.environ:
                self.env[name] = os.environ[name]
        self.known: dict[str, str] = {}
        self.ports: dict[str, str] = {}
        self.servers: list[Background] = []
        self.waits: list[Timing] = []

    def substitute(self, step: Step) -> str:
        def endpoint(m: re.Match[str]) -> str:
            key = m.group(0)
            if key not in self.ports:
                self.ports[key] = f"127.0.0.1:{free_port()}"
            return self.ports[key]

        text = _ENDPOINT.sub(endpoint, step.command)
        text = re.sub(r"--follow \d+", f"--follow {self.follow_s}", text)
        missing = [m.group(1) for m in _PLACEHOLDER.finditer(text) if m.group(1) not in self.known]
        if missing:
            raise AssertionError(f"README line {step.line}: nothing printed <{missing[0]}> yet")
        return _PLACEHOLDER.sub(lambda m: self.known[m.group(1)], text)

    def _run_once(self, command: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            ["bash", "-c", command],
            env=self.env,
            cwd=self.work,
            capture_output=True,
            text=True,
            timeout=COMMAND_TIMEOUT_S,
        )

    def run(self, step: Step) -> None:
        command = self.substitute(step)
        where = f"README line {step.line}: {step.command.splitlines()[0]}"
        if step.background:
            server = Background(_BACKGROUND.sub("", command).strip(), self.env, self.work)
            self.servers.append(server)
            self.known.update(server.wait_for(step.expected, self.known))
            return
        m = re.match(r"export (\w+)=(\S+)\s*$", command)
        if m:
            done = self._run_once(f'export {m.group(1)}={m.group(2)}; printf %s "${m.group(1)}"')
            self.env[m.group(1)] = done.stdout
            return
        start = time.monotonic()
        tries = 0
        while True:
            tries += 1
            done = self._run_once(command)
            output = done.stdout + done.stderr
            try:
                assert "Traceback" not in output, output
                assert done.returncode == step.exit_code, (
                    f"exit {done.returncode}, expected {step.exit_code}"
                )
                self.known.update(match_output(step.expected, output, self.known))
                break
            except AssertionError as e:
                if not step.wait or time.monotonic() - start > WAIT_S:
                    logs = "\n".join(f"--- {s.command}\n{s.log()}" for s in self.servers)
                    raise AssertionError(f"{where}\n{e}\n--- output:\n{output}\n{logs}") from e
        if step.wait:
            self.waits.append(Timing(step.line, step.command, time.monotonic() - start, tries))

    def stop(self) -> Iterator[tuple[Background, int]]:
        for server in self.servers:
            yield server, server.stop()
