"""OWA 2007 forms-based log-in: ``/owa/auth/logon.aspx``, ``owaauth.dll``, ``logoff.aspx``.

The form posts destination, flags, forcedownlevel, trusted, isUtf8, username and
password to ``/owa/auth/owaauth.dll``. Like Exchange 2007 that answers 302 to the
destination with ``sessionid``, ``cadata`` and ``UserContext`` cookies whether or not
the password is right (``SiteAuth.check_password_at_logon`` makes it check, as 2010
does, and send a wrong one back to ``logon.aspx?reason=2``). The destination must be
on this site; anything else goes to /owa/ (no open redirect).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs, quote, urlsplit

from simulators.exchange.owa.gate import is_secure, site_base
from simulators.exchange.owa.html import Reply, esc, hidden, page, redirect
from simulators.exchange.owa.sessions import SiteAuth, clear_cookie_headers

MAX_FORM_BYTES = 64 * 1024

_REASONS = {
    2: "The user name or password you entered isn't correct. Try entering it again.",
    3: "You have been logged off.",
}


def read_form(environ: dict[str, Any]) -> dict[str, list[str]]:
    """An urlencoded POST body (at most 64 KiB) as lists of values by name."""
    try:
        length = int(environ.get("CONTENT_LENGTH") or 0)
    except ValueError:
        length = 0
    body = environ["wsgi.input"].read(min(max(length, 0), MAX_FORM_BYTES)) if length > 0 else b""
    return parse_qs(body.decode("utf-8", "replace"), keep_blank_values=True)


def first(form: dict[str, list[str]], name: str, default: str = "") -> str:
    """A form field by name, case-insensitively (clients write isUtf8 or isutf8)."""
    for key, values in form.items():
        if key.lower() == name.lower() and values:
            return values[0]
    return default


def safe_destination(environ: dict[str, Any], destination: str) -> str:
    """The destination if it is on this site, else /owa/."""
    base = site_base(environ)
    if destination.startswith("/") and not destination.startswith("//"):
        return base + destination
    parts = urlsplit(destination)
    if parts.scheme in ("http", "https") and f"{parts.scheme}://{parts.netloc}" == base:
        return destination
    return base + "/owa/"


def logon_page(environ: dict[str, Any]) -> Reply:
    query = parse_qs(environ.get("QUERY_STRING", ""))
    destination = (query.get("url") or [site_base(environ) + "/owa/"])[0]
    try:
        reason = int((query.get("reason") or ["0"])[0])
    except ValueError:
        reason = 0
    message = _REASONS.get(reason)
    notice = f'<p class="error" id="logon-error" role="alert">{esc(message)}</p>' if message else ""
    body = (
        "<h2>Outlook Web Access</h2>"
        f"{notice}"
        '<form id="logonForm" name="logonForm" method="POST" action="/owa/auth/owaauth.dll">'
        + hidden("destination", destination)
        + hidden("flags", "0")
        + hidden("forcedownlevel", "0")
        + hidden("isUtf8", "1")
        + "<fieldset><legend>Security</legend>"
        '<input type="radio" id="rdoPblc" name="trusted" value="0" checked>'
        ' <label for="rdoPblc">This is a public or shared computer</label><br>'
        '<input type="radio" id="rdoPrvt" name="trusted" value="4">'
        ' <label for="rdoPrvt">This is a private computer</label></fieldset>'
        '<p><label for="username">Domain\\user name:</label> '
        '<input type="text" id="username" name="username" autocomplete="username"></p>'
        '<p><label for="password">Password:</label> '
        '<input type="password" id="password" name="password" '
        'autocomplete="current-password"></p>'
        '<p><input type="submit" id="logon" class="btn" value="Log On"></p></form>'
    )
    return page("Outlook Web Access", body)


def owaauth(environ: dict[str, Any], auth: SiteAuth) -> Reply:
    if environ.get("REQUEST_METHOD") != "POST":
        return redirect(site_base(environ) + "/owa/auth/logon.aspx?url=%2fowa%2f&reason=0")
    form = read_form(environ)
    destination = safe_destination(environ, first(form, "destination"))
    username = first(form, "username").strip()
    password = first(form, "password")
    session = auth.logon(username, password)
    if session.account is None and (auth.check_password_at_logon or not username):
        auth.logoff_session(session.id)
        where = quote(destination, safe="")
        return redirect(f"{site_base(environ)}/owa/auth/logon.aspx?url={where}&reason=2")
    return redirect(destination, session.set_cookie_headers(is_secure(environ)))


def logoff(environ: dict[str, Any], auth: SiteAuth) -> Reply:
    auth.logoff(environ)
    body = (
        "<h2>You have successfully logged off.</h2>"
        '<p><a id="log-on-again" href="/owa/auth/logon.aspx?url=%2fowa%2f&amp;reason=0">'
        "Log on again</a></p>"
    )
    status, headers, content = page("Outlook Web Access", body)
    return status, headers + clear_cookie_headers(is_secure(environ)), content


__all__ = ["first", "logoff", "logon_page", "owaauth", "read_form", "safe_destination"]
