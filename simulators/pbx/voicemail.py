"""The audio of a voicemail: a small, valid WAV file made with ``wave``.

No one speaks into the simulator, so a message is a short 425 Hz tone (the
European ring-back frequency, easy to spot in a player) followed by silence,
8 kHz mono 16-bit PCM like a telephone line.
"""

from __future__ import annotations

import io
import math
import struct
import wave

SAMPLE_RATE = 8000
TONE_HZ = 425.0
TONE_SECONDS = 0.25
AMPLITUDE = 8000  # of 32767: audible, never clipping
MAX_SECONDS = 600.0


def message_wav(seconds: float) -> bytes:
    """A WAV file of ``seconds`` (0 < seconds <= 600): the tone, then silence."""
    if not 0 < seconds <= MAX_SECONDS:
        raise ValueError(f"a voicemail lasts more than 0 and at most {MAX_SECONDS:g} s")
    frames = round(seconds * SAMPLE_RATE)
    tone_frames = min(frames, round(TONE_SECONDS * SAMPLE_RATE))
    tone = [
        round(AMPLITUDE * math.sin(2 * math.pi * TONE_HZ * n / SAMPLE_RATE))
        for n in range(tone_frames)
    ]
    buffer = io.BytesIO()
    with wave.open(buffer, "wb") as out:
        out.setnchannels(1)
        out.setsampwidth(2)
        out.setframerate(SAMPLE_RATE)
        # Silence as zero bytes: packing millions of zeros one by one took seconds.
        out.writeframes(struct.pack(f"<{len(tone)}h", *tone) + bytes(2 * (frames - tone_frames)))
    return buffer.getvalue()
