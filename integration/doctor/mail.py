"""SMTP submission: the test mail of ``harness check-mail``, sent the same way."""

from __future__ import annotations

from integration.config import SmtpConfig
from integration.doctor.report import Status, fail, ok
from integration.mail.check import check_mail
from integration.mail.client import describe_server

Verdict = tuple[Status, str, str]


async def smtp_submission(smtp: SmtpConfig, to: str) -> Verdict:
    result = await check_mail(smtp, to)
    where = describe_server(smtp)
    if result.delivered:
        return ok(f"test mail to {to} accepted by {where}")
    reply = f"; server reply: {result.server_reply}" if result.server_reply else ""
    return fail(
        f"test mail to {to} via {where} not accepted: {result.headline}{reply}", result.advice
    )


__all__ = ["smtp_submission"]
