"""Every SMTP kind of the catalogue, as smtplib sees it from the real sink on loopback."""

from __future__ import annotations

import smtplib
import time
from datetime import timedelta

import pytest

from simulators.exchange.store import ExchangeStore
from simulators.faults.catalogue import kinds_of
from simulators.faults.injector import FaultInjector
from simulators.faults.smtp import STAGES
from simulators.faults.triggers import Trigger
from simulators.smtp import ListenerSpec, SmtpSink
from tests.simulators.smtp.conftest import (
    SERVICE_PASSWORD,
    SERVICE_USER,
    USER1,
    USER2,
    SinkFactory,
    message_bytes,
)
from tests.simulators.smtp.test_smtplib import inbox_mime

PLAIN = ListenerSpec("plain", "plain")


def sink_with_faults(make_sink: SinkFactory) -> tuple[SmtpSink, FaultInjector]:
    sink = make_sink(PLAIN, allow_plaintext_auth=True)
    injector = FaultInjector()
    sink.faults = injector
    return sink, injector


def send(sink: SmtpSink, to: str = USER1, login: bool = False) -> None:
    with smtplib.SMTP("127.0.0.1", sink.port("plain"), timeout=10) as client:
        client.ehlo("client.example.org")
        if login:
            client.login(SERVICE_USER, SERVICE_PASSWORD)
        client.sendmail(SERVICE_USER, [to], message_bytes())


@pytest.mark.parametrize(
    ("kind", "code", "text"),
    [
        ("smtp_421", 421, b"4.3.2 Service not available, closing transmission channel"),
        ("smtp_451", 451, b"4.7.0 Temporary server error. Please try again later"),
        ("smtp_554", 554, b"5.6.0 Invalid message content"),
    ],
)
def test_replies_refuse_the_message_and_store_nothing(
    make_sink: SinkFactory, store: ExchangeStore, kind: str, code: int, text: bytes
) -> None:
    sink, faults = sink_with_faults(make_sink)
    faults.add("smtp", kind, timedelta(minutes=5))
    with pytest.raises((smtplib.SMTPSenderRefused, smtplib.SMTPDataError)) as raised:
        send(sink)
    assert raised.value.smtp_code == code
    assert raised.value.smtp_error == text
    assert inbox_mime(store, USER1) == []
    assert [a.fault for a in faults.applied] == [f"smtp:{kind}"]


def test_452_refuses_the_recipient(make_sink: SinkFactory, store: ExchangeStore) -> None:
    sink, faults = sink_with_faults(make_sink)
    faults.add("smtp", "smtp_452", timedelta(minutes=5), trigger=Trigger(mailbox=USER1))
    with pytest.raises(smtplib.SMTPRecipientsRefused) as raised:
        send(sink, USER1)
    assert raised.value.recipients[USER1] == (452, b"4.3.1 Insufficient system resources")
    send(sink, USER2)  # another mailbox: not in the fault's scope
    assert len(inbox_mime(store, USER2)) == 1


def test_535_refuses_the_right_password(make_sink: SinkFactory) -> None:
    sink, faults = sink_with_faults(make_sink)
    # smtplib tries PLAIN, then LOGIN: two AUTH commands per log-in.
    faults.add("smtp", "smtp_535", timedelta(minutes=5), trigger=Trigger(first=2))
    with pytest.raises(smtplib.SMTPAuthenticationError) as raised:
        send(sink, login=True)
    assert raised.value.smtp_code == 535
    assert raised.value.smtp_error == b"5.7.3 Authentication unsuccessful"
    send(sink, login=True)  # the next log-in: the first 2 are over


def test_disconnect_in_data_leaves_the_client_without_a_reply(
    make_sink: SinkFactory, store: ExchangeStore
) -> None:
    sink, faults = sink_with_faults(make_sink)
    faults.add("smtp", "disconnect_in_data", timedelta(minutes=5))
    with pytest.raises(smtplib.SMTPServerDisconnected):
        send(sink)
    assert inbox_mime(store, USER1) == []


def test_slow_delays_every_reply(make_sink: SinkFactory, store: ExchangeStore) -> None:
    sink, faults = sink_with_faults(make_sink)
    faults.add("smtp", "slow", timedelta(minutes=5), latency=timedelta(milliseconds=100))
    began = time.monotonic()
    send(sink)
    # banner, EHLO, MAIL, RCPT, DATA, end of data, QUIT: at least six late replies
    assert time.monotonic() - began >= 0.6
    assert len(inbox_mime(store, USER1)) == 1


def test_every_smtp_kind_has_a_stage_or_a_gate() -> None:
    assert set(kinds_of("smtp")) == {*STAGES, "refused"}
