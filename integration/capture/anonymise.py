"""Stable pseudonyms for a capture: what identifies people leaves the customer's site
only as a keyed hash.

Names, e-mail addresses and locations become pseudonyms derived with HMAC-SHA256
under a key: the same input gives the same pseudonym (under the same key, across
captures), and without the key nobody can test a guess. In a subject, the words of
every keyword of every language (``integration.keywords``, phrases included,
matched as the engine matches them: whole words, Unicode case folding) are kept as
written; every other word is replaced by a pseudonym word, punctuation and spaces
stay. Bodies are never written at all.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from collections.abc import Sequence
from dataclasses import dataclass, field

from integration import keywords
from integration.capture.model import Capture

DOMAIN = "domain.net"  # the simulated organisation's domain
_WORD = re.compile(r"\w+")


def new_key() -> bytes:
    """A random key: pseudonyms stable within one capture only."""
    return secrets.token_bytes(32)


def _keyword_phrases() -> list[tuple[str, ...]]:
    phrases: set[tuple[str, ...]] = set()
    for language in keywords.available_languages():
        for keyword in keywords.table_for(language).keywords:
            phrases.add(tuple(keywords.fold(keyword).split()))
    return sorted(phrases, key=lambda p: -len(p))


@dataclass
class Pseudonyms:
    """Pseudonyms under one key."""

    key: bytes
    _phrases: list[tuple[str, ...]] = field(default_factory=_keyword_phrases)

    def _digest(self, kind: str, value: str, length: int) -> str:
        mac = hmac.new(self.key, f"{kind}\x00{value}".encode(), hashlib.sha256)
        return mac.hexdigest()[:length]

    def address(self, address: str) -> str:
        """``user-1a2b3c4d@domain.net`` for an address (case-insensitive)."""
        return f"user-{self._digest('address', address.strip().lower(), 8)}@{DOMAIN}"

    def name(self, name: str) -> str:
        """``Person 1a2b3c`` for a display name (empty stays empty)."""
        if not name.strip():
            return ""
        return f"Person {self._digest('name', keywords.fold(name.strip()), 6)}"

    def location(self, location: str) -> str:
        if not location.strip():
            return ""
        return f"Place {self._digest('location', keywords.fold(location.strip()), 6)}"

    def word(self, word: str) -> str:
        return "w" + self._digest("word", keywords.fold(word), 5)

    def subject(self, subject: str) -> str:
        """The subject with every word that is not part of a keyword replaced."""
        words = list(_WORD.finditer(subject))
        keep = [False] * len(words)
        folded = [keywords.fold(w.group()) for w in words]
        for index in range(len(words)):
            for phrase in self._phrases:
                end = index + len(phrase)
                if end > len(words) or tuple(folded[index:end]) != phrase:
                    continue
                gaps = [
                    subject[words[i].end() : words[i + 1].start()] for i in range(index, end - 1)
                ]
                if all(g and not g.strip() for g in gaps):  # a phrase: words and spaces only
                    for i in range(index, end):
                        keep[i] = True
                    break
        parts: list[str] = []
        last = 0
        for index, match in enumerate(words):
            parts.append(subject[last : match.start()])
            parts.append(match.group() if keep[index] else self.word(match.group()))
            last = match.end()
        parts.append(subject[last:])
        return "".join(parts)


def anonymise(capture: Capture, key: bytes) -> dict[str, str]:
    """Replace, in place, everything that identifies people; returns the mapping of
    real to pseudonymous addresses (for the operator, never written to the file)."""
    names = Pseudonyms(key)
    addresses: dict[str, str] = {}
    for mailbox in capture.mailboxes:
        fake = names.address(mailbox.address)
        addresses[mailbox.address] = fake
        mailbox.address = fake
        mailbox.display_name = names.name(mailbox.display_name)
        for appointment in mailbox.appointments:
            appointment.subject = names.subject(appointment.subject)
            appointment.location = names.location(appointment.location)
            appointment.source = ""
            for change in appointment.exceptions:
                if change.subject is not None:
                    change.subject = names.subject(change.subject)
                if change.location is not None:
                    change.location = names.location(change.location)
    return addresses


def kept_words(subjects: Sequence[str]) -> set[str]:
    """The keyword words a set of subjects keeps (for reports and tests)."""
    phrases = {word for phrase in _keyword_phrases() for word in phrase}
    return {w for s in subjects for w in _WORD.findall(s) if keywords.fold(w) in phrases}


__all__ = ["DOMAIN", "Pseudonyms", "anonymise", "kept_words", "new_key"]
