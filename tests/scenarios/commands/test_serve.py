"""``harness serve`` and ``harness engine`` in real time, as separate processes."""

from __future__ import annotations

import json
import signal
import smtplib
import ssl
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest

from tests.waiting import wait_for

SEED = """\
name: Served organisation
timezone: UTC
start: "{start}"
engine: {{catch_up: true, poll_interval: 2s}}
users:
  - {{extension: "100", name: Anna, email: user1@domain.net, auto_back_to_office: true}}
  - {{extension: "101", name: Ben, email: user2@domain.net}}
appointments:
  - {{mailbox: user1@domain.net, subject: Lunch, start: "{lunch_start}", end: "{lunch_end}"}}
public_folders:
  - name: Customers
    contacts:
      - {{display_name: Carla Customer, company: Kunde GmbH, business_phone: "+49 30 5550"}}
    folders:
      - name: Archive
        contacts: [{{display_name: Carl Archived, business_phone: "+49 30 1"}}]
"""


@pytest.fixture
def served(tmp_path: Path) -> Iterator[dict[str, str]]:
    now = datetime.now(UTC).replace(microsecond=0)
    fmt = "%Y-%m-%d %H:%M:%S"
    seed = tmp_path / "seed.yaml"
    seed.write_text(
        SEED.format(
            start=(now - timedelta(hours=1)).strftime(fmt),
            lunch_start=(now - timedelta(minutes=2)).strftime(fmt),
            lunch_end=(now + timedelta(hours=1)).strftime(fmt),
        ),
        encoding="utf-8",
    )
    ready = tmp_path / "ready.json"
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "scenarios.commands.cli",
            "serve",
            "--seed",
            str(seed),
            "--ready-file",
            str(ready),
        ],
        stdout=subprocess.DEVNULL,
        stderr=log,
    )
    try:
        wait_for(lambda: ready.exists() or proc.poll() is not None)
        assert proc.poll() is None, (tmp_path / "serve.log").read_text()
        yield json.loads(ready.read_text(encoding="utf-8"))
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=15) == 0
        log.close()


def test_ready_file_names_every_served_endpoint(served: dict[str, str]) -> None:
    assert {
        "ews",
        "webdav",
        "owa",
        "pbx",
        "smtp",
        "smtps",
        "control",
        "mail",
        "dashboard",
        "ca_cert",
        "engine_config",
    } <= set(served)
    assert served["ews"].startswith("https://127.0.0.1:")
    assert Path(served["ca_cert"]).read_text().startswith("-----BEGIN CERTIFICATE-----")
    status = httpx.get(served["control"] + "status").json()
    assert status["services"]["ews"] == served["ews"]
    # IIS-style Basic auth on the EWS endpoint, over TLS checked against the served CA.
    tls = ssl.create_default_context(cafile=served["ca_cert"])
    denied = httpx.post(served["ews"], content=b"<x/>", verify=tls)
    assert denied.status_code == 401
    assert denied.headers["WWW-Authenticate"].startswith("Basic realm=")


def test_engine_against_served_simulators_sets_presence(
    served: dict[str, str], tmp_path: Path
) -> None:
    log = tmp_path / "engine.log"
    with log.open("wb") as out:
        engine = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "scenarios.commands.cli",
                "engine",
                "--config",
                served["engine_config"],
            ],
            stdout=subprocess.DEVNULL,
            stderr=out,
        )
    try:
        presence = wait_for(
            lambda: (
                (p := httpx.get(served["pbx"] + "api/users/100/presence").json())["status"]
                == "lunch"
                and p
            )
        )
        # Both users are read within one 2 s cycle (spread over it).
        wait_for(lambda: len(reads_by_mailbox(served)) == 2)
    finally:
        engine.send_signal(signal.SIGTERM)
        code = engine.wait(timeout=15)
    assert presence["set_by"] == "engine"  # type: ignore[index]
    assert code == 0, log.read_text()
    text = log.read_text()
    assert "Traceback" not in text
    # The operator's log: the change with its rule, not a line per HTTP request.
    assert "INFO integration.scheduler: presence 100 (user1@domain.net): office -> lunch" in text
    assert "HTTP Request:" not in text
    assert httpx.get(served["pbx"] + "api/users/101/presence").json()["status"] == "office"
    assert reads_by_mailbox(served) == {"user1@domain.net", "user2@domain.net"}


def reads_by_mailbox(served: dict[str, str]) -> set[str]:
    reads = httpx.get(served["control"] + "journal?operation=FindItem").json()["requests"]
    return {r["impersonated"] for r in reads if r["status"] == 200}


def test_bad_engine_config_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "engine.toml"
    config.write_text('[exchange]\nenabled = true\nvariant = "ewz"\n', encoding="utf-8")
    done = subprocess.run(
        [sys.executable, "-m", "scenarios.commands.cli", "engine", "--config", str(config)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "variant" in done.stderr
    assert "Traceback" not in done.stderr


def test_served_smtp_delivers_into_the_mailbox(served: dict[str, str]) -> None:
    host, port = served["smtp"].rsplit(":", 1)
    tls = ssl.create_default_context(cafile=served["ca_cert"])
    with smtplib.SMTP(host, int(port), timeout=10) as client:
        client.starttls(context=tls)
        client.login("OSOMX@domain.net", "secret")
        client.sendmail("pbx@domain.net", ["user2@domain.net"], b"Subject: Hello\r\n\r\nHi\r\n")
    messages = httpx.get(served["mail"] + "messages?mailbox=user2@domain.net").json()["messages"]
    assert [m["subject"] for m in messages] == ["Hello"]


def test_engine_mails_a_voicemail_and_check_mail_works(
    served: dict[str, str], tmp_path: Path
) -> None:
    check = subprocess.run(
        [
            sys.executable,
            "-m",
            "scenarios.commands.cli",
            "check-mail",
            "--config",
            served["engine_config"],
            "--to",
            "user2@domain.net",
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert check.returncode == 0, check.stdout + check.stderr
    assert "DELIVERED" in check.stdout
    log = tmp_path / "engine.log"
    with log.open("wb") as out:
        engine = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "scenarios.commands.cli",
                "engine",
                "--config",
                served["engine_config"],
            ],
            stdout=subprocess.DEVNULL,
            stderr=out,
        )
    try:
        # User 100 is at lunch (caught up): a call goes to voicemail (R14) ...
        wait_for(
            lambda: httpx.get(served["pbx"] + "api/users/100/presence").json()["status"] == "lunch"
        )
        call = httpx.post(served["pbx"] + "api/calls", json={"to": "100", "from": "+4930555"})
        assert call.json()["routed_to"] == "voicemail"
        # ... and the engine mails it, WAV attached, to user1's mailbox.
        mail = wait_for(
            lambda: [
                m
                for m in httpx.get(served["mail"] + "messages?mailbox=user1@domain.net").json()[
                    "messages"
                ]
                if "+4930555" in m["subject"]
            ]
        )
    finally:
        engine.send_signal(signal.SIGTERM)
        assert engine.wait(timeout=15) == 0, log.read_text()
    detail = httpx.get(served["mail"] + f"messages/{mail[0]['id']}").json()  # type: ignore[index]
    assert [a["content_type"] for a in detail["attachments"]] == ["audio/wav"]


def test_pbx_directory_searches_pbx_users_and_first_level_public_folders(
    served: dict[str, str],
) -> None:
    found = httpx.get(served["pbx"] + "api/directory", params={"q": "carl"}).json()
    assert found["external_error"] is None
    assert [(e["name"], e["source"], e["folder"]) for e in found["entries"]] == [
        ("Carla Customer", "exchange", "Customers")  # Carl Archived is in a subfolder
    ]
    assert found["entries"][0]["numbers"] == [{"label": "business", "number": "+49 30 5550"}]
    users = httpx.get(served["pbx"] + "api/directory", params={"q": "ann"}).json()
    assert [(e["name"], e["source"]) for e in users["entries"]] == [("Anna", "pbx")]
    bad = httpx.get(served["pbx"] + "api/directory")
    assert bad.status_code == 400 and bad.json()["field"] == "q"


def test_slow_clients_do_not_exhaust_the_control_and_pbx_apis(served: dict[str, str]) -> None:
    """The control API has 4 worker threads, the PBX API 8: 20 clients each trickling a
    request head that never ends hold none of them."""
    import socket
    from urllib.parse import urlsplit

    slow = []
    for url in (served["control"], served["pbx"]):
        parts = urlsplit(url)
        for _ in range(20):
            sock = socket.create_connection((parts.hostname, parts.port))
            sock.sendall(b"GET / HTTP/1.1\r\nHost: h\r\nX-Slow: ")
            slow.append(sock)
    try:
        began = time.monotonic()
        assert httpx.get(served["control"] + "status", timeout=5).status_code == 200
        assert httpx.get(served["pbx"] + "api/system", timeout=5).status_code == 200
        assert time.monotonic() - began < 3
    finally:
        for sock in slow:
            sock.close()
