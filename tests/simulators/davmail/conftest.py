"""DavMail in both of its Exchange modes against one ``harness serve``.

``served`` runs ``harness serve --seed seed.yaml`` once per test session (per xdist
worker; the tests share the ``davmail`` xdist group so one worker runs them all).
``davmail`` is DavMail for one mode, started once per session and mode: ``EWS`` with
``davmail.url`` the served EWS endpoint, ``WebDav`` with the served ``/owa/`` (forms
log-in). Each test is run in both modes. ``exchange`` reads the served store over
EWS. Everything skips with "davmail not installed" without Debian's davmail-server.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest

from tests.davmail import SKIP_REASON, DavMail, Served, davmail_available, serve_harness
from tests.simulators.davmail.exchange import ServedExchange

SEED = Path(__file__).with_name("seed.yaml")
ANNA = ("user1@domain.net", "anna-pw")
BERND = ("user2@domain.net", "bernd-pw")
SERVICE = ("OSOMX@domain.net", "secret")
MODES = ("EWS", "WebDav")


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if Path(str(item.fspath)).is_relative_to(here):
            item.add_marker(pytest.mark.xdist_group("davmail"))
            if not davmail_available():
                item.add_marker(pytest.mark.skip(reason=SKIP_REASON))


@pytest.fixture(scope="session")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    if not davmail_available():
        pytest.skip(SKIP_REASON)
    served = serve_harness(SEED, tmp_path_factory.mktemp("harness-serve"))
    try:
        yield served
    finally:
        served.stop()


@dataclass
class Gateway:
    """One running DavMail and the harness it fronts."""

    mode: str
    davmail: DavMail
    served: Served

    @property
    def caldav(self) -> str:
        return self.davmail.url_of("caldav")

    def port(self, name: str) -> int:
        return self.davmail.ports[name]

    def client(self, credentials: tuple[str, str] = ANNA) -> httpx.Client:
        return httpx.Client(base_url=self.caldav, auth=credentials, timeout=120)

    def explain(self) -> str:
        """DavMail's last log lines, for an assertion message."""
        return f"DavMail ({self.mode}) log:\n{self.davmail.log_tail()}"


@pytest.fixture(scope="session", params=MODES)
def davmail(
    request: pytest.FixtureRequest, served: Served, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Gateway]:
    mode = request.param
    url = served.ready["ews"] if mode == "EWS" else served.site + "/owa/"
    gateway = DavMail(mode, url, served.ca, tmp_path_factory.mktemp(f"davmail-{mode}"))
    gateway.start()
    try:
        yield Gateway(mode, gateway, served)
    finally:
        gateway.stop()


@pytest.fixture(scope="session")
def exchange(served: Served) -> Iterator[ServedExchange]:
    reader = ServedExchange(served.ready["ews"], served.ca, *SERVICE)
    try:
        yield reader
    finally:
        reader.close()
