"""Run the in-browser verifier (``node/web/static/verify``) under node for the web tests.

``run(command, request)`` writes the request as JSON, runs ``tests/web/run_verify.mjs``
with node (v20 or newer, from PATH or /usr/bin/node) and returns its JSON answer. A
missing or old node fails the test: the JavaScript verifier is part of what CI checks.
"""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path
from typing import Any

__all__ = ["RUNNER", "node_binary", "run"]

RUNNER = Path(__file__).resolve().parent / "run_verify.mjs"


def node_binary() -> str:
    """The node executable (>= 20: WebCrypto Ed25519); fails the test if there is none."""
    found = shutil.which("node") or ("/usr/bin/node" if Path("/usr/bin/node").exists() else None)
    assert found is not None, "node (>= 20) is needed to test the JavaScript verifier"
    version = subprocess.run(
        [found, "--version"], capture_output=True, text=True, check=True
    ).stdout.strip()
    m = re.match(r"v(\d+)\.", version)
    assert m and int(m.group(1)) >= 20, f"node >= 20 is needed, found {version}"
    return found


def run(command: str, request: dict[str, Any]) -> Any:
    """``node run_verify.mjs COMMAND REQUEST.json``; its stdout parsed as JSON."""
    with tempfile.TemporaryDirectory() as tmp:
        req = Path(tmp) / "request.json"
        req.write_text(json.dumps(request), encoding="utf-8")
        done = subprocess.run(
            [node_binary(), str(RUNNER), command, str(req)],
            capture_output=True,
            text=True,
            check=False,
        )
    assert done.returncode == 0, f"node runner failed: {done.stderr}"
    return json.loads(done.stdout)
