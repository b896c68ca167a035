"""The catalogue: every service's kinds, the old names, clear errors."""

from __future__ import annotations

import pytest

from simulators.faults.catalogue import ACTIONS, KINDS, SERVICES, resolve, table


def test_every_row_has_a_known_action_and_only_known_values() -> None:
    from simulators.faults.catalogue import VALUES

    for row in KINDS.values():
        assert row.action in ACTIONS, row
        assert set(row.values) <= set(VALUES), row
        assert row.answer


def test_each_protocol_speaks_its_own_terms() -> None:
    assert resolve("ews", "ErrorServerBusy").values == ("back_off",)
    assert resolve("ews", "ErrorMailboxStoreUnavailable").action == "response_error"
    assert resolve("webdav", "http_440").status == 440
    assert resolve("owa", "http_507").status == 507
    assert resolve("smtp", "smtp_452").code == "4.3.1 Insufficient system resources"
    assert resolve("pbx", "unreachable").action == "pbx_unreachable"
    assert {s for s, _ in KINDS} == set(SERVICES)
    assert all((s, "refused") in KINDS for s in SERVICES)


def test_old_names_have_one_meaning() -> None:
    for service in SERVICES:
        assert resolve(service, "unavailable").kind == "refused"
    assert resolve("ews", "busy").kind == "ErrorServerBusy"
    with pytest.raises(ValueError, match="unknown fault kind 'busy' for smtp"):
        resolve("smtp", "busy")


def test_unknown_names_list_what_is_known() -> None:
    with pytest.raises(ValueError, match=r"unknown fault service 'imap'; known: ews, webdav"):
        resolve("imap", "refused")
    with pytest.raises(ValueError, match=r"known: unreachable, slow, refused, unavailable$"):
        resolve("pbx", "ErrorServerBusy")


def test_table_rows_for_the_docs() -> None:
    rows = table()
    assert len(rows) == len(KINDS)
    assert {"service": "ews", "kind": "http_503"}.items() <= rows[5].items()


def test_docs_list_every_row_of_the_catalogue() -> None:
    from pathlib import Path

    docs = (Path(__file__).resolve().parents[3] / "docs" / "faults.md").read_text("utf-8")
    for row in KINDS.values():
        assert f"| `{row.service}` | `{row.kind}` | {row.answer} |" in docs, row
