"""Subject keywords that set presence (R5), one data table per voicemail language.

The tables are TOML files next to this module (``en.toml``, ``de.toml``; add a language by
adding a file, see the format there). A subject is searched for the keywords of the
user's language only:

- case-insensitively with Unicode case folding after NFKC normalisation, so
  ``AUSSER HAUS`` matches ``Außer Haus`` (``"ß".casefold() == "ss"``) and full-width
  or ligature letters match their plain forms;
- as whole words: a keyword must not touch a letter, digit or underscore on either side
  (``Breakfast`` holds no ``Break``; ``Lunch-Break`` holds ``Lunch`` and ``Break``);
  plural or inflected forms (``Meetings``) are therefore not keywords;
- a keyword of several words matches as a phrase, with any run of whitespace between
  its words (``out   of\\toffice``);
- when several keywords occur, the one starting earliest in the (folded) subject wins;
  at the same position the longer keyword wins.

Unknown languages fall back to English (``DEFAULT_LANGUAGE``): a PBX user's voicemail
language comes from the PBX directory at run time, and one odd value must not stop
that user's presence. ``table_for(..., strict=True)`` raises ``UnknownLanguageError``
instead, for configuration checks. Language codes are matched on their primary subtag
(``de-AT``, ``DE_de`` -> ``de``) or on a table's ``aliases`` (``German``).

Each table is parsed and compiled into one regular expression once per process.
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from importlib import resources
from types import MappingProxyType
from typing import Any

DEFAULT_LANGUAGE = "en"

# The presence statuses a keyword may set; "office" is what presence returns to, never
# a keyword's status.
KEYWORD_STATUSES: frozenset[str] = frozenset(
    {"meeting", "sick", "break", "out_of_office", "vacation", "lunch", "gone_home"}
)


class KeywordTableError(ValueError):
    """A keyword data file is malformed; the message names the file and the key."""


class UnknownLanguageError(LookupError):
    """No keyword table for a language (only raised with ``strict=True``)."""


def fold(text: str) -> str:
    """Caseless form used for matching: NFKC, Unicode case folding, NFKC again."""
    return unicodedata.normalize("NFKC", unicodedata.normalize("NFKC", text).casefold())


@dataclass(frozen=True, slots=True)
class KeywordMatch:
    """The winning keyword in a subject: as written in the table, its status, and
    where it starts in ``fold(subject)``."""

    keyword: str
    status: str
    position: int


class KeywordTable:
    """One language's keywords, compiled once into a single alternation."""

    def __init__(
        self,
        language: str,
        keywords: Mapping[str, str],
        *,
        name: str = "",
        aliases: tuple[str, ...] = (),
        source: str = "<table>",
    ) -> None:
        self.language = language
        self.name = name or language
        self.aliases = aliases
        self.keywords: Mapping[str, str] = MappingProxyType(dict(keywords))
        if not self.keywords:
            raise KeywordTableError(f"{source}: [keywords] is empty")
        folded: dict[str, str] = {}
        for keyword, status in self.keywords.items():
            words = fold(keyword).split()
            if not words:
                raise KeywordTableError(f"{source}: keywords: empty keyword {keyword!r}")
            if status not in KEYWORD_STATUSES:
                raise KeywordTableError(
                    f"{source}: keywords.{keyword!r}: unknown status {status!r} "
                    f"(one of {', '.join(sorted(KEYWORD_STATUSES))})"
                )
            phrase = " ".join(words)
            if phrase in folded:
                raise KeywordTableError(
                    f"{source}: keywords: {keyword!r} and {folded[phrase]!r} are the same keyword"
                )
            folded[phrase] = keyword
        # Longest first, so that at one position the longer keyword wins; the search
        # itself returns the leftmost match, which is the "earliest keyword" rule.
        self._order: tuple[str, ...] = tuple(
            folded[p] for p in sorted(folded, key=lambda p: (-len(p), p))
        )
        alternatives = (
            "(" + r"\s+".join(re.escape(word) for word in fold(keyword).split()) + ")"
            for keyword in self._order
        )
        self._pattern = re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")

    def __repr__(self) -> str:
        return f"KeywordTable({self.language!r}, {len(self.keywords)} keywords)"

    def match(self, subject: str) -> KeywordMatch | None:
        """The keyword starting earliest in ``subject``, or None."""
        found = self._pattern.search(fold(subject))
        if found is None or found.lastindex is None:
            return None
        keyword = self._order[found.lastindex - 1]
        return KeywordMatch(keyword, self.keywords[keyword], found.start())

    def status_for(self, subject: str) -> str | None:
        """The presence status ``subject`` asks for, or None (no keyword: R5)."""
        found = self.match(subject)
        return None if found is None else found.status


def parse_table(data: Mapping[str, Any], source: str) -> KeywordTable:
    """Build a table from a parsed TOML document (see ``en.toml`` for the format)."""
    language = data.get("language")
    if not isinstance(language, str) or not language.strip():
        raise KeywordTableError(f"{source}: language: expected a language code")
    keywords = data.get("keywords")
    if not isinstance(keywords, Mapping) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in keywords.items()
    ):
        raise KeywordTableError(f"{source}: keywords: expected a table of strings")
    name = data.get("name", "")
    aliases = data.get("aliases", [])
    if not isinstance(name, str):
        raise KeywordTableError(f"{source}: name: expected a string")
    if not isinstance(aliases, list) or not all(isinstance(a, str) for a in aliases):
        raise KeywordTableError(f"{source}: aliases: expected a list of strings")
    unknown = set(data) - {"language", "name", "aliases", "keywords"}
    if unknown:
        raise KeywordTableError(f"{source}: unknown key {sorted(unknown)[0]!r}")
    return KeywordTable(
        language.strip().lower(), keywords, name=name, aliases=tuple(aliases), source=source
    )


@cache
def _tables() -> Mapping[str, KeywordTable]:
    """Every shipped table by language code, loaded once."""
    tables: dict[str, KeywordTable] = {}
    for entry in sorted(resources.files(__name__).iterdir(), key=lambda e: e.name):
        if not entry.name.endswith(".toml"):
            continue
        source = f"integration/keywords/{entry.name}"
        try:
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
        except tomllib.TOMLDecodeError as exc:
            raise KeywordTableError(f"{source}: {exc}") from None
        table = parse_table(data, source)
        if table.language in tables:
            raise KeywordTableError(f"{source}: language {table.language!r} defined twice")
        tables[table.language] = table
    return MappingProxyType(tables)


@cache
def _aliases() -> Mapping[str, str]:
    names: dict[str, str] = {}
    for code, table in _tables().items():
        for alias in (table.name, *table.aliases):
            names[fold(alias).strip()] = code
    return names


def available_languages() -> tuple[str, ...]:
    """The language codes that have a table, sorted."""
    return tuple(sorted(_tables()))


def resolve_language(language: str | None) -> str | None:
    """The table code for ``language`` (code, code with region, name or alias), or None."""
    if not language:
        return None
    text = language.strip()
    primary = text.replace("_", "-").split("-", 1)[0].lower()
    if primary in _tables():
        return primary
    return _aliases().get(fold(text))


def table_for(language: str | None, *, strict: bool = False) -> KeywordTable:
    """The keyword table of a voicemail language.

    Falls back to English for an unknown or missing language, unless ``strict``.
    """
    code = resolve_language(language)
    if code is None:
        if strict:
            raise UnknownLanguageError(
                f"no keyword table for language {language!r} "
                f"(available: {', '.join(available_languages())})"
            )
        code = DEFAULT_LANGUAGE
    return _tables()[code]


def status_for(subject: str, language: str | None) -> str | None:
    """The presence status ``subject`` sets for a user of ``language``, or None."""
    return table_for(language).status_for(subject)
