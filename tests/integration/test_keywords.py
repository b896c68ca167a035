"""R5: the per-language keyword tables and how subjects are matched."""

from __future__ import annotations

import tomllib
from importlib import resources

import pytest
from hypothesis import given
from hypothesis import strategies as st

from integration import keywords
from integration.keywords import (
    KEYWORD_STATUSES,
    KeywordTable,
    KeywordTableError,
    UnknownLanguageError,
    parse_table,
    status_for,
    table_for,
)

ENGLISH = {
    "Meeting": "meeting",
    "Sick": "sick",
    "Break": "break",
    "Out of Office": "out_of_office",
    "Holiday": "vacation",
    "Lunch": "lunch",
    "Home": "gone_home",
}
GERMAN = {
    "Besprechung": "meeting",
    "Krank": "sick",
    "Pause": "break",
    "Außer Haus": "out_of_office",
    "Urlaub": "vacation",
    "Mittag": "lunch",
    "Zu Hause": "gone_home",
}


def test_shipped_tables_are_the_contract_tables() -> None:
    assert keywords.available_languages() == ("de", "en")
    assert dict(table_for("en").keywords) == ENGLISH
    assert dict(table_for("de").keywords) == GERMAN


def test_tables_ship_as_package_data() -> None:
    files = {e.name for e in resources.files("integration.keywords").iterdir()}
    assert {"en.toml", "de.toml", "__init__.py"} <= files
    data = tomllib.loads(resources.files("integration.keywords").joinpath("de.toml").read_text())
    assert data["language"] == "de"


@pytest.mark.parametrize(("language", "table"), [("en", ENGLISH), ("de", GERMAN)], ids=["en", "de"])
@pytest.mark.parametrize("shape", ["{}", "Team {} today", "{}!", "({})", "re: {} - 2nd"])
def test_every_keyword_sets_its_status(language: str, table: dict[str, str], shape: str) -> None:
    for keyword, status in table.items():
        assert status_for(shape.format(keyword), language) == status, keyword
        assert status_for(shape.format(keyword.upper()), language) == status, keyword
        assert status_for(shape.format(keyword.lower()), language) == status, keyword


@pytest.mark.parametrize(
    ("subject", "status"),
    [
        ("AUSSER HAUS", "out_of_office"),  # casefold("ß") == "ss"
        ("außer haus", "out_of_office"),
        ("Termin außer   Haus", "out_of_office"),
        ("ZU HAUSE", "gone_home"),
        ("Zu\tHause", "gone_home"),
        ("Mittagspause", None),  # a compound is not the whole word
        ("Lunch", None),  # only the user's language counts
        ("Mittag, danach Besprechung", "lunch"),
        ("Besprechung über Mittag", "meeting"),
        ("KRANK", "sick"),
        ("Urlaubsantrag", None),
    ],
)
def test_german_subjects(subject: str, status: str | None) -> None:
    assert status_for(subject, "de") == status


@pytest.mark.parametrize(
    ("subject", "status"),
    [
        ("Breakfast", None),
        ("Coffee break", "break"),
        ("Lunch-Break", "lunch"),  # both whole words; the earlier one wins
        ("Break before lunch", "break"),
        ("Meeting over lunch", "meeting"),
        ("Lunch meeting", "lunch"),
        ("out   of\toffice", "out_of_office"),
        ("Out of\nOffice until Friday", "out_of_office"),
        ("Outof Office", None),
        ("Office", None),
        ("Meetings", None),  # whole words: no plural
        ("Homework", None),
        ("Working from HOME", "gone_home"),
        ("Holiday_plan", None),  # the underscore is part of the word
        ("Mittag", None),  # German keyword, English user
        ("ＬＵＮＣＨ", "lunch"),  # full-width letters fold to plain ones
        ("", None),
    ],
)
def test_english_subjects(subject: str, status: str | None) -> None:
    assert status_for(subject, "en") == status


def test_match_tells_keyword_and_position() -> None:
    found = table_for("en").match("Team Out of Office, then lunch")
    assert found is not None
    assert (found.keyword, found.status, found.position) == ("Out of Office", "out_of_office", 5)


def test_the_longer_keyword_wins_at_the_same_position() -> None:
    table = KeywordTable("xx", {"Out": "out_of_office", "Out to lunch": "lunch"})
    assert table.status_for("out to lunch") == "lunch"
    assert table.status_for("out today") == "out_of_office"


@pytest.mark.parametrize(
    ("language", "code"),
    [
        ("de", "de"),
        ("DE", "de"),
        ("de-AT", "de"),
        ("de_DE", "de"),
        ("German", "de"),
        ("Deutsch", "de"),
        ("en-GB", "en"),
        ("english", "en"),
    ],
)
def test_language_codes_resolve(language: str, code: str) -> None:
    assert keywords.resolve_language(language) == code
    assert table_for(language, strict=True).language == code


@pytest.mark.parametrize("language", ["fr", "", None, "klingon"])
def test_unknown_language_falls_back_to_english(language: str | None) -> None:
    assert keywords.resolve_language(language) is None
    assert table_for(language).language == "en"
    assert status_for("Lunch", language) == "lunch"


def test_unknown_language_strict_names_the_choices() -> None:
    with pytest.raises(UnknownLanguageError, match=r"'fr'.*de, en"):
        table_for("fr", strict=True)


def test_tables_are_compiled_once() -> None:
    assert table_for("de") is table_for("de-DE")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"keywords": {"A": "lunch"}}, "language"),
        ({"language": "xx"}, "keywords"),
        ({"language": "xx", "keywords": {}}, "empty"),
        ({"language": "xx", "keywords": {"A": "dancing"}}, "unknown status 'dancing'"),
        ({"language": "xx", "keywords": {"  ": "lunch"}}, "empty keyword"),
        ({"language": "xx", "keywords": {"A b": "lunch", "a  B": "sick"}}, "same keyword"),
        ({"language": "xx", "keywords": {"A": "lunch"}, "colour": "red"}, "colour"),
        ({"language": "xx", "keywords": {"A": 1}}, "table of strings"),
    ],
)
def test_bad_tables_are_refused_with_file_and_key(data: dict[str, object], message: str) -> None:
    with pytest.raises(KeywordTableError, match=message) as caught:
        parse_table(data, "xx.toml")
    assert str(caught.value).startswith("xx.toml: ")


def test_every_shipped_status_is_a_presence_status() -> None:
    for language in keywords.available_languages():
        assert set(table_for(language).keywords.values()) <= KEYWORD_STATUSES
        assert "office" not in table_for(language).keywords.values()


def _case_variants(draw: st.DrawFn, text: str) -> str:
    flips = draw(st.lists(st.booleans(), min_size=len(text), max_size=len(text)))
    return "".join(c.upper() if f else c.lower() for c, f in zip(text, flips, strict=True))


whitespace_runs = st.text(alphabet=" \t\n\u00a0\u2003", min_size=1, max_size=4)
fillers = st.text(alphabet="abc xyz.,;:!?()-0123456789", max_size=12).map(
    lambda s: f" {s} " if s else " "
)


@st.composite
def subjects_with_keyword(draw: st.DrawFn) -> tuple[str, str, str]:
    language = draw(st.sampled_from(["en", "de"]))
    table = ENGLISH if language == "en" else GERMAN
    keyword = draw(st.sampled_from(sorted(table)))
    words = [_case_variants(draw, w) for w in keyword.split()]
    phrase = words[0]
    for word in words[1:]:
        phrase += draw(whitespace_runs) + word
    subject = draw(fillers).lstrip() + phrase + draw(fillers)
    return language, subject, table[keyword]


@given(subjects_with_keyword())
def test_matching_ignores_case_and_whitespace_runs(case: tuple[str, str, str]) -> None:
    language, subject, status = case
    # Fillers hold no letters that spell another keyword, so the keyword found is ours.
    assert status_for(subject, language) == status
    assert status_for(subject.swapcase(), language) == status


@given(st.text(max_size=40), st.sampled_from(["en", "de"]))
def test_matching_is_case_blind_for_any_text(subject: str, language: str) -> None:
    table = table_for(language)
    assert table.status_for(subject.upper()) == table.status_for(subject.lower()) or (
        # Upper-casing can change letters that are not keywords' (e.g. 'ı' -> 'I' -> 'i').
        keywords.fold(subject.upper()) != keywords.fold(subject.lower())
    )


@given(st.sampled_from(sorted(ENGLISH)), st.text(alphabet="abcdefghij0123456789_", min_size=1))
def test_a_keyword_glued_to_a_word_is_not_matched(keyword: str, glue: str) -> None:
    assert status_for(keyword + glue, "en") is None
    assert status_for(glue + keyword, "en") is None
