"""``import`` and ``export``: workouts from intervals.icu, Zwift and Garmin, and back."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from .options import RoutineArg

__all__ = ["export_command", "import_command"]


def import_command(
    workout: Annotated[
        Path,
        typer.Argument(
            help="The workout: intervals.icu text (.txt), Zwift (.zwo) or Garmin FIT (.fit).",
            show_default=False,
            dir_okay=False,
            metavar="FILE",
        ),
    ],
    output: Annotated[
        Path | None,
        typer.Option(
            "-o",
            "--output",
            help="The routine to write (default: FILE with .yaml).",
            metavar="ROUTINE.yaml",
        ),
    ] = None,
    threshold_pace: Annotated[
        str | None,
        typer.Option(
            "--threshold-pace",
            help="Your threshold pace (4:30/km): turns intervals.icu's percent paces into paces.",
            metavar="PACE",
        ),
    ] = None,
) -> None:
    """Write a workout planned elsewhere as a routine you can edit and build.

    Example: workout-audio import threshold.txt -o threshold.yaml
    """
    from ..interchange import import_plan
    from .console import say

    say(f"wrote {import_plan(workout, output, threshold_pace=threshold_pace)}")


def export_command(
    routine_path: RoutineArg,
    output: Annotated[
        Path,
        typer.Option(
            "-o",
            "--output",
            help="The workout to write: FILE.fit (a watch) or FILE.zwo (Zwift).",
            metavar="FILE",
        ),
    ],
    ftp: Annotated[
        int | None,
        typer.Option(
            "--ftp",
            help="Your FTP in watts: a .zwo states power as a share of it.",
            metavar="WATTS",
            min=1,
        ),
    ] = None,
) -> None:
    """Write a routine as a watch or trainer workout that runs in step with its track.

    Example: workout-audio export routines/run-walk-week-1.yaml -o run-walk.fit
    """
    from ..interchange import export_routine
    from .console import say

    say(f"wrote {export_routine(routine_path, output, ftp_w=ftp)}")
