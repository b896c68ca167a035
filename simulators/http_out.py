"""How the site writes an answer: status line, headers and body in one send, as IIS does.

cheroot writes the headers and then each body chunk with their own socket send; over
TLS each send is its own record, so a small answer arrives as two records. Some
clients read the body only from what arrived with the headers (DavMail 6's message
download in WebDAV mode loses the body otherwise). ``OneSendGateway`` collects the
headers and the first body chunk and sends them together; later chunks (large
answers) go out as they come. ``IIS_HEADERS`` are what IIS 7 adds to every answer.
"""

from __future__ import annotations

from typing import Any

from cheroot import wsgi

SERVER_HEADER = "Microsoft-IIS/7.0"
IIS_HEADERS = (("Server", SERVER_HEADER), ("X-Powered-By", "ASP.NET"))


class _Collector:
    """Stands in for the connection's writer while headers and first chunk are made."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []

    def write(self, data: bytes) -> int:
        self.parts.append(bytes(data))
        return len(data)


class OneSendGateway(wsgi.Gateway_10):  # type: ignore[misc]
    """WSGI 1.0 gateway whose first write sends headers and body chunk at once."""

    def write(self, chunk: bytes) -> None:
        request: Any = self.req
        if request.sent_headers:
            super().write(chunk)
            return
        connection = request.conn
        real = connection.wfile
        collected = _Collector()
        connection.wfile = collected
        try:
            super().write(chunk)
        finally:
            connection.wfile = real
        real.write(b"".join(collected.parts))


def with_iis_headers(headers: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """The headers of an answer plus IIS's own, unless the answer already has them."""
    present = {name.lower() for name, _ in headers}
    return [*headers, *((k, v) for k, v in IIS_HEADERS if k.lower() not in present)]


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


__all__ = ["IIS_HEADERS", "SERVER_HEADER", "OneSendGateway", "iis_error_page", "with_iis_headers"]
