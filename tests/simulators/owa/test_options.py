"""OWA's Options pages: About names the mailbox owner and the legacy DN on one line
(read the way DavMail's WebDav mode reads them), Regional Settings the owner's zone."""

from __future__ import annotations

from tests.simulators.owa.conftest import DavSite, log_in
from tests.simulators.webdav.conftest import ALICE, DORA


def _line(page: str, *needles: str) -> str:
    """The first line of a page holding every needle (clients scan pages by lines)."""
    return next(line for line in page.splitlines() if all(n in line for n in needles))


def test_about_names_the_address_and_the_alias_on_one_line(dav: DavSite) -> None:
    with log_in(dav, ALICE, "alicepw") as client:
        page = client.get("/owa/?ae=Options&t=About")
    assert page.status_code == 200
    line = _line(page.text, "[", "@", "]", "/cn=")
    # As DavMail reads it: alias after the last "/cn=", address in the last [...].
    start = line.lower().rindex("/cn=") + len("/cn=")
    assert line[start : line.index("<", start)] == "alice"
    end = line.rindex("]")
    assert line[line.rindex("[", 0, end) + 1 : end] == ALICE
    assert "Alice Example [alice@domain.net]" in line
    assert "/o=First Organization/ou=Exchange Administrative Group (FYDIBOHF23SPDLT)" in line


def test_regional_settings_select_the_owners_time_zone(dav: DavSite) -> None:
    with log_in(dav, DORA, "dorapw") as client:
        page = client.get("/owa/?ae=Options&t=Regional")
    line = _line(page.text, "selTmZn")
    end = line.rindex('" selected>')
    assert line[line.rindex('"', 0, end) + 1 : end] == "W. Europe Standard Time"


def test_options_need_a_log_in_and_other_pages_stay(dav: DavSite) -> None:
    dav.site.set_webdav_auth("forms")
    with dav.client() as client:
        assert client.get("/owa/?ae=Options&t=About").status_code == 302
    with log_in(dav, ALICE, "alicepw") as client:
        assert "About" in client.get("/owa/?ae=Options").text
        assert 'id="week"' in client.get("/owa/").text
