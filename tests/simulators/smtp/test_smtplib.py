"""The SMTP sink against the standard library's smtplib: every security mode and policy."""

from __future__ import annotations

import base64
import smtplib
import socket
import ssl
from datetime import UTC, datetime

import pytest
import trustme
from freezegun import freeze_time

from simulators.exchange.model import Message
from simulators.exchange.store import ExchangeStore
from simulators.smtp import ListenerSpec, SinkSettings, SmtpSink
from tests.simulators.smtp.conftest import (
    PASSWORDS,
    SERVICE_PASSWORD,
    SERVICE_USER,
    USER1,
    USER2,
    SinkFactory,
    message_bytes,
)

STARTTLS = ListenerSpec("smtp", "starttls")
IMPLICIT = ListenerSpec("smtps", "tls")
PLAIN = ListenerSpec("plain", "plain")


def connect(sink: SmtpSink, name: str, *, starttls: bool = False) -> smtplib.SMTP:
    """An smtplib client on listener ``name``, verifying the sink's certificate."""
    mode = sink.listener(name).spec.mode
    if mode == "tls":
        client: smtplib.SMTP = smtplib.SMTP_SSL(
            "127.0.0.1", sink.port(name), context=sink.client_ssl_context(), timeout=10
        )
    else:
        client = smtplib.SMTP("127.0.0.1", sink.port(name), timeout=10)
    client.ehlo("client.example.org")
    if starttls:
        client.starttls(context=sink.client_ssl_context())
        client.ehlo("client.example.org")
    return client


def plain_auth(user: str, password: str) -> str:
    return base64.b64encode(f"\0{user}\0{password}".encode()).decode()


def inbox_mime(store: ExchangeStore, mailbox: str) -> list[bytes]:
    inbox = store.distinguished_folder("inbox", mailbox)
    return [item.mime for item in store.items_in(inbox) if isinstance(item, Message)]


# --------------------------------------------------------------- security modes
@pytest.mark.parametrize(
    ("listener", "starttls"),
    [(PLAIN, False), (STARTTLS, False), (STARTTLS, True), (IMPLICIT, False)],
)
def test_anonymous_mail_for_a_mailbox_lands_in_its_inbox(
    make_sink: SinkFactory, store: ExchangeStore, listener: ListenerSpec, starttls: bool
) -> None:
    sink = make_sink(listener)
    data = message_bytes("Voicemail from 100")
    with connect(sink, listener.name, starttls=starttls) as client:
        assert client.sendmail("pbx@example.org", [USER1], data) == {}
    assert inbox_mime(store, USER1) == [data]
    (item,) = store.messages(USER1)
    assert (item.subject, item.sender, item.recipients) == (
        "Voicemail from 100",
        "pbx@example.org",
        [USER1],
    )
    (summary,) = sink.inspector.messages(USER1)
    assert summary.transaction is not None
    assert summary.transaction.tls is (listener.mode == "tls" or starttls)
    assert summary.transaction.listener == listener.name


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
@pytest.mark.parametrize(("listener", "starttls"), [(STARTTLS, True), (IMPLICIT, False)])
@pytest.mark.parametrize(
    ("user", "password", "upn"),
    [
        (SERVICE_USER, SERVICE_PASSWORD, SERVICE_USER),
        ("OSOMX", SERVICE_PASSWORD, SERVICE_USER),  # alias, as the engine's config has it
        ("DOMAIN\\user2", PASSWORDS[USER2], USER2),
    ],
)
def test_auth_plain_and_login_against_the_seeded_accounts(
    make_sink: SinkFactory,
    listener: ListenerSpec,
    starttls: bool,
    mechanism: str,
    user: str,
    password: str,
    upn: str,
) -> None:
    sink = make_sink(listener)
    with connect(sink, listener.name, starttls=starttls) as client:
        assert client.esmtp_features["auth"].split() == ["LOGIN", "PLAIN"]
        client.user, client.password = user, password
        authobject = client.auth_plain if mechanism == "PLAIN" else client.auth_login
        code, reply = client.auth(mechanism, authobject, initial_response_ok=False)
        assert code == 235
        client.sendmail("pbx@example.org", [USER1], message_bytes())
    (summary,) = sink.inspector.messages(USER1)
    assert summary.transaction is not None
    assert summary.transaction.login == upn


@pytest.mark.parametrize("mechanism", ["PLAIN", "LOGIN"])
@pytest.mark.parametrize(("listener", "starttls"), [(STARTTLS, True), (IMPLICIT, False)])
def test_bad_credentials_get_535(
    make_sink: SinkFactory, listener: ListenerSpec, starttls: bool, mechanism: str
) -> None:
    sink = make_sink(listener)
    with connect(sink, listener.name, starttls=starttls) as client:
        client.user, client.password = SERVICE_USER, "wrong"
        authobject = client.auth_plain if mechanism == "PLAIN" else client.auth_login
        with pytest.raises(smtplib.SMTPAuthenticationError) as caught:
            client.auth(mechanism, authobject, initial_response_ok=False)
    assert caught.value.smtp_code == 535
    assert b"5.7.3" in caught.value.smtp_error


def test_auth_on_a_plaintext_connection_is_refused_with_538(make_sink: SinkFactory) -> None:
    sink = make_sink(STARTTLS, PLAIN)
    for name in ("smtp", "plain"):
        with connect(sink, name) as client:
            assert not client.has_extn("auth")  # not offered before TLS
            code, reply = client.docmd(
                "AUTH", "PLAIN " + plain_auth(SERVICE_USER, SERVICE_PASSWORD)
            )
            assert (code, reply[:6]) == (538, b"5.7.11")


def test_auth_on_plaintext_works_when_allowed(make_sink: SinkFactory) -> None:
    sink = make_sink(PLAIN, allow_plaintext_auth=True)
    with connect(sink, "plain") as client:
        assert client.has_extn("auth")
        code, _ = client.login("OSOMX", SERVICE_PASSWORD)
        assert code == 235


def test_required_starttls_refuses_mail_before_tls_with_530(make_sink: SinkFactory) -> None:
    sink = make_sink(ListenerSpec("smtp", "starttls", require_starttls=True))
    with connect(sink, "smtp") as client:
        code, reply = client.mail("pbx@example.org")
        assert (code, reply) == (530, b"Must issue a STARTTLS command first")
        client.starttls(context=sink.client_ssl_context())
        client.ehlo("client.example.org")
        assert client.sendmail("pbx@example.org", [USER1], message_bytes()) == {}
    assert len(sink.inspector.messages(USER1)) == 1


def test_required_auth_refuses_mail_before_auth_with_530(make_sink: SinkFactory) -> None:
    sink = make_sink(ListenerSpec("submission", "starttls", auth_required=True))
    with connect(sink, "submission", starttls=True) as client:
        code, reply = client.mail("pbx@example.org")
        assert (code, reply) == (530, b"5.7.0 Authentication required")
        client.login(SERVICE_USER, SERVICE_PASSWORD)
        assert client.sendmail("pbx@example.org", [USER1], message_bytes()) == {}


# ---------------------------------------------------------------- recipients
def test_other_domains_are_refused_with_550_unless_relaying_is_allowed(
    make_sink: SinkFactory, store: ExchangeStore
) -> None:
    sink = make_sink(PLAIN)
    with connect(sink, "plain") as client:
        with pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
            client.sendmail("pbx@example.org", ["someone@elsewhere.com"], message_bytes())
        assert caught.value.recipients == {"someone@elsewhere.com": (550, b"5.7.1 Unable to relay")}
        # A mix: the local recipient gets it, the remote one is refused.
        refused = client.sendmail("pbx@example.org", [USER2, "x@elsewhere.com"], message_bytes())
        assert refused == {"x@elsewhere.com": (550, b"5.7.1 Unable to relay")}
    assert len(store.messages(USER2)) == 1
    assert sink.inspector.outbound() == []


def test_relaying_when_allowed_keeps_the_mail_outbound(
    make_sink: SinkFactory, store: ExchangeStore
) -> None:
    sink = make_sink(PLAIN)
    sink.allow_relay = True  # read at every RCPT, so a scenario can switch it
    data = message_bytes("Forward")
    with connect(sink, "plain") as client:
        assert client.sendmail("pbx@example.org", ["a@elsewhere.com", USER1], data) == {}
    (outbound,) = sink.inspector.outbound()
    assert outbound.raw == data
    assert outbound.transaction.relayed == ("a@elsewhere.com",)
    assert inbox_mime(store, USER1) == [data]
    assert store.messages(USER2) == []


def test_unknown_user_in_the_organisation_gets_550_5_1_1(make_sink: SinkFactory) -> None:
    sink = make_sink(PLAIN, allow_relay=True)  # relaying does not cover local domains
    with connect(sink, "plain") as client, pytest.raises(smtplib.SMTPRecipientsRefused) as caught:
        client.sendmail("pbx@example.org", ["nobody@DOMAIN.net"], message_bytes())
    assert caught.value.recipients == {"nobody@DOMAIN.net": (550, b"5.1.1 User unknown")}


def test_one_copy_per_mailbox_whatever_the_address_case(
    make_sink: SinkFactory, store: ExchangeStore
) -> None:
    sink = make_sink(PLAIN)
    with connect(sink, "plain") as client:
        client.sendmail("pbx@example.org", [USER1, USER1.upper(), USER2], message_bytes())
    assert [len(store.messages(box)) for box in (USER1, USER2)] == [1, 1]
    counts = sink.inspector.counts()
    assert (counts[USER1], counts[USER2]) == (1, 1)


# ------------------------------------------------------------------- limits
def test_size_is_announced_and_enforced_with_552(
    make_sink: SinkFactory, store: ExchangeStore
) -> None:
    sink = make_sink(PLAIN, max_message_size=2000)
    big = message_bytes(body=b"x" * 70 + b"\r\n") * 40
    with connect(sink, "plain") as client:
        assert client.esmtp_features["size"] == "2000"
        with pytest.raises(smtplib.SMTPSenderRefused) as caught:  # SIZE= in MAIL FROM
            client.sendmail("pbx@example.org", [USER1], big)
        assert caught.value.smtp_code == 552
        client.rset()
        # A client that does not declare the size is stopped after DATA.
        assert client.mail("pbx@example.org")[0] == 250
        assert client.rcpt(USER1)[0] == 250
        assert client.data(big) == (552, b"Error: Too much mail data")
        assert client.sendmail("pbx@example.org", [USER1], message_bytes()) == {}
    assert len(store.messages(USER1)) == 1


def test_lines_longer_than_the_limit_get_500(make_sink: SinkFactory, store: ExchangeStore) -> None:
    sink = make_sink(PLAIN)
    longest = message_bytes(body=b"." + b"y" * 997 + b"\r\n")  # 998 octets, stuffed to 999
    # The limit counts the transparency dot, so an unstuffed line may have one octet more.
    too_long = message_bytes(body=b"y" * 1000 + b"\r\n")
    with connect(sink, "plain") as client:
        assert client.sendmail("pbx@example.org", [USER1], longest) == {}
        client.mail("pbx@example.org")
        client.rcpt(USER1)
        assert client.data(too_long)[0] == 500
    assert inbox_mime(store, USER1) == [longest]


def test_smtputf8_and_8bitmime_keep_the_bytes(make_sink: SinkFactory, store: ExchangeStore) -> None:
    sink = make_sink(PLAIN)
    data = "Subject: Grüße aus Köln\r\nFrom: jürgen@exämple.de\r\n\r\nÄÖÜ ß €\r\n".encode()
    with connect(sink, "plain") as client:
        assert client.has_extn("smtputf8") and client.has_extn("8bitmime")
        client.sendmail(
            "jürgen@exämple.de", [USER1], data, mail_options=["SMTPUTF8", "BODY=8BITMIME"]
        )
    (summary,) = sink.inspector.messages(USER1)
    assert summary.raw == data
    assert (summary.subject, summary.sender) == ("Grüße aus Köln", "jürgen@exämple.de")
    assert summary.transaction is not None and summary.transaction.smtp_utf8


# ------------------------------------------------------------ the sink itself
def test_several_listeners_on_free_ports_and_a_clean_stop(make_sink: SinkFactory) -> None:
    sink = make_sink(STARTTLS, IMPLICIT, PLAIN)
    ports = {sink.port(name) for name in ("smtp", "smtps", "plain")}
    assert len(ports) == 3 and 0 not in ports
    assert sink.endpoints == {
        name: f"127.0.0.1:{sink.port(name)}" for name in ("smtp", "smtps", "plain")
    }
    idle = connect(sink, "plain")  # a client that never says QUIT
    sink.stop()
    assert not sink.running and sink.ca_cert_pem is None
    for port in ports:
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", port), timeout=2).close()
    with pytest.raises(smtplib.SMTPServerDisconnected):
        idle.noop()
    idle.close()


def test_a_busy_port_fails_the_start_and_leaves_nothing_running(store: ExchangeStore) -> None:
    with socket.create_server(("127.0.0.1", 0)) as busy:
        port = busy.getsockname()[1]
        sink = SmtpSink(
            store, SinkSettings(listeners=(PLAIN, ListenerSpec("b", "plain", port=port)))
        )
        with pytest.raises(OSError):
            sink.start()
        assert not sink.running and sink.endpoints == {}


def test_one_ca_can_serve_the_whole_site(store: ExchangeStore) -> None:
    site_ca = trustme.CA()
    with SmtpSink(store, SinkSettings(listeners=(IMPLICIT,), ca=site_ca)) as sink:
        context = ssl.create_default_context()
        site_ca.configure_trust(context)  # trusts the site's CA only
        with smtplib.SMTP_SSL("localhost", sink.port("smtps"), context=context, timeout=10) as c:
            assert c.noop()[0] == 250
        with open(sink.ca_cert_pem or "", "rb") as pem:
            assert pem.read() == site_ca.cert_pem.bytes()


def test_banner_and_stamps_follow_the_frozen_clock(make_sink: SinkFactory) -> None:
    sink = make_sink(PLAIN)
    with freeze_time("2026-01-05 11:50:00", real_asyncio=True):
        client = smtplib.SMTP(timeout=10)
        code, banner = client.connect("127.0.0.1", sink.port("plain"))
        client.sendmail("pbx@example.org", [USER1], message_bytes())
        client.quit()
    assert (code, banner) == (
        220,
        b"exchange.domain.net Microsoft ESMTP MAIL Service ready at Mon, 05 Jan 2026 11:50:00 +0000",
    )
    (summary,) = sink.inspector.messages(USER1)
    assert summary.received == datetime(2026, 1, 5, 11, 50, tzinfo=UTC)
    assert summary.transaction is not None
    assert summary.transaction.received == summary.received


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="mode"):
        ListenerSpec("x", "ssl")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="require_starttls"):
        ListenerSpec("x", "tls", require_starttls=True)
    with pytest.raises(ValueError, match="unique"):
        SinkSettings(listeners=(PLAIN, PLAIN))
    with pytest.raises(ValueError, match="CRAM-MD5"):
        SinkSettings(auth_mechanisms=("CRAM-MD5",))


def test_ipv6_loopback(store: ExchangeStore) -> None:
    try:
        socket.create_server(("::1", 0), family=socket.AF_INET6).close()
    except OSError:
        pytest.skip("no IPv6 loopback here")
    with SmtpSink(store, SinkSettings(host="::1", listeners=(IMPLICIT,))) as sink:
        assert sink.endpoints == {"smtps": f"[::1]:{sink.port('smtps')}"}
        context = sink.client_ssl_context()
        with smtplib.SMTP_SSL("::1", sink.port("smtps"), context=context, timeout=10) as client:
            assert client.sendmail("pbx@example.org", [USER1], message_bytes()) == {}
    assert len(store.messages(USER1)) == 1
