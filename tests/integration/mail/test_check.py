"""'Check e-mail forwarding' against the real SMTP sink: every security mode, every
failure in a technician's words with the server's reply, and ``harness check-mail``."""

from __future__ import annotations

import asyncio
import socket
import subprocess
import sys
from collections.abc import Iterator
from datetime import timedelta
from email import message_from_bytes, policy
from pathlib import Path

import pytest

from integration.config import SmtpConfig
from integration.mail.check import TEST_SUBJECT, check_mail, report
from integration.mail.outcome import Outcome, SendResult
from scenarios.commands.cli import main
from tests.integration.mail.conftest import SERVICE, USER1, MailRig, closed_port


def check(rig: MailRig, to: str = USER1, **config: object) -> SendResult:
    listener = str(config.pop("listener", "smtp"))
    return asyncio.run(check_mail(rig.config(listener, **config), to))


@pytest.mark.parametrize(
    ("listener", "changes"),
    [
        ("smtp", {}),  # STARTTLS and log-in
        ("smtps", {}),  # implicit TLS and log-in
        ("plain", {"username": None, "password": None}),  # no TLS, no log-in
        ("smtp", {"security": "none", "username": None, "password": None}),
        ("smtp", {"ca_file": None, "verify_tls": False}),  # any certificate accepted
        ("smtp", {"username": "W03EX07\\OSOMX"}),  # DOMAIN\\alias, as IIS takes it
    ],
    ids=["starttls", "ssl", "plain", "none-on-587", "verify-off", "domain-login"],
)
def test_each_security_mode_delivers(rig: MailRig, listener: str, changes: dict) -> None:
    result = check(rig, listener=listener, **changes)
    assert result.outcome is Outcome.DELIVERED, result.describe()
    assert result.code == 250 and "Queued mail for delivery" in result.reply
    [raw] = rig.inbox(USER1)
    mail = message_from_bytes(raw, policy=policy.default)
    assert mail["Subject"] == TEST_SUBJECT and mail["From"] == SERVICE
    transaction = rig.sink.journal.transactions()[-1]
    assert transaction.tls is (listener != "plain" and changes.get("security") != "none")
    assert transaction.login == (
        None if "username" in changes and not changes["username"] else SERVICE
    )


# (name, listener, config changes, recipient, outcome, reply code, words in the report)
FAILURES = [
    ("auth refused", "smtp", {"password": "wrong"}, USER1, Outcome.AUTH_REFUSED, 535,
     "authentication refused"),
    ("auth refused over ssl", "smtps", {"password": "wrong"}, USER1, Outcome.AUTH_REFUSED, 535,
     "authentication refused"),
    ("tls required (530)", "tls_only", {"security": "none", "username": None, "password": None},
     USER1, Outcome.TLS_REQUIRED, 530, "TLS required"),
    ("log-in only after STARTTLS", "smtp", {"security": "none"}, USER1, Outcome.TLS_REQUIRED,
     None, "TLS required"),
    ("log-in missing", "auth_only", {"username": None, "password": None}, USER1,
     Outcome.AUTH_REQUIRED, 530, "the server requires a log-in"),
    ("certificate not trusted (STARTTLS)", "smtp", {"ca_file": None}, USER1,
     Outcome.CERTIFICATE_NOT_TRUSTED, None, "certificate not trusted"),
    ("certificate not trusted (SSL)", "smtps", {"ca_file": None}, USER1,
     Outcome.CERTIFICATE_NOT_TRUSTED, None, "certificate not trusted"),
    ("ssl on a STARTTLS port", "smtp", {"security": "ssl"}, USER1, Outcome.TLS_FAILED, None,
     "TLS handshake failed"),
    ("relay denied", "smtp", {}, "someone@example.com", Outcome.RELAY_DENIED, 550,
     "relay denied"),
    ("recipient unknown", "smtp", {}, f"nobody@{USER1.split('@')[1]}", Outcome.RECIPIENT_UNKNOWN,
     550, "recipient unknown"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("listener", "changes", "to", "outcome", "code", "words"),
    [f[1:] for f in FAILURES],
    ids=[f[0] for f in FAILURES],
)
def test_each_failure_in_words_with_the_server_reply(
    rig: MailRig, listener: str, changes: dict, to: str, outcome: Outcome, code: int | None,
    words: str,
) -> None:  # fmt: skip
    result = check(rig, to, listener=listener, **changes)
    assert result.outcome is outcome, result.describe()
    assert result.code == code
    text = report(rig.config(listener, **changes), to, result)
    assert text.splitlines()[1] == f"NOT DELIVERED: {words}."
    if code is not None:
        assert f"Server reply: {code} " in text
    assert result.advice in text
    assert rig.inbox(USER1) == []


def test_server_replies_are_quoted_exactly(rig: MailRig) -> None:
    auth = check(rig, password="wrong")
    assert auth.server_reply == "535 5.7.3 Authentication unsuccessful"
    tls = check(rig, listener="tls_only", security="none", username=None, password=None)
    assert tls.server_reply == "530 Must issue a STARTTLS command first"
    relay = check(rig, "x@example.com")
    assert relay.server_reply == "550 5.7.1 Unable to relay"
    assert "unable to get local issuer certificate" in check(rig, ca_file=None).detail


def test_connection_refused_on_a_closed_port(rig: MailRig) -> None:
    result = check(rig, port=closed_port())
    assert result.outcome is Outcome.CONNECTION_REFUSED and result.retryable
    assert result.detail.startswith("while connecting to 127.0.0.1:")


@pytest.fixture
def silent_server() -> Iterator[int]:
    """Accepts TCP connections (the kernel's backlog) and never says a word."""
    with socket.create_server(("127.0.0.1", 0)) as server:
        yield server.getsockname()[1]


def test_a_server_that_never_answers_is_a_timeout(rig: MailRig, silent_server: int) -> None:
    result = check(rig, port=silent_server, timeout=timedelta(seconds=1))
    assert result.outcome is Outcome.TIMEOUT and result.retryable
    assert "no answer" in result.headline


def test_a_message_over_the_size_limit(rig: MailRig) -> None:
    rig.sink.settings.max_message_size = 200  # read by every new connection
    result = check(rig)
    assert result.outcome is Outcome.MESSAGE_TOO_LARGE and result.code == 552


# -------------------------------------------------------------- the command


def write_config(tmp_path: Path, smtp: str) -> Path:
    path = tmp_path / "engine.toml"
    path.write_text(
        '[exchange]\nserver_url = "https://127.0.0.1/ews/exchange.asmx"\n'
        'username = "OSOMX@w03ex07.net"\npassword = "secret"\n\n[smtp]\n' + smtp,
        encoding="utf-8",
    )
    return path


def smtp_section(rig: MailRig, listener: str = "smtp", password: str = "secret") -> str:
    config = rig.config(listener)
    return (
        f'server = "127.0.0.1"\nport = {config.port}\nsecurity = "{config.security}"\n'
        f'username = "OSOMX"\npassword = "{password}"\nsender = "{SERVICE}"\n'
        f'ca_file = "{rig.ca_file.name}"\ntimeout = "5s"\n'
    )


def test_command_delivered_exit_0(
    rig: MailRig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, smtp_section(rig, "smtps"))
    assert main(["check-mail", "--config", str(config), "--to", USER1]) == 0
    out = capsys.readouterr().out
    assert "DELIVERED: the server accepted the test mail." in out
    assert "Server reply: 250 " in out and "(SSL/TLS, log-in as OSOMX)" in out
    assert len(rig.inbox(USER1)) == 1


def test_command_not_delivered_exit_1_says_why(
    rig: MailRig, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config = write_config(tmp_path, smtp_section(rig, password="wrong"))
    assert main(["check-mail", "--config", str(config), "--to", USER1]) == 1
    out = capsys.readouterr().out
    assert "NOT DELIVERED: authentication refused." in out
    assert "Server reply: 535 5.7.3 Authentication unsuccessful" in out
    assert "check [smtp] username and password" in out
    assert "wrong" not in out  # the password is never printed


@pytest.mark.parametrize(
    ("smtp", "to", "message"),
    [
        ('server = "mx"\nsender = "a@b.c"\nsecurity = "tls"\n', USER1, "[smtp] security"),
        (None, USER1, "[smtp]: missing section"),
        ('server = "mx"\nsender = "a@b.c"\n', "not an address", "--to: not an e-mail address"),
    ],
    ids=["bad key", "no smtp section", "bad address"],
)
def test_command_bad_config_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], smtp: str | None, to: str, message: str
) -> None:
    config = write_config(tmp_path, smtp or "")
    if smtp is None:
        config.write_text(config.read_text().replace("[smtp]\n", ""))
    assert main(["check-mail", "--config", str(config), "--to", to]) == 2
    assert message in capsys.readouterr().err


def test_the_installed_command_end_to_end(rig: MailRig, tmp_path: Path) -> None:
    config = write_config(
        tmp_path,
        smtp_section(rig).replace(f"port = {rig.ports['smtp']}", f"port = {closed_port()}"),
    )
    done = subprocess.run(
        [sys.executable, "-m", "scenarios.commands.cli", "check-mail", "--config", str(config), "--to",
         USER1],
        capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert done.returncode == 1, done.stderr
    assert "NOT DELIVERED: connection refused." in done.stdout
    assert "Traceback" not in done.stdout + done.stderr


def test_report_lists_refused_recipients_when_others_got_it() -> None:
    result = SendResult(
        Outcome.DELIVERED, 250, "2.6.0 ok", refused={"x@example.com": (550, "5.7.1 Unable")}
    )
    config = SmtpConfig(server="mx", port=25, security="none", sender=SERVICE)
    assert "Refused recipient x@example.com: 550 5.7.1 Unable" in report(config, USER1, result)


def test_plain_smtp_on_an_implicit_tls_port_times_out_with_advice(rig: MailRig) -> None:
    result = check(
        rig, USER1, listener="smtps", security="none", username=None, password=None,
        timeout=timedelta(seconds=1),
    )  # fmt: skip
    assert result.outcome is Outcome.TIMEOUT
    assert 'security = "ssl"' in result.advice
