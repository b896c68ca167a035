"""The SMTP sink of the fake Exchange 2007 organisation (aiosmtpd).

``SmtpSink(store, SinkSettings(...)).start()`` listens on free ports (plain,
STARTTLS, implicit TLS), authenticates against the store's accounts, delivers
mail for the organisation's mailboxes into their inboxes byte for byte, and
refuses other domains unless relaying is allowed. ``MailInspector`` and the
WSGI app from ``make_mail_app`` show what arrived; ``MessageWait`` waits for it
on the scenario clock.
"""

from simulators.smtp.api import make_mail_app
from simulators.smtp.delivery import MailJournal, OutboundMessage, Transaction
from simulators.smtp.inspection import (
    Attachment,
    MailDetail,
    MailInspector,
    MailNotFound,
    MailSummary,
)
from simulators.smtp.settings import ListenerSpec, SinkSettings
from simulators.smtp.sink import SmtpSink
from simulators.smtp.waiting import MessageWait, matching, poll_for_message, wait_for_message

__all__ = [
    "Attachment",
    "ListenerSpec",
    "MailDetail",
    "MailInspector",
    "MailJournal",
    "MailNotFound",
    "MailSummary",
    "MessageWait",
    "OutboundMessage",
    "SinkSettings",
    "SmtpSink",
    "Transaction",
    "make_mail_app",
    "matching",
    "poll_for_message",
    "wait_for_message",
]
