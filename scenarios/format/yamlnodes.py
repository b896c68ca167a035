"""YAML as a tree of nodes with line numbers, and typed reads that report problems.

The scenario loader never lets PyYAML build Python values: it composes the node
tree (every node knows its line), checks duplicate keys while composing, and
reads each value from the text as written. That keeps ``12:00`` a time (YAML 1.1
would make it the sexagesimal integer 720), ``0100`` an extension and ``no`` a
language. ``Reader`` collects every problem as (line, message) instead of
stopping at the first, and its reads return ``None`` after reporting one.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime, timedelta, tzinfo
from typing import Any
from zoneinfo import ZoneInfo

import yaml
from yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from scenarios.format import times

NULL_TAG = "tag:yaml.org,2002:null"
BOOL_TAG = "tag:yaml.org,2002:bool"
MERGE_TAG = "tag:yaml.org,2002:merge"


class LineLoader(yaml.SafeLoader):
    """A SafeLoader that notes duplicate keys (with both lines) while composing."""

    def __init__(self, stream: str) -> None:
        super().__init__(stream)
        self.duplicates: list[tuple[int, str]] = []

    def compose_mapping_node(self, anchor: Any) -> MappingNode:
        node: MappingNode = super().compose_mapping_node(anchor)
        seen: dict[str, int] = {}
        for key, _ in node.value:
            if not isinstance(key, ScalarNode) or key.tag == MERGE_TAG:
                continue
            line = line_of(key)
            if key.value in seen:
                self.duplicates.append(
                    (line, f"duplicate key {key.value!r} (first at line {seen[key.value]})")
                )
            else:
                seen[key.value] = line
        return node


def line_of(node: Node) -> int:
    return int(node.start_mark.line) + 1


def compose(text: str) -> tuple[Node | None, list[tuple[int, str]]]:
    """The document's root node (None when empty) and problems found while parsing."""
    loader = None
    try:
        loader = LineLoader(text)  # checks for unprintable characters already
        root = loader.get_single_node()
    except yaml.MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        # At the end of the stream the mark is past the last line: name the last one.
        last = max(1, len(text.splitlines()))
        line = min(int(mark.line) + 1, last) if mark is not None else 1
        context = exc.context or ""
        if exc.context_mark is not None and int(exc.context_mark.line) + 1 != line:
            context += f" (line {int(exc.context_mark.line) + 1})"
        problem = " ".join(p for p in (context, exc.problem) if p)
        return None, [(line, f"YAML syntax error: {problem}")]
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, max(exc.position, 0)) + 1
        char = chr(exc.character) if isinstance(exc.character, int) else exc.character
        return None, [(line, f"character {char!r} is not allowed in YAML")]
    except yaml.YAMLError as exc:
        return None, [(1, f"YAML error: {exc}")]
    except RecursionError:
        return None, [(1, "the file nests lists and mappings too deeply")]
    finally:
        if loader is not None:
            loader.dispose()  # type: ignore[no-untyped-call]
    if root is not None and (loop := _cycle(root)) is not None:
        return None, [(line_of(loop), "an alias here refers to a node that contains it")]
    return root, list(loader.duplicates)


def _children(node: Node) -> list[Node]:
    if isinstance(node, MappingNode):
        return [n for pair in node.value for n in pair]
    if isinstance(node, SequenceNode):
        return list(node.value)
    return []


def _cycle(root: Node) -> Node | None:
    """A node reachable from itself through aliases (``&a [*a]``), if any."""
    # Iterative depth-first search: the tree may be deep, and a cycle is endless.
    on_path: set[int] = {id(root)}
    done: set[int] = set()
    stack = [(root, iter(_children(root)))]
    while stack:
        node, pending = stack[-1]
        child = next(pending, None)
        if child is None:
            on_path.discard(id(node))
            done.add(id(node))
            stack.pop()
        elif id(child) in on_path:
            return child
        elif id(child) not in done:
            on_path.add(id(child))
            stack.append((child, iter(_children(child))))
    return None


def is_null(node: Node | None) -> bool:
    return node is None or (isinstance(node, ScalarNode) and node.tag == NULL_TAG)


def kind_of(node: Node) -> str:
    if isinstance(node, MappingNode):
        return "a mapping"
    if isinstance(node, SequenceNode):
        return "a list"
    if is_null(node):
        return "nothing"
    return repr(node.value)


def suggest(word: str, choices: Iterable[str]) -> str:
    """' (did you mean 'x'?)' or '; one of: a, b, c'."""
    options = list(choices)
    close = difflib.get_close_matches(word, options, n=1, cutoff=0.6)
    if close:
        return f" (did you mean {close[0]!r}?)"
    return "; one of: " + ", ".join(options)


class Fields:
    """The entries of one mapping, already checked against its allowed keys."""

    def __init__(self, reader: Reader, node: MappingNode, what: str) -> None:
        self.reader = reader
        self.node = node
        self.what = what
        self.line = line_of(node)
        self.entries: dict[str, tuple[Node, Node]] = {}

    def __contains__(self, key: str) -> bool:
        return not is_null(self.get(key))

    def get(self, key: str) -> Node | None:
        """The value node, or None when the key is absent or its value is null."""
        entry = self.entries.get(key)
        if entry is None or is_null(entry[1]):
            return None
        return entry[1]

    def key_line(self, key: str) -> int:
        entry = self.entries.get(key)
        return line_of(entry[0]) if entry else self.line

    def require(self, key: str) -> Node | None:
        node = self.get(key)
        if node is None:
            self.reader.error(self.key_line(key), f"{self.what} needs {key!r}")
        return node

    def _label(self, key: str) -> str:
        return key if self.what in ("the file", "") else f"{self.what} {key}"

    def text(self, key: str, default: str | None = None, required: bool = False) -> str | None:
        node = self.require(key) if required else self.get(key)
        return default if node is None else self.reader.text(node, self._label(key))

    def flag(self, key: str, default: bool) -> bool:
        node = self.get(key)
        value = None if node is None else self.reader.flag(node, self._label(key))
        return default if value is None else value

    def choice(self, key: str, choices: Sequence[str], default: str | None = None) -> str | None:
        node = self.get(key)
        return default if node is None else self.reader.choice(node, self._label(key), choices)

    def integer(self, key: str, low: int, high: int) -> int | None:
        node = self.get(key)
        return None if node is None else self.reader.integer(node, self._label(key), low, high)

    def duration(self, key: str, default: timedelta) -> timedelta | None:
        """The duration, the default when absent, None after reporting a bad one."""
        node = self.get(key)
        return default if node is None else self.reader.duration(node, self._label(key))

    def moment(self, key: str, day: date | None = None, required: bool = False) -> datetime | None:
        node = self.require(key) if required else self.get(key)
        return None if node is None else self.reader.moment(node, self._label(key), day)

    def date(self, key: str, required: bool = False) -> date | None:
        node = self.require(key) if required else self.get(key)
        return None if node is None else self.reader.date(node, self._label(key))

    def items(self, key: str) -> list[Node]:
        node = self.get(key)
        return [] if node is None else self.reader.sequence(node, self._label(key))


class Reader:
    """Typed reads of nodes of one file; problems collect in ``problems``.

    ``zone`` and ``day`` (the scenario's zone and local start date) are set once
    the top level is read; times of day resolve against them. ``zoned`` reads a
    part of the file (an appointment with its own zone) in another zone.
    """

    def __init__(self, path: str) -> None:
        self.path = path
        self.problems: list[tuple[int, str]] = []
        self.zone: tzinfo = ZoneInfo("UTC")
        self.day = date(2000, 1, 1)

    @contextmanager
    def zoned(self, zone: tzinfo | None) -> Iterator[None]:
        """Times read inside the block are local to ``zone`` (None: unchanged)."""
        if zone is None:
            yield
            return
        saved = self.zone
        self.zone = zone
        try:
            yield
        finally:
            self.zone = saved

    def error(self, where: Node | int, message: str) -> None:
        line = where if isinstance(where, int) else line_of(where)
        self.problems.append((line, message))

    def formatted(self) -> list[str]:
        """``FILE:LINE: message`` for each problem, by line (stable within a line)."""
        ordered = sorted(self.problems, key=lambda p: p[0])
        return [f"{self.path}:{line}: {message}" for line, message in ordered]

    def mapping(
        self, node: Node, what: str, allowed: Sequence[str], required: Sequence[str] = ()
    ) -> Fields | None:
        """The mapping's entries; unknown keys are reported with the allowed ones."""
        if not isinstance(node, MappingNode):
            self.error(node, f"{what} must be a mapping of keys to values, not {kind_of(node)}")
            return None
        fields = Fields(self, node, what)
        explicit: dict[str, tuple[Node, Node]] = {}
        merged: dict[str, tuple[Node, Node]] = {}
        for key, value in node.value:
            if isinstance(key, ScalarNode) and key.tag == MERGE_TAG:
                # YAML merge (`<<: *anchor`): explicit keys win over merged ones.
                sources = value.value if isinstance(value, SequenceNode) else [value]
                for source in sources:
                    if isinstance(source, MappingNode):
                        for k, v in source.value:
                            if isinstance(k, ScalarNode):
                                merged.setdefault(str(k.value), (k, v))
                    else:
                        self.error(source, "a merge key (<<) needs a mapping or a list of them")
                continue
            if not isinstance(key, ScalarNode) or is_null(key):
                self.error(key, f"keys in {what} must be words, not {kind_of(key)}")
                continue
            explicit.setdefault(str(key.value), (key, value))
        for name, entry in {**merged, **explicit}.items():
            if name not in allowed:
                self.error(entry[0], f"unknown key {name!r} in {what}{suggest(name, allowed)}")
            else:
                fields.entries[name] = entry
        for name in required:
            fields.require(name)
        return fields

    def sequence(self, node: Node, what: str) -> list[Node]:
        if is_null(node):
            return []
        if not isinstance(node, SequenceNode):
            self.error(node, f"{what} must be a list, not {kind_of(node)}")
            return []
        return list(node.value)

    def text(self, node: Node, what: str) -> str | None:
        """Any scalar, as written (quoted or not): 100 is '100', yes is 'yes'."""
        if not isinstance(node, ScalarNode) or is_null(node):
            self.error(node, f"{what} must be text, not {kind_of(node)}")
            return None
        return str(node.value)

    def nonempty(self, node: Node, what: str) -> str | None:
        value = self.text(node, what)
        if value is not None and not value.strip():
            self.error(node, f"{what} must not be empty")
            return None
        return value

    def flag(self, node: Node, what: str) -> bool | None:
        if isinstance(node, ScalarNode) and node.tag == BOOL_TAG:
            return str(node.value).lower() in ("true", "yes", "on")
        self.error(node, f"{what} must be true or false, not {kind_of(node)}")
        return None

    def integer(self, node: Node, what: str, low: int, high: int) -> int | None:
        raw = self.text(node, what)
        if raw is None:
            return None
        if not raw.strip().lstrip("+-").isdigit():
            self.error(node, f"{what} must be a whole number, not {raw!r}")
            return None
        value = int(raw)
        if not low <= value <= high:
            self.error(node, f"{what} must be between {low} and {high}, not {value}")
            return None
        return value

    def choice(self, node: Node, what: str, choices: Sequence[str]) -> str | None:
        """One of ``choices``, matched case-insensitively, returned as spelled there."""
        raw = self.text(node, what)
        if raw is None:
            return None
        for option in choices:
            if raw.strip().lower() == option.lower():
                return option
        self.error(node, f"unknown {what} {raw!r}{suggest(raw, choices)}")
        return None

    def duration(self, node: Node, what: str) -> timedelta | None:
        raw = self.text(node, what)
        if raw is None:
            return None
        try:
            return times.parse_duration(raw)
        except ValueError as exc:
            self.error(node, f"{what}: {exc}")
            return None

    def moment(self, node: Node, what: str, day: date | None = None) -> datetime | None:
        raw = self.text(node, what)
        if raw is None:
            return None
        try:
            return times.parse_moment(raw, self.zone, day or self.day)
        except ValueError as exc:
            self.error(node, f"{what}: {exc}")
            return None

    def date(self, node: Node, what: str) -> date | None:
        raw = self.text(node, what)
        if raw is None:
            return None
        try:
            return times.parse_date(raw)
        except ValueError as exc:
            self.error(node, f"{what}: {exc}")
            return None


__all__ = ["Fields", "LineLoader", "Reader", "compose", "is_null", "line_of", "suggest"]
