"""The names a built program's folder gives meaning to, shared with the server that serves it:
the feed names its own address (its atom:link), and the page is the folder's front door."""

from __future__ import annotations

__all__ = ["ATOM", "COVER_FILE", "FEED_FILE", "INDEX_FILE", "PLAYLIST_FILE"]

FEED_FILE = "feed.xml"
PLAYLIST_FILE = "program.m3u8"
INDEX_FILE = "index.html"
COVER_FILE = "cover.png"
ATOM = "http://www.w3.org/2005/Atom"
