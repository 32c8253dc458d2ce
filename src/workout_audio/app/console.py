"""What the commands print: results on stdout, notices and progress on stderr."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from rich.console import Console

if TYPE_CHECKING:
    from ..pipeline import BuildResult
    from ..timeline.script import Script

__all__ = ["err", "notice", "out", "progress_bar", "say", "wrote"]

err = Console(stderr=True, soft_wrap=True)
out = Console(soft_wrap=True)


def say(text: str) -> None:
    """One plain line on stdout: no markup, no highlighting."""
    out.print(text, highlight=False, markup=False)


def notice(text: str | None) -> None:
    """What the library asks to tell the user once, on stderr."""
    if text:
        err.print(f"note: {text}", highlight=False, markup=False)


@contextmanager
def progress_bar(format_name: str = "mp3") -> Iterator[Callable[[str, int, int], None]]:
    """A bar a stage (speech, encoding, a download), shown only on a terminal; the
    encoding names the track's format."""
    from rich.progress import BarColumn, Progress, TaskID, TextColumn, TimeRemainingColumn

    labels = {
        "speech": "Synthesising speech",
        "encode": f"Encoding {format_name.upper()}",
        "download": "Downloading the voice",
    }
    tasks: dict[str, TaskID] = {}
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.percentage:>3.0f}%"),
        TimeRemainingColumn(),
        console=err,
        transient=True,
        disable=not err.is_terminal,
    ) as bar:

        def update(stage: str, done: int, total: int) -> None:
            if stage not in tasks:
                tasks[stage] = bar.add_task(labels.get(stage, stage), total=total)
            bar.update(tasks[stage], completed=done, total=total)

        yield update


def wrote(result: BuildResult) -> None:
    """Where the track went, how long it is, and what a target length changed."""
    from ..durations import format_clock

    script = result.script
    chapters = len(script.chapters)
    say(
        f"wrote {result.track} ({format_clock(script.length_ms)}, "
        f"{chapters} chapter{'' if chapters == 1 else 's'}, voice: {result.engine})"
    )
    _music(result)
    _report(script)


def _music(result: BuildResult) -> None:
    """The music under the voice: where from, how many tracks, its levels."""
    music = result.music
    if music is None:
        return
    name = result.music_source.name if result.music_source else music.tracks[0].path.name
    count = len(music.tracks)
    tracks = f" ({count} tracks)" if count > 1 else ""
    say(f"music: {name}{tracks}, {music.level_db:g} dB, ducking {music.duck_db:g} dB")


def _report(script: Script) -> None:
    """How distances were timed, and what a target length changed, as a coach's notes."""
    from ..durations import format_clock

    for timed in script.distances:
        say(f"timed by pace: {timed}")
    if script.target_ms is None or not script.adjustments:
        return
    out.print(f"fitted to {format_clock(script.target_ms)}:", highlight=False)
    for change in script.adjustments:
        say(f"  {change}")
