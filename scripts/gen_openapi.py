"""Write docs/openapi.json: the OpenAPI document of a node's public HTTP API
(``credex.node.http.create_app``). tests/web/test_openapi.py checks the file is current.

Usage: python scripts/gen_openapi.py [OUT]
"""

from __future__ import annotations

import json
import sys
import tempfile
from pathlib import Path

from credex.node.http import create_app
from credex.node.local import LocalNode, create_home

ROOT = Path(__file__).resolve().parents[1]


def openapi_text() -> str:
    """The document as committed: sorted keys, two-space indent, UTF-8, final newline."""
    with tempfile.TemporaryDirectory() as tmp:
        home = create_home(
            Path(tmp) / "home", region="cn-zj-ningbo", origin="credex.example/log", db=None, now=0
        )
        with LocalNode(home) as node:
            doc = create_app(node).openapi()
    return json.dumps(doc, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


if __name__ == "__main__":
    out = Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "docs" / "openapi.json"
    out.write_text(openapi_text(), encoding="utf-8")
    print(f"wrote {out}")
