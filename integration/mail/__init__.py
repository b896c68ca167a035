"""E-mail forwarding: the SMTP client, 'check e-mail forwarding', the durable queue,
and voicemail to e-mail.

- ``outcome``: what one attempt came to, in a technician's words;
- ``client``: one message handed to the ``[smtp]`` server (``SmtpTransport``);
- ``check``: the test mail behind ``harness check-mail``;
- ``queue``: the SQLite queue every outgoing mail waits in;
- ``worker``: sends due mail with retry and backoff on an injected clock;
- ``voicemail``: the mail for a voicemail, queued once;
- ``voicemail_feed``: voicemail events read from the PBX's API;
- ``service``: all of it running inside ``harness engine``.
"""

from integration.mail.check import check_mail, report
from integration.mail.client import MailTransport, SmtpTransport
from integration.mail.outcome import Outcome, SendResult, classify
from integration.mail.queue import MailQueue, MailQueueError, QueuedMail
from integration.mail.voicemail import VoicemailEvent, VoicemailForwarder, build_voicemail_mail
from integration.mail.voicemail_feed import HttpVoicemailFeed, VoicemailFeed, forward_new
from integration.mail.worker import Attempt, MailWorker, RetryPolicy

__all__ = [
    "Attempt",
    "HttpVoicemailFeed",
    "MailQueue",
    "MailQueueError",
    "MailTransport",
    "MailWorker",
    "Outcome",
    "QueuedMail",
    "RetryPolicy",
    "SendResult",
    "SmtpTransport",
    "VoicemailEvent",
    "VoicemailFeed",
    "VoicemailForwarder",
    "build_voicemail_mail",
    "check_mail",
    "classify",
    "forward_new",
    "report",
]
