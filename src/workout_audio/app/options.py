"""Option groups shared by several commands, as decorators (the voice, the output).

A group adds its options to a command's signature, so Typer shows and parses them
as usual, and hands the command one value made from them: ``@voice_options``
gives the command ``voice: VoiceSettings``. Each option is declared once, here.
"""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from ..audio.loudness import DEFAULT_TARGET_LUFS
from ..audio.music import MusicOptions
from ..encode.formats import FORMATS, audio_format
from ..encode.render import EncodeOptions
from ..errors import UsageError
from ..levels import DUCK_RANGE_DB, LOUDNESS_RANGE_LUFS, MUSIC_LEVEL_RANGE_DB, parse_level
from ..outputs.sidecars import DEFAULT_SIDECARS, SIDECARS, parse_sidecars
from ..speech import VoiceSettings

__all__ = ["OutputSettings", "output_options", "voice_options"]

Command = TypeVar("Command", bound=Callable[..., Any])

_VOICE_PANEL = "Voice"
_OUTPUT_PANEL = "Output"


@dataclass(frozen=True)
class _Option:
    annotation: object  # Annotated[type, typer.Option(...)]
    default: object


def _group(
    target: str, make: Callable[..., object], options: dict[str, _Option]
) -> Callable[[Command], Command]:
    """A decorator adding ``options`` to a command, which receives ``make(**values)`` as
    its parameter ``target``."""

    def decorate(command: Command) -> Command:
        signature = inspect.signature(command, eval_str=True)
        kept = [p for p in signature.parameters.values() if p.name != target]
        added = [
            inspect.Parameter(
                name, inspect.Parameter.KEYWORD_ONLY, default=o.default, annotation=o.annotation
            )
            for name, o in options.items()
        ]

        @functools.wraps(command)
        def wrapper(*args: object, **kwargs: object) -> object:
            values = {name: kwargs.pop(name) for name in options}
            return command(*args, **kwargs, **{target: make(**values)})

        parameters = kept + added
        wrapper.__signature__ = signature.replace(parameters=parameters)  # type: ignore[attr-defined]
        wrapper.__annotations__ = {p.name: p.annotation for p in parameters}
        return wrapper  # type: ignore[return-value]

    return decorate


voice_options = _group(
    "voice",
    lambda engine, lang, tld, slow, voice_file, rate: VoiceSettings(
        engine=engine, language=lang, tld=tld, slow=slow, voice_path=voice_file, rate=rate
    ),
    {
        "engine": _Option(
            Annotated[
                str,
                typer.Option(
                    "--engine",
                    help="Voice: auto (Google's when it answers, else an offline voice), gtts, "
                    "piper, espeak, or an installed plugin's; `workout-audio voices` lists them.",
                    rich_help_panel=_VOICE_PANEL,
                ),
            ],
            "auto",
        ),
        "lang": _Option(
            Annotated[
                str | None,
                typer.Option(
                    "--lang",
                    help="Cue language: en, es, fr, de, ... (default: the routine's language:).",
                    rich_help_panel=_VOICE_PANEL,
                ),
            ],
            None,
        ),
        "tld": _Option(
            Annotated[
                str | None,
                typer.Option(
                    "--tld",
                    help="Google's accent by domain: com.au, co.uk, co.in, ca (gtts).",
                    rich_help_panel=_VOICE_PANEL,
                ),
            ],
            None,
        ),
        "slow": _Option(
            Annotated[
                bool,
                typer.Option(
                    "--slow", help="Google's slow reading (gtts).", rich_help_panel=_VOICE_PANEL
                ),
            ],
            False,
        ),
        "voice_file": _Option(
            Annotated[
                Path | None,
                typer.Option(
                    "--voice",
                    help="A piper voice: an installed one by name (de_DE-thorsten-medium, see "
                    "`voices download`), or FILE.onnx with FILE.onnx.json beside it (piper).",
                    rich_help_panel=_VOICE_PANEL,
                ),
            ],
            None,
        ),
        "rate": _Option(
            Annotated[
                float,
                typer.Option(
                    "--rate",
                    help="Speaking speed, 0.5 to 2.0: 0.9 slower, 1.2 faster (piper, espeak).",
                    rich_help_panel=_VOICE_PANEL,
                ),
            ],
            1.0,
        ),
    },
)


@dataclass(frozen=True)
class OutputSettings:
    """How the track is encoded, the music under it, and the files and pictures with it."""

    encode: EncodeOptions
    music: MusicOptions
    format_named: bool = False  # --format given; otherwise -o's suffix may choose it
    sidecars: tuple[str, ...] = DEFAULT_SIDECARS
    chapter_images: bool = True


def _level(option: str, value: str | None, valid: tuple[float, float], unit: str) -> float | None:
    if value is None:
        return None
    try:
        return parse_level(value, valid, unit)
    except ValueError as error:
        raise UsageError(f"{option}: {error}") from None


def _output(
    bitrate: int | None,
    music: Path | None,
    music_level: str | None,
    duck: str | None,
    loudness: str,
    format_name: str | None,
    sidecars: str,
    chapter_images: bool,
) -> OutputSettings:
    target = _level("--loudness", loudness, LOUDNESS_RANGE_LUFS, "LUFS")
    return OutputSettings(
        encode=EncodeOptions(
            bitrate_kbps=bitrate,
            loudness_lufs=DEFAULT_TARGET_LUFS if target is None else target,
            format=audio_format(format_name or "mp3").name,
        ),
        format_named=format_name is not None,
        sidecars=parse_sidecars(sidecars),
        chapter_images=chapter_images,
        music=MusicOptions(
            source=music,
            level_db=_level("--music-level", music_level, MUSIC_LEVEL_RANGE_DB, "dB"),
            duck_db=_level("--duck", duck, DUCK_RANGE_DB, "dB"),
        ),
    )


output_options = _group(
    "output_settings",
    _output,
    {
        "bitrate": _Option(
            Annotated[
                int | None,
                typer.Option(
                    help="Bitrate in kbit/s (default 96 for the voice alone, 128 with music).",
                    min=32,
                    max=320,
                    rich_help_panel=_OUTPUT_PANEL,
                ),
            ],
            None,
        ),
        "music": _Option(
            Annotated[
                Path | None,
                typer.Option(
                    "--music",
                    help="Music under the voice: an audio file, a folder of them (name order) "
                    "or an .m3u playlist; crossfaded, looped, dipping for every cue.",
                    rich_help_panel=_OUTPUT_PANEL,
                ),
            ],
            None,
        ),
        "music_level": _Option(
            Annotated[
                str | None,
                typer.Option(
                    "--music-level",
                    help="The music against the voice when nobody speaks (default -15dB).",
                    rich_help_panel=_OUTPUT_PANEL,
                ),
            ],
            None,
        ),
        "duck": _Option(
            Annotated[
                str | None,
                typer.Option(
                    "--duck",
                    help="How far the music dips under each spoken cue (default 12dB).",
                    rich_help_panel=_OUTPUT_PANEL,
                ),
            ],
            None,
        ),
        "loudness": _Option(
            Annotated[
                str,
                typer.Option(
                    "--loudness",
                    help="The track's loudness in LUFS (-16 suits phones and podcasts; -19 "
                    "is quieter).",
                    rich_help_panel=_OUTPUT_PANEL,
                ),
            ],
            f"{DEFAULT_TARGET_LUFS:g}",
        ),
        "format_name": _Option(
            Annotated[
                str | None,
                typer.Option(
                    "--format",
                    help=f"{', '.join(FORMATS)}: MP3 (default, or as -o's suffix says), M4A "
                    "with chapters for Apple Books and audiobook players, Opus in Ogg.",
                    rich_help_panel=_OUTPUT_PANEL,
                    show_default=False,
                ),
            ],
            None,
        ),
        "sidecars": _Option(
            Annotated[
                str,
                typer.Option(
                    "--sidecars",
                    help=f"Files beside the track, comma-separated: {', '.join(SIDECARS)}, "
                    "or none.",
                    rich_help_panel=_OUTPUT_PANEL,
                ),
            ],
            ",".join(DEFAULT_SIDECARS),
        ),
        "chapter_images": _Option(
            Annotated[
                bool,
                typer.Option(
                    "--chapter-images/--no-chapter-images",
                    help="A picture in every chapter (MP3): the move, its prescription, its round.",
                    rich_help_panel=_OUTPUT_PANEL,
                ),
            ],
            True,
        ),
    },
)
