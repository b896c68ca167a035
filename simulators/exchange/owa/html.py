"""HTML building blocks of the OWA pages: one escaped page frame and form fields.

Everything that comes from data or the request goes through ``esc`` (``html.escape``
with quotes), and pages are sent with a Content-Security-Policy that forbids scripts,
so a subject like ``<script>`` is text, never markup. Inputs carry ids and labels so
a browser test (and a screen reader) can find them.
"""

from __future__ import annotations

from html import escape
from typing import Any

Reply = tuple[str, list[tuple[str, str]], bytes]

SECURITY_HEADERS = [
    (
        "Content-Security-Policy",
        "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'",
    ),
    ("X-Content-Type-Options", "nosniff"),
    ("X-Frame-Options", "DENY"),
    ("Cache-Control", "no-cache, no-store"),
]

_STYLE = (
    "body{font-family:Segoe UI,Tahoma,sans-serif;margin:1em}"
    "table{border-collapse:collapse;width:100%}"
    "th,td{border:1px solid #999;vertical-align:top;padding:.3em}"
    ".error{color:#a00}label{display:inline-block;min-width:8em}"
)


def esc(value: Any) -> str:
    return escape(str(value), quote=True)


def page(title: str, body: str, *, user: str | None = None, status: str = "200 OK") -> Reply:
    """A whole page; ``body`` must already be escaped markup."""
    header = "<header><h1>Outlook Web Access</h1>"
    if user:
        header += (
            f'<p id="signed-in">Signed in as {esc(user)} · '
            '<a id="log-off" href="/owa/auth/logoff.aspx">Log Off</a></p>'
        )
    header += "</header>"
    text = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{esc(title)}</title><style>{_STYLE}</style></head>"
        f"<body>{header}<main>{body}</main></body></html>"
    )
    headers = [("Content-Type", "text/html; charset=utf-8"), *SECURITY_HEADERS]
    return status, headers, text.encode("utf-8")


def redirect(location: str, extra: list[tuple[str, str]] | None = None) -> Reply:
    return "302 Found", [("Location", location), *(extra or [])], b""


def text_input(name: str, label: str, value: str = "", kind: str = "text", hint: str = "") -> str:
    placeholder = f' placeholder="{esc(hint)}"' if hint else ""
    return (
        f'<p><label for="{esc(name)}">{esc(label)}</label> '
        f'<input type="{esc(kind)}" id="{esc(name)}" name="{esc(name)}" '
        f'value="{esc(value)}"{placeholder}></p>'
    )


def checkbox(name: str, label: str, checked: bool, value: str = "1", ident: str = "") -> str:
    ident = ident or name
    mark = " checked" if checked else ""
    return (
        f'<input type="checkbox" id="{esc(ident)}" name="{esc(name)}" value="{esc(value)}"{mark}>'
        f' <label for="{esc(ident)}">{esc(label)}</label>'
    )


def select(name: str, label: str, options: list[tuple[str, str]], chosen: str) -> str:
    items = "".join(
        f'<option value="{esc(v)}"{" selected" if v == chosen else ""}>{esc(t)}</option>'
        for v, t in options
    )
    return (
        f'<p><label for="{esc(name)}">{esc(label)}</label> '
        f'<select id="{esc(name)}" name="{esc(name)}">{items}</select></p>'
    )


def hidden(name: str, value: str) -> str:
    return f'<input type="hidden" name="{esc(name)}" value="{esc(value)}">'


__all__ = [
    "SECURITY_HEADERS",
    "checkbox",
    "esc",
    "hidden",
    "page",
    "redirect",
    "select",
    "text_input",
]
