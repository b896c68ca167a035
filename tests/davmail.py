"""DavMail (Debian ``davmail-server``) as a real client of the served simulators.

``DavMail(mode, url, ca_pem, workdir).start()`` runs the gateway headless on free
loopback ports (CalDAV/CardDAV, IMAP, SMTP, LDAP, POP; all plain, as a local gateway
is used), trusting the harness CA through a Java truststore made with ``keytool``,
and waits until every listener answers. ``stop()`` ends the process it started.
``log_tail()`` is DavMail's own log, for failure messages. ``serve_harness`` runs
``harness serve --seed`` as a subprocess and returns its ready file.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tests.ports import unused_ports

DAVMAIL_JAR = Path("/usr/share/davmail/davmail.jar")
SKIP_REASON = "davmail not installed"
LISTENERS = ("caldav", "imap", "smtp", "ldap", "pop")


def davmail_available() -> bool:
    return (
        DAVMAIL_JAR.exists()
        and shutil.which("java") is not None
        and shutil.which("keytool") is not None
    )


def truststore(ca_pem: Path, target: Path, password: str = "changeit") -> Path:
    """A PKCS12 truststore holding every certificate of ``ca_pem``."""
    blocks = re.findall(
        r"-----BEGIN CERTIFICATE-----.*?-----END CERTIFICATE-----", ca_pem.read_text(), re.S
    )
    if not blocks:
        raise RuntimeError(f"{ca_pem} holds no certificate")
    target.unlink(missing_ok=True)
    for index, block in enumerate(blocks):
        single = target.with_name(f"ca{index}.pem")
        single.write_text(block + "\n")
        subprocess.run(
            [
                "keytool",
                "-importcert",
                "-noprompt",
                "-alias",
                f"harness-ca-{index}",
                "-file",
                str(single),
                "-keystore",
                str(target),
                "-storetype",
                "PKCS12",
                "-storepass",
                password,
            ],
            check=True,
            capture_output=True,
        )
    return target


def _wait_for(check: Any, timeout: float, what: str) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(0.2)
    raise TimeoutError(f"gave up waiting for {what} after {timeout:.0f} s")


def _listening(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@dataclass
class DavMail:
    """One DavMail gateway in ``mode`` ("EWS" or "WebDav") against ``url``."""

    mode: str
    url: str
    ca_pem: Path
    workdir: Path
    ports: dict[str, int] = field(default_factory=dict)
    process: subprocess.Popen[bytes] | None = None
    wire: bool = False  # log every byte DavMail exchanges with the harness

    @property
    def log_path(self) -> Path:
        return self.workdir / "davmail.log"

    def properties(self) -> str:
        lines = {
            "davmail.server": "true",
            "davmail.mode": self.mode,
            "davmail.url": self.url,
            "davmail.bindAddress": "127.0.0.1",
            "davmail.allowRemote": "false",
            "davmail.disableUpdateCheck": "true",
            "davmail.caldavPastDelay": "0",  # every event, however old
            "davmail.enableKeepAlive": "false",
            "davmail.logFilePath": str(self.log_path),
            "davmail.logFileSize": "0",
            "log4j.rootLogger": "WARN",
            "log4j.logger.davmail": "DEBUG",
            # DavMail maps these onto HttpClient 4's loggers (org.apache.http.wire, ...).
            "log4j.logger.httpclient.wire": "DEBUG" if self.wire else "WARN",
            "log4j.logger.httpclient": "WARN",
        }
        for name in LISTENERS:
            lines[f"davmail.{name}Port"] = str(self.ports[name])
            lines[f"davmail.ssl.nosecure{name}"] = "true"
        return "".join(f"{k}={v}\n" for k, v in lines.items())

    def start(self, timeout: float = 60.0) -> DavMail:
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.ports = dict(zip(LISTENERS, unused_ports(len(LISTENERS)), strict=True))
        settings = self.workdir / "davmail.properties"
        settings.write_text(self.properties())
        store = truststore(self.ca_pem, self.workdir / "truststore.p12")
        command = [
            "java",
            "-Xmx256m",
            "-Djava.awt.headless=true",
            f"-Djavax.net.ssl.trustStore={store}",
            "-Djavax.net.ssl.trustStorePassword=changeit",
            "-Djavax.net.ssl.trustStoreType=PKCS12",
            "-jar",
            str(DAVMAIL_JAR),
            "-server",
            str(settings),
        ]
        out = (self.workdir / "stdout.log").open("wb")
        self.process = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT)
        out.close()
        try:
            _wait_for(
                lambda: (
                    self.process is not None
                    and (
                        self.process.poll() is not None or all(map(_listening, self.ports.values()))
                    )
                ),
                timeout,
                f"DavMail ({self.mode}) to listen",
            )
        except TimeoutError:
            self.stop()
            raise
        if self.process.poll() is not None:
            raise RuntimeError(f"DavMail exited with {self.process.returncode}:\n{self.log_tail()}")
        return self

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)
        self.process = None

    def log_tail(self, lines: int = 60) -> str:
        if not self.log_path.exists():
            return "(no DavMail log)"
        text = self.log_path.read_text(errors="replace").splitlines()
        return "\n".join(line for line in text[-lines:] if ".wire" not in line)

    def url_of(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}"


@dataclass
class Served:
    """A running ``harness serve``: its ready file and process."""

    ready: dict[str, str]
    process: subprocess.Popen[bytes]
    log_path: Path

    @property
    def site(self) -> str:
        return self.ready["ews"].rsplit("/EWS/", 1)[0]

    @property
    def ca(self) -> Path:
        return Path(self.ready["ca_cert"])

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=5)


def serve_harness(seed: Path, workdir: Path, timeout: float = 60.0) -> Served:
    """``harness serve --seed SEED`` in a subprocess, once its ready file is written."""
    ready = workdir / "ready.json"
    log_path = workdir / "serve.log"
    log = log_path.open("wb")
    process = subprocess.Popen(
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
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    log.close()
    try:
        _wait_for(lambda: ready.exists() or process.poll() is not None, timeout, "harness serve")
    except TimeoutError:
        process.kill()
        raise
    if process.poll() is not None:
        raise RuntimeError(f"harness serve exited:\n{log_path.read_text(errors='replace')}")
    return Served(json.loads(ready.read_text(encoding="utf-8")), process, log_path)


__all__ = [
    "DAVMAIL_JAR",
    "SKIP_REASON",
    "DavMail",
    "Served",
    "davmail_available",
    "serve_harness",
    "truststore",
]
