"""Manifest versions travel through the federation itself.

Every member serves the versions it has installed (``Log.GetManifest``:
``versions_after``), and on each follow round fetches the ones it lacks from the other
members (``fetch_versions``). Who served a version gives it no weight: it is installed
only if it extends this node's own chain (whose version 1 the operator pinned when the
node joined) as ``verify_manifest_chain`` demands: version n+1 names version n's hash and
carries ``admin_threshold`` signatures of version n's admins and of its own. Installing
writes it, logs it, and registers new members' certificates (``manifests.install``); the
running server takes it into force at once (``ManifestWatch``).

A version that does not extend the chain (a fork, too few admin signatures, a renamed
federation, bytes that do not parse) is refused: the version in force stays, and the
served bytes are kept with the reason, the serving member and the time under
``HOME/federation/refused/<hash>.cbor`` / ``.json`` (at most ``MAX_REFUSED`` of them) for
the operators to take up. Nothing here prints.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol

from credex.ledger.errors import CredexError, FormatError, VerificationError
from credex.ledger.manifest import MAX_MANIFEST_BYTES, SignedManifest, verify_manifest_chain
from credex.node.federation.manifests import (
    FEDERATION_DIR,
    chain_lock,
    install_held,
    load_chain,
)
from credex.node.files import write_atomic, write_json
from credex.node.home import NodeHome

__all__ = [
    "MAX_REFUSED",
    "MAX_VERSIONS_PER_CALL",
    "FetchResult",
    "ManifestSource",
    "RefusedVersion",
    "fetch_versions",
    "refused_versions",
    "versions_after",
]

#: versions one GetManifest answer carries at most (the client asks again for more)
MAX_VERSIONS_PER_CALL: Final = 64
#: refused versions kept as evidence at most (later ones are reported, not stored)
MAX_REFUSED: Final = 100
_REFUSED_DIR: Final = "refused"


class ManifestSource(Protocol):
    """What fetching needs from a member (``PeerClient.get_manifest``)."""

    def get_manifest(self, after_version: int) -> tuple[list[bytes], int]: ...


@dataclass(frozen=True, slots=True)
class FetchResult:
    """One fetch from one member: the versions installed, and why any was refused."""

    origin: str
    installed: tuple[int, ...] = ()
    error: str | None = None


@dataclass(frozen=True, slots=True)
class RefusedVersion:
    """A served version this node refused (the evidence file's metadata)."""

    hash: str
    version: int | None
    served_by: str
    reason: str
    at: int
    file: str

    def to_json(self) -> dict[str, Any]:
        return {
            "hash": self.hash,
            "version": self.version,
            "served_by": self.served_by,
            "reason": self.reason,
            "at": self.at,
            "file": self.file,
        }


def versions_after(home: NodeHome, after: int) -> tuple[list[bytes], int]:
    """The installed versions after ``after`` (at most ``MAX_VERSIONS_PER_CALL``) and the
    latest version number (0: no manifest)."""
    chain = load_chain(home)
    start = max(after, 0)
    return [v.to_bytes() for v in chain[start : start + MAX_VERSIONS_PER_CALL]], len(chain)


def _refused_dir(home: NodeHome) -> Path:
    return home.path / FEDERATION_DIR / _REFUSED_DIR


def _keep_evidence(
    home: NodeHome, data: bytes, version: int | None, origin: str, reason: str, now: int
) -> None:
    d = _refused_dir(home)
    d.mkdir(parents=True, exist_ok=True)
    digest = hashlib.sha256(data).hexdigest()
    meta = d / f"{digest}.json"
    if meta.exists() or len(list(d.glob("*.json"))) >= MAX_REFUSED:
        return
    write_atomic(d / f"{digest}.cbor", data)
    write_json(
        meta,
        {"version": version, "served_by": origin, "reason": reason, "at": now},
    )


def refused_versions(home: NodeHome) -> list[RefusedVersion]:
    """The refused versions kept as evidence, oldest first."""
    d = _refused_dir(home)
    out: list[RefusedVersion] = []
    if not d.is_dir():
        return out
    for meta in d.glob("*.json"):
        try:
            raw = json.loads(meta.read_text(encoding="utf-8"))
            out.append(
                RefusedVersion(
                    meta.stem,
                    raw.get("version"),
                    str(raw["served_by"]),
                    str(raw["reason"]),
                    int(raw["at"]),
                    str(meta.with_suffix(".cbor")),
                )
            )
        except (ValueError, KeyError, TypeError):
            continue
    return sorted(out, key=lambda r: (r.at, r.hash))


def _parse(served: Sequence[bytes], after: int) -> list[SignedManifest]:
    if len(served) > MAX_VERSIONS_PER_CALL:
        raise FormatError(
            f"manifest: too many versions served: expected <= {MAX_VERSIONS_PER_CALL}, "
            f"got {len(served)}"
        )
    out = []
    for k, data in enumerate(served):
        if len(data) > MAX_MANIFEST_BYTES:
            raise FormatError(
                f"manifest: version {after + k + 1} is too large: expected <= "
                f"{MAX_MANIFEST_BYTES} bytes, got {len(data)}"
            )
        out.append(SignedManifest.from_bytes(data))
    return out


def fetch_versions(home: NodeHome, source: ManifestSource, origin: str, now: int) -> FetchResult:
    """Fetch the versions ``origin`` has after this node's latest and install each that
    extends this node's chain, in order (each under ``chain_lock``: a command may be
    installing at the same time; a version installed meanwhile is simply skipped).

    Returns:
        The versions installed; ``error`` names the refusal (evidence kept) or the fault
        (an unreachable member), and the version in force stays.
    """
    asked = len(load_chain(home))
    if not asked:
        return FetchResult(origin, error="manifest: this node has no manifest to extend")
    try:
        served, _ = source.get_manifest(asked)
    except CredexError as e:
        return FetchResult(origin, error=str(e))
    installed: list[int] = []
    for k, data in enumerate(served):
        number = asked + k + 1
        try:
            version = _parse([data], number - 1)[0]
            if version.body.version != number:
                raise VerificationError(
                    f"manifest: {origin} served version {version.body.version} where "
                    f"{number} was asked"
                )
        except CredexError as e:
            _keep_evidence(home, data, number, origin, f"{type(e).__name__}: {e}", now)
            return FetchResult(origin, tuple(installed), f"refused version {number}: {e}")
        with chain_lock(home):
            local = load_chain(home)
            if len(local) >= number and local[number - 1].hash == version.hash:
                continue  # installed meanwhile (by a command, or from another member)
            try:
                if len(local) >= number:
                    raise VerificationError(
                        f"manifest: {origin} serves another version {number} than this "
                        f"node's {local[number - 1].hash.hex()}"
                    )
                verify_manifest_chain([*local, version])
            except CredexError as e:
                _keep_evidence(home, data, number, origin, f"{type(e).__name__}: {e}", now)
                return FetchResult(origin, tuple(installed), f"refused version {number}: {e}")
            try:
                install_held(home, version, now)
            except CredexError as e:  # not the version's fault (storage): next round
                return FetchResult(origin, tuple(installed), f"version {number} not installed: {e}")
        installed.append(number)
    return FetchResult(origin, tuple(installed))
