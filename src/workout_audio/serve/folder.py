"""The ASGI app: one folder over HTTP, as a podcast app and a browser expect it.

starlette's ``StaticFiles`` does the HTTP work: GET and HEAD only (405 otherwise), single and
multiple byte ranges with 206 and 416 (``FileResponse``, starlette >= 0.39), ETag and
Last-Modified with 304, and paths whose real location is outside the folder refused
(``lookup_path`` resolves symlinks). What is added here:

- stricter paths: any ``..``, hidden name (the token file), backslash or empty segment is
  refused with 404 before the disk is touched, and so are folders (no listings) but the
  root, which answers with its ``index.html``;
- the content types of the files a build writes, the same on every platform (Python's
  ``mimetypes`` reads the system's tables, which may not know ``.opus`` or ``.vtt``);
- the feed's own address rewritten to the one being served. ``feed.xml`` names its address
  in ``<atom:link rel="self" href="{BASE}feed.xml"/>`` and every URL in it, in the chapters
  files and in ``index.html`` starts with that BASE; each request replaces BASE with
  ``http://{host}/{token}/``, so one folder works on any address a phone reaches it by.
  These files are small and read afresh each time; their ETag is the rewritten body's.
"""

from __future__ import annotations

import hashlib
import os
import re
import stat
from email.utils import formatdate
from pathlib import Path
from xml.etree import ElementTree
from xml.sax.saxutils import escape

from starlette.applications import Starlette
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import Headers
from starlette.exceptions import HTTPException
from starlette.responses import FileResponse, Response
from starlette.routing import Mount
from starlette.staticfiles import NotModifiedResponse, StaticFiles
from starlette.types import Receive, Scope, Send

from ..encode.formats import FORMATS
from ..programs.names import ATOM, FEED_FILE, INDEX_FILE

__all__ = ["CONTENT_TYPES", "folder_app"]

ATOM_LINK = f"{{{ATOM}}}link"

# Every kind of file a build or a program build writes. starlette adds "; charset=utf-8"
# to the text/ types.
CONTENT_TYPES = {
    **{f.suffix: f.mime_type for f in FORMATS.values()},
    ".ogg": "audio/ogg",
    ".xml": "application/rss+xml",
    ".json": "application/json",
    ".vtt": "text/vtt",
    ".srt": "application/x-subrip",
    ".lrc": "text/plain",
    ".cue": "text/plain",
    ".m3u8": "application/vnd.apple.mpegurl",
    ".m3u": "audio/x-mpegurl",
    ".jpg": "image/jpeg",
    ".jpeg": "image/jpeg",
    ".png": "image/png",
    ".svg": "image/svg+xml",
    ".html": "text/html",
    ".txt": "text/plain",
}
# The files whose URLs follow the feed's BASE.
_REWRITTEN = {".xml", ".json", ".html", ".m3u8", ".m3u"}
_HEADERS = {"cache-control": "no-cache"}  # ask again each time: builds replace files
# A Host header as a client may honestly send it: a name or an IPv4 address, or an IPv6
# address in brackets, and a port. Anything else would be written into the feed and the
# page, so it is not trusted and the server's own address is used.
_HOST_PATTERN = re.compile(r"(?:[A-Za-z0-9.-]+|\[[0-9A-Fa-f:.]+\])(?::[0-9]{1,5})?")


class _FolderFiles(StaticFiles):
    """StaticFiles with our paths, content types and the feed's address rewritten."""

    def __init__(self, folder: Path) -> None:
        super().__init__(directory=folder, html=False, follow_symlink=False)
        self.folder = folder.resolve()

    async def get_response(self, path: str, scope: Scope) -> Response:
        # Said here, not left to starlette: its releases before 1.10 (1.7 is what Python
        # 3.10 installs) answer 405 without the Allow header that HTTP asks for.
        if scope["method"] not in ("GET", "HEAD"):
            raise HTTPException(status_code=405, headers={"Allow": "GET, HEAD"})
        return await super().get_response(path, scope)

    def get_path(self, scope: Scope) -> str:
        route_path: str = scope["path"][len(scope.get("root_path", "")) :]
        # Refused before normalising, so "a/../b" is no way in either.
        relative = route_path.removeprefix("/")
        if relative == "":
            return INDEX_FILE
        parts = relative.split("/")
        if any(not part or part.startswith(".") or "\\" in part or "\0" in part for part in parts):
            raise HTTPException(status_code=404)
        return os.path.join(*parts)

    def lookup_path(self, path: str) -> tuple[str, os.stat_result | None]:
        full_path, stat_result = super().lookup_path(path)
        if stat_result is None:
            return "", None
        inside = Path(full_path).relative_to(self.folder).parts
        # A symlink may lead to a hidden file or a folder; neither is served.
        if any(part.startswith(".") for part in inside) or not stat.S_ISREG(stat_result.st_mode):
            return "", None
        return full_path, stat_result

    def file_response(
        self,
        full_path: str | os.PathLike[str],
        stat_result: os.stat_result,
        scope: Scope,
        status_code: int = 200,
    ) -> Response:
        path = Path(full_path)
        suffix = path.suffix.lower()
        media_type = CONTENT_TYPES.get(suffix, "application/octet-stream")
        if suffix in _REWRITTEN:
            return _RewrittenFile(self, path, stat_result, media_type)
        response = FileResponse(path, 200, _HEADERS, media_type, stat_result=stat_result)
        if self.is_not_modified(response.headers, Headers(scope=scope)):
            return NotModifiedResponse(response.headers)
        return response


class _RewrittenFile(Response):
    """A text file whose links follow the feed's BASE: read, rewritten and answered when the
    request is, the disk work off the event loop; as it is when the folder has no feed."""

    def __init__(
        self, files: _FolderFiles, path: Path, stat_result: os.stat_result, media_type: str
    ) -> None:
        self.files, self.path, self.stat_result = files, path, stat_result
        self.media_type = media_type

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = await run_in_threadpool(_rewritten, self.path, self.files.folder, scope)
        response: Response
        if body is None:
            response = FileResponse(
                self.path, 200, _HEADERS, self.media_type, stat_result=self.stat_result
            )  # fmt: skip
        else:
            headers = {
                **_HEADERS,
                "etag": f'"{hashlib.sha256(body).hexdigest()[:32]}"',
                "last-modified": formatdate(self.stat_result.st_mtime, usegmt=True),
            }
            response = Response(body, 200, headers, self.media_type)
        if self.files.is_not_modified(response.headers, Headers(scope=scope)):
            response = NotModifiedResponse(response.headers)
        await response(scope, receive, send)


def _rewritten(path: Path, folder: Path, scope: Scope) -> bytes | None:
    """``path``'s text with the feed's BASE made the address being served, or ``None`` when
    the folder has no feed naming its BASE (the file is then served as it is)."""
    base = _feed_base(folder / FEED_FILE)
    if base is None:
        return None
    try:
        text = path.read_bytes()
    except OSError:
        raise HTTPException(status_code=404) from None
    served = _served_base(scope)
    for written, serving in ((escape(base), escape(served)), (base, served)):
        text = text.replace(written.encode(), serving.encode())
    return text


def _feed_base(feed: Path) -> str | None:
    """The BASE that ``feed.xml``'s ``atom:link rel="self"`` names, read up to that link."""
    try:
        for _event, element in ElementTree.iterparse(feed, events=("end",)):
            if element.tag == ATOM_LINK and element.get("rel") == "self":
                href = element.get("href", "")
                return href[: -len(FEED_FILE)] if href.endswith("/" + FEED_FILE) else None
    except (OSError, ElementTree.ParseError):
        return None
    return None


def _served_base(scope: Scope) -> str:
    """``http://{host}/{token}/``: the host the client asked for if it is a plain host name,
    else the address it reached; ``https`` behind a proxy on this machine that says so
    (uvicorn takes ``X-Forwarded-Proto`` from 127.0.0.1 alone)."""
    host = Headers(scope=scope).get("host", "")
    if not _HOST_PATTERN.fullmatch(host):
        server_host, server_port = scope.get("server") or ("127.0.0.1", 80)
        host = f"[{server_host}]" if ":" in server_host else server_host
        host = f"{host}:{server_port}"
    scheme = "https" if scope.get("scheme") == "https" else "http"
    return f"{scheme}://{host}{scope.get('root_path', '')}/"


def folder_app(folder: Path, token: str | None) -> Starlette:
    """The app serving ``folder`` under ``/{token}/`` (at ``/`` when ``token`` is ``None``);
    any other path answers 404."""
    return Starlette(routes=[Mount(f"/{token}" if token else "", app=_FolderFiles(folder))])
