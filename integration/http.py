"""How the engine talks HTTP to Exchange: one place builds every client it uses.

Owns what the EWS and WebDAV clients (calendar sources and contact searches) share: the
pooled keep-alive connection (``integration.transport``, TCP_NODELAY), the TLS trust taken from ``verify`` and
``ca_file``, the client settings no deployment should change (no proxy or CA bundle
from the environment, no redirects followed, no pool timeout), the checks of the
constructor arguments, the ``[exchange]`` settings every ``from_config`` reads, closing
the client, and how a failed connection is worded for the admin.
"""

from __future__ import annotations

import base64
import ssl
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http.cookiejar import CookieJar
from typing import TYPE_CHECKING, Self, TypedDict
from urllib.parse import SplitResult, urlsplit

import httpx

from integration.sources.base import SourceUnavailable
from integration.transport import PoolTransport

if TYPE_CHECKING:
    from integration.config import ExchangeConfig

USER_AGENT = "pbx-calendar-sync"


def check_http_url(url: str, name: str = "server_url") -> SplitResult:
    """``url`` split into its parts, or ValueError if it is no http(s) URL with a host."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"{name} must be an http(s) URL, not {url!r}")
    return parts


def check_concurrency(concurrency: int) -> None:
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")


def basic_authorization(username: str, password: str) -> str:
    """The value of a preemptive ``Authorization: Basic`` header."""
    token = base64.b64encode(f"{username}:{password}".encode()).decode("ascii")
    return f"Basic {token}"


def tls_verify(verify: bool | ssl.SSLContext, ca_file: str | None) -> bool | ssl.SSLContext:
    """What to verify the server's certificate against: ``ca_file`` if given, else
    ``verify`` (True: the system's trust store; False: nothing)."""
    if ca_file is not None:
        return ssl.create_default_context(cafile=ca_file)
    return verify


def exchange_client(
    *,
    headers: dict[str, str],
    timeout: float,
    connections: int,
    idle_connections: int | None = None,
    verify: bool | ssl.SSLContext = True,
    ca_file: str | None = None,
    cookies: CookieJar | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
) -> httpx.AsyncClient:
    """A client on a keep-alive pool of at most ``connections`` connections.

    ``idle_connections`` is how many of them stay open between requests (None: httpx's
    default). ``transport`` replaces the pool (tests pass their own); ``verify``,
    ``ca_file`` and the pool sizes then do not apply.
    """
    trust = tls_verify(verify, ca_file)  # a bad ca_file fails here, even in tests
    if transport is None:
        # The engine's own pool (integration.transport): httpx's cost most of its CPU.
        # asyncio sets TCP_NODELAY on every connection, and a request is one write.
        transport = PoolTransport(
            verify=trust,
            max_connections=connections,
            max_idle=idle_connections,
            keepalive_expiry=60.0,
        )
    return httpx.AsyncClient(
        headers=headers,
        cookies=cookies,
        timeout=httpx.Timeout(timeout, pool=None),  # a semaphore does the queueing
        follow_redirects=False,  # a redirect is a wrong URL or the log-in page: say so
        trust_env=False,  # no proxy or CA bundle from the environment: config only
        transport=transport,
    )


class ExchangeLogin(TypedDict):
    """The arguments every Exchange client takes from the ``[exchange]`` section."""

    server_url: str
    username: str
    password: str
    verify: bool
    ca_file: str | None


def exchange_login(exchange: ExchangeConfig, variant: str) -> ExchangeLogin:
    """The ``[exchange]`` settings for a client of ``variant`` ("ews" or "webdav")."""
    if exchange.variant != variant:
        raise ValueError(f"[exchange] variant is {exchange.variant!r}, not {variant!r}")
    return ExchangeLogin(
        server_url=exchange.server_url,
        username=exchange.username,
        password=exchange.password,
        verify=exchange.verify_tls,
        ca_file=str(exchange.ca_file) if exchange.ca_file else None,
    )


class ExchangeHttpClient:
    """Closing for a class whose ``_client`` is its HTTP client: use ``async with`` or
    call ``aclose()``."""

    _client: httpx.AsyncClient

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._client.aclose()


def describe_transport_error(exc: httpx.TransportError, url: str) -> str:
    """A connection to ``url`` that failed, worded for the admin (untrusted TLS
    certificate, refused connection, or whatever else broke it)."""
    cause: BaseException | None = exc
    while cause is not None:
        if isinstance(cause, ssl.SSLCertVerificationError):
            return (
                f"TLS certificate of {url} not trusted ({cause.verify_message}); "
                "set [exchange] ca_file"
            )
        cause = cause.__cause__ or cause.__context__
    if isinstance(exc, httpx.ConnectError):
        return f"cannot connect to {url}: {exc}"
    return f"connection to {url} failed: {type(exc).__name__}: {exc}"


def transport_failure(
    exc: httpx.TransportError, url: str, timeout: float, mailbox: str | None
) -> SourceUnavailable:
    """A connection that failed or timed out, worded for the admin; always retryable."""
    if isinstance(exc, httpx.TimeoutException):
        return SourceUnavailable(
            f"no answer from {url} within {timeout:g} s", mailbox=mailbox, code="timeout"
        )
    return SourceUnavailable(describe_transport_error(exc, url), mailbox=mailbox)


MAX_RETRY_AFTER = 3600.0  # a server asking for more is taken to mean an hour


def retry_after(response: httpx.Response) -> float | None:
    """Seconds the server asks the client to wait (``Retry-After``: delta-seconds or an
    HTTP date), capped at an hour; None when it asks nothing or nothing readable."""
    value = response.headers.get("retry-after", "").strip()
    if not value:
        return None
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError, OverflowError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    wait = (when - datetime.now(UTC)).total_seconds()
    return min(max(wait, 0.0), MAX_RETRY_AFTER)
