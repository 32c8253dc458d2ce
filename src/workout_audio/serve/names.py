"""The names the server gives meaning to in a served folder (shared with ``program build``
by contract: the feed names its own address, and the page is the folder's front door)."""

from __future__ import annotations

__all__ = ["FEED_NAME", "INDEX_NAME"]

FEED_NAME = "feed.xml"
INDEX_NAME = "index.html"
