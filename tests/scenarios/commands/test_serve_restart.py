"""``harness serve`` stopped and started again, as a real Exchange restart looks: the
same addresses and certificates (``--state-dir``, pinned ports), and a running
``harness engine`` that polls again by itself. Real subprocesses, real sockets."""

from __future__ import annotations

import json
import os
import signal
import socket
import ssl
import stat
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

INTERVAL = 3  # seconds between the engine's polls of one user

SEED = """\
name: Restarted organisation
timezone: UTC
start: "{start}"
engine: {{catch_up: true, poll_interval: {interval}s}}
users:
  - {{extension: "100", name: Anna, email: user1@domain.net, auto_back_to_office: true}}
  - {{extension: "101", name: Ben, email: user2@domain.net}}
appointments:
  - {{mailbox: user1@domain.net, subject: Lunch, start: "{lunch_start}", end: "{lunch_end}"}}
"""


def wait_for(check: Callable[[], Any], timeout: float = 30.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.05)
    raise AssertionError(f"gave up after {timeout} s")


class Serving:
    """``harness serve`` as a process that can be stopped and started again."""

    def __init__(self, tmp: Path, *args: str) -> None:
        now = datetime.now(UTC).replace(microsecond=0)
        fmt = "%Y-%m-%d %H:%M:%S"
        self.seed = tmp / "seed.yaml"
        self.seed.write_text(
            SEED.format(
                start=(now - timedelta(hours=1)).strftime(fmt),
                interval=INTERVAL,
                lunch_start=(now - timedelta(minutes=2)).strftime(fmt),
                lunch_end=(now + timedelta(hours=1)).strftime(fmt),
            ),
            encoding="utf-8",
        )
        self.ready = tmp / "ready.json"
        self.log = tmp / "serve.log"
        self.args = args
        self.proc: subprocess.Popen[bytes] | None = None

    def command(self, *extra: str) -> list[str]:
        return [
            sys.executable,
            "-m",
            "scenarios.commands.cli",
            "serve",
            "--seed",
            str(self.seed),
            "--ready-file",
            str(self.ready),
            *self.args,
            *extra,
        ]

    def start(self) -> dict[str, str]:
        self.ready.unlink(missing_ok=True)
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(self.command(), stdout=subprocess.DEVNULL, stderr=log)
        proc = self.proc
        wait_for(lambda: self.ready.exists() or proc.poll() is not None)
        assert proc.poll() is None, self.log.read_text()
        return dict(json.loads(self.ready.read_text(encoding="utf-8")))

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            assert self.proc.wait(timeout=20) == 0, self.log.read_text()
        self.proc = None


@pytest.fixture
def serving(tmp_path: Path) -> Iterator[Serving]:
    server = Serving(tmp_path, "--state-dir", str(tmp_path / "state"))
    try:
        yield server
    finally:
        server.stop()


def served_certificate(url: str) -> bytes:
    """The certificate served at an https URL or an implicit-TLS ``host:port``."""
    if "://" not in url:
        url = f"tls://{url}"
    host, port = httpx.URL(url).host, httpx.URL(url).port
    context = ssl.create_default_context()
    context.check_hostname = False
    context.verify_mode = ssl.CERT_NONE
    with (
        socket.create_connection((host, port or 443), timeout=10) as raw,
        context.wrap_socket(raw, server_hostname=host) as tls,
    ):
        return tls.getpeercert(binary_form=True) or b""


def good_reads(ready: dict[str, str]) -> list[dict[str, Any]]:
    """The engine's successful calendar reads in the served journal (since its start)."""
    try:
        answer = httpx.get(ready["control"] + "journal?operation=FindItem", timeout=5)
    except httpx.HTTPError:
        return []
    return [r for r in answer.json()["requests"] if r["status"] == 200]


def test_a_restart_keeps_addresses_certificates_and_the_engine_polls_again(
    serving: Serving, tmp_path: Path
) -> None:
    first = serving.start()
    certificate = served_certificate(first["ews"])
    smtps_certificate = served_certificate(first["smtps"])
    ca = Path(first["ca_cert"]).read_bytes()
    config = Path(first["engine_config"])
    assert stat.S_IMODE(config.stat().st_mode) == 0o600  # it holds passwords
    engine_log = tmp_path / "engine.log"
    with engine_log.open("wb") as out:
        engine = subprocess.Popen(
            [sys.executable, "-m", "scenarios.commands.cli", "engine", "--config", str(config)],
            stdout=subprocess.DEVNULL,
            stderr=out,
        )
    try:
        wait_for(lambda: {r["impersonated"] for r in good_reads(first)} >= {"user1@domain.net"})
        serving.stop()  # Exchange goes down: the engine's polls fail meanwhile
        wait_for(
            lambda: all(
                f"poll {user} failed" in engine_log.read_text()
                for user in ("100 (user1@domain.net)", "101 (user2@domain.net)")
            )
        )
        again = serving.start()
        restarted = time.monotonic()
        assert again == first  # same addresses, CA and engine configuration
        assert Path(again["ca_cert"]).read_bytes() == ca
        assert served_certificate(again["ews"]) == certificate
        assert served_certificate(again["smtps"]) == smtps_certificate
        # The engine was never told: it reads both mailboxes again by itself.
        wait_for(
            lambda: (
                {r["impersonated"] for r in good_reads(again)}
                >= {"user1@domain.net", "user2@domain.net"}
            )
        )
        resumed = time.monotonic() - restarted
        assert engine.poll() is None, engine_log.read_text()
        print(f"polling resumed {resumed:.2f} s after the restart")
    finally:
        engine.send_signal(signal.SIGTERM)
        code = engine.wait(timeout=20)
    assert code == 0, engine_log.read_text()
    text = engine_log.read_text()
    assert "Traceback" not in text
    # The operator reads the outage and the recovery, one line each per user.
    for user in ("100 (user1@domain.net)", "101 (user2@domain.net)"):
        assert f"polling {user} recovered after" in text, text
    # Within one interval (plus the time a loaded machine takes to answer a poll).
    assert resumed < INTERVAL + 4, f"polling resumed {resumed:.1f} s after the restart"


def test_the_state_dir_keeps_keys_private(serving: Serving) -> None:
    ready = serving.start()
    folder = Path(ready["engine_config"]).parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for name in ("ca.key", "site.key", "smtp.key", "engine.toml", "state.json"):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE(serving.ready.stat().st_mode) == 0o600


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def test_every_port_can_be_pinned(tmp_path: Path) -> None:
    ports = {name: free_port() for name in ("port", "smtp", "smtps", "pbx", "control")}
    server = Serving(
        tmp_path,
        *("--port", str(ports["port"]), "--smtp-port", str(ports["smtp"])),
        *("--smtps-port", str(ports["smtps"]), "--pbx-port", str(ports["pbx"])),
        *("--control-port", str(ports["control"])),
    )
    try:
        ready = server.start()
    finally:
        server.stop()
    assert ready["ews"].startswith(f"https://127.0.0.1:{ports['port']}/")
    assert ready["smtp"] == f"127.0.0.1:{ports['smtp']}"
    assert ready["smtps"] == f"127.0.0.1:{ports['smtps']}"
    assert ready["pbx"] == f"http://127.0.0.1:{ports['pbx']}/"
    assert ready["control"] == f"http://127.0.0.1:{ports['control']}/control/"


@pytest.mark.parametrize(
    ("flag", "what"),
    [("--pbx-port", "the PBX API"), ("--smtps-port", "SMTP")],
)
def test_a_taken_port_is_a_clear_error(tmp_path: Path, flag: str, what: str) -> None:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        holder.listen()
        taken = holder.getsockname()[1]
        server = Serving(tmp_path, flag, str(taken))
        done = subprocess.run(server.command(), capture_output=True, timeout=60, env=os.environ)
    assert done.returncode == 2
    error = done.stderr.decode()
    assert error.splitlines()[-1] == (
        f"harness serve: cannot listen for {what} on 127.0.0.1:{taken} ({flag}): "
        "address already in use"
    )
    assert "Traceback" not in error
    assert not server.ready.exists()
