"""The track's true peaks held in process, and the loudness prediction's gates as heard."""

from __future__ import annotations

import math
import subprocess
import sys
from array import array
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from workout_audio.audio.ffmpeg import ffmpeg_exe
from workout_audio.audio.loudness import BIN_MS, gated_loudness, lufs_to_power, measure_pcm
from workout_audio.audio.pcm import SAMPLE_RATE_HZ
from workout_audio.audio.peak_limit import limited_pcm, limited_shares, true_peaks

CEILING_DBTP = -3.0
CEILING = 10 ** (CEILING_DBTP / 20) * 32_768


def _noise(source: str, seconds: int = 20) -> bytes:
    """Stereo 16-bit PCM at our rate from one of ffmpeg's sources."""
    return subprocess.run(
        [ffmpeg_exe(), "-v", "error", "-f", "lavfi", "-i", f"{source}:d={seconds}",
         "-ar", str(SAMPLE_RATE_HZ), "-ac", "2", "-f", "s16le", "pipe:1"],
        capture_output=True, check=True,
    ).stdout  # fmt: skip


def _blocks(pcm: bytes, size: int = 17_641) -> list[bytes]:
    """PCM cut at odd places (not on frames), as a stream may deliver it."""
    return [pcm[i : i + size] for i in range(0, len(pcm), size)]


# White noise is left out: up to half the rate, where no codec keeps anything, ffmpeg's
# meter interpolates 0.5 dB higher than BS.1770's filter; decoded tracks have no such band.
@pytest.mark.parametrize(
    "source", ["anoisesrc=c=pink:a=0.3:seed=3", "anoisesrc=c=brown:a=0.5:seed=4"]
)
def test_loud_noise_comes_out_with_its_true_peaks_at_the_ceiling_as_the_meter_reads_them(
    source: str,
) -> None:
    pcm = _noise(source)
    gain = 10 ** (18 / 20)  # far over the ceiling: the limiter works hard
    limited = b"".join(limited_pcm(_blocks(pcm), 2, gain, CEILING))
    assert len(limited) == len(pcm)
    measured = measure_pcm(limited, 2)
    # ffmpeg's meter oversamples with its own filter, which reads peaks of a heavily
    # limited signal up to 0.2 dB higher; each format's margin (formats.py) covers it
    assert measured.true_peak_dbtp <= CEILING_DBTP + 0.25, measured
    # limited, not silenced: the loudness is most of what the gain gave
    assert measured.integrated_lufs > measure_pcm(pcm, 2).integrated_lufs + 6, measured


@settings(max_examples=60, deadline=None)
@given(
    seed=st.integers(0, 2**32 - 1),
    loud_at=st.lists(st.integers(0, 3_000), max_size=4),
    floor=st.floats(500, 30_000),
)
def test_peaks_screened_against_a_floor_are_exact_wherever_they_reach_it(
    seed: int, loud_at: list[int], floor: float
) -> None:
    # Quiet noise with a few loud bursts: a limiter holding peaks at ``floor`` must see the
    # same peaks as without the screen, and nothing reaching the floor where it skipped.
    rng = np.random.default_rng(seed)
    samples = (rng.standard_normal((3_200, 2)) * 300).astype(np.float32)
    for at in loud_at:
        samples[at : at + 40] *= rng.uniform(20, 100)
    samples = np.clip(samples, -32_768, 32_767)
    exact, screened = true_peaks(samples), true_peaks(samples, floor)
    reaching = exact >= floor
    assert np.array_equal(screened[reaching], exact[reaching])
    assert (screened[~reaching] < floor).all()
    assert (screened <= exact).all()


def test_a_quiet_stream_only_gets_its_gain() -> None:
    pcm = _noise("sine=frequency=440", seconds=3)
    limited = b"".join(limited_pcm(_blocks(pcm), 2, 0.5, CEILING))
    expected = np.rint(np.frombuffer(pcm, dtype="<i2") * 0.5)
    assert np.array_equal(np.frombuffer(limited, dtype="<i2"), expected)


def test_the_limiters_share_of_the_power_is_what_the_limited_stream_measures() -> None:
    pcm = _noise("anoisesrc=c=pink:a=0.3:seed=5")
    bins = len(pcm) // 4 * 1000 // SAMPLE_RATE_HZ // BIN_MS
    gains = [1.0, 10 ** (18 / 20)]  # its peaks stand at -15 dBFS
    shares = limited_shares(_blocks(pcm), 2, gains, CEILING, bins)
    assert shares[0].min() == pytest.approx(1.0)  # nothing passes the ceiling at unity
    lost_lu = -10 * math.log10(float(shares[1].mean()))
    limited = b"".join(limited_pcm(_blocks(pcm), 2, gains[1], CEILING))
    measured_lost_lu = (
        measure_pcm(pcm, 2).integrated_lufs + 18 - measure_pcm(limited, 2).integrated_lufs
    )
    assert lost_lu > 0.5  # the case is one where limiting costs loudness
    assert lost_lu == pytest.approx(measured_lost_lu, abs=0.15)


def test_a_quiet_stretch_lifted_over_the_absolute_gate_counts_as_the_meter_counts_it() -> None:
    # 20 s at -26 and 20 s at -40 LUFS: the relative gate (-38.84) drops the quieter part.
    # 100 s at -72 LUFS lie under the absolute gate, until a 6 dB gain lifts them over
    # it: the meter then counts them, its relative gate falls to -44, and the -40 part
    # is heard in the integrated loudness.
    parts = [(-26.0, 2_000), (-40.0, 2_000), (-72.0, 10_000)]
    powers = np.concatenate([np.full(count, lufs_to_power(lufs)) for lufs, count in parts])
    assert gated_loudness(powers) == pytest.approx(-26.0, abs=0.05)
    assert gated_loudness(powers, 6.0) == pytest.approx(-28.84 + 6.0, abs=0.05)
    assert gated_loudness(powers, 6.0) == pytest.approx(gated_loudness(powers * 10**0.6), abs=1e-9)


def test_a_voice_only_prediction_gates_without_numpy_to_the_same_figure() -> None:
    rng = np.random.default_rng(7)
    powers = rng.exponential(lufs_to_power(-25.0), 3_000) * (rng.random(3_000) > 0.4)
    assert gated_loudness(array("d", powers), 2.0) == pytest.approx(
        gated_loudness(powers, 2.0), abs=1e-9
    )


def test_a_warm_voice_only_prediction_does_not_load_numpy(tmp_path: Path) -> None:
    program = (
        "import sys\n"
        "from workout_audio.audio.loudness import add_powers, gated_loudness, silent_powers\n"
        "powers = silent_powers(60_000)\n"
        "add_powers(powers, 12_345, [1e-3] * 500, 2.0)\n"
        "assert gated_loudness(powers) > -30, gated_loudness(powers)\n"
        "assert 'numpy' not in sys.modules\n"
    )
    subprocess.run([sys.executable, "-c", program], check=True, cwd=tmp_path, timeout=60)
