"""Hostile input to the PBX API: times near year 1 or 9999 are a 400 and never break
later reads; a long voicemail costs the PBX nothing to keep."""

from __future__ import annotations

import tracemalloc
from collections.abc import Iterator

import httpx
import pytest

from simulators.pbx import Pbx
from simulators.pbx.pbx import MAX_VOICEMAILS_PER_BOX
from simulators.pbx.server import PbxServer
from simulators.pbx.voicemail import message_wav


@pytest.fixture
def api(pbx: Pbx) -> Iterator[httpx.Client]:
    with PbxServer(pbx) as server, httpx.Client(base_url=server.url, timeout=10) as client:
        yield client


@pytest.mark.parametrize(
    "when",
    ["9999-12-31T23:00:00+00:00", "9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+01:00"],
)
def test_a_return_time_at_the_ends_of_time_is_refused(api: httpx.Client, when: str) -> None:
    response = api.put(
        "api/users/100/presence",
        json={"status": "meeting", "return_time": when, "set_by": "exchange"},
    )
    assert response.status_code == 400
    assert response.json()["field"] == "return_time"
    assert "between 1970-01-01 and 4500-12-31" in response.json()["error"]
    # Nothing was stored that could break the reads every client makes.
    assert api.get("api/presence").status_code == 200
    assert api.get("api/journal").status_code == 200
    assert api.get("api/users/100/presence").json()["return_time"] is None


def test_the_edge_of_the_range_is_kept_and_read(api: httpx.Client) -> None:
    when = "4500-12-31T23:00:00+00:00"
    response = api.put("api/users/100/presence", json={"status": "meeting", "return_time": when})
    assert response.status_code == 200
    assert api.get("api/presence").status_code == 200
    assert api.get("api/journal").status_code == 200


@pytest.mark.parametrize(
    ("since", "message"),
    [
        ("0001-01-01T00:00:00+05:00", "between 1970-01-01"),
        ("9999-12-31T23:59:59-05:00", "between 1970-01-01"),
        ("2026-01-05T10:00:00", "needs a UTC offset"),
        ("tomorrow", "not an ISO 8601"),
    ],
)
def test_journal_since_out_of_range(api: httpx.Client, since: str, message: str) -> None:
    response = api.get("api/journal", params={"since": since})
    assert response.status_code == 400 and message in response.json()["error"]


def test_a_600_second_voicemail_is_not_kept_as_bytes(pbx: Pbx, api: httpx.Client) -> None:
    pbx.set_presence("100", "meeting", None)
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        for _ in range(5):
            assert (
                api.post(
                    "api/calls", json={"to": "100", "from": "+4930555", "message_seconds": 600}
                ).json()["routed_to"]
                == "voicemail"
            )
        kept = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    assert kept < 2_000_000  # 48 MB of WAV if each recording were kept
    [first, *_] = api.get("api/voicemails").json()["voicemails"]
    audio = api.get(first["audio_url"].lstrip("/"))
    assert audio.headers["content-type"] == "audio/wav"
    assert audio.content == message_wav(600.0) and len(audio.content) == 9_600_044


def test_a_full_voicemail_box_drops_its_oldest_message(pbx: Pbx) -> None:
    pbx.set_presence("100", "meeting", None)
    for n in range(MAX_VOICEMAILS_PER_BOX + 3):
        pbx.call("100", f"+49{n}", message_seconds=1)
    box = pbx.voicemails("100")
    assert len(box) == MAX_VOICEMAILS_PER_BOX
    assert box[0].caller == "+493" and box[-1].caller == f"+49{MAX_VOICEMAILS_PER_BOX + 2}"


@pytest.mark.parametrize("voicemail_id", ["9" * 5000, "²", "1" * 19])
def test_a_voicemail_id_that_is_no_number_is_a_404(api: httpx.Client, voicemail_id: str) -> None:
    # Found by the fuzz test: 5000 digits made int() raise, a 500.
    response = api.get(f"api/voicemails/{voicemail_id}/audio")
    assert response.status_code == 404 and len(response.text) < 200
