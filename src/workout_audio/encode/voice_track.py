"""The voice track: every cue and tone at its time, silence between, as mono PCM.

Events never overlap, so the voice is streamed in time order: silence up to each event,
then its samples. Nothing is read before it is needed: clips kept in the cache stay
there until their turn.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator, Mapping

from ..audio.pcm import SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES, ms_to_samples
from ..audio.tones import tones_for
from ..routine import ToneName
from ..speech.clip_store import ClipStore
from ..timeline.script import Script

__all__ = ["silences", "voice_pcm"]

SILENCE_CHUNK_SAMPLES = SAMPLE_RATE_HZ  # one second of zeros per write

_SILENCE = bytes(SILENCE_CHUNK_SAMPLES * SAMPLE_WIDTH_BYTES)


def _silence(samples: int) -> Iterator[bytes]:
    while samples > 0:
        step = min(samples, SILENCE_CHUNK_SAMPLES)
        yield _SILENCE[: step * SAMPLE_WIDTH_BYTES]
        samples -= step


def _placed(
    script: Script, clips: Mapping[str, bytes], tones: Mapping[ToneName, bytes]
) -> Iterator[tuple[int, int, Callable[[], bytes]]]:
    """Each event's first sample, its length in samples and how to get its PCM, in time
    order, checked to fit its slot. Nothing is read: clips kept in the cache stay there."""
    cursor = 0
    for event in script.events:
        start = ms_to_samples(event.start_ms)
        if start < cursor:
            raise AssertionError(f"events overlap at {event.start_ms} ms: {event}")
        if event.tone is None:  # a spoken cue
            text = event.text or ""
            samples = _byte_count(clips, text) // SAMPLE_WIDTH_BYTES
            read = functools.partial(clips.__getitem__, text)
        else:
            samples = len(tones[event.tone]) // SAMPLE_WIDTH_BYTES
            read = functools.partial(tones.__getitem__, event.tone)
        if samples > ms_to_samples(event.end_ms) - start + 1:
            raise AssertionError(f"clip longer than its slot: {event}")
        yield start, samples, read
        cursor = start + samples
    if cursor > ms_to_samples(script.length_ms):
        raise AssertionError("events run past the end of the track")


def _byte_count(clips: Mapping[str, bytes], text: str) -> int:
    return clips.byte_count(text) if isinstance(clips, ClipStore) else len(clips[text])


def voice_pcm(
    script: Script,
    clips: Mapping[str, bytes],
    tones: Mapping[ToneName, bytes] | None = None,
    span: tuple[int, int] | None = None,
) -> Iterator[bytes]:
    """The voice track (mono PCM: cues, tones and silence) in time order, piece by piece.

    ``tones`` replaces generated tones by name (see :func:`workout_audio.audio.tones.load_sound`);
    ``span`` (first sample, sample after the last) gives that part of the track alone, and
    reads only the clips in it.
    """
    first, stop = span or (0, ms_to_samples(script.length_ms))
    cursor = first  # the next sample to yield
    for start, samples, read in _placed(script, clips, tones_for(tones)):
        end = start + samples
        if end <= cursor:
            continue
        if start >= stop:
            break
        yield from _silence(start - cursor)
        cut = max(cursor - start, 0)
        yield read()[cut * SAMPLE_WIDTH_BYTES : (min(end, stop) - start) * SAMPLE_WIDTH_BYTES]
        cursor = min(end, stop)
    yield from _silence(stop - cursor)


def silences(
    script: Script, clips: Mapping[str, bytes], tones: Mapping[ToneName, bytes] | None = None
) -> list[tuple[int, int]]:
    """The runs of silence between the voice's events, as (first sample, sample after)."""
    found, cursor = [], 0
    for start, samples, _ in _placed(script, clips, tones_for(tones)):
        if start > cursor:
            found.append((cursor, start))
        cursor = start + samples
    length = ms_to_samples(script.length_ms)
    if length > cursor:
        found.append((cursor, length))
    return found
