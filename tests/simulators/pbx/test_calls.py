"""Call routing and announcements (R14), voicemail records and their WAV audio."""

from __future__ import annotations

import io
import wave
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from simulators.pbx import InvalidInput, Pbx, Status, Voicemail
from simulators.pbx.announcements import LANGUAGES, status_sentence

from .conftest import ManualClock

BERLIN_1300 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)  # 13:00 in Berlin


def test_office_rings_the_extension(pbx: Pbx) -> None:
    result = pbx.call("100", "+49305550")
    assert (result.routed_to, result.destination, result.announcement) == ("extension", "100", None)
    assert result.voicemail is None and pbx.voicemails() == []


def test_away_goes_to_voicemail_with_the_announcement_in_english(pbx: Pbx) -> None:
    pbx.set_presence("100", "lunch", BERLIN_1300, set_by="exchange")
    result = pbx.call("100", "200")
    assert result.routed_to == "voicemail"
    assert result.announcement == (
        "User Test is at lunch until 1:00 PM. Please leave a message after the tone."
    )
    assert result.voicemail is not None and pbx.voicemails("100") == [result.voicemail]


def test_german_user_hears_german(pbx: Pbx) -> None:
    pbx.set_presence("101", "lunch", BERLIN_1300, set_by="exchange")
    result = pbx.call("101", "200")
    assert result.announcement == (
        "Grete Müller ist bis 13:00 Uhr in der Mittagspause. "
        "Bitte hinterlassen Sie eine Nachricht nach dem Signalton."
    )


def test_forwarded_status_goes_to_the_mobile(pbx: Pbx) -> None:
    pbx.set_presence("101", "sick", None)
    result = pbx.call("101", "200")
    assert (result.routed_to, result.destination) == ("mobile", "+4917012345678")
    assert result.announcement == (
        "Grete Müller ist krank. Ihr Anruf wird auf ein Mobiltelefon weitergeleitet."
    )
    assert pbx.voicemails() == []


def test_forwarding_without_a_mobile_number_falls_back_to_voicemail(pbx: Pbx) -> None:
    pbx.update_user("100", forward_to_mobile=["meeting"])
    pbx.set_presence("100", "meeting", None)
    assert pbx.call("100", "200").routed_to == "voicemail"


NOON = datetime(2026, 1, 5, 11, 0, tzinfo=UTC)  # 12:00 in Berlin


@pytest.mark.parametrize(
    ("language", "status", "return_time", "expected"),
    [
        ("en", "meeting", BERLIN_1300, "Ann is in a meeting until 1:00 PM."),
        ("en", "sick", None, "Ann is off sick."),
        ("en", "break", datetime(2026, 1, 5, 11, 5, tzinfo=UTC), "Ann is on a break until 12:05 PM."),
        ("en", "out_of_office", datetime(2026, 1, 5, 23, 30, tzinfo=UTC),
         "Ann is out of the office until 12:30 AM on January 6."),
        ("en", "vacation", datetime(2027, 1, 4, 7, 0, tzinfo=UTC),
         "Ann is on vacation until 8:00 AM on January 4, 2027."),
        ("en", "gone_home", None, "Ann is at home."),
        ("de", "meeting", BERLIN_1300, "Ann ist bis 13:00 Uhr in einer Besprechung."),
        ("de", "break", None, "Ann ist in der Pause."),
        ("de", "out_of_office", BERLIN_1300, "Ann ist bis 13:00 Uhr außer Haus."),
        ("de", "vacation", datetime(2026, 3, 2, 7, 0, tzinfo=UTC),
         "Ann ist bis zum 2. März um 8:00 Uhr im Urlaub."),
        ("de", "gone_home", datetime(2027, 1, 4, 7, 0, tzinfo=UTC),
         "Ann ist bis zum 4. Januar 2027 um 8:00 Uhr zu Hause."),
        ("de", "sick", datetime(2026, 1, 5, 16, 30, tzinfo=UTC), "Ann ist bis 17:30 Uhr krank."),
    ],
)  # fmt: skip
def test_status_sentences(
    language: str, status: str, return_time: datetime | None, expected: str
) -> None:
    zone = ZoneInfo("Europe/Berlin")
    assert status_sentence(language, "Ann", Status(status), return_time, NOON, zone) == expected


def test_every_language_has_a_phrase_for_every_away_status() -> None:
    away = {s for s in Status if s != Status.OFFICE}
    for table in LANGUAGES.values():
        assert set(table.phrases) == away


def test_times_are_spoken_in_the_pbx_time_zone(pbx: Pbx) -> None:
    pbx.set_presence("100", "lunch", BERLIN_1300)
    pbx.timezone = "America/New_York"
    assert "until 7:00 AM." in (pbx.call("100", "200").announcement or "")


def test_voicemail_audio_is_a_valid_wav_of_the_message_length(pbx: Pbx) -> None:
    pbx.set_presence("100", "vacation", None)
    message = pbx.call("100", "200", message_seconds=2.5).voicemail
    assert message is not None
    with wave.open(io.BytesIO(message.audio), "rb") as wav:
        assert (wav.getnchannels(), wav.getsampwidth(), wav.getframerate()) == (1, 2, 8000)
        assert wav.getnframes() == 20000
        frames = wav.readframes(wav.getnframes())
    assert any(frames[:4000]) and not any(frames[-4000:])  # a tone, then silence
    assert (message.caller, message.duration_seconds, message.extension) == ("200", 2.5, "100")


def test_on_voicemail_hears_every_message_until_unsubscribed(pbx: Pbx, clock: ManualClock) -> None:
    heard: list[Voicemail] = []
    unsubscribe = pbx.on_voicemail(heard.append)
    pbx.set_presence("100", "meeting", None)
    first = pbx.call("100", "200").voicemail
    pbx.call("100", "201")
    unsubscribe()
    pbx.call("100", "202")
    assert [v.caller for v in heard] == ["200", "201"]
    assert heard[0] is first and heard[0].at == clock.instant
    assert [v.id for v in pbx.voicemails()] == [1, 2, 3]


def test_a_failing_listener_does_not_break_the_call(pbx: Pbx) -> None:
    def broken(_: Voicemail) -> None:
        raise RuntimeError("listener bug")

    pbx.on_voicemail(broken)
    pbx.set_presence("100", "meeting", None)
    assert pbx.call("100", "200").routed_to == "voicemail"


def test_a_listener_may_call_back_into_the_pbx(pbx: Pbx) -> None:
    seen: list[int] = []
    pbx.on_voicemail(lambda v: seen.append(len(pbx.voicemails())))
    pbx.set_presence("100", "meeting", None)
    pbx.call("100", "200")
    assert seen == [1]


def test_calls_are_logged(pbx: Pbx) -> None:
    pbx.call("100", "200")
    pbx.call("101", "200")
    assert [c.to for c in pbx.calls()] == ["100", "101"]
    assert [c.to for c in pbx.calls("101")] == ["101"]


@pytest.mark.parametrize("seconds", [0, -1, 601, float("nan"), True, "3"])
def test_bad_message_lengths_are_refused(pbx: Pbx, seconds: object) -> None:
    pbx.set_presence("100", "meeting", None)
    with pytest.raises(InvalidInput) as err:
        pbx.call("100", "200", message_seconds=seconds)  # type: ignore[arg-type]
    assert err.value.field == "message_seconds"
    assert pbx.calls() == []
