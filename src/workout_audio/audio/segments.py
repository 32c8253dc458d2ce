"""pydub, imported in one place and quietly.

pydub warns at import when ffmpeg is not on PATH; we bring our own ffmpeg
(:func:`workout_audio.audio.ffmpeg.ffmpeg_exe`), so the warning would only
mislead. Every module that needs pydub takes it from here.
"""

from __future__ import annotations

import warnings

with warnings.catch_warnings():
    warnings.simplefilter("ignore", RuntimeWarning)
    from pydub import AudioSegment
    from pydub.generators import Sine
    from pydub.silence import detect_leading_silence

__all__ = ["AudioSegment", "Sine", "detect_leading_silence"]
