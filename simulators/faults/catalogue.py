"""The one fault catalogue: every way a service can fail, in its protocol's own terms.

``KINDS`` is the table (service, kind) -> ``FaultKind``; scenario ``fault:`` steps,
the control API (``POST /control/faults``) and the pytest ``faults`` fixture all
read it, so a kind means the same everywhere. ``resolve(service, kind)`` turns what
a user wrote (an alias included) into the row, or raises ``ValueError`` naming
what is known. The appliers (``simulators.faults.http``, ``simulators.faults.smtp``,
the PBX gateway of scenarios, the gates) act on ``FaultKind.action``.

Two old names stay as aliases with one meaning each: ``unavailable`` is
``refused`` (the service is down: connections refused) on every service, and
``busy`` is EWS ``ErrorServerBusy``.
"""

from __future__ import annotations

from dataclasses import dataclass

# Values a fault may carry, with what they mean (all optional).
VALUES: dict[str, str] = {
    "latency": "delay added before each answer (real time), e.g. 2s",
    "retry_after": "seconds in the Retry-After header (default: the rest of the window, else 30)",
    "back_off": "BackOffMilliseconds of ErrorServerBusy as a duration "
    "(default: the rest of the window, else 30s)",
}


@dataclass(frozen=True)
class FaultKind:
    """One row: ``service`` fails as ``kind``; ``answer`` is what a client sees."""

    service: str
    kind: str
    action: str  # what the applier does: see ACTIONS
    answer: str  # in the protocol's terms, for the docs and the journal
    values: tuple[str, ...] = ()  # which of VALUES it takes
    status: int = 0  # HTTP status (http actions) or SMTP reply code (smtp actions)
    code: str = ""  # EWS response code, or the SMTP reply text


# How a kind is applied (the appliers switch on these).
ACTIONS = (
    "refuse",  # the port stops listening: ECONNREFUSED (gates); an open connection is cut
    "soap_fault",  # HTTP 500 with an EWS SOAP fault (code)
    "response_error",  # HTTP 200, the operation's response message with ResponseClass="Error"
    "http_status",  # an IIS answer with that status
    "latency",  # the real answer, late
    "hold",  # no answer at all: the client times out
    "reset",  # TCP reset instead of an answer
    "malformed",  # HTTP 200 text/xml that is not well-formed
    "truncated",  # the answer's head promises more body than is sent; then closed
    "smtp_reply",  # an SMTP reply at the command the kind names (see simulators.faults.smtp)
    "smtp_disconnect",  # the connection closes after the message, before the reply
    "smtp_slow",  # every reply of a connection comes late
    "pbx_unreachable",  # the PBX API does not answer (the engine's gateway times out)
)

HTTP_SERVICES = ("ews", "webdav", "owa")
SERVICES = (*HTTP_SERVICES, "smtp", "pbx")


def _refused(service: str) -> FaultKind:
    return FaultKind(
        service,
        "refused",
        "refuse",
        "TCP: connection refused (nothing listens); open connections are cut",
    )


_EWS = (
    FaultKind(
        "ews",
        "ErrorServerBusy",
        "soap_fault",
        'HTTP 500, SOAP fault ErrorServerBusy with `<t:Value Name="BackOffMilliseconds">`',
        ("back_off",),
        500,
        "ErrorServerBusy",
    ),
    FaultKind(
        "ews",
        "ErrorMailboxStoreUnavailable",
        "response_error",
        'HTTP 200, `<m:...ResponseMessage ResponseClass="Error">` ErrorMailboxStoreUnavailable',
        (),
        200,
        "ErrorMailboxStoreUnavailable",
    ),
    FaultKind(
        "ews",
        "ErrorImpersonateUserDenied",
        "soap_fault",
        "HTTP 500, SOAP fault ErrorImpersonateUserDenied",
        (),
        500,
        "ErrorImpersonateUserDenied",
    ),
    FaultKind("ews", "http_401", "http_status", "HTTP 401 with WWW-Authenticate: Basic", (), 401),
    FaultKind("ews", "http_500", "http_status", "HTTP 500, IIS error page (not SOAP)", (), 500),
    FaultKind(
        "ews",
        "http_503",
        "http_status",
        "HTTP 503 Service Unavailable with Retry-After (IIS: application pool down)",
        ("retry_after",),
        503,
    ),
    FaultKind("ews", "latency", "latency", "the real answer, `latency` late", ("latency",)),
    FaultKind("ews", "timeout", "hold", "no answer at all: the client's timeout ends it"),
    FaultKind("ews", "reset", "reset", "TCP RST instead of an answer"),
    FaultKind(
        "ews", "malformed_xml", "malformed", "HTTP 200 text/xml whose XML is not well-formed"
    ),
    FaultKind(
        "ews",
        "truncated",
        "truncated",
        "HTTP 200, Content-Length promises the whole answer, half is sent, then the "
        "connection closes",
    ),
    _refused("ews"),
)


def _dav(service: str) -> tuple[FaultKind, ...]:
    return (
        FaultKind(
            service, "http_440", "http_status", "HTTP 440 Login Timeout (OWA forms)", (), 440
        ),
        FaultKind(service, "http_403", "http_status", "HTTP 403 Forbidden", (), 403),
        FaultKind(service, "http_500", "http_status", "HTTP 500, IIS error page", (), 500),
        FaultKind(service, "http_507", "http_status", "HTTP 507 Insufficient Storage", (), 507),
        FaultKind(
            service,
            "http_503",
            "http_status",
            "HTTP 503 Service Unavailable with Retry-After",
            ("retry_after",),
            503,
        ),
        FaultKind(service, "latency", "latency", "the real answer, `latency` late", ("latency",)),
        FaultKind(service, "timeout", "hold", "no answer at all: the client's timeout ends it"),
        FaultKind(service, "reset", "reset", "TCP RST instead of an answer"),
        _refused(service),
    )


_SMTP = (
    FaultKind(
        "smtp",
        "smtp_421",
        "smtp_reply",
        "421 4.3.2 Service not available, closing transmission channel (at MAIL FROM)",
        (),
        421,
        "4.3.2 Service not available, closing transmission channel",
    ),
    FaultKind(
        "smtp",
        "smtp_451",
        "smtp_reply",
        "451 4.7.0 Temporary server error. Please try again later (after the message)",
        (),
        451,
        "4.7.0 Temporary server error. Please try again later",
    ),
    FaultKind(
        "smtp",
        "smtp_452",
        "smtp_reply",
        "452 4.3.1 Insufficient system resources (at RCPT TO)",
        (),
        452,
        "4.3.1 Insufficient system resources",
    ),
    FaultKind(
        "smtp",
        "smtp_535",
        "smtp_reply",
        "535 5.7.3 Authentication unsuccessful (at AUTH, whatever the password)",
        (),
        535,
        "5.7.3 Authentication unsuccessful",
    ),
    FaultKind(
        "smtp",
        "smtp_554",
        "smtp_reply",
        "554 5.6.0 Invalid message content (after the message)",
        (),
        554,
        "5.6.0 Invalid message content",
    ),
    FaultKind(
        "smtp",
        "disconnect_in_data",
        "smtp_disconnect",
        "the connection closes after the message's final dot, before any reply (not stored)",
    ),
    FaultKind("smtp", "slow", "smtp_slow", "every reply `latency` late", ("latency",)),
    _refused("smtp"),
)

_PBX = (
    FaultKind(
        "pbx",
        "unreachable",
        "pbx_unreachable",
        "the PBX API does not answer: every request times out at the engine",
    ),
    FaultKind("pbx", "slow", "latency", "every answer of the PBX API `latency` late", ("latency",)),
    _refused("pbx"),
)

KINDS: dict[tuple[str, str], FaultKind] = {
    (row.service, row.kind): row for row in (*_EWS, *_dav("webdav"), *_dav("owa"), *_SMTP, *_PBX)
}

# Old names, one meaning each: (service or "*", alias) -> kind.
ALIASES: dict[tuple[str, str], str] = {
    ("*", "unavailable"): "refused",
    ("ews", "busy"): "ErrorServerBusy",
}


def kinds_of(service: str) -> list[str]:
    """The kinds ``service`` knows, in table order (aliases not included)."""
    return [kind for (svc, kind) in KINDS if svc == service]


def aliases_of(service: str) -> dict[str, str]:
    return {alias: kind for (svc, alias), kind in ALIASES.items() if svc in ("*", service)}


def resolve(service: str, kind: str) -> FaultKind:
    """The row for ``kind`` (or its alias) of ``service``; ValueError naming the known ones."""
    if service not in SERVICES:
        raise ValueError(f"unknown fault service {service!r}; known: {', '.join(SERVICES)}")
    name = aliases_of(service).get(kind, kind)
    row = KINDS.get((service, name))
    if row is None:
        known = ", ".join([*kinds_of(service), *aliases_of(service)])
        raise ValueError(f"unknown fault kind {kind!r} for {service}; known: {known}")
    return row


def table() -> list[dict[str, str]]:
    """The catalogue as rows for the docs, the control API and the tests."""
    return [
        {
            "service": row.service,
            "kind": row.kind,
            "answer": row.answer,
            "values": ", ".join(row.values),
        }
        for row in KINDS.values()
    ]


__all__ = [
    "ACTIONS",
    "ALIASES",
    "HTTP_SERVICES",
    "KINDS",
    "SERVICES",
    "VALUES",
    "FaultKind",
    "aliases_of",
    "kinds_of",
    "resolve",
    "table",
]
