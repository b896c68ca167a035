"""Mail the sink accepts is in the Exchange store: exchangelib finds it in the inbox over EWS."""

from __future__ import annotations

import smtplib

from simulators.exchange.store import ExchangeStore
from simulators.site import start_site
from simulators.smtp import ListenerSpec
from tests.simulators.smtp.conftest import (
    SERVICE_PASSWORD,
    SERVICE_USER,
    USER1,
    SinkFactory,
    message_bytes,
)


def test_mail_sent_over_smtp_is_in_the_inbox_over_ews(
    make_sink: SinkFactory, store: ExchangeStore
) -> None:
    from exchangelib import BASIC, IMPERSONATION, Account, Configuration, Credentials, Version
    from exchangelib.version import EXCHANGE_2007_SP1

    sink = make_sink(ListenerSpec("smtp", "starttls"))
    with smtplib.SMTP("127.0.0.1", sink.port("smtp"), timeout=10) as client:
        client.starttls(context=sink.client_ssl_context())
        client.login(SERVICE_USER, SERVICE_PASSWORD)
        client.sendmail("pbx@example.org", [USER1], message_bytes("Neue Sprachnachricht"))

    with start_site(store) as site:
        config = Configuration(
            service_endpoint=site.ews_url,
            credentials=Credentials(SERVICE_USER, SERVICE_PASSWORD),
            version=Version(build=EXCHANGE_2007_SP1),
            auth_type=BASIC,
        )
        account = Account(USER1, config=config, autodiscover=False, access_type=IMPERSONATION)
        subjects = [item.subject for item in account.inbox.all().only("subject")]
    assert subjects == ["Neue Sprachnachricht"]
