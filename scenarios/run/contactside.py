"""Contact searches in a scenario run: ``search_contacts`` and ``expect_contacts``.

The engine's own public folder contact search (``open_contact_search``), over
EWS or WebDAV as the run's variant says, through the same connection gate as
the calendar polls, so a ``fault`` on that service refuses the search too. It
is opened at the first search of a run and closed at the end. A search that
fails (Exchange unreachable, access refused) is remembered with its error, and
an ``expect_contacts`` on it fails saying so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from integration.config import ExchangeConfig, Variant
from integration.contacts import ContactHit, open_contact_search
from integration.contacts.ews import EwsContactSearch
from integration.contacts.webdav import WebDavContactSearch
from integration.sources.base import SourceError
from scenarios.format.model import ExpectContacts, Scenario, SearchContacts

Note = Callable[[datetime, str], None]
Fail = Callable[[int, str], None]
SEARCH_TIMEOUT = 5.0  # seconds; loopback answers in milliseconds


@dataclass(frozen=True)
class SearchOutcome:
    step: SearchContacts
    hits: tuple[ContactHit, ...] = ()
    error: str | None = None

    @property
    def names(self) -> list[str]:
        return [hit.display_name for hit in self.hits]


class ContactSide:
    """Runs the run's contact searches against the site at ``base_url`` (the gate)."""

    def __init__(
        self,
        scenario: Scenario,
        variant: str,
        base_url: str,
        ca_file: str | None,
        *,
        note: Note,
        fail: Fail,
    ) -> None:
        self.scenario = scenario
        self.variant = variant
        self.base_url = base_url
        self.ca_file = ca_file
        self.note = note
        self.fail = fail
        self.outcomes: list[SearchOutcome] = []
        self._search: EwsContactSearch | WebDavContactSearch | None = None

    def exchange_config(self) -> ExchangeConfig:
        """The engine's [exchange] section for this run's variant, through the gate."""
        svc = self.scenario.seed.service_account
        variant: Variant = "webdav" if self.variant == "webdav" else "ews"
        path = "/exchange/" if variant == "webdav" else "/EWS/Exchange.asmx"
        return ExchangeConfig(
            enabled=True,
            variant=variant,
            server_url=self.base_url + path,
            username=svc.user,
            password=svc.password,
            ca_file=Path(self.ca_file) if self.ca_file else None,
        )

    async def search(self, step: SearchContacts) -> None:
        if self._search is None:
            # The folder list is read afresh for every search: the tree is seed data.
            self._search = open_contact_search(
                self.exchange_config(), folder_ttl=0.0, timeout=SEARCH_TIMEOUT
            )
        try:
            hits = await self._search.search(step.query, step.limit)
        except SourceError as exc:
            outcome = SearchOutcome(step, error=str(exc))
            self.note(step.at, f"contacts {step.query!r}: failed: {exc}")
        else:
            outcome = SearchOutcome(step, tuple(hits))
            found = ", ".join(f"{h.display_name} ({h.folder})" for h in hits) or "none"
            self.note(step.at, f"contacts {step.query!r}: {found}")
        self.outcomes.append(outcome)

    def expect(self, step: ExpectContacts) -> None:
        outcome = next((o for o in self.outcomes if o.step.line == step.search_line), None)
        if outcome is None:  # the loader makes sure a search came first
            self.fail(step.line, "no contact search was made before this expectation")
            return
        which = f"the search for {outcome.step.query!r} (line {outcome.step.line})"
        if outcome.error is not None:
            self.fail(step.line, f"{which} failed: {outcome.error}")
            return
        names = outcome.names
        if step.names is not None and names != list(step.names):
            self.fail(step.line, f"{which} found {names}, expected {list(step.names)}")
        elif step.count is not None and len(names) != step.count:
            self.fail(
                step.line, f"{which} found {len(names)} contact(s) {names}, expected {step.count}"
            )

    async def aclose(self) -> None:
        if self._search is not None:
            await self._search.aclose()
            self._search = None


__all__ = ["ContactSide", "SearchOutcome"]
