"""The voicemail position file: what was mailed, surviving the queue, small and atomic."""

from __future__ import annotations

import json
from pathlib import Path

from integration.mail.voicemail_position import VoicemailPosition, position_path


def test_the_file_sits_beside_the_queue() -> None:
    assert position_path(Path("/var/pbx/mail-queue.sqlite3")) == Path(
        "/var/pbx/mail-queue.voicemails.json"
    )


def test_recorded_keys_survive_a_new_process(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    VoicemailPosition(path).record(["voicemail:100:1:t"])
    again = VoicemailPosition(path)
    assert "voicemail:100:1:t" in again and "voicemail:100:2:t" not in again
    assert json.loads(path.read_text())["mailed"] == ["voicemail:100:1:t"]


def test_keys_the_pbx_no_longer_lists_are_dropped(tmp_path: Path) -> None:
    position = VoicemailPosition(tmp_path / "p.json")
    position.record(["a", "b", "c"])
    position.record(["d"], listed={"b", "c"})
    assert position.keys() == {"b", "c", "d"}
    assert set(VoicemailPosition(tmp_path / "p.json").keys()) == {"b", "c", "d"}


def test_nothing_changed_writes_nothing(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    position = VoicemailPosition(path)
    position.record()
    assert not path.exists()
    position.record(["a"])
    stamp = path.stat().st_mtime_ns
    position.record(["a"], listed={"a", "zzz"})
    assert path.stat().st_mtime_ns == stamp


def test_a_damaged_position_file_is_moved_aside(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text("{not json")
    position = VoicemailPosition(path)
    assert len(position) == 0
    assert [p.name.split(".corrupt-")[0] for p in tmp_path.glob("p.json.corrupt-*")] == ["p.json"]
    position.record(["a"])
    assert "a" in VoicemailPosition(path)
