"""Bounded fuzz of the control API: journal filters and fault specs of every shape get
a JSON answer below 500."""

from __future__ import annotations

import json

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from tests.fuzzing import DATES, FUZZ, TEXT, no_tracebacks
from tests.scenarios.commands.test_control import control, ready, running, served

__all__ = ["control", "ready", "running", "served"]  # fixtures used here

VALUES = st.one_of(st.none(), st.booleans(), st.integers(-(10**30), 10**30), DATES, TEXT)


@FUZZ
@given(
    since=st.one_of(DATES, TEXT),
    service=st.one_of(st.sampled_from(["ews", "webdav", "smtp", "pbx", "x"]), TEXT),
    spec=st.dictionaries(
        st.sampled_from(["service", "kind", "duration", "x"]),
        st.one_of(VALUES, st.sampled_from(["99999999999h", "30s", "-5s", "9" * 5000 + "s"])),
        max_size=4,
    ),
)
def test_control_api(
    control: httpx.Client,
    caplog: pytest.LogCaptureFixture,
    since: str,
    service: str,
    spec: dict[str, object],
) -> None:
    assert (
        control.get("/control/journal", params={"since": since, "service": service}).status_code
        < 500
    )
    response = control.post(
        "/control/faults", content=json.dumps(spec), headers={"Content-Type": "application/json"}
    )
    assert response.status_code < 500, response.text
    assert control.delete("/control/faults").status_code == 200
    no_tracebacks(caplog)
