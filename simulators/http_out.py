"""What IIS 7 puts on every answer of the site: its headers and its error pages.

``IIS_HEADERS`` are added to every answer (``with_iis_headers``); the error pages
replace wsgidav's, which name wsgidav, its version and the exception. Writing a
small answer in one send (one TLS record), as IIS does, is the site's server's
part (``simulators.wsgi_server`` writes head and body together).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

SERVER_HEADER = "Microsoft-IIS/7.0"
IIS_HEADERS = (("Server", SERVER_HEADER), ("X-Powered-By", "ASP.NET"))


def with_iis_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers of an answer plus IIS's own, unless the answer already has them."""
    present = {name.lower() for name, _ in headers}
    return [*headers, *((k, v) for k, v in IIS_HEADERS if k.lower() not in present)]


# A host name, an IPv4 address or a bracketed IPv6 one, as a Host header carries it.
_HOST_NAME = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252})|\[[0-9A-Fa-f:.]{2,45}\]")


def realm_of(environ: Mapping[str, Any]) -> str:
    """The Basic realm IIS names: the host the client asked for, without the port.
    Anything that is not a host name (quotes, commas, spaces a client put in its
    Host header) gives the server's own name instead: the header stays well-formed."""
    host = str(environ.get("HTTP_HOST") or "")
    name = host if host.endswith("]") else host.rsplit(":", 1)[0]
    if not _HOST_NAME.fullmatch(name):
        name = str(environ.get("SERVER_NAME") or "localhost")
        if not _HOST_NAME.fullmatch(name):
            name = "localhost"
    return name


def basic_challenge(environ: Mapping[str, Any]) -> str:
    """The ``WWW-Authenticate`` value of a 401 from IIS Basic authentication."""
    realm = realm_of(environ).replace("\\", "\\\\").replace('"', '\\"')
    return f'Basic realm="{realm}"'


# IIS 7's remote error page texts ("custom errors"), by status code.
_IIS_ERRORS = {
    400: ("400 - Bad Request.", "The request could not be understood by the server."),
    401: (
        "401 - Unauthorized: Access is denied due to invalid credentials.",
        "You do not have permission to view this directory or page using the credentials "
        "that you supplied.",
    ),
    403: (
        "403 - Forbidden: Access is denied.",
        "You do not have permission to view this directory or page using the credentials "
        "that you supplied.",
    ),
    404: (
        "404 - File or directory not found.",
        "The resource you are looking for might have been removed, had its name changed, or "
        "is temporarily unavailable.",
    ),
    405: (
        "405 - HTTP verb used to access this page is not allowed.",
        "The page you are looking for cannot be displayed because an invalid method (HTTP "
        "verb) was used to attempt access.",
    ),
    500: (
        "500 - Internal server error.",
        "There is a problem with the resource you are looking for, and it cannot be displayed.",
    ),
}


def iis_error_page(status: str) -> bytes:
    """IIS 7's error page for a status line ("404 Not Found"): no server internals."""
    code_text, _, reason = status.partition(" ")
    code = int(code_text) if code_text.isdigit() else 500
    title, detail = _IIS_ERRORS.get(code, (f"{code} - {reason or 'Error'}.", ""))
    page = (
        '<!DOCTYPE html PUBLIC "-//W3C//DTD XHTML 1.0 Strict//EN" '
        '"http://www.w3.org/TR/xhtml1/DTD/xhtml1-strict.dtd">\r\n'
        '<html xmlns="http://www.w3.org/1999/xhtml">\r\n<head>\r\n'
        '<meta http-equiv="Content-Type" content="text/html; charset=iso-8859-1"/>\r\n'
        f"<title>{title}</title>\r\n</head>\r\n<body>\r\n"
        '<div id="header"><h1>Server Error</h1></div>\r\n<div id="content">\r\n'
        '<div class="content-container"><fieldset>\r\n'
        f"<h2>{title}</h2>\r\n<h3>{detail}</h3>\r\n"
        "</fieldset></div>\r\n</div>\r\n</body>\r\n</html>\r\n"
    )
    return page.encode("iso-8859-1", "replace")


__all__ = [
    "IIS_HEADERS",
    "SERVER_HEADER",
    "basic_challenge",
    "iis_error_page",
    "realm_of",
    "with_iis_headers",
]
