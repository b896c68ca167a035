"""OWA 2007's Options pages: About (who the mailbox is) and Regional Settings.

``/owa/?ae=Options&t=About`` lists the mailbox owner as ``Display Name
[address]`` and the Exchange mailbox address (the legacy DN
``/o=First Organization/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)/cn=Recipients/cn=alias``)
in one table written on one line, as OWA 2007 writes it: clients read the address and
the alias from it (DavMail's WebDAV mode does, before anything else).
``t=Regional`` shows the owner's time zone as the selected option of ``selTmZn``
(Windows ids as values), which clients read the same way.
"""

from __future__ import annotations

from simulators.exchange.ews.timezones import WINDOWS_ZONES, windows_name
from simulators.exchange.model import Account, Mailbox
from simulators.exchange.owa.html import Reply, esc, page

ORGANIZATION = "First Organization"
ADMIN_GROUP = "Exchange Administrative Group (FYDIBOHF23SPDLT)"
SERVER_VERSION = "8.3.83.6"  # Exchange 2007 SP3, as EWS reports it


def legacy_dn(mailbox: Mailbox) -> str:
    """The mailbox's legacyExchangeDN, as Exchange 2007 builds it for a new mailbox."""
    return f"/o={ORGANIZATION}/ou={ADMIN_GROUP}/cn=Recipients/cn={mailbox.alias}"


def _about(account: Account, mailbox: Mailbox, host: str) -> str:
    rows = [
        ("Mailbox owner", f"{mailbox.display_name} [{mailbox.smtp}]"),
        ("Host address", f"https://{host}/owa"),
        ("Exchange mailbox address", legacy_dn(mailbox)),
        ("Exchange Client Access server name", host.rsplit(":", 1)[0]),
        ("Exchange Client Access server version", SERVER_VERSION),
        ("Exchange mailbox server version", SERVER_VERSION),
    ]
    cells = "".join(
        f'<tr><td class="lbl" nowrap>{esc(name)}:</td><td class="txvl">{esc(value)}</td></tr>'
        for name, value in rows
    )
    # One line on purpose: OWA 2007 writes the table so, and clients parse it by lines.
    return f'<h2 id="options-about">About</h2><table id="tblAbout">{cells}</table>\n'


def _regional(mailbox: Mailbox) -> str:
    current = windows_name(mailbox.time_zone)[0]
    zones = dict(sorted(((w, d) for w, (_, d) in WINDOWS_ZONES.items()), key=lambda x: x[1]))
    if current not in zones:
        zones[current] = windows_name(mailbox.time_zone)[1]
    options = "".join(
        f'<option value="{esc(w)}"{" selected" if w == current else ""}>{esc(d)}</option>'
        for w, d in zones.items()
    )
    # Label and list on one line, as OWA 2007 writes them: clients take the selected
    # option of the first line that names selTmZn.
    return (
        '<h2 id="options-regional">Regional Settings</h2>\n'
        '<p><label for="selTmZn">Current time zone:</label> '
        f'<select id="selTmZn" name="selTmZn">{options}</select></p>\n'
    )


def options_page(account: Account, mailbox: Mailbox, page_name: str, host: str) -> Reply:
    name = page_name.lower()
    if name == "about":
        body = _about(account, mailbox, host)
    elif name == "regional":
        body = _regional(mailbox)
    else:
        body = (
            '<h2 id="options">Options</h2><ul>'
            '<li><a href="/owa/?ae=Options&amp;t=Regional">Regional Settings</a></li>'
            '<li><a href="/owa/?ae=Options&amp;t=About">About</a></li></ul>'
        )
    return page("Options - Outlook Web Access", body, user=account.upn)


__all__ = ["legacy_dn", "options_page"]
