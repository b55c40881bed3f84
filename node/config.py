"""``credex.toml``: everything the ``credex serve`` flags set, in one file (``tomllib``).

::

    [serve]
    listen = "127.0.0.1:7420"          # public gRPC (Log, health, reflection)
    mtls_listen = "127.0.0.1:7421"     # mTLS gRPC (Submit, Witness, Query)
    san = ["ningbo.example"]           # extra names for the node certificate
    follow = 30                        # seconds between sync / publish / cosign rounds (0: off)

    [http]
    listen = "127.0.0.1:8080"          # the public HTTP side (tiles, API, explorer, metrics)
    tls = false                        # true: TLS with the node's certificate
    public_url = "https://credex.ningbo.example"   # links and QR codes
    pin = "<64 hex>"                   # the manifest version-1 hash record pages pin

    [log]
    format = "json"                    # "json" (one object per line) or "text"

Every key is optional; a flag given on the command line wins over the file, the file over
the built-in default. Unknown sections or keys, wrong types and bad values are refused
with one ``ConfigError`` line naming the key. ``HOME/credex.toml`` is read when no file is
named. This module reads files only; it does not start anything.
"""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any, Final

from credex.ledger.errors import ConfigError

__all__ = ["CONFIG_FILE", "ServeConfig", "home_config", "load_config", "parse_config"]

CONFIG_FILE: Final = "credex.toml"
_MAX_BYTES: Final = 64 * 1024
_ADDRESS_RE: Final = re.compile(r"[^\s/]+:[0-9]{1,5}", re.ASCII)
_URL_RE: Final = re.compile(r"https?://[A-Za-z0-9.\-:\[\]]+(/[A-Za-z0-9._~/-]*)?", re.ASCII)
_HEX64_RE: Final = re.compile(r"[0-9a-f]{64}", re.ASCII)
_NAME_RE: Final = re.compile(r"[A-Za-z0-9.\-:*]{1,253}", re.ASCII)


@dataclass(frozen=True, slots=True)
class ServeConfig:
    """What ``credex serve`` runs with (None: not set, the flag's default applies)."""

    listen: str | None = None
    mtls_listen: str | None = None
    san: tuple[str, ...] | None = None
    follow: float | None = None
    http: str | None = None
    http_tls: bool | None = None
    public_url: str | None = None
    pin: str | None = None
    log_format: str | None = None

    def merged(self, **given: Any) -> ServeConfig:
        """This config with every value in ``given`` that is not None put over it."""
        values = {f.name: getattr(self, f.name) for f in fields(self)}
        values.update({k: v for k, v in given.items() if v is not None})
        return ServeConfig(**values)


def _fail(key: str, expected: str, value: Any) -> ConfigError:
    got = type(value).__name__ if not isinstance(value, str) else "a malformed value"
    return ConfigError(f"config: {key}: expected {expected}, got {got}")


def _text(key: str, value: Any, pattern: re.Pattern[str], expected: str) -> str:
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise _fail(key, expected, value)
    return value


#: (section, key) -> (field, parser)
def _parse_value(section: str, key: str, value: Any) -> tuple[str, Any]:
    name = f"{section}.{key}"
    match (section, key):
        case ("serve", "listen") | ("serve", "mtls_listen"):
            return key, _text(name, value, _ADDRESS_RE, "HOST:PORT")
        case ("serve", "san"):
            if not isinstance(value, list) or len(value) > 32:
                raise _fail(name, "a list of at most 32 DNS names or IPs", value)
            return "san", tuple(_text(name, v, _NAME_RE, "a DNS name or IP") for v in value)
        case ("serve", "follow"):
            if isinstance(value, bool) or not isinstance(value, int | float) or value < 0:
                raise _fail(name, "a number of seconds >= 0", value)
            return "follow", float(value)
        case ("http", "listen"):
            return "http", _text(name, value, _ADDRESS_RE, "HOST:PORT")
        case ("http", "tls"):
            if not isinstance(value, bool):
                raise _fail(name, "true or false", value)
            return "http_tls", value
        case ("http", "public_url"):
            return "public_url", _text(name, value, _URL_RE, "an http(s) URL").rstrip("/")
        case ("http", "pin"):
            return "pin", _text(name, value, _HEX64_RE, "64 lowercase hex characters")
        case ("log", "format"):
            if value not in ("json", "text"):
                raise _fail(name, '"json" or "text"', value)
            return "log_format", value
    raise ConfigError(f"config: unknown key {name!r}")


def parse_config(text: str, where: str = CONFIG_FILE) -> ServeConfig:
    """The config in TOML ``text``.

    Raises:
        ConfigError: not TOML, an unknown section or key, or a bad value (named).
    """
    try:
        doc = tomllib.loads(text)
    except tomllib.TOMLDecodeError as e:
        raise ConfigError(f"config: {where} is not valid TOML: {e}") from e
    values: dict[str, Any] = {}
    for section, table in doc.items():
        if section not in ("serve", "http", "log") or not isinstance(table, dict):
            raise ConfigError(f"config: unknown section {section!r} (serve, http, log)")
        for key, value in table.items():
            field, parsed = _parse_value(section, key, value)
            values[field] = parsed
    return ServeConfig(**values)


def load_config(path: Path) -> ServeConfig:
    """The config file at ``path``.

    Raises:
        ConfigError: missing, unreadable, too large (64 KiB) or invalid.
    """
    try:
        data = path.read_bytes()
    except OSError as e:
        raise ConfigError(f"config: cannot read {path}: {e.strerror}") from e
    if len(data) > _MAX_BYTES:
        raise ConfigError(f"config: {path} is too large: expected <= {_MAX_BYTES} bytes")
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as e:
        raise ConfigError(f"config: {path} is not UTF-8") from e
    return parse_config(text, str(path))


def home_config(home: Path) -> ServeConfig:
    """``HOME/credex.toml`` if there is one, else an empty config."""
    path = home / CONFIG_FILE
    return load_config(path) if path.exists() else ServeConfig()
