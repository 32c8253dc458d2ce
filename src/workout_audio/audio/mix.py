"""Music under the voice, ducked from the script: the music starts to dip before the coach
speaks, because every cue's time is known before the first sample is written.

Mixing streams a second at a time: the voice's PCM (in time order, as voice_track.py
makes it), the music decoded track by track by ffmpeg (crossfaded, looped), and
a gain curve made from the script's events. Memory holds a few seconds of audio,
never the track.
"""

from __future__ import annotations

import contextlib
import itertools
import tempfile
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass
from typing import IO, Any

import numpy as np
import numpy.typing as npt

from ..errors import EncoderError
from ..timeline.script import Script, ToneName
from .ffmpeg import ffmpeg_output
from .loudness import BIN_MS, CLIP_LOUDNESS_LUFS, add_powers, share_above
from .music import MUSIC_CHANNELS, Music, Track
from .pcm import SAMPLE_RATE_HZ, SAMPLE_WIDTH_BYTES, ms_to_samples

__all__ = [
    "MUSIC_CHANNELS",
    "Dip",
    "ducking_dips",
    "mixed_pcm",
    "music_bin_powers",
    "music_peak_dbtp",
]

Samples = npt.NDArray[np.float32]

BLOCK_SAMPLES = SAMPLE_RATE_HZ  # mixed one second at a time
ATTACK_MS = 150  # the music starts to fall this long before a cue ...
RELEASE_MS = 400  # ... and is back up this long after it
HOLD_GAP_MS = 1_000  # cues closer than this keep the music down in between (no pumping)
TONE_DUCK_SHARE = 0.5  # a beep or a start tone dips the music half as far as speech
# Soft per-rep ticks every second or two: dipping would pump.
UNDUCKED_TONES: tuple[ToneName, ...] = ("tick",)
FADE_IN_MS = 2_000  # the music fades in from the first cue ...
FADE_OUT_MS = 5_000  # ... and out over the track's last seconds
CROSSFADE_MS = 3_000  # one track into the next
LOOP_COPY_BYTES = 64 << 20  # decoded music kept for the next time round: 6 minutes
# Music is decoded 4 seconds at a time: the 3-second crossfade's tail is held over
# each read, and copying it costs less the longer the read.
_DECODE_BYTES = 4 * BLOCK_SAMPLES * MUSIC_CHANNELS * SAMPLE_WIDTH_BYTES
# Stereo carries the mono voice in both channels, 3 dB louder than in mono: music level is
# set against the voice as it sounds in the mix.
_VOICE_IN_MIX_LUFS = CLIP_LOUDNESS_LUFS + 10 * float(np.log10(MUSIC_CHANNELS))


@dataclass(frozen=True)
class Dip:
    """The music held ``depth_db`` down from ``start_ms`` to ``end_ms``, ramping around it."""

    start_ms: int
    end_ms: int
    depth_db: float


def ducking_dips(script: Script, duck_db: float) -> list[Dip]:
    """Where the music dips, and how far: under every cue, and between cues close together."""
    cues = [
        Dip(e.start_ms, e.end_ms, duck_db if e.kind == "speech" else duck_db * TONE_DUCK_SHARE)
        for e in script.events
        if e.kind == "speech" or e.tone not in UNDUCKED_TONES
    ]
    dips: list[Dip] = []
    for cue in sorted(cues, key=lambda dip: dip.start_ms):
        if dips and cue.start_ms - dips[-1].end_ms < HOLD_GAP_MS:
            last = dips[-1]
            if cue.depth_db == last.depth_db:
                dips[-1] = Dip(last.start_ms, max(last.end_ms, cue.end_ms), last.depth_db)
                continue
            if cue.start_ms > last.end_ms:  # held at the shallower of the two in between
                dips.append(Dip(last.end_ms, cue.start_ms, min(last.depth_db, cue.depth_db)))
        dips.append(cue)
    return dips


class _Envelope:
    """The music's gain, sample by sample: ducking, fade-in and fade-out."""

    def __init__(self, dips: list[Dip], music_start_ms: int, length_ms: int) -> None:
        self.dips = dips
        self.first = 0  # dips before this index end (ramp included) before the current block
        self.fade_ms = (
            [music_start_ms, music_start_ms + FADE_IN_MS, length_ms - FADE_OUT_MS, length_ms],
            [0.0, 1.0, 1.0, 0.0],
        )

    def gains(self, start_sample: int, count: int) -> Samples | None:
        """The gain of each of ``count`` samples from ``start_sample``, or None where the
        music plays at its full level throughout (most of the track); called in time order."""
        first_ms = start_sample * 1000 / SAMPLE_RATE_HZ
        last_ms = (start_sample + count - 1) * 1000 / SAMPLE_RATE_HZ
        self._skip_ended(first_ms)
        (_, faded_in_ms, fade_out_ms, _), _ = self.fade_ms
        undipped = self.first == len(self.dips) or (
            self.dips[self.first].start_ms - ATTACK_MS > last_ms
        )
        if undipped and faded_in_ms <= first_ms and last_ms <= fade_out_ms:
            return None
        return self.gains_at(
            np.arange(start_sample, start_sample + count) * (1000 / SAMPLE_RATE_HZ)
        )

    def _skip_ended(self, from_ms: float) -> None:
        """Move past the dips that end (ramp included) before ``from_ms``."""
        while self.first < len(self.dips) and (self.dips[self.first].end_ms + RELEASE_MS < from_ms):
            self.first += 1

    def gains_at(self, times_ms: npt.NDArray[np.floating[Any]]) -> Samples:
        """The gain at each of ``times_ms`` (ascending); successive calls go forward in time."""
        count = len(times_ms)
        end_ms = float(times_ms[-1])
        self._skip_ended(float(times_ms[0]))
        depth_db = np.zeros(count, dtype=np.float32)
        for dip in itertools.islice(self.dips, self.first, None):
            if dip.start_ms - ATTACK_MS > end_ms:
                break
            corners_ms = [dip.start_ms - ATTACK_MS, dip.start_ms, dip.end_ms]
            corners_ms.append(dip.end_ms + RELEASE_MS)
            low, high = np.searchsorted(times_ms, [corners_ms[0], corners_ms[-1]])
            depths_db = [0.0, dip.depth_db, dip.depth_db, 0.0]
            shape = np.interp(times_ms[low:high], corners_ms, depths_db)
            np.maximum(depth_db[low:high], shape, out=depth_db[low:high])
        fade = np.interp(times_ms, *self.fade_ms).astype(np.float32)
        gains: Samples = (np.power(10.0, -depth_db / 20) * fade).astype(np.float32)
        return gains


def _envelope(script: Script, music: Music) -> _Envelope:
    start_ms = script.events[0].start_ms if script.events else 0
    return _Envelope(ducking_dips(script, music.duck_db), start_ms, script.length_ms)


def music_bin_powers(
    script: Script, music: Music, band_hz: float | None = None
) -> npt.NDArray[np.float64]:
    """The music's power in each BIN_MS of the track, summed over its channels, as it will
    play: each file's own measured powers at its gain, crossfaded and looped as the playlist
    plays, from the first cue on, then ducked and faded by the very envelope the samples
    get (taken at each bin's middle: its ramps move less than 2 dB in a bin). ``band_hz``:
    the band the codec keeps; what each file holds above it is not heard."""
    bins = -(-script.length_ms // BIN_MS)
    start_ms = script.events[0].start_ms if script.events else 0
    powers = np.zeros(bins, dtype=np.float64)
    start = ms_to_samples(start_ms)
    add_powers(
        powers, start, _playlist_powers(music, bins - start // ms_to_samples(BIN_MS), band_hz)
    )
    times_ms = (np.arange(bins, dtype=np.float64) + 0.5) * BIN_MS
    gains = _envelope(script, music).gains_at(times_ms).astype(np.float64)
    gains[times_ms < start_ms] = 0.0
    powers *= gains**2
    return powers


def music_peak_dbtp(music: Music) -> float:
    """The music's highest true peak in the mix, before the encoder's gain: each file's
    measured peak at the gain it plays at."""
    target_lufs = _VOICE_IN_MIX_LUFS + music.level_db
    return max(t.true_peak_dbtp + target_lufs - t.loudness_lufs for t in music.tracks)


def _playlist_powers(music: Music, count: int, band_hz: float | None) -> npt.NDArray[np.float64]:
    """The first ``count`` bins of the playlist's power, as _crossfaded plays it: each
    file at its gain, the next one starting a crossfade before it ends. The equal-power
    crossfade's gains are the square roots of a linear ramp, so the powers of the two
    unrelated sounds fade linearly, one down as the other comes up."""
    bin_samples = ms_to_samples(BIN_MS)
    powers = np.zeros(count, dtype=np.float64)
    target_lufs = _VOICE_IN_MIX_LUFS + music.level_db
    crossfade = ms_to_samples(CROSSFADE_MS)
    start, fade_in = 0, 0  # where the file starts in the playlist, how long it fades in
    for track in itertools.cycle(music.tracks):
        length = track.length_samples
        fade_out = max(min(crossfade, length - fade_in), 0)
        if start >= count * bin_samples or length - fade_out <= 0:
            break
        profile = np.asarray(track.profile, dtype=np.float64)
        middles = (np.arange(len(profile)) + 0.5) * bin_samples
        weights = np.ones(len(profile))
        if fade_in:
            weights *= np.clip(middles / fade_in, 0.0, 1.0)
        if fade_out:
            weights *= 1.0 - np.clip((middles - (length - fade_out)) / fade_out, 0.0, 1.0)
        scale = 10 ** ((target_lufs - track.loudness_lufs) / 10)
        if band_hz is not None:
            scale *= 1.0 - share_above(track.shares_above, band_hz)
        add_powers(powers, start, profile * weights, scale)
        start, fade_in = start + length - fade_out, fade_out
    return powers


def _raw_pcm(track: Track) -> Iterator[bytes]:
    """A track decoded by ffmpeg to stereo PCM, a block at a time; ffmpeg is stopped
    however this ends."""
    args = [
        "-i", str(track.path),
        "-map", "0:a:0", "-f", "s16le", "-acodec", "pcm_s16le",
        "-ar", str(SAMPLE_RATE_HZ), "-ac", str(MUSIC_CHANNELS), "pipe:1",
    ]  # fmt: skip
    return ffmpeg_output(args, what=f"decode the music {track.path}", block_bytes=_DECODE_BYTES)


class _Decodings:
    """Each track decoded once: the first time through, its PCM is also kept in an unnamed
    temporary file (gone however the build ends), and a looping playlist plays it from
    there. A playlist too long to loop keeps nothing past LOOP_COPY_BYTES."""

    def __init__(self) -> None:
        self.copies: dict[int, IO[bytes]] = {}  # track index -> its whole decoded PCM
        self.kept_bytes = 0

    def blocks(self, index: int, track: Track) -> Iterator[bytes]:
        copy = self.copies.get(index)
        if copy is not None:
            copy.seek(0)
            while data := copy.read(_DECODE_BYTES):
                yield data
            return
        keeping: IO[bytes] | None = tempfile.TemporaryFile()
        try:
            for data in _raw_pcm(track):
                if keeping is not None and self.kept_bytes + len(data) > LOOP_COPY_BYTES:
                    keeping.close()
                    keeping = None
                if keeping is not None:
                    keeping.write(data)
                    self.kept_bytes += len(data)
                yield data
        except BaseException:
            if keeping is not None:
                keeping.close()
            raise
        if keeping is not None:
            self.copies[index] = keeping

    def close(self) -> None:
        for copy in self.copies.values():
            copy.close()


def _as_samples(blocks: Iterator[bytes], gain: float) -> Iterator[Samples]:
    """Stereo PCM blocks as float samples at ``gain``."""
    leftover = b""
    for data in blocks:
        data = leftover + data
        whole = len(data) - len(data) % (MUSIC_CHANNELS * SAMPLE_WIDTH_BYTES)
        leftover = data[whole:]
        samples = np.frombuffer(data[:whole], dtype="<i2").astype(np.float32)
        yield samples.reshape(-1, MUSIC_CHANNELS) * gain


def _playlist(music: Music) -> Generator[Samples, None, None]:
    """The tracks one after another, crossfaded, looping for as long as they are read."""
    crossfade = ms_to_samples(CROSSFADE_MS)
    target_lufs = _VOICE_IN_MIX_LUFS + music.level_db
    decodings = _Decodings()
    with contextlib.closing(decodings):
        yield from _crossfaded(music, decodings, crossfade, target_lufs)


def _crossfaded(
    music: Music, decodings: _Decodings, crossfade: int, target_lufs: float
) -> Generator[Samples, None, None]:
    tail: Samples | None = None  # the previous track's last seconds, not yet played
    empty_in_a_row = 0
    for index, track in itertools.cycle(enumerate(music.tracks)):
        gain = float(10 ** ((target_lufs - track.loudness_lufs) / 20))
        held = np.zeros((0, MUSIC_CHANNELS), dtype=np.float32)
        produced = False
        for block in _as_samples(decodings.blocks(index, track), gain):
            produced = produced or len(block) > 0
            held = np.concatenate([held, block])
            if tail is not None and len(held) >= len(tail):
                yield _crossfade(tail, held[: len(tail)])
                held, tail = held[len(tail) :], None
            if tail is None and len(held) > crossfade:
                yield held[:-crossfade]
                held = held[-crossfade:]
        if tail is not None:  # a track shorter than the crossfade
            yield _crossfade(tail, held)
            held = tail[len(held) :] if len(held) < len(tail) else held[len(tail) :]
        tail = held
        empty_in_a_row = 0 if produced else empty_in_a_row + 1
        if empty_in_a_row >= len(music.tracks):
            raise EncoderError("the music decoded to no sound at all")


def _crossfade(outgoing: Samples, incoming: Samples) -> Samples:
    """Equal-power crossfade over the incoming part's length."""
    count = len(incoming)
    rising = np.sqrt(np.linspace(0.0, 1.0, count, dtype=np.float32))[:, None]
    falling = np.sqrt(1.0 - rising * rising)
    return outgoing[:count] * falling + incoming * rising


class _MusicReader:
    """Reads exactly the samples asked for from the endless playlist."""

    def __init__(self, music: Music) -> None:
        self.source = _playlist(music)
        self.buffer = np.zeros((0, MUSIC_CHANNELS), dtype=np.float32)

    def read(self, count: int) -> Samples:
        """The next ``count`` samples, in an array of their own."""
        if len(self.buffer) >= count:
            block: Samples = self.buffer[:count].copy()
            self.buffer = self.buffer[count:]
            return block
        parts, have = [self.buffer], len(self.buffer)
        while have < count:
            block = next(self.source)
            parts.append(block)
            have += len(block)
        joined = np.concatenate(parts)
        self.buffer = joined[count:]
        return joined[:count]

    def close(self) -> None:
        self.source.close()  # stops the running decoder


def mixed_pcm(voice: Iterable[bytes], script: Script, music: Music) -> Iterator[bytes]:
    """The voice (mono PCM, in time order) over the music: stereo PCM, a second at a time."""
    music_start = ms_to_samples(script.events[0].start_ms) if script.events else 0
    envelope = _envelope(script, music)
    reader = _MusicReader(music)
    pending = bytearray()
    position = 0
    block_bytes = BLOCK_SAMPLES * SAMPLE_WIDTH_BYTES
    with contextlib.closing(reader):

        def mixed(raw: bytes) -> bytes:
            nonlocal position
            voice = np.frombuffer(raw, dtype="<i2").astype(np.float32)[:, None]
            count = len(voice)
            out = np.empty((count, MUSIC_CHANNELS), dtype=np.float32)
            skip = min(max(music_start - position, 0), count)
            out[:skip] = voice[:skip]
            if skip < count:
                music = reader.read(count - skip)  # a block of its own: scaled in place
                gains = envelope.gains(position + skip, count - skip)
                if gains is not None:
                    music *= gains[:, None]
                np.add(music, voice[skip:], out=out[skip:])
            position += count
            np.clip(out, -32768, 32767, out=out)
            return out.astype("<i2").tobytes()

        for piece in voice:
            pending += piece
            while len(pending) >= block_bytes:
                yield mixed(bytes(pending[:block_bytes]))
                del pending[:block_bytes]
        if pending:
            yield mixed(bytes(pending))
