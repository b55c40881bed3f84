"""The committed credex.v1 stubs are exactly what the pinned grpcio-tools generates."""

from __future__ import annotations

import importlib.util
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "proto" / "credex" / "v1"


def _gen_module():
    spec = importlib.util.spec_from_file_location("gen_protos", ROOT / "scripts" / "gen_protos.py")
    assert spec and spec.loader
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def test_committed_stubs_match_regeneration(tmp_path: Path) -> None:
    written = _gen_module().generate(tmp_path)
    names = sorted(p.name for p in written)
    committed = sorted(
        p.name
        for p in PACKAGE.iterdir()
        if p.name.endswith(("_pb2.py", "_pb2.pyi", "_pb2_grpc.py"))
    )
    assert names == committed
    for name in names:
        assert (tmp_path / name).read_bytes() == (PACKAGE / name).read_bytes(), name


def test_every_proto_has_stubs_and_package_imports() -> None:
    protos = sorted(p.stem for p in PACKAGE.glob("*.proto"))
    assert protos == ["log", "query", "submit", "witness"]
    for stem in protos:
        grpc_text = (PACKAGE / f"{stem}_pb2_grpc.py").read_text(encoding="utf-8")
        assert f"from credex.v1 import {stem}_pb2" in grpc_text
        assert "\nimport " + stem not in grpc_text


def test_generated_modules_import_as_credex_v1() -> None:
    from credex.v1 import log_pb2, submit_pb2, witness_pb2

    assert log_pb2.DESCRIPTOR.package == "credex.v1"
    assert set(log_pb2.DESCRIPTOR.services_by_name) == {"Log"}
    assert set(submit_pb2.DESCRIPTOR.services_by_name) == {"Submit"}
    assert set(witness_pb2.DESCRIPTOR.services_by_name) == {"Witness"}
