"""The studio's Starlette app: the page, and the routes it calls.

Every answer comes from the library (the routine loader's file:line messages,
``check_routine``, ``prepare``, ``chart_svg``, ``build``); the routes only read the
request, keep paths inside the folder, and turn the answer into JSON.

Safety: requests must name this machine as their host (a page on another site that
points its name at 127.0.0.1 gets nothing), and every request that changes a file or
starts work carries the page's own ``Origin`` and the per-session token the page was
served with (header ``X-Studio-Token``).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import re
import secrets
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlencode

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.middleware import Middleware
from starlette.middleware.trustedhost import TrustedHostMiddleware
from starlette.requests import Request
from starlette.responses import (
    FileResponse,
    HTMLResponse,
    JSONResponse,
    Response,
    StreamingResponse,
)
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from ..errors import RoutineErrors, UsageError, WorkoutAudioError
from ..storage.files import pending_file, write_whole
from .builds import BuildBusy, Builds
from .feeds import FEEDS_PATH, Feeds
from .folder import BUILD_FOLDER, ROUTINE_SUFFIXES, Folder, OutsideFolder

if TYPE_CHECKING:
    from ..pipeline import BuildResult
    from ..programs import Program, Session
    from ..settings import VoiceSettings

__all__ = ["LOCAL_HOSTS", "TOKEN_HEADER", "UPLOAD_BYTES_MAX", "studio_app"]

TOKEN_HEADER = "X-Studio-Token"
LOCAL_HOSTS = ("127.0.0.1", "localhost", "::1")
UPLOAD_BYTES_MAX = 50 * 1024 * 1024  # a long music track as MP3; more is refused (413)
TEXT_BYTES_MAX = 2_000_000  # a routine's text in JSON; the loader refuses files over 1 MB
MUSIC_FOLDER = "music"  # uploads go here, inside the studio's folder
_EVENT_POLL_S = 0.1

Handler = Callable[[Request], Awaitable[Response]]


def studio_app(
    folder: Path,
    token: str,
    *,
    hosts: Sequence[str] = LOCAL_HOSTS,
    cache_dir: Path | None = None,
    engine: str = "auto",
    address: str | None = None,
) -> Starlette:
    """The studio as an ASGI app working on the routines in ``folder``.

    Args:
        folder: the folder whose routines and music the page may read and write.
        token: the per-session secret the page is served with and must send back.
        hosts: the host names requests may be addressed to (this machine's by default).
        cache_dir: the speech cache folder (default: the user cache folder).
        engine: the speech engine the page starts with.
        address: the studio's address as a phone reaches it (``http://HOST:PORT``), for
            the feeds' URLs; default: the address the page was asked at.

    Raises:
        UsageError: ``folder`` is not a folder.
    """
    studio = _Studio(Folder.at(folder), token, cache_dir, engine, address)
    static = resources.files("workout_audio.studio").joinpath("static")
    routes = [
        Route("/", studio.page),
        Route("/api/files", studio.files),
        Route("/api/routine", studio.read_routine),
        Route("/api/routine", _guarded(studio, studio.save_routine), methods=["PUT"]),
        Route("/api/new", _guarded(studio, studio.new_routine), methods=["POST"]),
        Route("/api/check", _guarded(studio, studio.check), methods=["POST"]),
        Route("/api/build", _guarded(studio, studio.build), methods=["POST"]),
        Route("/api/build/events", studio.build_events),
        Route("/api/upload", _guarded(studio, studio.upload), methods=["PUT"]),
        Route("/api/program", studio.read_program),
        Route("/api/program/build", _guarded(studio, studio.build_program), methods=["POST"]),
        Route("/files/{path:path}", studio.download),
        Mount(FEEDS_PATH, app=studio.feeds),
        Mount("/static", StaticFiles(directory=str(static)), name="static"),
    ]
    allowed = [f"[{host}]" if ":" in host else host for host in hosts] + list(hosts)
    return Starlette(
        routes=routes,
        middleware=[Middleware(TrustedHostMiddleware, allowed_hosts=allowed)],
        exception_handlers={WorkoutAudioError: _error_answer},
    )


def _guarded(studio: _Studio, handler: Handler) -> Handler:
    """``handler``, refused (403) unless the request comes from the page with its token."""

    async def guarded(request: Request) -> Response:
        own = f"{request.url.scheme}://{request.headers.get('host', '')}"
        if request.headers.get("origin") != own:
            return _refusal(403, f"refused: a change must come from the studio's page ({own})")
        sent = request.headers.get(TOKEN_HEADER, "")
        if not secrets.compare_digest(sent.encode(), studio.token.encode()):
            return _refusal(403, "refused: the page's session token is missing or stale; reload")
        return await handler(request)

    return guarded


async def _error_answer(request: Request, error: Exception) -> Response:
    status = 409 if isinstance(error, BuildBusy) else 400
    if isinstance(error, OutsideFolder):
        status = 403
    return _refusal(status, str(error))


def _refusal(status: int, message: str) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


class _Studio:
    """The routes' shared state: the folder, the token, the builds."""

    def __init__(
        self,
        folder: Folder,
        token: str,
        cache_dir: Path | None,
        engine: str,
        address: str | None,
    ) -> None:
        self.folder = folder
        self.engine = engine
        self.token = token
        self.cache_dir = cache_dir
        self.address = address
        self.builds = Builds()
        self.feeds = Feeds(lambda: map(folder.program_build, folder.programs()))
        self._checking = threading.Lock()  # one check at a time: each may synthesise speech

    async def page(self, request: Request) -> Response:
        html = resources.files("workout_audio.studio").joinpath("static").joinpath("index.html")
        text = html.read_text(encoding="utf-8").replace("{{token}}", self.token)
        return HTMLResponse(text, headers={"Cache-Control": "no-store"})

    async def files(self, request: Request) -> Response:
        from ..encode.formats import FORMATS
        from ..speech import engine_names
        from ..timeline.phrases import available_languages

        return JSONResponse(
            {
                "folder": str(self.folder.root),
                "routines": self.folder.routines(),
                "programs": self.folder.programs(),
                "music": self.folder.music(),
                "languages": available_languages(),
                "engines": ["auto", *engine_names()],
                "engine": self.engine,
                "formats": list(FORMATS),
                "upload_bytes_max": UPLOAD_BYTES_MAX,
            }
        )

    async def read_routine(self, request: Request) -> Response:
        path = self._routine_path(request.query_params.get("path", ""))
        try:
            text = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return _refusal(404, f"{self.folder.relative(path)}: no such routine")
        return JSONResponse({"path": self.folder.relative(path), "text": text})

    async def save_routine(self, request: Request) -> Response:
        wanted = await _json(request)
        path = self._routine_path(str(wanted.get("path", "")))
        text = str(wanted.get("text", ""))
        await run_in_threadpool(write_whole, path, text.encode("utf-8"))
        return JSONResponse({"saved": self.folder.relative(path)})

    async def new_routine(self, request: Request) -> Response:
        wanted = await _json(request)
        path = self._routine_path(str(wanted.get("path", "")))
        if path.exists():
            return _refusal(409, f"{self.folder.relative(path)} already exists")
        path.parent.mkdir(parents=True, exist_ok=True)
        template = resources.files("workout_audio.studio").joinpath("template.yaml")
        write_whole(path, template.read_bytes())
        return JSONResponse({"path": self.folder.relative(path), "text": template.read_text()})

    async def check(self, request: Request) -> Response:
        """The text's problems with their lines, or its script, chart and length bounds."""
        wanted = await _json(request)
        path = self._routine_path(str(wanted.get("path", "")))
        text = str(wanted.get("text", ""))
        return JSONResponse(await run_in_threadpool(self._check, path, text, wanted))

    def _check(self, path: Path, text: str, wanted: dict[str, Any]) -> dict[str, Any]:
        from ..outputs.chart import chart_svg
        from ..pipeline import check_routine
        from ..preparation import clip_lengths_ms, prepare
        from ..routine import routine_from_text
        from ..timeline.fit import length_range_ms
        from ..timeline.script import script_as_json

        voice = self._voice(wanted)
        with self._checking:
            try:
                routine = check_routine(
                    routine_from_text(text, path), engine=voice.engine, cache_dir=self.cache_dir
                )
                prepared = prepare(
                    routine, length=_choice(wanted, "length"), voice=voice, cache_dir=self.cache_dir
                )
            except RoutineErrors as error:
                return {"errors": [self._problem(str(p), p.line) for p in error.errors]}
            except UsageError as error:
                return {"errors": [self._problem(str(error), self._line_in(str(error), path))]}
        shortest_ms, longest_ms = length_range_ms(routine, clip_lengths_ms(prepared.clips))
        return {
            "errors": [],
            "notice": prepared.notice,
            "script": script_as_json(prepared.script, prepared.engine),
            "chart_svg": chart_svg(prepared.script),
            "bounds": {"shortest_s": shortest_ms / 1000, "longest_s": longest_ms / 1000},
        }

    async def build(self, request: Request) -> Response:
        wanted = await _json(request)
        path = self._routine_path(str(wanted.get("path", "")))
        name = self.folder.relative(path)
        music = _choice(wanted, "music")
        music_path = self.folder.inside(music) if music else None
        self.builds.start(name, lambda progress: self._build(path, wanted, music_path, progress))
        events = f"/api/build/events?{urlencode({'path': name})}"
        return JSONResponse({"building": name, "events": events}, 202)

    def _build(
        self,
        path: Path,
        wanted: dict[str, Any],
        music: Path | None,
        progress: Callable[[str, int, int], None],
    ) -> dict[str, Any]:
        from ..encode.formats import audio_format
        from ..timeline.script import script_as_json

        audio = audio_format(_choice(wanted, "format") or "mp3")
        voice = self._voice(wanted)
        # build/ mirrors the folder, so routines of the same name in two folders never clash
        output = (self.folder.root / BUILD_FOLDER / self.folder.relative(path)).with_suffix(
            audio.suffix
        )
        output.parent.mkdir(parents=True, exist_ok=True)
        try:
            result = self._build_track(path, output, audio.name, voice, wanted, music, progress)
        except WorkoutAudioError as error:  # the page shows paths as it names them
            raise UsageError(self._tidy(str(error))) from None
        return {
            "track": self._url(result.track),
            "sidecars": [self._url(p) for p in result.sidecars],
            "notice": result.notice,
            "script": script_as_json(result.script, result.engine),
        }

    def _build_track(
        self,
        path: Path,
        output: Path,
        format_name: str,
        voice: VoiceSettings,
        wanted: dict[str, Any],
        music: Path | None,
        progress: Callable[[str, int, int], None],
    ) -> BuildResult:
        from ..pipeline import build
        from ..settings import MusicSettings

        return build(
            path,
            output,
            length=_choice(wanted, "length"),
            voice=voice,
            music=MusicSettings(
                source=music,
                level_db=_number(wanted, "music_level_db"),
                duck_db=_number(wanted, "duck_db"),
                where="music",
            ),
            format=format_name,
            cache_dir=self.cache_dir,
            progress=progress,
        )

    async def read_program(self, request: Request) -> Response:
        """A program's sessions (or its problems at their lines), and its feed once built."""
        path = self._routine_path(request.query_params.get("path", ""))
        if not path.is_file():
            return _refusal(404, f"{self.folder.relative(path)}: no such program")
        return JSONResponse(await run_in_threadpool(self._program_view, path, request))

    def _program_view(self, path: Path, request: Request) -> dict[str, Any]:
        from ..programs import load_program

        name = self.folder.relative(path)
        try:
            program = load_program(path)
        except RoutineErrors as error:
            problems = [
                self._problem(str(p), p.line if Path(p.path) == path else None)
                for p in error.errors
            ]
            return {"path": name, "errors": problems, "sessions": []}
        token = self.feeds.known_token(self.folder.program_build(name))
        return {
            "path": name,
            "errors": [],
            "name": program.name,
            "description": program.description,
            "sessions": [_session_view(s) for s in program.sessions],
            **(self._feed_view(token, request) if token else {}),
        }

    async def build_program(self, request: Request) -> Response:
        """Build all of a program's sessions into ``build/``; progress as a routine's build."""
        wanted = await _json(request)
        path = self._routine_path(str(wanted.get("path", "")))
        name = self.folder.relative(path)
        engine = _choice(wanted, "engine") or self.engine
        self.builds.start(
            name, lambda progress: self._build_program(path, engine, request, progress)
        )
        events = f"/api/build/events?{urlencode({'path': name})}"
        return JSONResponse({"building": name, "events": events}, 202)

    def _build_program(
        self, path: Path, engine: str, request: Request, progress: Callable[[str, int, int], None]
    ) -> dict[str, Any]:
        from ..programs import build_program, load_program

        try:
            program = load_program(path)
            output = self.folder.program_build(self.folder.relative(path))
            total = len(program.sessions)
            progress("sessions", 0, total)
            settled = 0

            def session_settled(*_: object) -> None:
                nonlocal settled
                settled += 1
                progress("sessions", settled, total)

            result = build_program(
                program, output, voice=self._program_voice(program, engine),
                cache_dir=self.cache_dir, progress=session_settled,
            )  # fmt: skip
        except WorkoutAudioError as error:  # the page shows paths as it names them
            raise UsageError(self._tidy(str(error))) from None
        token = self.feeds.token_of(result.folder)
        return {
            "program": self.folder.relative(path),
            "built": len(result.built),
            "skipped": len(result.skipped),
            **self._feed_view(token, request),
        }

    @staticmethod
    def _program_voice(program: Program, engine: str) -> VoiceSettings:
        """The program's voice, with the page's engine when the page names one."""
        voice = program.voice
        return voice if engine == "auto" else dataclasses.replace(voice, engine=engine)

    def _feed_view(self, token: str, request: Request) -> dict[str, Any]:
        """The feed's URL on the studio's own address, and its QR code for a phone."""
        from ..programs.names import FEED_FILE
        from ..serve.qr import svg_qr_uri

        address = self.address or f"{request.url.scheme}://{request.headers.get('host', '')}"
        url = f"{address}{FEEDS_PATH}/{token}/{FEED_FILE}"
        return {"feed": url, "qr_svg": svg_qr_uri(url)}

    async def build_events(self, request: Request) -> Response:
        """The build's progress as server-sent events, from its start to its end."""
        name = self.folder.relative(self._routine_path(request.query_params.get("path", "")))
        build = self.builds.get(name)
        if build is None:
            return _refusal(404, f"{name}: no build started")

        async def stream() -> AsyncIterator[str]:
            seen = 0
            while True:
                events, ended = build.since(seen)
                seen += len(events)
                for event in events:
                    kind = next((k for k in ("finished", "failed") if k in event), "progress")
                    yield f"event: {kind}\ndata: {json.dumps(event)}\n\n"
                if ended and not events:
                    return
                if not events:
                    await asyncio.sleep(_EVENT_POLL_S)

        return StreamingResponse(
            stream(), media_type="text/event-stream", headers={"Cache-Control": "no-store"}
        )

    async def upload(self, request: Request) -> Response:
        """Music from the page: at most ``UPLOAD_BYTES_MAX``, kept only if it plays as audio."""
        from ..audio.music import AUDIO_SUFFIXES, check_music
        from ..settings import MusicSettings
        from ..storage.cache import CacheRoot

        name = Path(request.query_params.get("name", "")).name
        if Path(name).suffix.lower() not in AUDIO_SUFFIXES or name.startswith("."):
            raise UsageError(f"{name!r}: upload an audio file ({', '.join(AUDIO_SUFFIXES)})")
        declared = int(request.headers.get("content-length") or 0)
        if declared > UPLOAD_BYTES_MAX:
            return _too_big()
        target = self.folder.inside(f"{MUSIC_FOLDER}/{name}")
        target.parent.mkdir(exist_ok=True)
        with pending_file(target, suffix=target.suffix) as pending:
            size = 0
            with pending.path.open("wb") as out:
                async for chunk in request.stream():
                    size += len(chunk)
                    if size > UPLOAD_BYTES_MAX:
                        return _too_big()
                    out.write(chunk)
            wanted = MusicSettings(source=pending.path, where=name)
            try:
                await run_in_threadpool(check_music, wanted, CacheRoot(self.cache_dir).music)
            except UsageError:
                return _refusal(415, f"{name}: not audio ffmpeg can play; nothing was kept")
            pending.commit()
        return JSONResponse({"music": self.folder.relative(target)})

    async def download(self, request: Request) -> Response:
        path = self.folder.inside(request.path_params["path"])
        hidden = any(part.startswith(".") for part in Path(self.folder.relative(path)).parts)
        if hidden or not path.is_file():  # hidden files (a token, a half-written file) stay so
            return _refusal(404, f"{self.folder.relative(path)}: no such file")
        return FileResponse(path)

    def _voice(self, wanted: dict[str, Any]) -> VoiceSettings:
        from ..settings import VoiceSettings

        engine = _choice(wanted, "engine") or self.engine
        return VoiceSettings(engine=engine, language=_choice(wanted, "language"))

    def _routine_path(self, relative: str) -> Path:
        path = self.folder.inside(relative)
        if path.suffix.lower() not in ROUTINE_SUFFIXES:
            raise UsageError(f"{relative!r}: a routine is a .yaml file")
        return path

    def _url(self, path: Path) -> str:
        return f"/files/{self.folder.relative(path)}"

    def _problem(self, text: str, line: int | None) -> dict[str, Any]:
        """A message as the page shows it: paths relative to the folder, and its line."""
        return {"line": line, "text": self._tidy(text)}

    def _tidy(self, message: str) -> str:
        return message.replace(f"{self.folder.root}/", "")

    @staticmethod
    def _line_in(message: str, path: Path) -> int | None:
        found = re.match(rf"{re.escape(str(path))}:(\d+):", message)
        return int(found.group(1)) if found else None


def _session_view(session: Session) -> dict[str, Any]:
    return {
        "week": session.week,
        "day": session.day,
        "title": session.title,
        "stem": session.stem,
        "length_s": None if session.length_ms is None else session.length_ms / 1000,
    }


def _too_big() -> JSONResponse:
    limit_mb = UPLOAD_BYTES_MAX // (1024 * 1024)
    return _refusal(413, f"refused: uploads are limited to {limit_mb} MB; nothing was kept")


async def _json(request: Request) -> dict[str, Any]:
    body = bytearray()
    async for chunk in request.stream():  # counted as it comes: a length is not always said
        body += chunk
        if len(body) > TEXT_BYTES_MAX:
            raise UsageError(f"the request is over {TEXT_BYTES_MAX} bytes")
    try:
        data = json.loads(body)
    except ValueError:
        raise UsageError("the request is not JSON") from None
    if not isinstance(data, dict):
        raise UsageError("the request is not a JSON object")
    return data


def _choice(wanted: dict[str, Any], key: str) -> str | None:
    value = wanted.get(key)
    return str(value).strip() or None if value is not None else None


def _number(wanted: dict[str, Any], key: str) -> float | None:
    value = wanted.get(key)
    if value is None or value == "":
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        raise UsageError(f"{key}: {value!r} is not a number") from None
