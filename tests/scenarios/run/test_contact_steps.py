"""Contact searches in the runner: the engine's search over EWS or WebDAV through the
run's gate, ``expect_contacts`` failures naming their line, a fault failing the search."""

from __future__ import annotations

import pytest

from scenarios.format.loader import parse_scenario
from scenarios.run.environment import Environment
from scenarios.run.runner import ScenarioResult, run_scenario

HEAD = """\
name: contacts
start: "2026-01-05 09:00"
end: "2026-01-05 09:10"
users:
  - {extension: "100", email: user1@domain.net}
public_folders:
  - name: Customers
    contacts:
      - {display_name: Carla Customer, company: Kunde GmbH, email: carla@kunde.de}
      - {display_name: Anton Kunde, email: anton@kunde.de}
    folders:
      - name: Archive
        contacts: [{display_name: Carla Archived, company: Kunde GmbH}]
steps:
"""


def run(environment: Environment, steps: str, variant: str) -> ScenarioResult:
    result = run_scenario(parse_scenario(HEAD + steps, "case.yaml"), variant, environment)
    assert result.error is None, result.error
    return result


@pytest.mark.parametrize("variant", ["ews", "webdav"])
def test_the_engine_search_finds_first_level_contacts_only(
    environment: Environment, variant: str
) -> None:
    steps = (
        '  - at: "09:01"\n    search_contacts: {query: KUNDE, id: kunde}\n'
        '  - at: "09:01"\n    search_contacts: {query: archived}\n'
        '  - at: "09:01"\n    expect_contacts: {search: kunde, names: [Anton Kunde, Carla Customer]}\n'
        '  - at: "09:01"\n    expect_contacts: {count: 0}\n'
    )
    result = run(environment, steps, variant)
    assert result.passed, result.failures
    assert [a.text for a in result.activity] == [
        "contacts 'KUNDE': Anton Kunde (Customers), Carla Customer (Customers)",
        "contacts 'archived': none",
    ]
    journal = environment.site.journal
    if variant == "ews":
        assert journal.count(service="webdav") == 0
        assert journal.count(operation="FindFolder") >= 1
    else:
        assert journal.count(service="ews") == 0
        assert any(e.method == "SEARCH" for e in journal.entries(service="webdav"))


def test_a_wrong_expect_contacts_names_its_line(environment: Environment) -> None:
    steps = (
        '  - at: "09:01"\n    search_contacts: {query: carla, id: carla}\n'
        '  - at: "09:02"\n    expect_contacts: {search: carla, names: [Carla Archived]}\n'
        '  - at: "09:02"\n    expect_contacts: {search: carla, count: 2}\n'
    )
    result = run(environment, steps, "ews")
    assert [(f.line, f.message) for f in result.failures] == [
        (
            17,
            "the search for 'carla' (line 15) found ['Carla Customer'], "
            "expected ['Carla Archived']",
        ),
        (19, "the search for 'carla' (line 15) found 1 contact(s) ['Carla Customer'], expected 2"),
    ]


@pytest.mark.parametrize("variant", ["ews", "webdav"])
def test_a_search_while_exchange_is_down_fails_its_expectation(
    environment: Environment, variant: str
) -> None:
    steps = (
        f'  - at: "09:01"\n    fault: {{service: {variant}, kind: unavailable, duration: 1m}}\n'
        '  - at: "09:01"\n    search_contacts: {query: carla}\n'
        '  - at: "09:01"\n    expect_contacts: {count: 1}\n'
        '  - at: "09:02"\n    search_contacts: {query: carla}\n'
        '  - at: "09:02"\n    expect_contacts: {count: 1}\n'
    )
    result = run(environment, steps, variant)
    assert [f.line for f in result.failures] == [19]
    assert result.failures[0].message.startswith("the search for 'carla' (line 17) failed: ")
    assert result.activity[0].text == f"fault {variant} refused for 1m: connections refused"
    assert result.activity[1].text.startswith("contacts 'carla': failed: ")
