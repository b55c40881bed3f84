"""Operating a node: ``credex serve --http`` as a real process (JSON logs that never hold
a planted ID number, body value or key; metrics; a graceful stop that loses nothing
acknowledged), the systemd unit and the Containerfile of deploy/ started for real, and
``credex backup`` / ``credex restore`` verified against the last checkpoint.

No container engine or systemd runs here: the unit file is parsed and its ExecStart run as
a subprocess with its Environment and KillSignal; the Containerfile's ``pip install`` step
runs into a fresh virtualenv and its CMD and HEALTHCHECK run from there (its ``useradd``
step is not run).
"""

from __future__ import annotations

import json
import os
import queue
import re
import shlex
import signal
import sqlite3
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

import httpx
import pytest

from credex.ledger.errors import ConfigError, LookupNotAuthorisedError, VerificationError
from credex.ledger.record import Record, Subject
from credex.ledger.subject import person_subject_id
from credex.node.config import parse_config
from credex.node.home import NodeHome
from credex.node.local import LocalNode
from credex.node.rpc.client import PeerClient
from credex.node.rpc.tls import NodeTls
from credex.node.services.backup import backup, restore

ROOT = Path(__file__).resolve().parents[2]
REGION, ORIGIN = "cn-zj-ningbo", "credex.ningbo.example/log"
T0 = 1_780_272_000  # 2026-06-01 CST midnight
DEADLINE_S = 120.0
ID_NUMBER = "11010519491231002X"
BODY_CANARY = "CANARY-consent-7731"


def _home(path: Path, db: str | None = None) -> NodeHome:
    home = NodeHome.init(
        path,
        region=REGION,
        origin=ORIGIN,
        db=db,
        now=T0,
        log_seed=os.urandom(32),
        subject_secret=os.urandom(32),
        platform_seed=os.urandom(32),
    )
    LocalNode(home).close()
    return home


def _person_record(home: NodeHome) -> Record:
    return Record(
        kind="score.city",
        region=REGION,
        subject=Subject("person", person_subject_id(home.subject_key(), ID_NUMBER)),
        body={
            "scheme": "NINGBO_TIANYI_PLACEHOLDER",
            "score": 731,
            "band": "placeholder-4",
            "as_of": "2026-05-31",
            "consent_ref": BODY_CANARY,
        },
        valid_from=T0 - 86400,
        valid_until=T0 + 30 * 86400,
    )


class Proc:
    """A ``credex serve`` (or the unit's / container's command) with its stderr pumped."""

    def __init__(self, argv: Sequence[str], env: dict[str, str] | None = None) -> None:
        self.proc = subprocess.Popen(
            list(argv), stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True, env=env
        )
        self.lines: queue.Queue[str] = queue.Queue()
        self.seen: list[str] = []
        self._pump = threading.Thread(target=self._run, daemon=True)
        self._pump.start()

    def _run(self) -> None:
        assert self.proc.stderr is not None
        for line in self.proc.stderr:
            self.lines.put(line)

    def wait_for(self, text: str) -> str:
        deadline = time.monotonic() + DEADLINE_S
        while time.monotonic() < deadline:
            if self.proc.poll() is not None and self.lines.empty():
                break
            try:
                line = self.lines.get(timeout=0.2)
            except queue.Empty:
                continue
            self.seen.append(line)
            if text in line:
                return line
        raise AssertionError(f"no {text!r}: {''.join(self.seen)}")

    def http_url(self) -> str:
        m = re.search(r"https?://[0-9.]+:[0-9]+", self.wait_for("http on "))
        assert m is not None
        return m.group(0)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        self.proc.send_signal(sig)
        code = self.proc.wait(timeout=DEADLINE_S)
        self._pump.join(DEADLINE_S)
        assert self.proc.stderr is not None
        self.proc.stderr.close()
        while not self.lines.empty():
            self.seen.append(self.lines.get())
        return code

    @property
    def text(self) -> str:
        return "".join(self.seen)


CREDEX = [sys.executable, "-c", "from credex.cli.main import main; main()"]


def test_serve_http_logs_nothing_personal_and_stops_without_loss(tmp_path: Path) -> None:
    home = _home(tmp_path / "home")
    with LocalNode(home) as n:
        person = n.issue([_person_record(home)], iat=T0)[0]
        n.publish_checkpoint(T0)
    tls = NodeTls(home.path, name=REGION)
    tls.ensure(now=int(time.time()))
    key, cert, _ = tls.issue_client("tool", "issuer", now=int(time.time()))
    p = Proc(
        [*CREDEX, "serve", "--home", str(home.path), "--listen", "127.0.0.1:0",
         "--mtls-listen", "127.0.0.1:0", "--http", "127.0.0.1:0", "--log-json"]
    )  # fmt: skip
    try:
        url = p.http_url()
        line = p.wait_for("listening on")
        public = line.split("listening on ", 1)[1].split(" ")[0]
        mtls = line.split("(mtls ", 1)[1].split(")")[0]
        with httpx.Client(base_url=url) as c:
            leaf = person.leaf_hash.hex()
            assert c.get(f"/record/{leaf}").status_code == 200
            assert c.get(f"/api/v1/bundles/{leaf}").status_code == 200
            assert c.get(f"/api/v1/records/{ID_NUMBER}").status_code == 400
            assert c.get("/search", params={"q": ID_NUMBER}).status_code == 400
            assert c.get(f"/api/v1/bundles/{leaf}", params={"origin": ID_NUMBER}).status_code == 404
            # a submit acknowledged over gRPC while HTTP serves
            with LocalNode(home) as signer:
                # now: a node refuses a submitted iat outside its clock tolerance
                now = int(time.time())
                data = [s.to_bytes() for s in signer.sign([_person_record(home)], None, now)]
            with PeerClient(
                public, ca_pem=tls.ca_pem(), client_cert=cert, client_key=key, mtls_endpoint=mtls
            ) as g:
                acked = g.submit(data)
                with pytest.raises(LookupNotAuthorisedError):  # refused: the purpose
                    g.lookup(person_id=ID_NUMBER, purpose="marketing", authorisation="loan:1")
            metrics = c.get("/metrics").text
            assert 'credex_errors_total{code="format",edge="http"}' in metrics
            assert "credex_lookups_refused_total 1.0" in metrics
            assert "credex_log_appends_total 2.0" in metrics
            assert "credex_checkpoint_age_seconds" in metrics
            assert 'credex_http_requests_total{route="/record/{leaf_hash}",status="200"}' in metrics
    finally:
        code = p.stop()
    assert code == 0, p.text
    with LocalNode(home) as n:
        assert n.log.index_of(acked[0].leaf_hash) == acked[0].leaf_index == 1
    logs = p.text
    lines = [json.loads(x) for x in logs.splitlines() if x.strip()]
    assert all({"ts", "level", "logger", "event", "msg"} <= set(x) for x in lines)
    requests = [x for x in lines if x["event"] == "http.request"]
    assert len(requests) >= 6 and all(x.get("request_id") for x in requests)
    secrets = [
        (home.keys_dir / "log.key").read_text().strip(),
        (home.keys_dir / "subject.key").read_text().strip(),
        *[(home.keys_dir / e.key_file).read_text().strip() for e in home.issuers()],
        tls.server_key_pem().decode().splitlines()[1],
    ]
    for canary in (ID_NUMBER, ID_NUMBER.lower(), BODY_CANARY, *secrets):
        assert canary not in logs, canary
    # the score (731) is a short number that a random request id or a duration may hold:
    # no logged value is the score, and no text puts it next to "score"
    assert not re.search(r"score\W{0,4}731", logs)
    assert not any(v in (731, "731") for x in lines for v in _values(x))


def _values(value: object) -> list[object]:
    """Every scalar in a decoded JSON value."""
    if isinstance(value, dict):
        return [v for x in value.values() for v in _values(x)]
    if isinstance(value, list):
        return [v for x in value for v in _values(x)]
    return [value]


# --- deploy/ -----------------------------------------------------------------------------


def _unit(path: Path) -> dict[str, dict[str, list[str]]]:
    """A systemd unit file: sections of keys, each with every value given (in order)."""
    out: dict[str, dict[str, list[str]]] = {}
    section: dict[str, list[str]] | None = None
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            section = out.setdefault(line[1:-1], {})
            continue
        assert section is not None and "=" in line, raw
        k, _, v = line.partition("=")
        section.setdefault(k.strip(), []).append(v.strip())
    return out


def _config(tmp_path: Path, http: str = "127.0.0.1:0") -> Path:
    """deploy/credex.toml with free ports."""
    text = (ROOT / "deploy" / "credex.toml").read_text(encoding="utf-8")
    text = re.sub(r'"0\.0\.0\.0:74(20|21)"', '"127.0.0.1:0"', text)
    text = text.replace('"127.0.0.1:8080"', f'"{http}"').replace("follow = 30", "follow = 0")
    path = tmp_path / "credex.toml"
    path.write_text(text, encoding="utf-8")
    parse_config(text)
    return path


def test_the_systemd_unit_starts_serves_and_stops_on_its_kill_signal(tmp_path: Path) -> None:
    unit = _unit(ROOT / "deploy" / "credex.service")
    service = unit["Service"]
    assert set(unit) == {"Unit", "Service", "Install"}
    assert service["Type"] == ["exec"] and service["KillSignal"] == ["SIGTERM"]
    assert service["User"] == ["credex"] and service["UMask"] == ["0077"]
    assert unit["Install"]["WantedBy"] == ["multi-user.target"]
    env = dict(v.split("=", 1) for v in service["Environment"])
    home = _home(tmp_path / "var-lib-credex")
    env["CREDEX_HOME"] = str(home.path)  # the unit's path, moved under tmp
    argv = shlex.split(service["ExecStart"][0])
    assert argv[:2] == ["/usr/local/bin/credex", "serve"]
    argv = [*CREDEX, *argv[1:]]
    argv[argv.index("/etc/credex/credex.toml")] = str(_config(tmp_path))
    p = Proc(argv, env={**os.environ, **env})
    try:
        url = p.http_url()
        assert httpx.get(f"{url}/healthz").json()["status"] == "ok"
    finally:
        code = p.stop(getattr(signal, service["KillSignal"][0]))
    assert code == 0, p.text
    assert all(json.loads(x)["ts"] for x in p.text.splitlines() if x.strip())  # [log] json


def _instructions(path: Path) -> list[tuple[str, str]]:
    out = []
    for raw in path.read_text(encoding="utf-8").splitlines():
        if raw.strip() and not raw.startswith("#"):
            word, _, rest = raw.strip().partition(" ")
            out.append((word, rest))
    return out


def test_the_containerfile_installs_and_runs(tmp_path: Path) -> None:
    steps = _instructions(ROOT / "deploy" / "Containerfile")
    words = [w for w, _ in steps]
    assert words[0] == "FROM" and words[-1] == "CMD" and "HEALTHCHECK" in words
    runs = [rest for w, rest in steps if w == "RUN"]
    pip = [r for r in runs if r.startswith("pip install")]
    assert pip == ["pip install --no-cache-dir /src"]
    # a fresh virtualenv that sees this one's dependencies (no index needed), then the
    # Containerfile's pip install of the source tree, as COPY . /src would have it
    venv = tmp_path / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(venv)], check=True, timeout=300)
    site = next((venv / "lib").glob("python3*/site-packages"))
    here = next(p for p in sys.path if p.endswith("site-packages") and ".venv" in p)
    (site / "deps.pth").write_text(here + "\n", encoding="utf-8")
    py = venv / "bin" / "python"
    cmd = shlex.split(pip[0].replace("/src", str(ROOT)))
    subprocess.run(
        [str(py), "-m", *cmd, "--no-deps", "--no-build-isolation", "-q"],
        check=True,
        timeout=600,
        capture_output=True,
    )
    envs = dict(
        kv.split("=", 1) for w, rest in steps if w == "ENV" for kv in shlex.split(rest)
    )  # fmt: skip
    home = _home(tmp_path / "var-lib-credex")
    env = {**os.environ, **envs, "CREDEX_HOME": str(home.path)}
    cmd_argv = json.loads(dict(steps)["CMD"])
    assert cmd_argv[0] == "credex"
    argv = [str(venv / "bin" / "credex"), *cmd_argv[1:]]
    argv[argv.index("/etc/credex/credex.toml")] = str(_config(tmp_path))
    p = Proc(argv, env=env)
    try:
        url = p.http_url()
        health = json.loads(dict(steps)["HEALTHCHECK"].split("CMD ", 1)[1])
        probe = [str(py), *health[1:]]
        probe[-1] = probe[-1].replace("http://127.0.0.1:8080", url)
        subprocess.run(probe, check=True, timeout=60, env=env)
        page = httpx.get(f"{url}/").text  # templates and static files were installed
        assert "credex.ningbo.example/log" in page
        assert httpx.get(f"{url}/static/explorer/record.js").status_code == 200
        assert httpx.get(f"{url}/static/verify/verify.js").status_code == 200
    finally:
        code = p.stop(signal.SIGTERM)
    assert code == 0, p.text


# --- backup and restore ------------------------------------------------------------------


def test_backup_and_restore_verified_against_the_last_checkpoint(
    tmp_path: Path, store_url: str
) -> None:
    db = None if store_url.startswith("sqlite") else store_url
    home = _home(tmp_path / "home", db)
    with LocalNode(home) as n:
        person = n.issue([_person_record(home)], iat=T0)[0]
        n.publish_checkpoint(T0)
        body = n.bodies.get(person.leaf_hash)
    out = tmp_path / "backup"
    made = backup(home, out, T0 + 10)
    assert made["tree_size"] == 1 and made["checkpoint"]["tree_size"] == 1
    assert oct(out.stat().st_mode & 0o777) == "0o700"
    assert all(oct(p.stat().st_mode & 0o777) == "0o600" for p in out.rglob("*") if p.is_file())
    with pytest.raises(ConfigError, match="target exists"):
        backup(home, out, T0 + 10)
    # the log's tables with the receipt signature and the index, from SQLite or
    # PostgreSQL alike (PostgreSQL is copied table by table)
    (snap,) = [p for p in out.rglob("*") if p.is_file() and p.read_bytes()[:6] == b"SQLite"]
    with sqlite3.connect(snap) as con:
        held = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
    assert {"entries", "checkpoints", "receipt_signatures", "index_nodes", "bodies"} <= held
    # into SQLite, and into the database this test runs on
    for target, target_db in ((tmp_path / "restored", None), (tmp_path / "restored-db", db)):
        if target_db is not None:
            _drop_log(target_db)
        done = restore(out, target, db=target_db)
        assert done["verified"] and done["checkpoint_size"] == 1
        with LocalNode(NodeHome.open(target)) as r:
            assert r.bodies.get(person.leaf_hash) == body
            assert r.home.log_key().public_key == home.log_key().public_key
        assert oct((target / "keys").stat().st_mode & 0o777) == "0o700"
    with pytest.raises(ConfigError, match="already at"):
        restore(out, tmp_path / "restored", db=None)


def _drop_log(url: str) -> None:
    """Empty the test schema (the source node's tables) so a restore has a fresh target."""
    from sqlalchemy import create_engine

    from credex.ledger.storage.snapshot import SNAPSHOT_TABLES

    engine = create_engine(url)
    with engine.begin() as conn:
        for t in SNAPSHOT_TABLES:
            conn.exec_driver_sql(f"DROP TABLE IF EXISTS {t.name}")
    engine.dispose()


def test_a_changed_backup_is_refused(tmp_path: Path) -> None:
    home = _home(tmp_path / "home")
    with LocalNode(home) as n:
        n.issue([_person_record(home)], iat=T0)
        n.publish_checkpoint(T0)
    out = tmp_path / "backup"
    backup(home, out, T0)
    key = out / "home" / "keys" / "log.key"
    key.write_text("00" * 32 + "\n", encoding="utf-8")
    with pytest.raises(VerificationError, match=re.escape("changed or missing: home/keys/log.key")):
        restore(out, tmp_path / "restored", db=None)
    assert not (tmp_path / "restored" / "node.json").exists()


def test_config_file_grammar() -> None:
    cfg = parse_config((ROOT / "deploy" / "credex.toml").read_text(encoding="utf-8"))
    assert cfg.http == "127.0.0.1:8080" and cfg.log_format == "json" and cfg.follow == 30.0
    bad: list[tuple[str, str]] = [
        ("[serve]\nlisten = 7420\n", "serve.listen: expected HOST:PORT"),
        ('[serve]\nport = "x"\n', "unknown key 'serve.port'"),
        ('[web]\nlisten = "a:1"\n', "unknown section 'web'"),
        ("[http]\ntls = 1\n", "http.tls: expected true or false"),
        ('[http]\npublic_url = "javascript:alert(1)"\n', "expected an http(s) URL"),
        ('[log]\nformat = "xml"\n', 'log.format: expected "json" or "text"'),
        ("[serve]\nfollow = -1\n", "seconds >= 0"),
        ("serve = [", "not valid TOML"),
    ]
    for text, message in bad:
        with pytest.raises(ConfigError, match=re.escape(message)):
            parse_config(text)
