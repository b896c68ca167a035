"""``-k PATTERN``: words of a run's path or name, combined as ``pytest -k`` combines them."""

from __future__ import annotations

import re

import pytest

from scenarios.run.selection import SelectionError, parse_selection

RUNS = {
    "r05/lunch-keyword.yaml": "Lunch keyword sets presence",
    "r05/mittag-de.yaml": "German Mittagspause",
    "r12/all-day-vacation.yaml": "All-day vacation at the first poll",
    "r14/call-to-voicemail.yaml": "A call goes to voicemail in a meeting",
}


def kept(pattern: str) -> list[str]:
    selection = parse_selection(pattern)
    return [path for path, name in RUNS.items() if selection.keeps(path, name)]


@pytest.mark.parametrize(
    ("pattern", "paths"),
    [
        ("lunch", ["r05/lunch-keyword.yaml"]),  # a word of the path
        ("MITTAGSPAUSE", ["r05/mittag-de.yaml"]),  # of the name, ignoring case
        ("r05/", ["r05/lunch-keyword.yaml", "r05/mittag-de.yaml"]),
        ("r05 and not de", ["r05/lunch-keyword.yaml"]),
        ("vacation or voicemail", ["r12/all-day-vacation.yaml", "r14/call-to-voicemail.yaml"]),
        ("not r05 and not r12", ["r14/call-to-voicemail.yaml"]),
        ("(lunch or mittag) and yaml", ["r05/lunch-keyword.yaml", "r05/mittag-de.yaml"]),
        ("r05 and lunch or r14", ["r05/lunch-keyword.yaml", "r14/call-to-voicemail.yaml"]),
        ("not not r14", ["r14/call-to-voicemail.yaml"]),
        ('"goes to voicemail"', ["r14/call-to-voicemail.yaml"]),  # a quoted phrase
        ("'first poll' or mittag", ["r05/mittag-de.yaml", "r12/all-day-vacation.yaml"]),
        ("nothing-like-this", []),
    ],
)
def test_words_select_runs(pattern: str, paths: list[str]) -> None:
    assert kept(pattern) == paths


@pytest.mark.parametrize(
    ("pattern", "reason"),
    [
        ("", "empty"),
        ("lunch keyword", "two words in a row at 'keyword'"),
        ("lunch and", "ends where a word was expected"),
        ("(lunch or mittag", "missing ')'"),
        ("lunch)", "unexpected ')'"),
        ("and lunch", "expected a word before 'and'"),
        ('"lunch', "unclosed quote"),
    ],
)
def test_a_pattern_that_does_not_parse_says_why(pattern: str, reason: str) -> None:
    with pytest.raises(SelectionError, match=re.escape(reason)):
        parse_selection(pattern)
