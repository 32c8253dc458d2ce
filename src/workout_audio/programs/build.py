"""A program to a folder of tracks and a feed: sessions side by side, up-to-date ones skipped.

The sessions run on a batch executor (a local process pool, one worker a core, or a
Dask cluster), which also runs a session again when its worker dies and drops the
sessions not started on Ctrl-C. Every distinct phrase of the program is made first, in
one job, into the shared speech cache, and every session's length fitted, before any
file is written; then the tracks are made side by side, each from the cache.
A small state file in the folder records each finished session's key (its routine,
length, settings, the program and package versions) so a rebuild with nothing changed
makes nothing; it is written after every finished session, so an interrupted build
keeps what it finished. The feed and its pages are written last, each whole.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from ..encode.formats import audio_format
from ..errors import StoppedPartway, StorageError, UsageError, WorkoutAudioError
from ..settings import EncodeSettings, MusicSettings, VoiceSettings
from ..storage.files import PART_SUFFIX, file_facts, write_whole
from .feed import write_feed
from .loader import load_program
from .model import Program, Session, SessionDone
from .names import COVER_FILE

if TYPE_CHECKING:  # the executors load the pipeline: a rebuild with nothing to make needs neither
    from ..execution import Executor, Problem

__all__ = [
    "DEFAULT_BASE_URL",
    "ProgramResult",
    "SessionJob",
    "build_program",
    "build_session",
]

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "http://localhost:8000/"
STATE_FILE = ".workout-audio-program.json"
COVER_PX = 3000  # Apple Podcasts' largest cover; the feed's itunes:image
_STATE_VERSION = 1


@dataclass(frozen=True)
class SessionJob:
    """Everything one process needs to make one session's files; picklable."""

    routine: Any  # a Routine (frozen dataclasses all the way down)
    track: Path
    length_ms: int | None
    voice: VoiceSettings
    music: MusicSettings | None
    encode: EncodeSettings
    cache_dir: Path | None
    cover: Path | None = None  # also draw the program's cover here, titled so
    cover_title: str = ""


_Planned = tuple[Session, SessionJob, str]  # a session, its job, the key of what it is made from


def build_session(job: SessionJob) -> SessionDone | Problem:
    """Make one session's track (tags, chapters, art), its WebVTT transcript and its
    chapter pictures as files; the unit of work the executor spreads over its workers.

    A problem is returned, not raised, as a batch's jobs do: the sessions finished stay.
    """
    from ..execution import Problem, remove_leftovers
    from ..outputs.sidecars import sidecar_paths

    pictures = _pictures_folder(job.track)
    remove_leftovers((job.track, *sidecar_paths(job.track, ("vtt",)), *_cover_of(job)))
    for leftover in pictures.glob(f".*{PART_SUFFIX}*"):  # a worker killed mid-session
        leftover.unlink(missing_ok=True)
    try:
        return _build_session(job, pictures)
    except WorkoutAudioError as error:
        return Problem.of(error)
    except OSError as error:
        return Problem(str(StorageError.from_os_error(error, job.track)), usage=False)


def _build_session(job: SessionJob, folder: Path) -> SessionDone:
    from ..outputs.art import block_summaries
    from ..outputs.art_cache import cached_artwork
    from ..pipeline import build
    from ..storage.cache import CacheRoot

    result = build(
        job.routine, job.track, length_ms=job.length_ms, voice=job.voice, music=job.music,
        encode=job.encode, sidecars=("vtt",), cache_dir=job.cache_dir,
    )  # fmt: skip
    script = result.script
    art = cached_artwork(script, True, CacheRoot(job.cache_dir).art)
    folder.mkdir(exist_ok=True)
    pictures = []
    for number, picture in enumerate(art.chapter_images, start=1):
        path = folder / f"{number:03d}.png"
        write_whole(path, picture)
        pictures.append(f"{folder.name}/{path.name}")
    if job.cover is not None:
        from ..outputs.art import cover_image

        titled = dataclasses.replace(script, routine_name=job.cover_title)
        write_whole(job.cover, cover_image(titled, COVER_PX))
    return SessionDone(
        track=job.track.name,
        transcript=result.sidecars[0].name,
        pictures=tuple(pictures),
        duration_ms=script.length_ms,
        chapters=tuple((c.start_ms, c.end_ms, c.title) for c in script.chapters),
        blocks=tuple(
            f"{block.name} ×{block.rounds}" if block.rounds > 1 else block.name
            for block in block_summaries(script)
        ),
        engine=result.engine,
    )


def _pictures_folder(track: Path) -> Path:
    return track.parent / f"{track.stem}.chapters"


def _cover_of(job: SessionJob) -> tuple[Path, ...]:
    return () if job.cover is None else (job.cover,)


@dataclass(frozen=True)
class ProgramResult:
    """A program built: the folder's files, and which sessions were made or skipped.

    Attributes:
        program: the program as read.
        folder: where everything went.
        feed: the podcast feed.
        built: the sessions made this time (the others were up to date).
        skipped: the sessions already up to date.
        sessions: each session's files and facts, in training order.
        feed_url: the feed's address, under the base URL.
    """

    program: Program
    folder: Path
    feed: Path
    built: tuple[Session, ...]
    skipped: tuple[Session, ...]
    sessions: tuple[SessionDone, ...]
    feed_url: str


def build_program(
    program: str | Path | Program,
    output_dir: str | Path,
    *,
    base_url: str | None = None,
    jobs: int | None = None,
    scheduler: str | None = None,
    executor: Executor | None = None,
    voice: VoiceSettings | None = None,
    music: MusicSettings | None = None,
    encode: EncodeSettings | None = None,
    cache_dir: str | Path | None = None,
    progress: Callable[[Session, bool], None] | None = None,
) -> ProgramResult:
    """Build every session of a program that is not up to date, then its feed and pages.

    Args:
        program: a loaded program, or the path of its YAML file.
        output_dir: the folder for the tracks and the feed (made when missing).
        base_url: where the folder will be served; every URL in the feed starts with it
            (default ``http://localhost:8000/``).
        jobs: sessions made at once on this machine (default: one per core).
        scheduler: a Dask scheduler's address (``tcp://host:8786``): the sessions are
            made on its cluster instead.
        executor: where the sessions are made, already open (default: from ``jobs``
            and ``scheduler``, as :func:`executor_for` makes it); left open.
        voice: voice settings over the program's own (None: the program's).
        music: music over the program's own (None: the program's).
        encode: encoding settings over the program's own (None: the program's).
        cache_dir: the speech cache folder (default: the user cache folder).
        progress: called with each session when it is made (True) or skipped (False).

    Returns:
        The files written and the sessions made and skipped.

    Raises:
        UsageError: a bad program, routine, base URL or output folder (before anything is written).
        WorkoutAudioError: an engine, encoder or storage problem, in one line.
    """
    if executor is not None and (jobs is not None or scheduler is not None):
        raise UsageError("build_program: give an executor, or jobs and scheduler, not both")
    loaded = program if isinstance(program, Program) else load_program(program)
    base = check_base_url(base_url or DEFAULT_BASE_URL)
    folder = Path(output_dir)
    if folder.exists() and not folder.is_dir():
        raise UsageError(f"{folder}: is a file; give a folder for the program")
    cache = None if cache_dir is None else Path(cache_dir)
    voice = voice or loaded.voice
    music = music or loaded.music
    encode = encode or loaded.encode
    audio_suffix = audio_format(encode.format).suffix  # an unknown format is refused here
    state = _read_state(folder)
    from .. import __version__

    planned: list[_Planned] = []
    for index, session in enumerate(loaded.sessions):
        track = folder / f"{session.stem}{audio_suffix}"
        job = SessionJob(
            routine=session.routine, track=track, length_ms=session.length_ms, voice=voice,
            music=music, encode=encode, cache_dir=cache,
            cover=folder / COVER_FILE if index == 0 else None, cover_title=loaded.name,
        )  # fmt: skip
        key = _key(job, loaded, __version__)
        planned.append((session, job, key))
    todo = [
        (session, job, key)
        for session, job, key in planned
        if not _up_to_date(state.get(session.stem), key, job, folder)
    ]
    skipped = tuple(s for s, _, _ in planned if all(s is not t for t, _, _ in todo))
    if progress:
        for session in skipped:
            progress(session, False)
    if todo and executor is None:
        from ..execution import executor_for

        with executor_for(scheduler, jobs) as runner:
            _build_sessions(runner, todo, folder, state, progress, cache)
    elif todo and executor is not None:
        _build_sessions(executor, todo, folder, state, progress, cache)
    sessions = tuple(_from_json(state[session.stem]) for session, _, _ in planned)
    feed = write_feed(loaded, folder, base, sessions)
    return ProgramResult(
        program=loaded,
        folder=folder,
        feed=feed,
        built=tuple(session for session, _, _ in todo),
        skipped=skipped,
        sessions=sessions,
        feed_url=base + feed.name,
    )


def _build_sessions(
    executor: Executor,
    todo: list[_Planned],
    folder: Path,
    state: dict[str, dict[str, Any]],
    progress: Callable[[Session, bool], None] | None,
    cache: Path | None,
) -> None:
    """The program's phrases first (every length fitted before any file is written), then
    the sessions side by side; the state file is written as each session is finished."""
    from ..execution import Problem, SpeechJob, speak_all

    voice = todo[0][1].voice
    speech = SpeechJob(voice, tuple((job.routine, job.length_ms) for _, job, _ in todo), ())
    for problem in speak_all(executor, [speech], cache):
        raise problem.error()
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StorageError.from_os_error(error, folder) from None
    if executor.workers > 1 and len(todo) > 1:  # the sessions keep the cores busy: one encoder each
        todo = [
            (s, dataclasses.replace(j, encode=dataclasses.replace(j.encode, encoders=1)), k)
            for s, j, k in todo
        ]
    finished: list[SessionJob] = []
    problems: list[Problem] = []

    def arrived(position: int, result: object) -> None:
        session, job, key = todo[position]
        if isinstance(result, SessionDone):
            size = (folder / result.track).stat().st_size
            state[session.stem] = {"key": key, "bytes": size, **dataclasses.asdict(result)}
            _write_state(folder, state)
            finished.append(job)
            if progress:
                progress(session, True)
        elif isinstance(result, Problem):
            problems.append(result)
        else:  # its worker died every time it ran it
            problems.append(Problem(f"{job.track}: {result}", usage=False))

    try:
        executor.run(build_session, [(job,) for _, job, _ in todo], arrived)
    except KeyboardInterrupt as stopped:
        if not finished:
            raise
        # The sessions finished stay, and the next run skips them: say which.
        missed = tuple(job.track for _, job, _ in todo if job not in finished)
        written = tuple(job.track for job in finished)
        raise StoppedPartway(stopped, written=written, not_written=missed) from None
    for problem in problems:  # the others are finished, and the next run skips them
        raise problem.error()


def check_base_url(url: str) -> str:
    """The base URL, ending in ``/``.

    Raises:
        UsageError: not an http(s) URL with a host.
    """
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise UsageError(f"--base-url: {url!r} is not an http:// or https:// address")
    return url if url.endswith("/") else url + "/"


def _key(job: SessionJob, program: Program, version: str) -> str:
    """All that a session's files are made from; the same key means the same files."""
    # The routine's path only cites it in messages: the same file named from another folder
    # (relative or absolute) makes the same files.
    routine = dataclasses.replace(job.routine, path=str(Path(job.routine.path).resolve()))
    made_from = (
        _STATE_VERSION, version, program.name, repr(routine), job.length_ms,
        repr(dataclasses.replace(job.voice, rate=float(job.voice.rate))), repr(job.music),
        repr(dataclasses.replace(  # -18 and -18.0 ask for the same track
            job.encode, encoders=None, loudness_lufs=float(job.encode.loudness_lufs)
        )),
        job.cover is not None, _read_files_facts(job),
    )  # fmt: skip
    return hashlib.sha256(repr(made_from).encode()).hexdigest()


def _read_files_facts(job: SessionJob) -> list[list[tuple[str, int, int]]]:
    """The files a session reads besides its routine (its music, the routine's own sounds),
    by size and time: one replaced in place makes the session again."""
    music = job.music.source if job.music is not None else None
    paths = [*([music] if music is not None else []), *(s.path for s in job.routine.sounds)]
    return [file_facts(path) for path in paths if path.exists()]


def _up_to_date(entry: dict[str, Any] | None, key: str, job: SessionJob, folder: Path) -> bool:
    if not entry or entry.get("key") != key:
        return False
    files = [entry.get("track"), entry.get("transcript"), *entry.get("pictures", [])]
    if job.cover is not None:
        files.append(job.cover.name)
    if not all(isinstance(name, str) and (folder / name).is_file() for name in files):
        return False
    return (folder / str(entry["track"])).stat().st_size == entry.get("bytes")


def _read_state(folder: Path) -> dict[str, dict[str, Any]]:
    try:
        data = json.loads((folder / STATE_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # none yet, or unreadable: everything is made again
    if not isinstance(data, dict) or data.get("version") != _STATE_VERSION:
        return {}
    sessions = data.get("sessions")
    return sessions if isinstance(sessions, dict) else {}


def _write_state(folder: Path, sessions: dict[str, dict[str, Any]]) -> None:
    document = {"version": _STATE_VERSION, "sessions": sessions}
    write_whole(folder / STATE_FILE, (json.dumps(document, indent=1) + "\n").encode())


def _from_json(entry: dict[str, Any]) -> SessionDone:
    return SessionDone(
        track=entry["track"],
        transcript=entry["transcript"],
        pictures=tuple(entry["pictures"]),
        duration_ms=int(entry["duration_ms"]),
        chapters=tuple((int(s), int(e), str(t)) for s, e, t in entry["chapters"]),
        blocks=tuple(entry["blocks"]),
        engine=str(entry["engine"]),
    )
