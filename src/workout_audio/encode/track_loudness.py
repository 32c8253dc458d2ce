"""The track's loudness, planned before a sample is encoded: the gain that brings it to
its target as heard, and the limiter its peaks need.

The mix's power is predicted bin by bin from the script (each clip's stored profile,
each tone's level, the music's own measured powers as they will play) and gated as
the meter gates it; peaks that would pass the ceiling after the gain and the codec's
overshoot are held by a limiter, and what it takes is made up.
"""

from __future__ import annotations

import contextlib
import logging
import math
from array import array
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from ..audio.levelling import CLIP_CREST_DB
from ..audio.loudness import (
    BIN_MS,
    CLIP_LOUDNESS_LUFS,
    TRUE_PEAK_CEILING_DBTP,
    add_powers,
    encoder_filter,
    gated_loudness,
    lufs_to_power,
    silent_powers,
    sine_peak_dbfs,
    speech_profile,
)
from ..audio.music import MUSIC_CHANNELS
from ..audio.pcm import CHANNELS, ms_to_samples
from ..audio.tones import TONE_SHAPES
from ..levels import target_lufs
from ..routine import ToneName
from ..settings import EncodeSettings
from ..timeline.script import TONE_MS, Script
from .formats import audio_format
from .voice_track import voice_pcm

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

    from ..audio.music import Music

__all__ = [
    "EncoderLevels",
    "encoder_levels",
    "predicted_peak_dbfs",
    "predicted_powers",
]

log = logging.getLogger(__name__)


def predicted_powers(
    script: Script,
    clips: Mapping[str, bytes],
    music: Music | None = None,
    profiles: Mapping[str, list[float]] | None = None,
    tones: Mapping[ToneName, bytes] | None = None,
    band_hz: float | None = None,
    *,
    voice: bool = True,
) -> npt.NDArray[np.float64] | array[float]:
    """The mix's K-weighted power in each BIN_MS, summed over its channels, before the
    encoder's gain: what the meter will see, from the script alone.

    Each clip's power profile (stored with it in the cache; measured here only when not
    given) is placed at its cue, each generated tone at its set level for its length (a
    replaced sound is measured), and the music's own measured powers, looped, crossfaded,
    ducked and faded as they will play (mix.py), are added under them: unrelated sounds,
    so their powers add. The voice plays in every channel of a stereo mix. ``band_hz``:
    the band the codec keeps (the music's power above it is left out; speech and tones
    have none there).
    """
    channels = CHANNELS if music is None else MUSIC_CHANNELS
    powers: npt.NDArray[np.float64] | array[float] = silent_powers(script.length_ms)
    if music is not None:  # numpy is loaded for the music anyway
        from ..audio.mix import music_bin_powers

        powers = music_bin_powers(script, music, band_hz)
    if not voice:  # the music alone
        return powers
    given = profiles or {}
    known = {text: given.get(text) or speech_profile(pcm) for text, pcm in clips.items()}
    sounds = _tone_profiles(tones)
    for event in script.events:
        profile = known[event.text or ""] if event.tone is None else sounds[event.tone]
        add_powers(powers, ms_to_samples(event.start_ms), profile, channels)
    return powers


def _tone_profiles(tones: Mapping[ToneName, bytes] | None) -> dict[ToneName, list[float]]:
    """Each tone's power per BIN_MS: a generated tone is a steady sine at its set loudness
    for its length; a replaced sound is measured (it was brought to that loudness as a
    whole, but its power moves)."""
    replaced = dict(tones or {})
    profiles = {name: speech_profile(pcm) for name, pcm in replaced.items()}
    for name, (_, against_voice_lu) in TONE_SHAPES.items():
        if name not in profiles:
            samples = ms_to_samples(TONE_MS[name])
            power = lufs_to_power(CLIP_LOUDNESS_LUFS + against_voice_lu)
            profiles[name] = [power] * (samples // ms_to_samples(BIN_MS))
    return profiles


def predicted_peak_dbfs(
    music: Music | None, tones: Mapping[ToneName, bytes] | None = None
) -> float:
    """The highest true peak the mix can reach before the encoder's gain.

    Clips' sample peaks are held CLIP_CREST_DB over their loudness when they enter the
    cache (a peak between samples adds a little more: _VOICE_TRUE_PEAK_DB); a tone's peak
    follows from its level, a replaced sound's from its samples; each music file's true
    peak was measured with its loudness, and it plays at its own gain. A cue sounds over
    the music ducked under it; a tone over the music at full level (ticks do not dip it).
    """
    voice_db = CLIP_LOUDNESS_LUFS + CLIP_CREST_DB + _VOICE_TRUE_PEAK_DB
    replaced = dict(tones or {})
    tone_db = max(
        _pcm_peak_dbfs(replaced[name])
        if name in replaced
        else max(sine_peak_dbfs(CLIP_LOUDNESS_LUFS + level, hz) for hz in frequencies)
        for name, (frequencies, level) in TONE_SHAPES.items()
    )
    if music is None:
        return max(voice_db, tone_db)
    from ..audio.mix import music_peak_dbtp

    music_db = music_peak_dbtp(music)
    return max(_summed_db(voice_db, music_db - music.duck_db), _summed_db(tone_db, music_db))


_VOICE_TRUE_PEAK_DB = 0.5  # speech's true peak over its held sample peak, at most


def _pcm_peak_dbfs(pcm: bytes) -> float:
    import numpy as np

    samples = np.frombuffer(pcm, dtype="<i2")
    peak = int(np.abs(samples.astype(np.int32)).max()) if len(samples) else 0
    return 20 * math.log10(max(peak, 1) / 32768)


def _summed_db(first_db: float, second_db: float) -> float:
    """The peak of two sounds whose peaks may meet (their amplitudes add)."""
    return 20 * math.log10(10 ** (first_db / 20) + 10 ** (second_db / 20))


@dataclass(frozen=True)
class EncoderLevels:
    """What ffmpeg does in front of the encoder: one gain for the whole mix, and a limiter
    on its peaks only when the predicted peaks, after that gain and the codec's overshoot,
    would pass TRUE_PEAK_CEILING_DBTP."""

    gain_db: float
    predicted_lufs: float
    predicted_peak_dbtp: float  # as decoded: after the gain and the codec's overshoot
    limit_dbfs: float | None
    # The gain and the limiter are applied in this process (peak_limit.py), true peaks
    # held at limit_dbfs, and ffmpeg only encodes: a track with music that needs limiting.
    in_process: bool = False
    # The music a fraction of a decibel off its set level: clear of the meter's gate
    # (_clear_of_the_gate). The mix plays it so.
    music_offset_db: float = 0.0

    @property
    def filter(self) -> str:
        """ffmpeg's filter for these levels."""
        if self.in_process:
            return "anull"
        return encoder_filter(self.gain_db, self.limit_dbfs)


def encoder_levels(
    script: Script,
    clips: Mapping[str, bytes],
    options: EncodeSettings,
    music: Music | None = None,
    profiles: Mapping[str, list[float]] | None = None,
    tones: Mapping[ToneName, bytes] | None = None,
) -> EncoderLevels:
    """The gain that brings the track, as decoded, to its target, and the limiter it needs.

    The target is as heard (levels.target_lufs: mono 3 LU under stereo); the format's codec
    changes the loudness a player measures by a known amount (formats.py), made up here.
    """
    output_format = audio_format(options.format)
    channels = CHANNELS if music is None else MUSIC_CHANNELS
    heard_lufs = target_lufs(options.loudness_lufs, channels)
    target = heard_lufs - output_format.loudness_change_lu
    music_offset_db = 0.0
    if music is None:
        powers = predicted_powers(script, clips, None, profiles, tones)
    else:
        powers, music_offset_db = _clear_of_the_gate(
            predicted_powers(script, clips, music, profiles, tones, output_format.band_hz),
            predicted_powers(script, {}, music, {}, {}, output_format.band_hz, voice=False),
            heard_lufs - output_format.loudness_change_lu,
        )
        music = replace(music, level_db=music.level_db + music_offset_db)
    predicted = gated_loudness(powers)
    gain_db = _gain_to(powers, heard_lufs, output_format.loudness_change_lu)
    peak_dbtp = predicted_peak_dbfs(music, tones) + gain_db + output_format.peak_overshoot_db
    if peak_dbtp <= TRUE_PEAK_CEILING_DBTP:
        return EncoderLevels(gain_db, predicted, peak_dbtp, None, music_offset_db=music_offset_db)
    limit_dbfs = TRUE_PEAK_CEILING_DBTP - output_format.peak_overshoot_db
    log.info(
        "peaks up to %.1f dBTP predicted: a limiter holds them at %.1f dBTP",
        peak_dbtp, limit_dbfs,
    )  # fmt: skip
    if music is None:  # rare (a loud target): ffmpeg's limiter, the voice split in parts
        return EncoderLevels(gain_db, predicted, peak_dbtp, limit_dbfs)
    gain_db = _limited_gain_db(script, clips, tones, music, powers, target, gain_db, limit_dbfs)
    return EncoderLevels(
        gain_db, predicted, peak_dbtp, limit_dbfs, in_process=True, music_offset_db=music_offset_db
    )


# A track whose rests hold the music right at the meter's relative gate measures a whole
# LU louder or quieter as the codec's noise tips those blocks one way or the other. The
# music then moves by the least of these (decibels) that clears most of them off the gate:
# too little to hear against the voice.
_MUSIC_NUDGES_DB = (0.0, -0.25, 0.25, -0.5, 0.5, -0.75, 0.75)
_EDGE_ALLOWED_LU = 0.2  # blocks near the gate may move the loudness this far, no more


def _clear_of_the_gate(
    track: npt.NDArray[np.float64] | array[float],
    music: npt.NDArray[np.float64] | array[float],
    target_lufs: float,
) -> tuple[npt.NDArray[np.float64], float]:
    """The track's powers (``music`` is its music's part) with the music nudged, and by how
    much, so that few blocks sit on the meter's relative gate at the gain that reaches
    ``target_lufs``."""
    import numpy as np

    from ..audio.loudness import gate_edge_lu

    track_bins, music_bins = np.asarray(track), np.asarray(music)
    best: tuple[float, npt.NDArray[np.float64], float] | None = None
    for nudge_db in _MUSIC_NUDGES_DB:
        powers = track_bins + music_bins * (10 ** (nudge_db / 10) - 1)
        edge_lu = gate_edge_lu(powers, target_lufs - gated_loudness(powers))
        if edge_lu <= _EDGE_ALLOWED_LU:
            if nudge_db:
                log.info("the music moves %+.2f dB, clear of the meter's gate", nudge_db)
            return powers, nudge_db
        if best is None or edge_lu < best[0]:
            best = (edge_lu, powers, nudge_db)
    assert best is not None
    return best[1], best[2]


def _gain_to(
    powers: npt.NDArray[np.float64] | array[float], heard_lufs: float, codec_change_lu: float
) -> float:
    """The gain at which the predicted powers, after the codec's change, measure
    ``heard_lufs``: the meter gates the track as heard, so a gain that lifts quiet blocks
    over its absolute gate changes what it counts, and the gain is found again at the gain
    found (twice is usually enough)."""
    gain_db = heard_lufs - codec_change_lu - gated_loudness(powers)
    for _ in range(_GAIN_STEPS):
        missed_lu = heard_lufs - gated_loudness(powers, gain_db + codec_change_lu)
        if not math.isfinite(missed_lu) or abs(missed_lu) < 0.01:
            break
        gain_db += missed_lu
    return gain_db


_GAIN_STEPS = 6  # the gate can flip back and forth at an edge: the last step stands


# The limiter takes loudness as it acts: it is run over the mix at these gains above the
# one the prediction alone gives, and the gain that meets the target is read off between
# them. No more is made up than the last: a track the meter hears only in its short cues
# (a long hold under quiet music) would reach its target only with the voice crushed, and
# stays a little under it instead.
_LIMITED_GAINS_DB = (0.0, 1.0, 2.0, 3.0)


def _limited_gain_db(
    script: Script,
    clips: Mapping[str, bytes],
    tones: Mapping[ToneName, bytes] | None,
    music: Music,
    powers: npt.NDArray[np.float64] | array[float],
    target_lufs: float,
    unlimited_gain_db: float,
    limit_dbtp: float,
) -> float:
    """The gain that brings the limited mix to ``target_lufs``: the mix is made once more,
    without encoding it, and the limiter's gain at each of _LIMITED_GAINS_DB over
    ``unlimited_gain_db`` scales the predicted powers bin by bin, gated as the meter
    gates them."""
    import numpy as np

    from ..audio.mix import mixed_pcm
    from ..audio.peak_limit import limited_shares
    from ..audio.read_ahead import read_ahead

    gains_db = [unlimited_gain_db + step for step in _LIMITED_GAINS_DB]
    ceiling = 10 ** (limit_dbtp / 20) * 32_768
    with contextlib.closing(
        read_ahead(mixed_pcm(voice_pcm(script, clips, tones), script, music))
    ) as mix:
        shares = limited_shares(
            mix, MUSIC_CHANNELS, [10 ** (g / 20) for g in gains_db], ceiling, len(powers)
        )
    reached = [
        gated_loudness(np.asarray(powers) * share, gain_db)
        for gain_db, share in zip(gains_db, shares, strict=True)
    ]
    for index in range(1, len(gains_db)):  # the loudness rises with the gain: interpolate
        if reached[index] >= target_lufs or index == len(gains_db) - 1:
            low, high = reached[index - 1], reached[index]
            slope = (high - low) / (gains_db[index] - gains_db[index - 1])
            found = gains_db[index - 1] + (target_lufs - low) / max(slope, 0.05)
            found = min(max(found, gains_db[0]), gains_db[-1])
            log.info(
                "the limiter takes %.2f LU: the gain is %.2f dB, not %.2f",
                found - unlimited_gain_db, found, unlimited_gain_db,
            )  # fmt: skip
            return found
    return unlimited_gain_db
