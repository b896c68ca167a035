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
import tomllib
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from lxml import etree

from tests.ports import unused_ports
from tests.simulators.ews.soap import NS, codes, envelope, shape
from tests.waiting import wait_for

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


def pbx_presence(ready: dict[str, str], extension: str) -> dict[str, Any]:
    answer = httpx.get(f"{ready['pbx']}api/users/{extension}/presence", timeout=5)
    answer.raise_for_status()
    return dict(answer.json())


def pbx_journal(ready: dict[str, str]) -> list[dict[str, Any]]:
    answer = httpx.get(f"{ready['pbx']}api/journal", timeout=5)
    answer.raise_for_status()
    return list(answer.json()["journal"])


def reads_of(ready: dict[str, str], mailbox: str) -> int:
    return sum(1 for r in good_reads(ready) if r["impersonated"] == mailbox)


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
        # The engine sets Anna's presence from her lunch appointment.
        lunch = wait_for(lambda: (p := pbx_presence(first, "100"))["status"] == "lunch" and p)
        journal = pbx_journal(first)
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
        # Restarting Exchange never reset the PBX: Anna is still at lunch, as the
        # engine set her, with the same return time, and the journal is as it was.
        assert pbx_presence(again, "100") == lunch
        assert pbx_journal(again) == journal
        # The engine, which remembers it set lunch, polls on and changes nothing:
        # once it read Anna's calendar a second time it was done with the first read.
        wait_for(lambda: reads_of(again, "user1@domain.net") >= 2)
        assert pbx_presence(again, "100") == lunch
        assert pbx_journal(again) == journal
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


def ews(ready: dict[str, str], body: str) -> httpx.Response:
    """One EWS request as the engine's service account, impersonating Ben."""
    config = tomllib.loads(Path(ready["engine_config"]).read_text(encoding="utf-8"))
    account = config["exchange"]
    return httpx.post(
        ready["ews"],
        content=envelope(body, impersonate="user2@domain.net").encode(),
        headers={"Content-Type": "text/xml; charset=utf-8"},
        auth=(account["username"], account["password"]),
        verify=ssl.create_default_context(cafile=ready["ca_cert"]),
        timeout=10,
    )


def bens_appointments(ready: dict[str, str]) -> list[tuple[str, str]]:
    """(item id, subject) of every appointment in Ben's calendar."""
    answer = ews(
        ready,
        f'<m:FindItem Traversal="Shallow">{shape("AllProperties")}'
        '<m:ParentFolderIds><t:DistinguishedFolderId Id="calendar"/></m:ParentFolderIds>'
        "</m:FindItem>",
    )
    assert answer.status_code == 200, answer.text
    items = etree.fromstring(answer.content).iterfind(".//t:CalendarItem", NS)
    return sorted(
        (str(i.find("t:ItemId", NS).get("Id")), str(i.findtext("t:Subject", "", NS))) for i in items
    )


def test_a_crash_keeps_the_presence_and_appointments_of_a_moment_before(
    serving: Serving,
) -> None:
    """Killed without a chance to save at stop, ``harness serve`` has still kept the
    PBX's presence and an appointment made through EWS: both are written within a
    second of a change."""
    first = serving.start()
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=1)
    made = ews(
        first,
        '<m:CreateItem SendMeetingInvitations="SendToNone"><m:Items><t:CalendarItem>'
        f"<t:Subject>Dentist</t:Subject><t:Start>{start.isoformat()}</t:Start>"
        f"<t:End>{(start + timedelta(hours=1)).isoformat()}</t:End>"
        "</t:CalendarItem></m:Items></m:CreateItem>",
    )
    assert codes(made.content) == ["NoError"], made.text
    appointments = bens_appointments(first)
    assert [subject for _id, subject in appointments] == ["Dentist"]
    back = (datetime.now(UTC) + timedelta(hours=2)).replace(microsecond=0)
    answer = httpx.put(
        f"{first['pbx']}api/users/101/presence",
        json={"status": "vacation", "return_time": back.isoformat(), "set_by": "client"},
        timeout=5,
    )
    assert answer.status_code == 200, answer.text
    set_now = pbx_presence(first, "101")
    kept = Path(first["engine_config"]).parent / "pbx.json"

    def saved() -> bool:
        try:
            users = json.loads(kept.read_text(encoding="utf-8"))["users"]
        except (OSError, ValueError):
            return False
        return bool(users["101"]["status"] == "vacation")

    store = kept.with_name("store.pickle")
    wait_for(saved, timeout=10)
    wait_for(lambda: store.exists() and b"Dentist" in store.read_bytes(), timeout=10)
    assert stat.S_IMODE(kept.stat().st_mode) == 0o600
    assert stat.S_IMODE(store.stat().st_mode) == 0o600
    assert serving.proc is not None
    serving.proc.kill()  # no SIGTERM, no saving at stop
    serving.proc.wait(timeout=20)
    serving.proc = None
    again = serving.start()
    assert pbx_presence(again, "101") == set_now
    assert pbx_presence(again, "100")["status"] == "office"  # the seed's, never changed
    assert bens_appointments(again) == appointments  # the same item, by the same id


def test_a_broken_pbx_state_is_moved_aside_and_serve_starts_from_the_seed(
    serving: Serving, tmp_path: Path
) -> None:
    state = tmp_path / "state"
    state.mkdir(mode=0o700)
    (state / "pbx.json").write_text('{"format": 1, "users": ', encoding="utf-8")
    ready = serving.start()
    assert pbx_presence(ready, "100")["status"] == "office"
    assert len(list(state.glob("pbx.json.bad-*"))) == 1
    serving.stop()
    log = serving.log.read_text()
    assert "pbx.json: not a PBX state (" in log
    assert "moved aside to pbx.json.bad-" in log
    assert "Traceback" not in log


def test_the_state_dir_keeps_keys_private(serving: Serving) -> None:
    ready = serving.start()
    folder = Path(ready["engine_config"]).parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    serving.stop()  # pbx.json is written at stop at the latest
    kept = ("engine.toml", "state.json", "pbx.json", "store.pickle")
    for name in ("ca.key", "site.key", "smtp.key", *kept):
        assert stat.S_IMODE((folder / name).stat().st_mode) == 0o600, name
    assert stat.S_IMODE(serving.ready.stat().st_mode) == 0o600


def test_every_port_can_be_pinned(tmp_path: Path) -> None:
    names = ("port", "smtp", "smtps", "pbx", "control")
    ports = dict(zip(names, unused_ports(len(names)), strict=True))
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
