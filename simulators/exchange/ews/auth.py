"""Who is calling and what they may touch: IIS Basic authentication, the
ExchangeImpersonation header, and the FullAccess check on every mailbox a request
names.

IIS authenticates before EWS runs, so Basic is a WSGI middleware that answers 401
with ``WWW-Authenticate`` exactly as IIS does. Impersonation failures are SOAP
faults (the request never reaches an operation); a folder in a mailbox the caller
has no FullAccess on is a per-message ErrorAccessDenied.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any

from simulators.exchange.ews.errors import EwsFault, ResponseError
from simulators.exchange.model import Account, Mailbox
from simulators.exchange.store import ExchangeStore, StoreError
from simulators.http_out import basic_challenge

WsgiApp = Callable[[dict[str, Any], Callable[..., Any]], Iterable[bytes]]

ACCOUNT_KEY = "harness.account"  # environ key: the authenticated Account

_UNAUTHORIZED_PAGE = (
    b'<!DOCTYPE HTML PUBLIC "-//W3C//DTD HTML 4.01//EN" '
    b'"http://www.w3.org/TR/html4/strict.dtd">\r\n'
    b"<HTML><HEAD><TITLE>You are not authorized to view this page</TITLE>\r\n"
    b'<META HTTP-EQUIV="Content-Type" Content="text/html; charset=Windows-1252"></HEAD>\r\n'
    b"<BODY><h1>You are not authorized to view this page</h1>\r\n"
    b"<h2>HTTP Error 401.1 - Unauthorized: Access is denied due to invalid credentials."
    b"<br>Internet Information Services (IIS)</h2></BODY></HTML>\r\n"
)


def basic_credentials(environ: dict[str, Any]) -> tuple[str, str] | None:
    """(user, password) of an ``Authorization: Basic`` header, None if absent or garbled."""
    header = environ.get("HTTP_AUTHORIZATION", "")
    known = _decoded.get(header)
    if known is None:
        known = _decoded[header] = _decode(header)
        if len(_decoded) > _DECODED_LIMIT:  # a client sends one header again and again
            _decoded.clear()
    return known or None


_DECODED_LIMIT = 64
_decoded: dict[str, tuple[str, str] | tuple[()]] = {}


def _decode(header: str) -> tuple[str, str] | tuple[()]:
    """(user, password) of a header; () when it holds none (remembered as well)."""
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "basic" or not token.strip():
        return ()
    try:
        decoded = base64.b64decode(token.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return ()
    user, sep, password = decoded.partition(":")
    return (user, password) if sep else ()


class BasicAuth:
    """IIS Basic authentication in front of a WSGI app."""

    def __init__(self, app: WsgiApp, store: ExchangeStore) -> None:
        self.app = app
        self.store = store

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        credentials = basic_credentials(environ)
        account = self.store.authenticate(*credentials) if credentials else None
        if account is None:
            start_response(
                "401 Unauthorized",
                [
                    ("Content-Type", "text/html"),
                    ("WWW-Authenticate", basic_challenge(environ)),
                    ("Content-Length", str(len(_UNAUTHORIZED_PAGE))),
                ],
            )
            return [_UNAUTHORIZED_PAGE]
        environ[ACCOUNT_KEY] = account
        return self.app(environ, start_response)


@dataclass(frozen=True)
class Impersonation:
    """The ConnectingSID of an ExchangeImpersonation header (2007: any of the three)."""

    principal_name: str | None = None
    sid: str | None = None
    smtp: str | None = None


@dataclass(frozen=True)
class Caller:
    """The authenticated account and, when impersonating, the mailbox it acts as.

    ``acting`` is the account whose rights apply: the impersonated user's own
    account, or the authenticated one.
    """

    account: Account
    acting: Account
    impersonated: Mailbox | None = None

    @property
    def own_smtp(self) -> str | None:
        if self.impersonated is not None:
            return self.impersonated.smtp
        return (self.account.smtp or "").lower() or None

    def mailbox(self, store: ExchangeStore, smtp: str | None) -> Mailbox:
        """The mailbox an EmailAddress names (or the caller's own), with FullAccess checked."""
        address = smtp.strip() if smtp else self.own_smtp
        if not address:
            raise ResponseError("ErrorMissingEmailAddress")
        try:
            box = store.mailbox(address)
        except StoreError:
            raise ResponseError(
                "ErrorNonExistentMailbox", values={"SmtpAddress": address}
            ) from None
        self.check(store, box)
        return box

    def check(self, store: ExchangeStore, box: Mailbox) -> None:
        try:
            store.check_access(self.acting, box)
        except StoreError as exc:
            raise ResponseError.from_store(exc) from None


def resolve_caller(
    store: ExchangeStore, account: Account, impersonation: Impersonation | None
) -> Caller:
    """The Caller of a request, or the SOAP fault Exchange 2007 gives."""
    if impersonation is None:
        return Caller(account=account, acting=account)
    target = impersonation.smtp
    values: dict[str, str] = {}
    if target:
        values = {"SmtpAddress": target}
    elif impersonation.principal_name:
        owner = store.accounts.get(impersonation.principal_name.strip().lower())
        target = (owner.smtp if owner else None) or f"<{impersonation.principal_name}>"
    elif impersonation.sid:
        # The store knows no SIDs. Rights are checked first (below), as Exchange does.
        if account.impersonation_on_server:
            raise EwsFault(
                "ErrorImpersonationFailed",
                "Impersonation failed: the SID does not identify a user this server knows.",
            )
        target = ""
    else:
        raise EwsFault("ErrorInvalidExchangeImpersonationHeaderData")
    try:
        box = store.check_impersonation(account, target or "")
    except StoreError as exc:
        if exc.code == "ErrorNonExistentMailbox":
            raise EwsFault(exc.code, values=values) from None
        raise EwsFault(exc.code, exc.message) from None
    acting = store.accounts.get(box.smtp) or account
    return Caller(account=account, acting=acting, impersonated=box)
