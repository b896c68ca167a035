"""Fixtures for the WebDAV and OWA front ends: one site per test module, re-seeded
(and reset to Basic auth) for every test.

The seed: Alice (English, Europe/Berlin) has a weekly Monday 09:00 series across the
2026-03-29 DST change (23 March moved to 14:00 and renamed, 6 April deleted) and a
single lunch; Dora's mailbox is German; the service account has FullAccess to every
mailbox but Eve's; Bob has none on anyone else's. Public folders hold contacts.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from simulators.clock import Clock
from simulators.exchange.model import CalendarItem
from simulators.exchange.seed import (
    Seed,
    SeedAppointment,
    SeedContact,
    SeedFolder,
    SeedMailbox,
    ServiceAccount,
    apply_seed,
)
from simulators.exchange.store import ExchangeStore
from simulators.site import RunningSite, start_site
from tests.seeds import dst_weekly_series

DOMAIN = "domain.net"
SERVICE = (f"OSOMX@{DOMAIN}", "secret")
ALICE = f"alice@{DOMAIN}"
BOB = f"bob@{DOMAIN}"
DORA = f"dora@{DOMAIN}"
EVE = f"eve@{DOMAIN}"
ALICE_AUTH = (ALICE, "alicepw")
BOB_AUTH = (BOB, "bobpw")
BERLIN = ZoneInfo("Europe/Berlin")


def seed() -> Seed:
    return Seed(
        service_account=ServiceAccount(
            user=SERVICE[0], password=SERVICE[1], denied_mailboxes=(EVE,)
        ),
        mailboxes=[
            SeedMailbox(ALICE, "Alice Example", password="alicepw"),
            SeedMailbox(BOB, "Bob Builder", password="bobpw"),
            SeedMailbox(DORA, "Dora Deutsch", language="de", password="dorapw"),
            SeedMailbox(EVE, "Eve Denied"),
        ],
        appointments=[
            dst_weekly_series(ALICE),
            SeedAppointment(
                mailbox=ALICE,
                handle="lunch",
                subject="Lunch",
                start=datetime(2026, 3, 30, 12, 0, tzinfo=BERLIN),
                end=datetime(2026, 3, 30, 13, 0, tzinfo=BERLIN),
                busy_status="OOF",
                time_zone="Europe/Berlin",
            ),
            SeedAppointment(
                mailbox=DORA,
                handle="mittag",
                subject="Mittagessen",
                start=datetime(2026, 3, 30, 12, 0, tzinfo=BERLIN),
                end=datetime(2026, 3, 30, 12, 45, tzinfo=BERLIN),
            ),
        ],
        public_folders=[
            SeedFolder(
                "Customers",
                contacts=[
                    SeedContact(
                        "Carla Customer",
                        "Carla",
                        "Customer",
                        "Kunde GmbH",
                        ["carla@kunde.de"],
                        {"BusinessPhone": "+49 30 5550", "MobilePhone": "+49 171 555"},
                    ),
                    SeedContact(
                        "Dieter Kunde",
                        "Dieter",
                        "Kunde",
                        "Kunde GmbH",
                        [],
                        {"HomePhone": "+49 30 777"},
                    ),
                ],
                folders=[SeedFolder("Archive", contacts=[SeedContact("Old Contact")])],
            ),
            SeedFolder("Suppliers", contacts=[SeedContact("Sam Supplier", "Sam", "Supplier")]),
        ],
    )


@dataclass
class DavSite:
    """A running site with the seed applied, plus request helpers."""

    site: RunningSite
    handles: dict[str, CalendarItem]

    @property
    def store(self) -> ExchangeStore:
        return self.site.store

    @property
    def url(self) -> str:
        return self.site.url

    def client(self, **kwargs: Any) -> httpx.Client:
        return httpx.Client(
            base_url=self.url, verify=self.site.ca_cert_pem or True, timeout=10, **kwargs
        )

    def request(
        self,
        method: str,
        path: str,
        body: bytes | str | None = None,
        *,
        auth: tuple[str, str] | None = SERVICE,
        headers: dict[str, str] | None = None,
    ) -> httpx.Response:
        content = body.encode() if isinstance(body, str) else body
        sent = {"Content-Type": "text/xml"} if content else {}
        sent.update(headers or {})
        with self.client() as client:
            return client.request(method, path, content=content, headers=sent, auth=auth)


def reseed(site: RunningSite) -> dict[str, CalendarItem]:
    handles = apply_seed(site.store, seed())
    site.store.set_mailbox_time_zone(ALICE, "Europe/Berlin")
    site.store.set_mailbox_time_zone(DORA, "Europe/Berlin")
    site.store.clock.skew = timedelta(0)
    site.set_webdav_auth("basic")
    site.journal.clear()
    return handles


@pytest.fixture(scope="module")
def running_site() -> Iterator[RunningSite]:
    site = start_site(ExchangeStore(Clock(), domain=DOMAIN), "127.0.0.1", 0, False)
    yield site
    site.stop()


@pytest.fixture
def dav(running_site: RunningSite) -> DavSite:
    return DavSite(running_site, reseed(running_site))
