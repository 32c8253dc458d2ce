"""A program: weeks of sessions, each a checked routine, and the settings its tracks share."""

from __future__ import annotations

import dataclasses
import datetime
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..routine import Routine
from ..settings import EncodeSettings, MusicSettings, VoiceSettings

__all__ = ["PODCAST_NAMESPACE", "Program", "Session", "SessionDone"]

# The Podcasting 2.0 namespace for podcast:guid (podcast-namespace docs, "guid").
PODCAST_NAMESPACE = uuid.UUID("ead4c236-bf58-58c6-a2c6-a6b28d128cb6")


@dataclass(frozen=True)
class Session:
    """One day of the plan: its routine as it will be built, and where it sits in the plan.

    Attributes:
        week: the week, from 1.
        day: the day within the week, from 1.
        title: the session's title; also the track's title and what the intro says.
        routine: the routine, named by the title, with any per-session rounds applied.
        length_ms: the track's exact length, or None for the routine's own.
        stem: the track's file name without its suffix; sorts in training order.
        line: the program file's line that states the session.
    """

    week: int
    day: int
    title: str
    routine: Routine
    length_ms: int | None
    stem: str
    line: int


@dataclass(frozen=True)
class Program:
    """A checked program file.

    Attributes:
        name: the program's name, the feed's title.
        description: what the program is, the feed's description.
        language: the language of the feed and of every session's cues.
        path: the program file.
        sessions: every session in training order.
        voice: the voice settings the program file states.
        music: the music under every session, or None.
        encode: the encoding settings the program file states.
        author: who wrote the plan (the feed's author).
        source: where the plan comes from, or None.
        starts: the date given to week 1, day 1 in the feed.
    """

    name: str
    description: str
    language: str
    path: Path
    sessions: tuple[Session, ...]
    voice: VoiceSettings
    music: MusicSettings | None
    encode: EncodeSettings
    author: str
    source: str | None
    starts: datetime.date

    @property
    def weeks(self) -> int:
        return max(session.week for session in self.sessions)

    @property
    def guid(self) -> uuid.UUID:
        """The feed's podcast:guid: a UUIDv5 in the Podcasting 2.0 namespace, of the program.

        It names the program, not an address, so it stays when the feed is served elsewhere.
        """
        return uuid.uuid5(PODCAST_NAMESPACE, f"workout-audio/program/{self.name.casefold()}")

    def settings_over(
        self,
        music: MusicSettings | None = None,
        **asked: Any,  # noqa: ANN401 (named fields)
    ) -> tuple[VoiceSettings, MusicSettings | None, EncodeSettings]:
        """The program's own settings with what a user asked over them (``program build``'s
        options, a batch row). ``asked`` names VoiceSettings and EncodeSettings fields; one
        that is None was not asked for. ``music`` with nothing set is not asked for either."""
        voice_fields = {field.name for field in dataclasses.fields(VoiceSettings)}
        encode_fields = {field.name for field in dataclasses.fields(EncodeSettings)}
        unknown = set(asked) - voice_fields - encode_fields
        if unknown:
            raise TypeError(f"not a voice or encoding setting: {', '.join(sorted(unknown))}")
        given = {name: value for name, value in asked.items() if value is not None}
        voice = dataclasses.replace(
            self.voice, **{k: v for k, v in given.items() if k in voice_fields}
        )
        encode = dataclasses.replace(
            self.encode, **{k: v for k, v in given.items() if k in encode_fields}
        )
        if music is None or (music.source, music.level_db, music.duck_db) == (None, None, None):
            return voice, self.music, encode
        return voice, music.over(self.music), encode


@dataclass(frozen=True)
class SessionDone:
    """What the feed needs of a finished session; kept in the state file."""

    track: str  # file names, relative to the folder
    transcript: str
    pictures: tuple[str, ...]
    duration_ms: int
    chapters: tuple[tuple[int, int, str], ...]  # start, end, title
    blocks: tuple[str, ...]  # each block, with its rounds: "Intervals ×8"
    engine: str
