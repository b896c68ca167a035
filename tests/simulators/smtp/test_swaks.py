"""The SMTP sink against swaks, a client written by nobody here, in every security mode.

swaks appends CRLF "." CRLF to ``--data``, so the data file leaves out the last
CRLF of the message; everything else it sends as is (dot-stuffed on the wire).
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import trustme

from simulators.exchange.store import ExchangeStore
from simulators.smtp import ListenerSpec, SmtpSink
from tests.simulators.smtp.conftest import (
    PASSWORDS,
    SERVICE_PASSWORD,
    SERVICE_USER,
    USER1,
    USER2,
    SinkFactory,
)

pytestmark = pytest.mark.skipif(shutil.which("swaks") is None, reason="swaks not installed")

STARTTLS = ListenerSpec("smtp", "starttls")
REQUIRED = ListenerSpec("smtp", "starttls", require_starttls=True)
IMPLICIT = ListenerSpec("smtps", "tls")
PLAIN = ListenerSpec("plain", "plain")
MODES = {"plain": (PLAIN, []), "starttls": (STARTTLS, ["-tls"]), "tls": (IMPLICIT, ["-tlsc"])}
MESSAGE = (
    b"Subject: swaks =?utf-8?q?Gr=C3=BC=C3=9Fe?=\r\n"
    b"From: pbx@example.org\r\n"
    b"\r\n"
    b".a line starting with a dot\r\n"
    b".\r\n"
    b"8-bit: \xe4\xf6\xfc \x00 \xff\r\n" + b"L" * 998 + b"\r\nend\r\n"
)


def swaks(
    sink: SmtpSink,
    listener: str,
    tmp_path: Path,
    *args: str,
    data: bytes = MESSAGE,
    to: str = USER1,
    ca_file: str | None = None,
) -> subprocess.CompletedProcess[str]:
    data_file = tmp_path / "message.eml"
    data_file.write_bytes(data.removesuffix(b"\r\n"))
    command = [
        "swaks",
        "--server", "127.0.0.1",
        "--port", str(sink.port(listener)),
        "--helo", "client.example.org",
        "--from", "pbx@example.org",
        "--to", to,
        "--data", f"@{data_file}",
        "--timeout", "10",
        *args,
    ]  # fmt: skip
    if sink.listener(listener).spec.mode != "plain":
        command += ["--tls-verify", "--tls-ca-path", ca_file or sink.ca_cert_pem or ""]
    return subprocess.run(
        command, capture_output=True, text=True, errors="replace", timeout=30, check=False
    )


@pytest.mark.parametrize("mode", MODES)
def test_swaks_delivers_byte_for_byte(
    make_sink: SinkFactory, store: ExchangeStore, tmp_path: Path, mode: str
) -> None:
    listener, tls_args = MODES[mode]
    sink = make_sink(listener)
    done = swaks(sink, listener.name, tmp_path, *tls_args)
    assert done.returncode == 0, done.stdout
    (item,) = store.messages(USER1)
    assert item.mime == MESSAGE
    assert item.subject == "swaks Grüße"


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_swaks_auth_with_good_credentials(
    make_sink: SinkFactory, tmp_path: Path, mode: str, mechanism: str
) -> None:
    listener, tls_args = MODES[mode]
    sink = make_sink(listener)
    auth = ["--auth", mechanism, "--auth-user", "OSOMX", "--auth-password", SERVICE_PASSWORD]
    done = swaks(sink, listener.name, tmp_path, *tls_args, *auth)
    assert done.returncode == 0, done.stdout
    assert "235 2.7.0 Authentication successful" in done.stdout
    (summary,) = sink.inspector.messages(USER1)
    assert summary.transaction is not None and summary.transaction.login == SERVICE_USER


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
@pytest.mark.parametrize("mode", ["starttls", "tls"])
def test_swaks_auth_with_bad_credentials_gets_535(
    make_sink: SinkFactory, store: ExchangeStore, tmp_path: Path, mode: str, mechanism: str
) -> None:
    listener, tls_args = MODES[mode]
    sink = make_sink(listener)
    auth = ["--auth", mechanism, "--auth-user", USER2, "--auth-password", PASSWORDS[USER1]]
    done = swaks(sink, listener.name, tmp_path, *tls_args, *auth)
    assert done.returncode == 28, done.stdout  # swaks: error in AUTH
    assert "535 5.7.3 Authentication unsuccessful" in done.stdout
    assert store.messages() == []


@pytest.mark.parametrize(
    ("to", "reply"),
    [
        ("someone@elsewhere.com", "550 5.7.1 Unable to relay"),
        ("nobody@domain.net", "550 5.1.1 User unknown"),
    ],
)
@pytest.mark.parametrize("mode", MODES)
def test_swaks_recipients_refused(
    make_sink: SinkFactory, tmp_path: Path, mode: str, to: str, reply: str
) -> None:
    listener, tls_args = MODES[mode]
    sink = make_sink(listener)
    done = swaks(sink, listener.name, tmp_path, *tls_args, to=to)
    assert done.returncode == 24, done.stdout  # swaks: no RCPTs accepted
    assert reply in done.stdout


def test_swaks_over_the_size_limit_gets_552(
    make_sink: SinkFactory, store: ExchangeStore, tmp_path: Path
) -> None:
    sink = make_sink(STARTTLS, max_message_size=500)
    done = swaks(sink, "smtp", tmp_path, "-tls")
    assert done.returncode == 26, done.stdout  # swaks: mail not accepted after DATA
    assert "552 Error: Too much mail data" in done.stdout
    assert store.messages() == []


def test_swaks_without_starttls_where_it_is_required_gets_530(
    make_sink: SinkFactory, tmp_path: Path
) -> None:
    sink = make_sink(REQUIRED)
    refused = swaks(sink, "smtp", tmp_path)  # no -tls: STARTTLS not sent
    assert refused.returncode == 23, refused.stdout  # swaks: error in MAIL
    assert "530 Must issue a STARTTLS command first" in refused.stdout
    assert swaks(sink, "smtp", tmp_path, "-tls").returncode == 0


def test_swaks_auth_without_tls_is_refused_unless_allowed(
    make_sink: SinkFactory, tmp_path: Path
) -> None:
    sink = make_sink(STARTTLS)
    auth = ["--auth", "PLAIN", "--auth-user", SERVICE_USER, "--auth-password", SERVICE_PASSWORD]
    refused = swaks(sink, "smtp", tmp_path, *auth)  # no -tls
    assert refused.returncode == 28, refused.stdout  # AUTH is not even offered before TLS
    assert "250-AUTH" not in refused.stdout
    assert "did not advertise authentication" in refused.stderr

    relaxed = make_sink(PLAIN, allow_plaintext_auth=True)
    assert swaks(relaxed, "plain", tmp_path, *auth).returncode == 0


def test_swaks_refuses_a_server_certificate_from_another_ca(
    make_sink: SinkFactory, tmp_path: Path
) -> None:
    sink = make_sink(IMPLICIT)
    other = tmp_path / "other-ca.pem"
    trustme.CA().cert_pem.write_to_path(str(other))
    done = swaks(sink, "smtps", tmp_path, "-tlsc", ca_file=str(other))
    assert done.returncode != 0
    assert sink.inspector.messages() == []
