"""Regenerate the gRPC stubs of the credex.v1 contract beside their .proto files.

Runs the pinned ``grpcio-tools`` (see pyproject.toml) over ``proto/credex/v1/*.proto``
and writes ``*_pb2.py``, ``*_pb2.pyi`` and ``*_pb2_grpc.py``. Imports between generated
modules read ``from credex.v1 import x_pb2`` (the installed package name). The output is
committed; ``tests/unit/test_protos.py`` regenerates into a temporary directory and fails
on any difference.

Usage: ``python scripts/gen_protos.py [OUT_DIR]`` (default: ``proto/credex/v1``).
"""

from __future__ import annotations

import re
import sys
import tempfile
from pathlib import Path

import grpc_tools
from grpc_tools import protoc

ROOT = Path(__file__).resolve().parents[1]
PROTO_ROOT = ROOT / "proto"
PACKAGE_DIR = PROTO_ROOT / "credex" / "v1"
PINNED_GRPCIO_TOOLS = "1.85.1"
_IMPORT_RE = re.compile(r"^import (\w+_pb2)( as \w+)?$", re.M)


def protos() -> list[Path]:
    return sorted(PACKAGE_DIR.glob("*.proto"))


def _fix_imports(text: str) -> str:
    """Bare ``import x_pb2`` (if a protoc ever emits one) becomes a package import."""
    return _IMPORT_RE.sub(lambda m: f"from credex.v1 import {m.group(1)}{m.group(2) or ''}", text)


def generate(out_dir: Path) -> list[Path]:
    """Generate the stubs into ``out_dir``; returns the files written, sorted."""
    from grpc_tools import grpc_version

    if grpc_version.VERSION != PINNED_GRPCIO_TOOLS:
        raise SystemExit(
            f"gen_protos: grpcio-tools {PINNED_GRPCIO_TOOLS} required, got {grpc_version.VERSION}"
        )
    include = Path(grpc_tools.__file__).parent / "_proto"
    with tempfile.TemporaryDirectory() as tmp:
        args = [
            "grpc_tools.protoc",
            f"-I{PROTO_ROOT}",
            f"-I{include}",
            f"--python_out={tmp}",
            f"--pyi_out={tmp}",
            f"--grpc_python_out={tmp}",
            *(str(p.relative_to(PROTO_ROOT)) for p in protos()),
        ]
        if protoc.main(args) != 0:
            raise SystemExit("gen_protos: protoc failed")
        out_dir.mkdir(parents=True, exist_ok=True)
        written = []
        for f in sorted((Path(tmp) / "credex" / "v1").iterdir()):
            target = out_dir / f.name
            target.write_text(_fix_imports(f.read_text(encoding="utf-8")), encoding="utf-8")
            written.append(target)
    return written


def main(argv: list[str]) -> int:
    out = Path(argv[1]) if len(argv) > 1 else PACKAGE_DIR
    for path in generate(out):
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
