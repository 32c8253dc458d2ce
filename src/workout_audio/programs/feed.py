"""A built program's feed and pages: feed.xml, program.m3u8, index.html, chapters JSON.

The feed is RSS 2.0 with the iTunes and Podcasting 2.0 namespaces, written with
ElementTree (never by pasting strings). Every absolute URL in it, and in the chapters
files, starts with the one base URL (the channel's atom:link names ``BASE feed.xml``),
so a server may move the whole folder to another address by rewriting that prefix.
index.html and program.m3u8 use relative links only. Each file is written whole; the
feed last, so a reader sees the previous program until the new one is complete.
"""

from __future__ import annotations

import datetime
import html
import json
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Sequence
from email.utils import format_datetime
from pathlib import Path
from urllib.parse import quote

from ..durations import format_clock
from ..encode.formats import audio_format
from ..outputs.sidecars import ARTIST
from ..storage.files import write_whole
from .model import Program, SessionDone
from .names import ATOM, COVER_FILE, FEED_FILE, INDEX_FILE, PLAYLIST_FILE

__all__ = [
    "chapters_document",
    "write_feed",
]

ITUNES = "http://www.itunes.com/dtds/podcast-1.0.dtd"
PODCAST = "https://podcastindex.org/namespace/1.0"
_PUBLISHED_AT = datetime.time(6, 0, tzinfo=datetime.timezone.utc)

for _prefix, _uri in (("itunes", ITUNES), ("podcast", PODCAST), ("atom", ATOM)):
    ET.register_namespace(_prefix, _uri)


def write_feed(program: Program, folder: Path, base_url: str, done: Sequence[SessionDone]) -> Path:
    """Write the chapters files, program.m3u8, index.html and, last, feed.xml."""
    for facts in done:
        document = chapters_document(program, facts, base_url)
        _write_changed(folder / _chapters_name(facts.track), document.encode())
    _write_changed(folder / PLAYLIST_FILE, _playlist(program, done).encode())
    _write_changed(folder / INDEX_FILE, _index(program, done).encode())
    feed = _feed(program, done, base_url, folder)
    return _write_changed(folder / FEED_FILE, feed)


def _write_changed(path: Path, data: bytes) -> Path:
    """Write ``path`` whole, unless it already holds ``data``: a rebuild that changes nothing
    leaves the files and their times, so a server's ETag and Last-Modified stay, and a
    podcast app that checks the feed fetches nothing again."""
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return path
    except OSError:
        pass  # not there yet, or unreadable: written afresh
    return write_whole(path, data)


def chapters_document(program: Program, facts: SessionDone, base_url: str) -> str:
    """Podcasting 2.0 JSON chapters, each with its picture's absolute URL."""
    title = _session_of(program, facts.track)
    chapters = []
    for (start_ms, end_ms, chapter_title), picture in zip(
        facts.chapters, facts.pictures or [None] * len(facts.chapters), strict=False
    ):
        chapter: dict[str, object] = {
            "startTime": start_ms / 1000,
            "endTime": end_ms / 1000,
            "title": chapter_title,
        }
        if picture:
            chapter["img"] = base_url + quote(picture)
        chapters.append(chapter)
    document = {"version": "1.2.0", "title": title, "author": ARTIST, "chapters": chapters}
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


def _chapters_name(track: str) -> str:
    return Path(track).stem + ".chapters.json"


def _session_of(program: Program, track: str) -> str:
    stem = Path(track).stem
    return next((s.title for s in program.sessions if s.stem == stem), stem)


def _feed(program: Program, done: Sequence[SessionDone], base_url: str, folder: Path) -> bytes:
    cover = COVER_FILE
    rss = ET.Element("rss", {"version": "2.0"})
    channel = ET.SubElement(rss, "channel")
    _text(channel, "title", program.name)
    _text(channel, "link", base_url)
    _text(channel, "description", program.description or program.name)
    _text(channel, "language", program.language)
    _text(channel, "generator", ARTIST)
    ET.SubElement(
        channel,
        f"{{{ATOM}}}link",
        {"href": base_url + "feed.xml", "rel": "self", "type": "application/rss+xml"},
    )
    _text(channel, f"{{{ITUNES}}}author", program.author)
    ET.SubElement(channel, f"{{{ITUNES}}}image", {"href": base_url + cover})
    ET.SubElement(channel, "image")
    image = channel[-1]
    _text(image, "url", base_url + cover)
    _text(image, "title", program.name)
    _text(image, "link", base_url)
    ET.SubElement(channel, f"{{{ITUNES}}}category", {"text": "Health & Fitness"})
    _text(channel, f"{{{ITUNES}}}explicit", "false")
    _text(channel, f"{{{ITUNES}}}type", "serial")
    _text(channel, f"{{{ITUNES}}}block", "yes")
    _text(channel, f"{{{PODCAST}}}locked", "yes")
    _text(channel, f"{{{PODCAST}}}guid", str(program.guid))
    for number, (session, facts) in enumerate(zip(program.sessions, done, strict=True), start=1):
        stem = Path(facts.track).stem
        item = ET.SubElement(channel, "item")
        _text(item, "title", session.title)
        _text(item, "description", " · ".join(facts.blocks))
        suffix = Path(facts.track).suffix.lstrip(".")
        ET.SubElement(
            item,
            "enclosure",
            {
                "url": base_url + quote(facts.track),
                "length": str((folder / facts.track).stat().st_size),
                "type": audio_format(suffix).mime_type,
            },
        )
        guid = uuid.uuid5(program.guid, stem)
        _text(item, "guid", str(guid)).set("isPermaLink", "false")
        published = datetime.datetime.combine(
            program.starts + datetime.timedelta(days=number - 1), _PUBLISHED_AT
        )
        _text(item, "pubDate", format_datetime(published))
        _text(item, f"{{{ITUNES}}}duration", str(round(facts.duration_ms / 1000)))
        _text(item, f"{{{ITUNES}}}season", str(session.week))
        _text(item, f"{{{ITUNES}}}episode", str(number))
        _text(item, f"{{{ITUNES}}}episodeType", "full")
        ET.SubElement(
            item,
            f"{{{PODCAST}}}chapters",
            {
                "url": base_url + quote(_chapters_name(facts.track)),
                "type": "application/json+chapters",
            },
        )
        ET.SubElement(
            item,
            f"{{{PODCAST}}}transcript",
            {
                "url": base_url + quote(facts.transcript),
                "type": "text/vtt",
                "language": program.language,
            },
        )
        _text(item, f"{{{PODCAST}}}season", str(session.week))
        _text(item, f"{{{PODCAST}}}episode", str(number))
    ET.indent(rss)
    written: bytes = ET.tostring(rss, encoding="utf-8", xml_declaration=True)
    return written + b"\n"


def _text(parent: ET.Element, tag: str, text: str) -> ET.Element:
    element = ET.SubElement(parent, tag)
    element.text = text
    return element


def _playlist(program: Program, done: Sequence[SessionDone]) -> str:
    lines = ["#EXTM3U", f"#PLAYLIST:{program.name}"]
    for session, facts in zip(program.sessions, done, strict=True):
        lines += [f"#EXTINF:{round(facts.duration_ms / 1000)},{session.title}", facts.track]
    return "\n".join(lines) + "\n"


def _index(program: Program, done: Sequence[SessionDone]) -> str:
    name = html.escape(program.name)
    rows = []
    for session, facts in zip(program.sessions, done, strict=True):
        track = html.escape(quote(facts.track))
        rows.append(
            f"<li><h2>{html.escape(session.title)} "
            f"<small>{format_clock(facts.duration_ms)}</small></h2>\n"
            f"<p>{html.escape(' · '.join(facts.blocks))}</p>\n"
            f'<audio controls preload="none" src="{track}"></audio></li>'
        )
    return (
        f'<!doctype html>\n<html lang="{html.escape(program.language)}">\n<head>\n'
        '<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{name}</title>\n"
        f'<link rel="alternate" type="application/rss+xml" title="{name}" href="{FEED_FILE}">\n'
        "<style>body{font-family:sans-serif;max-width:40em;margin:auto;padding:1em}"
        "li{list-style:none;margin:1.5em 0}audio{width:100%}</style>\n</head>\n<body>\n"
        f"<h1>{name}</h1>\n<p>{html.escape(program.description)}</p>\n"
        f'<p><img src="cover.png" alt="" width="200"> <a href="{FEED_FILE}">RSS</a> · '
        f'<a href="{PLAYLIST_FILE}">M3U</a></p>\n'
        "<ol>\n" + "\n".join(rows) + "\n</ol>\n</body>\n</html>\n"
    )
