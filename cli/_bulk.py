"""What ``credex import`` and ``credex issue --records`` print while a big file streams.

- stdout: one summary line at the end; with ``--verbose`` a line per record before it;
  with ``--json`` one JSON object per line (JSON lines): each record, each refused row
  (unless ``--rejects``), each duplicate and warning, then ``{"summary": {...}}``.
- stderr: a progress bar (bytes of the file, rows read, logged, rejected, rate, time
  left) only when stderr is a terminal; warnings and refused rows, the first
  ``SHOWN`` of each, then how many more.
- ``--rejects FILE.csv``: every refused row as ``line,reason`` (the reason is an
  adapter's message, which never holds a raw personal id; no cell of the row is
  copied), written as the import goes.

Nothing here keeps a list of rows: memory stays flat whatever the file's size.
"""

from __future__ import annotations

import csv
import json
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any, Final

from rich.progress import (
    BarColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeRemainingColumn,
)

from credex.adapters.base import RowError
from credex.cli._common import console, err_console
from credex.node.services.importer import Duplicate, ImportedRow, ImportSink, Tally

__all__ = ["SHOWN", "BulkOutput", "read_chunks"]

#: refused rows (and row warnings) shown on stderr before the rest are only counted
SHOWN: Final = 20
_READ: Final = 1 << 20


def read_chunks(f: IO[bytes], on_bytes: Callable[[int], None]) -> Iterator[bytes]:
    """The file's bytes in chunks of 1 MiB, reporting each chunk's size."""
    while chunk := f.read(_READ):
        on_bytes(len(chunk))
        yield chunk


def _line(obj: dict[str, Any]) -> None:
    print(json.dumps(obj, ensure_ascii=False, sort_keys=True), flush=False)


class BulkOutput(ImportSink):
    """An ``ImportSink`` that prints (see module docstring). Use as a context manager."""

    def __init__(
        self,
        *,
        name: str,
        total_bytes: int,
        json_out: bool,
        verbose: bool,
        rejects: Path | None,
        logged_word: str = "imported",
    ) -> None:
        self.name = name
        self.json_out = json_out
        self.verbose = verbose
        self.wants_rows = json_out or verbose  # else good rows are only counted
        self.rejects_path = rejects
        self.logged_word = logged_word
        self.tally = Tally()
        self.shown_rejects = 0
        self.shown_warnings = 0
        self.started = time.monotonic()
        self._rejects_file: IO[str] | None = None
        self._rejects: Any = None
        self._progress = Progress(
            TextColumn("[bold]{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn(
                "{task.fields[rows]} rows · {task.fields[logged]} logged · "
                "{task.fields[rejected]} rejected · {task.fields[rate]}/s"
            ),
            TimeRemainingColumn(),
            console=err_console,
            transient=True,
            disable=not err_console.is_terminal,
            # stdout stays stdout (records, the summary): `--json > out.jsonl` on a terminal
            redirect_stdout=False,
            redirect_stderr=False,
        )
        self._task: TaskID = self._progress.add_task(
            name, total=max(total_bytes, 1), rows=0, logged=0, rejected=0, rate=0
        )

    def __enter__(self) -> BulkOutput:
        if self.rejects_path is not None:
            self._rejects_file = self.rejects_path.open("w", encoding="utf-8", newline="")
            self._rejects = csv.writer(self._rejects_file)
            self._rejects.writerow(["line", "reason"])
        self._progress.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._progress.stop()
        if self._rejects_file is not None:
            self._rejects_file.close()

    # -- bytes read (the bar) ----------------------------------------------------------------

    def read(self, n: int) -> None:
        self._progress.advance(self._task, n)

    # -- ImportSink --------------------------------------------------------------------------

    def row(self, row: ImportedRow) -> None:
        if self.json_out:
            _line(row.to_json())
        elif self.verbose:
            state = "logged" if row.new else "already logged"
            console.print(
                f"line {row.line}: {state}: {row.kind} at index {row.index} leaf "
                f"{row.leaf_hash.hex()}",
                markup=False,
            )

    def reject(self, error: RowError) -> None:
        if self._rejects is not None:
            self._rejects.writerow([error.line, error.reason])
            return
        if self.json_out:
            _line({"line": error.line, "rejected": error.reason})
            return
        self.shown_rejects += 1
        if self.verbose or self.shown_rejects <= SHOWN:
            err_console.print(f"line {error.line}: {error.reason}", markup=False)

    def duplicate(self, dup: Duplicate) -> None:
        if self.json_out:
            _line({"line": dup.line, "duplicate_of": dup.first})
        else:
            console.print(f"line {dup.line}: duplicate of {dup.first} (not logged)", markup=False)

    def warning(self, message: str) -> None:
        if self.json_out:
            _line({"warning": message})
            return
        self.shown_warnings += 1
        if self.verbose or self.shown_warnings <= SHOWN:
            err_console.print(f"warning: {message}", markup=False)

    def progress(self, tally: Tally) -> None:
        self.tally = tally
        elapsed = max(time.monotonic() - self.started, 1e-6)
        self._progress.update(
            self._task,
            rows=f"{tally.rows:,}",
            logged=f"{tally.logged:,}",
            rejected=f"{tally.rejected:,}",
            rate=f"{tally.rows / elapsed:,.0f}",
        )

    # -- the end -----------------------------------------------------------------------------

    def finish(self, tally: Tally) -> None:
        """The one summary line (or JSON object), and what was not shown."""
        self.tally = tally
        elapsed = time.monotonic() - self.started
        rate = tally.rows / elapsed if elapsed > 0 else 0.0
        if self.json_out:
            summary: dict[str, Any] = {
                "file": self.name,
                **tally.to_json(),
                "seconds": round(elapsed, 3),
                "rows_per_s": round(rate, 1),
            }
            if self.rejects_path is not None:
                summary["rejects_file"] = str(self.rejects_path)
            _line({"summary": summary})
            return
        hidden_rejects = self.shown_rejects - SHOWN
        if not self.verbose and hidden_rejects > 0:
            err_console.print(
                f"… and {hidden_rejects:,} more rejected rows: pass --rejects FILE.csv to "
                "list them all",
                markup=False,
            )
        hidden_warnings = self.shown_warnings - SHOWN
        if not self.verbose and hidden_warnings > 0:
            err_console.print(f"… and {hidden_warnings:,} more warnings", markup=False)
        extra = ""
        if tally.duplicates:
            extra += f", {tally.duplicates} duplicates of a fact already held"
        if tally.superseded:
            extra += f", {tally.superseded} superseded"
        if self.rejects_path is not None and tally.rejected:
            extra += f" (rejected rows in {self.rejects_path})"
        present = "already present" if self.logged_word == "imported" else "already logged"
        console.print(
            f"{self.name}: {tally.imported} {self.logged_word}, {tally.already_present} "
            f"{present}, {tally.rejected} rejected{extra}; {tally.rows} rows in "
            f"{elapsed:.1f} s ({rate:,.0f} rows/s)",
            markup=False,
        )
