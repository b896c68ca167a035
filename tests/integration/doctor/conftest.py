"""The doctor's rig: the HTTPS site of tests/conftest.py (seeded per case), a PBX with
the seed's users, the SMTP sink on the same store, and TLS servers with bad
certificates; ``Rig.run`` writes an engine configuration and runs ``harness doctor``."""

from __future__ import annotations

import socket
import ssl
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import trustme

from scenarios.commands.cli import main
from simulators.pbx import Pbx, User
from simulators.pbx.server import PbxServer
from simulators.smtp import ListenerSpec, SinkSettings, SmtpSink
from tests.conftest import ALICE, BOB, CAROL, ROBERTA, SERVICE_PASSWORD, SERVICE_USER, EwsServer


class BadCertServer:
    """A TLS listener whose certificate is expired or issued for another name."""

    def __init__(self, ca: trustme.CA, *, expired: bool) -> None:
        if expired:
            cert = ca.issue_cert(
                "127.0.0.1",
                not_before=datetime.now(UTC) - timedelta(days=60),
                not_after=datetime.now(UTC) - timedelta(days=30),
            )
        else:
            cert = ca.issue_cert("exchange.example.com")
        self.context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        cert.configure_cert(self.context)
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.sock.getsockname()[1])
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def _serve(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            try:
                with self.context.wrap_socket(conn, server_side=True) as tls:
                    tls.recv(1)
            except (OSError, ssl.SSLError):
                pass

    def close(self) -> None:
        self.sock.close()


@dataclass
class Rig:
    ews: EwsServer
    pbx_url: str
    smtp_port: int
    smtp_auth_port: int
    tmp: Path
    ca_file: Path
    extra: dict[str, object] = field(default_factory=dict)

    def config(
        self,
        *,
        server_url: str | None = None,
        variant: str = "ews",
        password: str = SERVICE_PASSWORD,
        ca_file: Path | None | str = "site",
        smtp: str | None = "good",
    ) -> Path:
        url = server_url or (self.ews.url if variant == "ews" else self.ews.site.webdav_url)
        ca = self.ca_file if ca_file == "site" else ca_file
        lines = [
            "[exchange]",
            f'variant = "{variant}"',
            f'server_url = "{url}"',
            f'username = "{SERVICE_USER}"',
            f'password = "{password}"',
        ]
        if ca is not None:
            lines.append(f'ca_file = "{ca}"')
        lines += ["", "[pbx]", f'url = "{self.pbx_url}"']
        if smtp is not None:
            port = self.smtp_port if smtp == "good" else self.smtp_auth_port
            smtp_password = SERVICE_PASSWORD if smtp == "good" else "wrong"
            lines += [
                "",
                "[smtp]",
                'server = "127.0.0.1"',
                f"port = {port}",
                'security = "starttls"',
                f'username = "{SERVICE_USER}"',
                f'password = "{smtp_password}"',
                f'sender = "{SERVICE_USER}"',
                f'ca_file = "{self.tmp / "smtp-ca.pem"}"',
                f'queue_path = "{self.tmp / "queue.sqlite3"}"',
            ]
        path = self.tmp / "engine.toml"
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
        return path

    def run(self, config: Path, *args: str, capsys: pytest.CaptureFixture[str]) -> tuple[int, str]:
        capsys.readouterr()
        code = main(["doctor", "--config", str(config), *args])
        return code, capsys.readouterr().out


@pytest.fixture
def rig(ews_tls: EwsServer, tmp_path: Path) -> Iterator[Rig]:
    pbx = Pbx(timezone="Europe/Berlin")
    for extension, name, email in (
        ("100", "Alice Example", ALICE),
        ("101", "Bob Builder", BOB),
        ("102", "Carol Denied", CAROL),
        ("103", "Roberta Bobson", ROBERTA),
        ("199", "Lobby Phone", None),
    ):
        pbx.add_user(User(extension, name, email))
    ca = trustme.CA(organization_name="doctor tests CA")
    ca.cert_pem.write_to_path(str(tmp_path / "smtp-ca.pem"))
    listeners = (
        ListenerSpec("smtp", "starttls"),
        ListenerSpec("auth_only", "starttls", auth_required=True),
    )
    sink = SmtpSink(ews_tls.store, SinkSettings(listeners=listeners, ca=ca)).start()
    assert ews_tls.site.ca_cert_pem is not None
    with PbxServer(pbx) as server:
        try:
            yield Rig(
                ews_tls,
                server.url,
                sink.port("smtp"),
                sink.port("auth_only"),
                tmp_path,
                Path(ews_tls.site.ca_cert_pem),
            )
        finally:
            sink.stop()


@pytest.fixture
def bad_cert(
    tmp_path: Path, request: pytest.FixtureRequest
) -> Iterator[tuple[BadCertServer, Path]]:
    ca = trustme.CA(organization_name="doctor tests CA")
    ca_file = tmp_path / "other-ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    server = BadCertServer(ca, expired=bool(getattr(request, "param", False)))
    yield server, ca_file
    server.close()
