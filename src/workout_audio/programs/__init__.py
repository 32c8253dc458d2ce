"""Programs: a multi-week plan of routines, built into one track a session and a podcast feed.

:mod:`.loader` reads and checks program files (``schema/program.schema.json``),
:mod:`.build` makes the sessions side by side and skips those up to date, :mod:`.feed`
writes the feed, the playlist, the page and the chapters files.
"""

from __future__ import annotations

from .build import DEFAULT_BASE_URL, ProgramResult, build_program, check_base_url
from .loader import check_program, load_program, program_schema
from .model import Program, Session, SessionDone

__all__ = [
    "DEFAULT_BASE_URL",
    "Program",
    "ProgramResult",
    "Session",
    "SessionDone",
    "build_program",
    "check_base_url",
    "check_program",
    "load_program",
    "program_schema",
]
