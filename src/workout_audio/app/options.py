"""Options shared by several commands, each declared once as an ``Annotated`` alias.

A command lists the aliases it takes as parameters, and turns the raw values
into the library's settings with one helper call (:func:`voice_settings`, ...).
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..encode.formats import FORMATS
from ..levels import DEFAULT_TARGET_LUFS
from ..outputs.sidecars import DEFAULT_SIDECARS, SIDECARS

if TYPE_CHECKING:
    from ..settings import EncodeSettings, MusicSettings, VoiceSettings

__all__ = [
    "BitrateOpt",
    "CacheOpt",
    "ChapterImagesOpt",
    "DuckOpt",
    "EngineOpt",
    "FormatOpt",
    "LangOpt",
    "LengthOpt",
    "LoudnessOpt",
    "MusicLevelOpt",
    "MusicOpt",
    "NameOpt",
    "RateOpt",
    "RoutineArg",
    "SidecarsOpt",
    "SlowOpt",
    "TldOpt",
    "VoiceFileOpt",
    "encode_settings",
    "music_settings",
    "voice_settings",
]

VOICE_PANEL = "Voice"
OUTPUT_PANEL = "Output"

RoutineArg = Annotated[
    Path,
    typer.Argument(
        help="The routine file (YAML), or a workout to import: intervals.icu text (.txt), "
        "Zwift (.zwo) or Garmin FIT (.fit).",
        show_default=False,
        dir_okay=False,
        metavar="ROUTINE",
    ),
]
LengthOpt = Annotated[
    str | None,
    typer.Option(
        "--length",
        help="Exact track length (30m, 1h, 45:00, 1500s): rests, then holds and tempo, "
        "then rounds adjust.",
        metavar="LENGTH",
    ),
]
CacheOpt = Annotated[
    Path | None,
    typer.Option(
        "--cache-dir",
        help="Cache folder, holding speech/, music/ and art/ (default: the user cache folder).",
        metavar="FOLDER",
    ),
]

# The voice
EngineOpt = Annotated[
    str,
    typer.Option(
        "--engine",
        help="Voice: auto (Google's when it answers, else an offline voice), gtts, "
        "piper, espeak, or an installed plugin's; `workout-audio voices` lists them.",
        rich_help_panel=VOICE_PANEL,
        metavar="ENGINE",
    ),
]
LangOpt = Annotated[
    str | None,
    typer.Option(
        "--lang",
        help="Cue language: en, es, fr, de, ... (default: the routine's language:).",
        rich_help_panel=VOICE_PANEL,
        metavar="LANG",
    ),
]
TldOpt = Annotated[
    str | None,
    typer.Option(
        "--tld",
        help="Google's accent by domain: com.au, co.uk, co.in, ca (gtts).",
        rich_help_panel=VOICE_PANEL,
        metavar="DOMAIN",
    ),
]
SlowOpt = Annotated[
    bool,
    typer.Option("--slow", help="Google's slow reading (gtts).", rich_help_panel=VOICE_PANEL),
]
VoiceFileOpt = Annotated[
    Path | None,
    typer.Option(
        "--voice",
        help="A piper voice: an installed one by name (de_DE-thorsten-medium, see "
        "`voices download`), or FILE.onnx with FILE.onnx.json beside it (piper).",
        rich_help_panel=VOICE_PANEL,
        metavar="VOICE",
    ),
]
NameOpt = Annotated[
    str | None,
    typer.Option(
        "--name",
        help='The listener, greeted by name in the intro ("Let\'s go, Maria.").',
        rich_help_panel=VOICE_PANEL,
        metavar="NAME",
    ),
]
RateOpt = Annotated[
    float,
    typer.Option(
        "--rate",
        help="Speaking speed, 0.5 to 2.0: 0.9 slower, 1.2 faster (piper, espeak).",
        rich_help_panel=VOICE_PANEL,
        metavar="RATE",
    ),
]

# The track and the files beside it
BitrateOpt = Annotated[
    int | None,
    typer.Option(
        "--bitrate",
        help="Bitrate in kbit/s (default 96 for the voice alone, 128 with music).",
        min=32,
        max=320,
        rich_help_panel=OUTPUT_PANEL,
        metavar="KBPS",
    ),
]
MusicOpt = Annotated[
    Path | None,
    typer.Option(
        "--music",
        help="Music under the voice: an audio file, a folder of them (name order) "
        "or an .m3u playlist; crossfaded, looped, dipping for every cue.",
        rich_help_panel=OUTPUT_PANEL,
        metavar="MUSIC",
    ),
]
MusicLevelOpt = Annotated[
    str | None,
    typer.Option(
        "--music-level",
        help="The music against the voice when nobody speaks (default -15dB).",
        rich_help_panel=OUTPUT_PANEL,
        metavar="DB",
    ),
]
DuckOpt = Annotated[
    str | None,
    typer.Option(
        "--duck",
        help="How far the music dips under each spoken cue (default 12dB).",
        rich_help_panel=OUTPUT_PANEL,
        metavar="DB",
    ),
]
LoudnessOpt = Annotated[
    str,
    typer.Option(
        "--loudness",
        help="The track's loudness in LUFS, as heard in stereo (-16 suits phones and "
        "podcasts); a voice-only track is mono, made 3 LU lower to sound as loud.",
        rich_help_panel=OUTPUT_PANEL,
        metavar="LUFS",
    ),
]
LOUDNESS_DEFAULT = f"{DEFAULT_TARGET_LUFS:g}"
FormatOpt = Annotated[
    str | None,
    typer.Option(
        "--format",
        help=f"{', '.join(FORMATS)}: MP3 (default, or as -o's suffix says), M4A "
        "with chapters for Apple Books and audiobook players, Opus in Ogg.",
        rich_help_panel=OUTPUT_PANEL,
        show_default=False,
        metavar="FORMAT",
    ),
]
SidecarsOpt = Annotated[
    str,
    typer.Option(
        "--sidecars",
        help=f"Files beside the track, comma-separated: {', '.join(SIDECARS)}, or none.",
        rich_help_panel=OUTPUT_PANEL,
        metavar="NAMES",
    ),
]
SIDECARS_DEFAULT = ",".join(DEFAULT_SIDECARS)
ChapterImagesOpt = Annotated[
    bool,
    typer.Option(
        "--chapter-images/--no-chapter-images",
        help="A picture in every chapter (MP3): the move, its prescription, its round.",
        rich_help_panel=OUTPUT_PANEL,
    ),
]


def voice_settings(
    engine: str,
    lang: str | None,
    tld: str | None,
    slow: bool,
    voice: Path | None,
    rate: float,
    name: str | None = None,
) -> VoiceSettings:
    """The voice options as the library's settings (checked there)."""
    from ..settings import VoiceSettings

    return VoiceSettings(
        engine=engine,
        language=lang,
        tld=tld,
        slow=slow,
        voice_path=voice,
        rate=rate,
        listener_name=name,
    )


def music_settings(music: Path | None, music_level: str | None, duck: str | None) -> MusicSettings:
    """The music options, their levels read as users write them (``-15dB``)."""
    from ..levels import DUCK_RANGE_DB, MUSIC_LEVEL_RANGE_DB
    from ..settings import MusicSettings

    return MusicSettings(
        source=music,
        level_db=_level("--music-level", music_level, MUSIC_LEVEL_RANGE_DB, "dB"),
        duck_db=_level("--duck", duck, DUCK_RANGE_DB, "dB"),
    )


def encode_settings(bitrate: int | None, loudness: str) -> EncodeSettings:
    """The encoding options; the format is chosen by the build, from --format or -o."""
    from ..levels import LOUDNESS_RANGE_LUFS
    from ..settings import EncodeSettings

    target = _level("--loudness", loudness, LOUDNESS_RANGE_LUFS, "LUFS")
    return EncodeSettings(
        bitrate_kbps=bitrate,
        loudness_lufs=DEFAULT_TARGET_LUFS if target is None else target,
    )


def _level(option: str, value: str | None, valid: tuple[float, float], unit: str) -> float | None:
    from ..errors import UsageError
    from ..levels import parse_level

    if value is None:
        return None
    try:
        return parse_level(value, valid, unit)
    except ValueError as error:
        raise UsageError(f"{option}: {error}") from None
