"""Bounded fuzz of the engine configuration loader: any TOML values in every key give
``ConfigError`` lines naming the file, or a configuration; never another exception."""

from __future__ import annotations

import json
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

from integration.config import ConfigError, load_config_text
from tests.fuzzing import FUZZ_PURE, NASTY_TEXT, TEXT

VALUES = st.one_of(
    st.booleans(),
    st.integers(-(2**63), 2**63 - 1),
    TEXT,
    st.sampled_from(["99999999999h", "9" * 5000 + "s", "30s", "0s", "-5m", "https://x/EWS"]),
)
KEYS = {
    "exchange": ["enabled", "variant", "server_url", "username", "password", "ca_file"],
    "polling": ["interval", "lead_time", "catch_up", "concurrency", "request_timeout"],
    "pbx": ["url"],
    "smtp": ["server", "port", "security", "sender", "username", "password", "timeout"],
}


def _toml(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=True)  # JSON strings are TOML basic strings


def _load(text: str) -> None:
    try:
        load_config_text(text, Path("/nonexistent"), name="engine.toml")
    except ConfigError as exc:
        assert exc.problems and all(p.startswith("engine.toml: ") for p in exc.problems)


@FUZZ_PURE
@given(
    values=st.fixed_dictionaries(
        {
            section: st.dictionaries(st.sampled_from(keys), VALUES, max_size=len(keys))
            for section, keys in KEYS.items()
        }
    )
)
def test_hostile_values(values: dict[str, dict[str, object]]) -> None:
    text = "\n".join(
        f"[{section}]\n" + "".join(f"{k} = {_toml(v)}\n" for k, v in table.items())
        for section, table in values.items()
    )
    _load(text)


@FUZZ_PURE
@given(text=st.one_of(st.text(max_size=300), st.sampled_from(NASTY_TEXT)))
def test_any_text(text: str) -> None:
    _load(text)
