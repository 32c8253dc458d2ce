"""Where a build writes, decided and checked before any speech is made.

A track's default place (``build/NAME.mp3`` under the current folder), its format
(named, or as its file name says), the files beside it and the names of length
variants are decided here, once, for the command line and Python alike. Every
file that will be written is checked first, so a build that cannot finish fails
in a second, not after minutes of synthesis.
"""

from __future__ import annotations

import dataclasses
import os
import tempfile
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from .durations import parse_duration_ms
from .encode.formats import FORMATS, audio_format, format_for_path
from .encode.render import MAX_TRACK_MS
from .errors import UsageError
from .outputs.sidecars import parse_sidecars, sidecar_paths
from .settings import EncodeSettings

__all__ = [
    "OutputPlan",
    "chart_path",
    "check_cache_dir",
    "check_output",
    "length_label",
    "length_ms_of",
    "plan_track",
    "plan_variants",
    "sidecar_names",
    "track_format",
]

DEFAULT_FOLDER = Path("build")  # under the current folder, as a build tool would


@dataclass(frozen=True)
class OutputPlan:
    """One track to write: where, how it is encoded, and the files beside it."""

    track: Path
    encode: EncodeSettings
    sidecar_names: tuple[str, ...] = ()
    chart: Path | None = None

    @property
    def sidecars(self) -> tuple[Path, ...]:
        """The files beside the track, one a name in ``sidecar_names``."""
        return tuple(sidecar_paths(self.track, self.sidecar_names))


def length_ms_of(length: str | None, length_ms: int | None = None) -> int | None:
    """A target length given as text (``30m``, ``45:00``) or in milliseconds, checked.

    Raises:
        UsageError: not a length, not more than zero, or over six hours.
    """
    if length is not None and length_ms is not None:
        raise UsageError("--length: give the length once, as text or in milliseconds")
    if length is not None:
        try:
            length_ms = parse_duration_ms(length)
        except ValueError as error:
            raise UsageError(f"--length: {error}") from None
    if length_ms is None:
        return None
    if length_ms <= 0:
        raise UsageError("--length: must be more than zero")
    if length_ms > MAX_TRACK_MS:
        shown = length if length is not None else f"{length_ms} ms"
        raise UsageError(f"--length: {shown!r} is absurdly long (over 6 hours)")
    return length_ms


def length_label(length_ms: int) -> str:
    """A length as it goes in a file name: ``20m``, ``1h30m``, ``90s``, ``1500ms``."""
    if length_ms % 1000:
        return f"{length_ms}ms"
    hours, rest_s = divmod(length_ms // 1000, 3600)
    minutes, seconds = divmod(rest_s, 60)
    parts = [f"{hours}h" if hours else "", f"{minutes}m" if minutes else ""]
    parts.append(f"{seconds}s" if seconds else "")
    return "".join(parts)


def sidecar_names(sidecars: Sequence[str] | str) -> tuple[str, ...]:
    """The side files asked for, as ``"lrc,srt"``, ``"none"`` or a sequence of names.

    Raises:
        UsageError: an unknown name (the message lists the valid ones).
    """
    if isinstance(sidecars, str):
        return parse_sidecars(sidecars)
    return parse_sidecars(",".join(sidecars)) if sidecars else ()


def check_output(output: Path) -> None:
    """Refuse, before any work, a path a file could not be written to.

    Raises:
        UsageError: the folder is missing or not writable, the path is a folder, or an
            earlier file there is read-only.
    """
    folder = output.parent
    if output.is_dir():
        raise UsageError(f"{output}: is a folder; give a file name, like {output / 'track.mp3'}")
    if not folder.exists():
        raise UsageError(f"{output}: folder {str(folder)!r} does not exist")
    if not folder.is_dir():
        raise UsageError(f"{output}: {str(folder)!r} is a file, not a folder")
    if output.exists() and not os.access(output, os.W_OK):
        raise UsageError(f"{output}: the file there is read-only or locked; not replacing it")
    try:
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as error:
        raise UsageError(f"{output}: cannot write in {str(folder)!r}: {error.strerror}") from None


def check_cache_dir(cache_dir: Path | None) -> None:
    """Refuse a cache folder that is a file.

    Raises:
        UsageError: ``cache_dir`` is a file.
    """
    if cache_dir is not None and cache_dir.exists() and not cache_dir.is_dir():
        raise UsageError(f"--cache-dir: {str(cache_dir)!r} is a file, not a folder")


def plan_track(
    routine_path: Path,
    output: Path | None,
    *,
    format_name: str | None = None,
    encode: EncodeSettings | None = None,
    sidecars: Iterable[str] = (),
    chart: bool = False,
) -> OutputPlan:
    """The track of the routine at ``routine_path`` and the files beside it, all checked.

    The format is ``format_name`` when given (refused when ``output`` names another),
    else the one ``output``'s suffix names, else ``encode``'s (MP3 unless it says).

    Raises:
        UsageError: the format and the file name disagree, or a file cannot be written.
    """
    if output is not None:  # a folder, or the routine itself, is said before its suffix
        _check_writable(OutputPlan(output, EncodeSettings()), routine_path)
    encode = _encoding(encode or EncodeSettings(), format_name, output)
    track = output or _default_output(routine_path, audio_format(encode.format).suffix)
    plan = OutputPlan(
        track=track,
        encode=encode,
        sidecar_names=tuple(sidecars),
        chart=track.with_suffix(".png") if chart else None,
    )
    _check_writable(plan, routine_path)
    return plan


def plan_variants(
    routine_path: Path,
    lengths_ms: Iterable[int],
    output_dir: Path | None,
    *,
    stem: str | None = None,
    format_name: str | None = None,
    encode: EncodeSettings | None = None,
    sidecars: Iterable[str] = (),
) -> list[tuple[int, OutputPlan]]:
    """One track a distinct length, ``OUTPUT_DIR/STEM-20m.mp3``, each checked.

    Raises:
        UsageError: ``output_dir`` does not exist, or a file cannot be written.
    """
    encode = encode or EncodeSettings()
    if format_name is not None:
        encode = dataclasses.replace(encode, format=audio_format(format_name).name)
    suffix = audio_format(encode.format).suffix
    stem = stem or routine_path.stem
    if output_dir is not None and not output_dir.is_dir():
        raise UsageError(f"-o: folder {str(output_dir)!r} does not exist")
    folder = output_dir or _default_output(routine_path, suffix).parent
    names = tuple(sidecars)
    planned = []
    for length_ms in dict.fromkeys(lengths_ms):
        track = folder / f"{stem}-{length_label(length_ms)}{suffix}"
        plan = OutputPlan(track, encode, names)
        _check_writable(plan, routine_path)
        planned.append((length_ms, plan))
    return planned


def chart_path(routine_path: Path, output: Path | None) -> Path:
    """Where a chart alone goes: ``output`` (.png or .svg) or ``build/NAME.png``, checked.

    Raises:
        UsageError: another suffix, or the file cannot be written.
    """
    from .outputs.chart import CHART_FORMATS  # the drawing loads only for a chart

    if output is not None and output.suffix.lower() not in CHART_FORMATS:
        raise UsageError(f"-o {output}: the chart is written as .png or .svg")
    path = output or _default_output(routine_path, ".png")
    _check_writable(OutputPlan(path, EncodeSettings()), routine_path)
    return path


def track_format(
    output: Path | None, format_name: str | None, encode: EncodeSettings | None = None
) -> str:
    """The format a track will be written in: ``format_name``, else ``output``'s suffix,
    else ``encode``'s (MP3 unless it says), as :func:`plan_track` decides it; for a name
    or format it refuses, the default (the build then says why, in its own order).
    """
    encode = encode or EncodeSettings()
    try:
        return _encoding(encode, format_name, output).format
    except UsageError:
        return encode.format


def _encoding(
    encode: EncodeSettings, format_name: str | None, output: Path | None
) -> EncodeSettings:
    found = format_for_path(output) if output is not None else None
    if output is not None and found is None:
        said = "no suffix to say the format"
        if output.suffix:
            said = f"{output.suffix} is not a format a track is written in"
        names = [str(output.with_suffix(f.suffix)) for f in FORMATS.values()]
        raise UsageError(
            f"-o {output}: {said}; the formats are {', '.join(FORMATS)} "
            f"(name it {', '.join(names[:-1])} or {names[-1]})"
        )
    by_suffix = found.name if found is not None else None
    if format_name is None:
        return encode if by_suffix is None else dataclasses.replace(encode, format=by_suffix)
    named = audio_format(format_name).name
    if output is not None and by_suffix is not None and by_suffix != named:
        raise UsageError(
            f"-o {output}: a {output.suffix} file, but --format {named}; "
            f"name it {output.with_suffix(FORMATS[named].suffix)}"
        )
    return dataclasses.replace(encode, format=named)


def _default_output(routine_path: Path, suffix: str) -> Path:
    output = DEFAULT_FOLDER / f"{routine_path.stem}{suffix}"
    try:
        output.parent.mkdir(exist_ok=True)
    except OSError as error:
        raise UsageError(
            f"cannot make the folder {str(output.parent)!r} for the track "
            f"({error.strerror}); choose another place with -o"
        ) from None
    return output


def _check_writable(plan: OutputPlan, routine_path: Path) -> None:
    """Every file of ``plan``: writable, and never the routine itself."""
    for path in (plan.track, *plan.sidecars, *([plan.chart] if plan.chart else [])):
        if path.exists() and routine_path.exists() and path.samefile(routine_path):
            raise UsageError(f"{path}: that is the routine itself; write the track elsewhere")
        check_output(path)
