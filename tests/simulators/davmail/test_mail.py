"""Mail through DavMail, in EWS and WebDav mode: IMAP lists the mailbox's folders and
fetches what the SMTP sink delivered into the inbox; mail sent with SMTP to DavMail
goes out through Exchange (the sink's delivery) into the recipient's inbox, with a
copy in the sender's Sent Items.

DavMail 6.0.1's WebDav mode never gets a message's MIME: it reads the GET answer after
closing the response, and HttpClient 4.5 discards the buffered body on close (whether
it came in one TLS record or two). It then rebuilds the message from its properties
(subject, From, To, date, PR_BODY), so that is what IMAP shows there."""

from __future__ import annotations

import imaplib
import smtplib
import ssl
import time
import uuid
from email import message_from_bytes
from email.policy import default as default_policy

import httpx

from tests.simulators.davmail.conftest import ANNA, BERND, SERVICE, Gateway
from tests.simulators.davmail.exchange import ServedExchange


def _imap(gateway: Gateway) -> imaplib.IMAP4:
    client = imaplib.IMAP4("127.0.0.1", gateway.port("imap"), timeout=120)
    assert client.login(*ANNA)[0] == "OK", gateway.explain()
    return client


def test_imap_lists_the_mail_folders(davmail: Gateway) -> None:
    client = _imap(davmail)
    try:
        status, listing = client.list()
    finally:
        client.logout()
    assert status == "OK", davmail.explain()
    names = {line.decode().rsplit(' "/" ', 1)[1].strip('"') for line in listing}
    assert {"INBOX", "Sent", "Trash", "Drafts"} <= names, names


def _deliver_through_the_sink(gateway: Gateway, subject: str) -> None:
    host, port = gateway.served.ready["smtp"].rsplit(":", 1)
    tls = ssl.create_default_context(cafile=str(gateway.served.ca))
    message = (
        f"From: {SERVICE[0]}\r\nTo: {ANNA[0]}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@harness.test>\r\n\r\nDelivered by the sink.\r\n"
    )
    with smtplib.SMTP(host, int(port), timeout=30) as smtp:
        smtp.starttls(context=tls)
        smtp.login(*SERVICE)
        smtp.sendmail(SERVICE[0], [ANNA[0]], message)


def test_imap_fetches_what_the_smtp_sink_delivered(davmail: Gateway) -> None:
    subject = f"Delivered {davmail.mode} {uuid.uuid4().hex[:6]}"
    _deliver_through_the_sink(davmail, subject)
    client = _imap(davmail)
    try:
        assert client.select("INBOX")[0] == "OK", davmail.explain()
        status, numbers = client.search(None, "SUBJECT", f'"{subject}"')
        assert status == "OK" and len(numbers[0].split()) == 1, davmail.explain()
        status, data = client.fetch(numbers[0].split()[0], "(RFC822)")
    finally:
        client.logout()
    assert status == "OK", davmail.explain()
    raw = next(part[1] for part in data if isinstance(part, tuple))
    fetched = message_from_bytes(raw, policy=default_policy)
    assert fetched["Subject"] == subject
    assert SERVICE[0] in str(fetched["From"]) and ANNA[0] in str(fetched["To"])
    assert "Delivered by the sink." in fetched.get_body(("plain",)).get_content()


def _inbox(gateway: Gateway, mailbox: str) -> list[dict[str, object]]:
    with httpx.Client(timeout=30) as client:
        answer = client.get(gateway.served.ready["mail"] + "messages", params={"mailbox": mailbox})
    answer.raise_for_status()
    return answer.json()["messages"]  # type: ignore[no-any-return]


def test_smtp_through_davmail_goes_out_through_exchange(
    davmail: Gateway, exchange: ServedExchange
) -> None:
    subject = f"Sent via {davmail.mode} {uuid.uuid4().hex[:6]}"
    message = (
        f"From: {ANNA[0]}\r\nTo: {BERND[0]}\r\nSubject: {subject}\r\n"
        f"Message-ID: <{uuid.uuid4().hex}@harness.test>\r\n\r\nSent with DavMail.\r\n"
    )
    with smtplib.SMTP("127.0.0.1", davmail.port("smtp"), timeout=120) as smtp:
        smtp.login(*ANNA)
        refused = smtp.sendmail(ANNA[0], [BERND[0]], message)
    assert refused == {}, davmail.explain()
    deadline = time.monotonic() + 30
    delivered: list[dict[str, object]] = []
    while time.monotonic() < deadline and not delivered:
        delivered = [m for m in _inbox(davmail, BERND[0]) if m.get("subject") == subject]
        time.sleep(0.2)
    assert delivered, davmail.explain()
    # Exchange's transport (the sink) delivered it: journaled as a mailbox submission.
    transaction = delivered[0].get("smtp") or {}
    assert isinstance(transaction, dict) and transaction.get("listener") == "submission"
    assert subject in exchange.subjects(ANNA[0], "sentitems")
    assert subject not in exchange.subjects(ANNA[0], "drafts")
