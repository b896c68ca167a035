"""Bounded fuzz of the PBX JSON API: every route with hostile JSON and queries gets a
JSON answer below 500, and the reads every client makes keep working."""

from __future__ import annotations

import json
from collections.abc import Iterator
from urllib.parse import quote

import httpx
import pytest
from hypothesis import given
from hypothesis import strategies as st

from simulators.pbx import Pbx
from simulators.pbx.server import PbxServer
from tests.fuzzing import DATES, FUZZ, TEXT, no_tracebacks

VALUES = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(10**30), 10**30),
    st.floats(allow_nan=False),
    DATES,
    TEXT,
    st.lists(st.integers(), max_size=3),
)


@pytest.fixture
def api(pbx: Pbx) -> Iterator[httpx.Client]:
    with PbxServer(pbx) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


@FUZZ
@given(
    status=st.one_of(st.sampled_from(["meeting", "office", "lunch"]), TEXT),
    return_time=VALUES,
    set_by=VALUES,
    extra=st.dictionaries(st.sampled_from(["reason", "x", "status"]), VALUES, max_size=2),
)
def test_put_presence(
    api: httpx.Client,
    caplog: pytest.LogCaptureFixture,
    status: str,
    return_time: object,
    set_by: object,
    extra: dict[str, object],
) -> None:
    body = {"status": status, "return_time": return_time, "set_by": set_by, **extra}
    response = api.put(
        "api/users/100/presence",
        content=json.dumps(body),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code < 500 and isinstance(response.json(), dict)
    for read in ("api/presence", "api/journal", "api/users/100/presence"):
        assert api.get(read).status_code == 200
    no_tracebacks(caplog)


@FUZZ
@given(
    to=VALUES,
    caller=VALUES,
    seconds=VALUES,
    since=st.one_of(DATES, TEXT),
    user=TEXT.map(lambda t: quote(t[:200], safe="")),  # a URL httpx will send
)
def test_calls_and_queries(
    api: httpx.Client,
    caplog: pytest.LogCaptureFixture,
    to: object,
    caller: object,
    seconds: object,
    since: str,
    user: str,
) -> None:
    response = api.post(
        "api/calls",
        content=json.dumps({"to": to, "from": caller, "message_seconds": seconds}),
        headers={"Content-Type": "application/json"},
    )
    assert response.status_code < 500
    for path, params in (
        ("api/journal", {"since": since, "user": user}),
        ("api/directory", {"q": user}),
        ("api/calls", {"to": user}),
        (f"api/users/{user}", {}),
        (f"api/voicemails/{user}/audio", {}),
    ):
        assert api.get(path, params=params).status_code < 500
    no_tracebacks(caplog)
