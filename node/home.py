"""The node home: a directory holding one region node's configuration and keys.

::

    HOME/node.json        {"format": "credex-node/1", "region", "origin", "db", "created_at"}
    HOME/issuers.json     registered issuers: id, region, public key, validity window, kinds
    HOME/keys/            mode 0700; every key file mode 0600, hex seed + newline
        log.key           the log's Ed25519 key (checkpoints, receipts); never an issuer key
        subject.key       the HMAC key that turns resident ID numbers into subject ids
        envelope.key      salts person records' hash envelopes (created on first use)
        issuers/<slug>-<n>.key
    HOME/log.sqlite       the default log database (``db`` null); or a PostgreSQL URL

Key files are created with O_EXCL and mode 0600 and are refused when group- or
world-readable (``credex.node.files``). This module does file I/O; it never prints and
never logs key material.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final

from credex.ledger.errors import ConfigError, KindNotAuthorisedError, NotFoundError
from credex.ledger.identifiers import ISSUER_ID_RE, REGION_RE
from credex.ledger.keys import SigningKey
from credex.ledger.record import KINDS
from credex.ledger.subject import SubjectKey
from credex.ledger.trust import TrustedIssuer, TrustedLog, TrustStore
from credex.node.files import read_secret, write_json, write_secret

__all__ = ["NODE_FORMAT", "IssuerEntry", "NodeHome"]

NODE_FORMAT: Final = "credex-node/1"


@dataclass(frozen=True, slots=True)
class IssuerEntry(TrustedIssuer):
    """A registered issuer key, and the file under ``keys/`` holding its secret."""

    key_file: str = ""

    def to_json(self) -> dict[str, Any]:
        """The entry as ``credex issuer list --json`` shows it (no key file path)."""
        return {
            "issuer_id": self.issuer_id,
            "public_key": self.public_key.hex(),
            "valid_from": self.valid_from,
            "valid_until": self.valid_until,
            "kinds": sorted(self.kinds),
        }

    def to_trusted(self) -> TrustedIssuer:
        """The key as trust material (without the key file)."""
        return TrustedIssuer(
            self.issuer_id,
            self.region,
            self.public_key,
            self.valid_from,
            self.valid_until,
            self.kinds,
        )


class NodeHome:
    """A loaded node home. Create with ``NodeHome.init`` or open with ``NodeHome.open``."""

    def __init__(self, path: Path, config: dict[str, Any]) -> None:
        self.path = path
        self.region: str = config["region"]
        self.origin: str = config["origin"]
        self._db: str | None = config.get("db")
        self.created_at: int = config["created_at"]

    @property
    def db_url(self) -> str:
        return self._db or f"sqlite:///{self.path / 'log.sqlite'}"

    @property
    def keys_dir(self) -> Path:
        return self.path / "keys"

    @classmethod
    def init(
        cls,
        path: Path,
        *,
        region: str,
        origin: str,
        db: str | None,
        now: int,
        log_seed: bytes,
        subject_secret: bytes,
        platform_seed: bytes,
    ) -> NodeHome:
        """Create a new home with a log key, a subject key and a default platform issuer."""
        if not REGION_RE.match(region):
            raise ConfigError(
                f"home: region id must be lowercase letters, digits and dashes, got {region!r}"
            )
        if not origin or any(c.isspace() for c in origin) or "+" in origin:
            raise ConfigError("home: origin must be non-empty, without spaces or '+'")
        if (path / "node.json").exists():
            raise ConfigError(f"home: already initialised: {path}")
        if path.exists() and not path.is_dir():
            raise ConfigError(f"home: not a directory: {path}")
        path.mkdir(parents=True, exist_ok=True)
        (path / "keys").mkdir(mode=0o700, exist_ok=True)
        write_secret(path / "keys" / "log.key", log_seed)
        write_secret(path / "keys" / "subject.key", subject_secret)
        config = {
            "format": NODE_FORMAT,
            "region": region,
            "origin": origin,
            "db": db,
            "created_at": now,
        }
        write_json(path / "issuers.json", [])
        write_json(path / "node.json", config)
        home = cls(path, config)
        home.add_issuer(
            f"{region}/platform", KINDS, valid_from=0, valid_until=None, seed=platform_seed
        )
        return home

    def discard(self) -> None:
        """Remove what ``init`` created (after a failed first start), so init can be retried."""
        for name in ("node.json", "issuers.json", "log.sqlite", "log.sqlite-wal", "log.sqlite-shm"):
            (self.path / name).unlink(missing_ok=True)
        shutil.rmtree(self.keys_dir, ignore_errors=True)
        with contextlib.suppress(OSError):
            self.path.rmdir()  # only if now empty

    @classmethod
    def open(cls, path: Path) -> NodeHome:
        cfg_path = path / "node.json"
        try:
            config = json.loads(cfg_path.read_text())
        except FileNotFoundError as e:
            raise ConfigError(
                f"home: no credex node at {path} (run credex init, or set --home / CREDEX_HOME)"
            ) from e
        except ValueError as e:
            raise ConfigError(f"home: node.json is not valid json: {path}") from e
        if not isinstance(config, dict) or config.get("format") != NODE_FORMAT:
            raise ConfigError(f"home: node.json has an unknown format: expected {NODE_FORMAT}")
        return cls(path, config)

    # keys ---------------------------------------------------------------------------
    def log_key(self) -> SigningKey:
        return SigningKey(read_secret(self.keys_dir / "log.key"))

    def subject_key(self) -> SubjectKey:
        return SubjectKey.from_secret(read_secret(self.keys_dir / "subject.key"))

    def envelope_secret(self) -> bytes:
        """This node's own secret for person records' envelope salts (``keys/envelope.key``,
        created on first use, 0600; never shared, not even with the federation)."""
        path = self.keys_dir / "envelope.key"
        if not path.exists():
            with contextlib.suppress(ConfigError):  # another process created it first
                write_secret(path, os.urandom(32))
        return read_secret(path)

    # issuers ------------------------------------------------------------------------
    def issuers(self) -> list[IssuerEntry]:
        raw = json.loads((self.path / "issuers.json").read_text())
        return [
            IssuerEntry(
                i["issuer_id"],
                i["region"],
                bytes.fromhex(i["public_key"]),
                i["valid_from"],
                i["valid_until"],
                frozenset(i["kinds"]),
                i["key_file"],
            )
            for i in raw
        ]

    def add_issuer(
        self,
        issuer_id: str,
        kinds: Iterable[str],
        *,
        valid_from: int,
        valid_until: int | None,
        seed: bytes | None = None,
    ) -> IssuerEntry:
        """Register an issuer key (a new key for an existing id is a rotation); a new
        random key unless ``seed`` is given (tests, golden vectors)."""
        if not ISSUER_ID_RE.match(issuer_id):
            raise ConfigError(
                f"home: issuer id must look like <region>/<name> in lowercase, got {issuer_id!r}"
            )
        kinds = frozenset(kinds)
        unknown = sorted(k for k in kinds if k not in KINDS)
        if unknown or not kinds:
            raise ConfigError(f"home: unknown or no kinds for issuer: {', '.join(unknown)}")
        if valid_until is not None and valid_until <= valid_from:
            raise ConfigError("home: issuer valid_until must be after valid_from")
        entries = self.issuers()
        n = sum(1 for e in entries if e.issuer_id == issuer_id)
        key_file = f"issuers/{issuer_id.replace('/', '__')}-{n}.key"
        seed = os.urandom(32) if seed is None else seed
        key = SigningKey(seed)
        write_secret(self.keys_dir / key_file, seed)
        entry = IssuerEntry(
            issuer_id,
            issuer_id.split("/")[0],
            key.public_key,
            valid_from,
            valid_until,
            kinds,
            key_file,
        )
        raw = json.loads((self.path / "issuers.json").read_text())
        raw.append({**entry.to_json(), "region": entry.region, "key_file": key_file})
        write_json(self.path / "issuers.json", raw)
        return entry

    def issuer_signing_key(self, issuer_id: str, kind: str, at: int) -> SigningKey:
        """The newest key of ``issuer_id`` valid at ``at`` and authorised for ``kind``.

        Raises:
            NotFoundError: no such issuer or no key valid at ``at``.
            KindNotAuthorisedError: the issuer is not authorised for ``kind``.
        """
        entries = [e for e in self.issuers() if e.issuer_id == issuer_id]
        if not entries:
            raise NotFoundError(f"home: unknown issuer {issuer_id!r}")
        valid = [e for e in entries if e.to_trusted().valid_at(at)]
        if not valid:
            raise NotFoundError(f"home: issuer {issuer_id!r} has no key valid at {at}")
        authorised = [e for e in valid if kind in e.kinds]
        if not authorised:
            raise KindNotAuthorisedError(
                f"home: issuer {issuer_id!r} is not authorised for {kind!r}"
            )
        return SigningKey(read_secret(self.keys_dir / authorised[-1].key_file))

    def issuer_region(self, issuer_id: str) -> str:
        """The region of a registered issuer (the ``<region>`` of its id).

        Raises:
            NotFoundError: no such issuer.
        """
        for e in self.issuers():
            if e.issuer_id == issuer_id:
                return e.region
        raise NotFoundError(f"home: unknown issuer {issuer_id!r}")

    @property
    def platform_issuer(self) -> str:
        return f"{self.region}/platform"

    def trust(self) -> TrustStore:
        """This node's trust material: its log key and every registered issuer key."""
        log = TrustedLog(self.origin, self.origin, self.log_key().public_key)
        return TrustStore((log,), tuple(e.to_trusted() for e in self.issuers()))
