"""``harness contacts --config FILE QUERY``: one public folder contact search, as a table.

Owns the command's output and exit codes: 0 contacts found (a table of name, company,
phone numbers and folder on stdout), 1 none found, 2 the configuration is unusable or
Exchange could not be asked (unreachable, credentials refused, an answer not
understood), with one clear line on stderr and no traceback.
"""

from __future__ import annotations

import asyncio
import sys
from typing import TextIO

from integration.config import ConfigError, ExchangeConfig, load_config
from integration.contacts import open_contact_search
from integration.contacts.model import DEFAULT_LIMIT, ContactHit, InvalidQuery
from integration.quiet import quieter
from integration.sources.base import SourceError

EXIT_FOUND, EXIT_NONE, EXIT_INVALID = 0, 1, 2
COLUMNS = ("Name", "Company", "Phones", "Folder")
_PROTOCOLS = {"ews": "EWS", "webdav": "WebDAV"}


def _cell(value: str) -> str:
    # Names come from Exchange: never let one move the cursor or recolour the terminal.
    return "".join(c if c.isprintable() else "?" for c in value)


def phones_text(hit: ContactHit) -> str:
    """``business +49 30 5550; mobile +49 171 555`` (empty without numbers)."""
    return "; ".join(f"{label} {number}" for label, number in hit.phones)


def format_table(hits: list[ContactHit]) -> str:
    """The hits as an aligned text table with a header line."""
    rows = [COLUMNS] + [
        (
            _cell(hit.display_name),
            _cell(hit.company),
            _cell(phones_text(hit)),
            _cell(hit.folder),
        )
        for hit in hits
    ]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]

    def line(row: tuple[str, ...]) -> str:
        return "  ".join(value.ljust(width) for value, width in zip(row, widths, strict=True))

    lines = [line(rows[0]), "  ".join("-" * width for width in widths)]
    lines.extend(line(row) for row in rows[1:])
    return "\n".join(text.rstrip() for text in lines)


async def _search(exchange: ExchangeConfig, query: str, limit: int) -> list[ContactHit]:
    async with open_contact_search(exchange) as search:
        return await search.search(query, limit)


def contacts_command(
    config_path: str,
    query: str,
    limit: int = DEFAULT_LIMIT,
    *,
    out: TextIO | None = None,
    err: TextIO | None = None,
) -> int:
    """Run one search with the engine's configuration file; returns the exit code."""
    out = out or sys.stdout
    err = err or sys.stderr
    # The table is the output: no line per request (httpx) or per log-in step (engine).
    try:
        config = load_config(config_path)
    except ConfigError as exc:
        print(str(exc), file=err)
        return EXIT_INVALID
    exchange = config.exchange
    if not exchange.enabled:
        print(
            f"harness contacts: {config_path}: [exchange] enabled = false: "
            "the Exchange integration is switched off",
            file=err,
        )
        return EXIT_INVALID
    try:
        # The table is the output: no line per request (httpx) or per log-in step.
        with quieter("httpx", "integration"):
            hits = asyncio.run(_search(exchange, query, limit))
    except InvalidQuery as exc:
        print(f"harness contacts: {exc}", file=err)
        return EXIT_INVALID
    except (SourceError, ValueError) as exc:
        print(
            f"harness contacts: public folder search over {_PROTOCOLS[exchange.variant]} "
            f"at {exchange.server_url} failed: {exc}",
            file=err,
        )
        return EXIT_INVALID
    if not hits:
        print(f"no contact in the first-level public folders matches {query.strip()!r}", file=out)
        return EXIT_NONE
    print(format_table(hits), file=out)
    more = " (limit reached; narrow the query)" if len(hits) >= limit else ""
    print(f"{len(hits)} contact{'s' if len(hits) != 1 else ''}{more}", file=out)
    return EXIT_FOUND
