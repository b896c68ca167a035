"""``?Cmd=galfind``: the global address list search of Exchange's legacy web access,
which Exchange 2007 still answers under ``/public/`` (and a mailbox URL).

Query parameters are prefixes, matched without case, all of them at once: ``DN``
display name, ``FN``/``LN`` first and last name, ``AN`` alias, ``EM`` address, ``CP``
company, ``TL`` title, ``DP`` department, ``OF`` office. The answer is XML with one
``item`` per person (``DN``, ``FN``, ``LN``, ``AN``, ``EM``, ...), at most 100, the
format clients such as DavMail read (its LDAP gateway in WebDav mode uses it).
"""

from __future__ import annotations

from urllib.parse import parse_qs
from xml.sax.saxutils import escape

from simulators.exchange.model import Mailbox
from simulators.exchange.store import ExchangeStore

Reply = tuple[str, list[tuple[str, str]], bytes]
MAX_RESULTS = 100
CRITERIA = ("DN", "FN", "LN", "AN", "EM", "CP", "TL", "DP", "OF")


def is_galfind(query: str) -> bool:
    found = {k.lower(): v for k, v in parse_qs(query, keep_blank_values=True).items()}
    return [v.lower() for v in found.get("cmd", [])] == ["galfind"]


def _fields(box: Mailbox) -> dict[str, str]:
    names = box.display_name.split()
    return {
        "DN": box.display_name,
        "FN": names[0] if len(names) > 1 else "",
        "LN": names[-1] if len(names) > 1 else box.display_name,
        "AN": box.alias,
        "EM": box.smtp,
        "CP": "",
        "TL": "",
        "DP": "",
        "OF": "",
    }


def galfind(store: ExchangeStore, query: str) -> Reply:
    params = {k.upper(): v[0] for k, v in parse_qs(query, keep_blank_values=True).items()}
    wanted = {k: params[k].strip().lower() for k in CRITERIA if params.get(k, "").strip()}
    rows: list[dict[str, str]] = []
    if wanted:
        for box in sorted(store.mailboxes.values(), key=lambda b: b.display_name.lower()):
            fields = _fields(box)
            if all(_matches(fields[k], needle) for k, needle in wanted.items()):
                rows.append(fields)
    items = "".join(
        "<a:item>"
        + "".join(f"<a:{k}>{escape(v)}</a:{k}>" for k, v in row.items() if v)
        + "</a:item>"
        for row in rows[:MAX_RESULTS]
    )
    body = (
        f'<?xml version="1.0"?><a:response xmlns:a="DAV:"><a:items>{items}</a:items></a:response>'
    )
    return "200 OK", [("Content-Type", "text/xml")], body.encode("utf-8")


def _matches(value: str, needle: str) -> bool:
    hay = value.lower()
    return hay.startswith(needle) or any(word.startswith(needle) for word in hay.split())


__all__ = ["galfind", "is_galfind"]
