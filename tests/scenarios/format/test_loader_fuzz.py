"""Bounded fuzz of the scenario loader: any text, and scenarios with hostile values in
every time-like field, give ``FILE:LINE`` problems (a ``ScenarioError``) or a scenario,
never another exception."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from scenarios.format.loader import parse_scenario
from scenarios.format.model import ScenarioError
from tests.fuzzing import FUZZ_PURE, NASTY_TEXT, TEXT

TIMES = st.one_of(
    st.sampled_from(
        [
            "0001-01-01 00:00",
            "9999-12-31 23:59",
            "4499-12-31 23:00",
            "1971-01-01 00:00",
            "2026-03-29 02:30",
            "2026-10-25 02:30",
            "12:00",
            "25:00",
            "2026-01-05T12:00:00+99:00",
        ]
    ),
    TEXT,
)
DURATIONS = st.one_of(
    st.sampled_from(["99999999999h", "0s", "-1s", "9" * 5000 + "s", "1h30m", "30", "8785h"]),
    TEXT,
)

TEMPLATE = """\
name: fuzz
timezone: {zone}
start: "{start}"
end: "{end}"
engine:
  poll_interval: "{interval}"
  lead_time: "{lead}"
users:
  - extension: "100"
    name: A
    email: a@domain.net
appointments:
  - mailbox: a@domain.net
    subject: Meeting
    start: "{appt}"
    end: "{appt_end}"
    recurrence: {{pattern: weekly, days: [monday], until: "{until}"}}
steps:
  - at: "{step}"
    expect_presence: {{user: "100", status: office}}
"""


def _quoted(text: str) -> str:
    return text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", " ")


def _load(text: str) -> None:
    try:
        parse_scenario(text, "fuzz.yaml")
    except ScenarioError as exc:
        assert exc.problems and all(p.startswith("fuzz.yaml:") for p in exc.problems)


@FUZZ_PURE
@given(
    zone=st.sampled_from(["Europe/Berlin", "UTC", "Pacific/Kiritimati", "Nowhere/Land"]),
    start=TIMES,
    end=TIMES,
    interval=DURATIONS,
    lead=DURATIONS,
    appt=TIMES,
    appt_end=TIMES,
    until=st.one_of(st.sampled_from(["9999-12-31", "0001-01-01", "2026-12-31"]), TEXT),
    step=TIMES,
)
def test_hostile_values(**fields: str) -> None:
    _load(TEMPLATE.format(**{k: _quoted(v) for k, v in fields.items()}))


@FUZZ_PURE
@given(text=st.one_of(st.text(max_size=400), st.sampled_from(NASTY_TEXT)))
def test_any_text(text: str) -> None:
    _load(text)
