"""Reply codes the sink does not produce, classified as Exchange and other servers send them."""

from __future__ import annotations

import pytest

from integration.mail.outcome import Outcome, from_reply


@pytest.mark.parametrize(
    ("code", "text", "outcome", "retryable"),
    [
        (535, "5.7.3 Authentication unsuccessful", Outcome.AUTH_REFUSED, False),
        (530, "5.7.0 Must issue a STARTTLS command first", Outcome.TLS_REQUIRED, False),
        (538, "5.7.11 Encryption required for requested authentication mechanism",
         Outcome.TLS_REQUIRED, False),
        (530, "5.7.1 Client was not authenticated", Outcome.AUTH_REQUIRED, False),
        (554, "5.7.1 <x@example.com>: Relay access denied", Outcome.RELAY_DENIED, False),
        (550, "5.7.1 Unable to relay", Outcome.RELAY_DENIED, False),
        (550, "5.1.1 User unknown", Outcome.RECIPIENT_UNKNOWN, False),
        (552, "5.3.4 Message size exceeds fixed maximum message size", Outcome.MESSAGE_TOO_LARGE,
         False),
        (421, "4.3.2 Service not available", Outcome.TEMPORARY, True),
        (451, "4.7.0 Temporary server error", Outcome.TEMPORARY, True),
        (452, "4.3.1 Insufficient system resources", Outcome.TEMPORARY, True),
        (554, "5.6.0 Transaction failed", Outcome.OTHER, False),
        (554, "Relay access denied", Outcome.RELAY_DENIED, False),
        (500, "5.5.2 Syntax error", Outcome.OTHER, False),
    ],
)  # fmt: skip
def test_replies(code: int, text: str, outcome: Outcome, retryable: bool) -> None:
    result = from_reply(code, text.encode())
    assert result.outcome is outcome and result.retryable is retryable
    assert result.server_reply == f"{code} {text}"
