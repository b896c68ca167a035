"""Pseudonyms: stable under a key, and subjects keep exactly their keywords."""

from __future__ import annotations

import re

import pytest

from integration import keywords
from integration.capture.anonymise import Pseudonyms, new_key


@pytest.mark.parametrize(
    ("subject", "kept"),
    [
        ("Lunch with Bob", ["Lunch"]),
        ("Out of Office: Hamburg fair", ["Out", "of", "Office"]),
        ("AUSSER HAUS bei Kunde Müller", ["AUSSER", "HAUS"]),
        ("Arbeit von zu Hause", ["zu", "Hause"]),
        ("Besprechung / Meeting Q3", ["Besprechung", "Meeting"]),
        ("Out of the office", []),  # not the phrase: nothing kept
        ("Homeoffice Mittagspause", []),  # not whole words
        ("Out-of-Office", []),  # the engine needs spaces between the words of a phrase
    ],
)
def test_subjects_keep_their_keywords_only(subject: str, kept: list[str]) -> None:
    out = Pseudonyms(b"key").subject(subject)
    before, after = re.findall(r"\w+", subject), re.findall(r"\w+", out)
    assert len(before) == len(after)
    assert [a for a, b in zip(before, after, strict=True) if a == b] == kept, out
    assert all(b.startswith("w") for a, b in zip(before, after, strict=True) if a != b)
    assert re.sub(r"\w+", "", subject) == re.sub(r"\w+", "", out)  # punctuation stays
    for language in keywords.available_languages():  # the engine reads the same status
        assert keywords.status_for(out, language) == keywords.status_for(subject, language)


def test_the_same_input_gives_the_same_pseudonym_under_one_key_only() -> None:
    a, b, other = Pseudonyms(b"k1"), Pseudonyms(b"k1"), Pseudonyms(b"k2")
    assert a.address("Anna.Berg@Example.COM") == b.address("anna.berg@example.com")
    assert a.address("anna.berg@example.com").endswith("@domain.net")
    assert a.address("anna.berg@example.com") != other.address("anna.berg@example.com")
    assert a.name("Anna Berg") == b.name("anna berg") != a.name("Ben Hart")
    assert a.location("Room 1") != a.location("Room 2") and a.location("") == ""
    assert a.subject("Project Zeus Lunch") == b.subject("project ZEUS Lunch")
    assert len(new_key()) == 32 and new_key() != new_key()
