"""A stream made in a thread of its own, a few pieces ahead of whoever reads it.

Mixing and limiting are numpy work that lets go of the GIL: with the mix made in one
thread and limited in another, both cores work on a track at once.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Generator, Iterator
from queue import Empty, Full, Queue
from typing import TypeVar, cast

__all__ = ["read_ahead"]

T = TypeVar("T")
_POLL_S = 0.05  # how soon the maker notices that the reader has stopped


def read_ahead(items: Iterator[T], depth: int = 2) -> Generator[T, None, None]:
    """``items``, made in a thread up to ``depth`` pieces ahead of the reader.

    What the maker raises is raised to the reader at that point. When the reader closes
    it early (an error, Ctrl-C), the maker stops too and ``items`` is closed in its own
    thread, so what it opened (a decoder) is let go: close it (``contextlib.closing``)
    rather than leave it to the garbage collector.
    """
    pieces: Queue[tuple[bool, object]] = Queue(depth)  # (done, a piece or what was raised)
    stopped = threading.Event()

    def offer(entry: tuple[bool, object]) -> bool:
        while not stopped.is_set():
            try:
                pieces.put(entry, timeout=_POLL_S)
                return True
            except Full:
                continue
        return False

    def make() -> None:
        try:
            for item in items:
                if not offer((False, item)):
                    return
            offer((True, None))
        except BaseException as error:  # handed to the reader, raised there
            offer((True, error))
        finally:
            close = getattr(items, "close", None)
            if close is not None:
                close()

    maker = threading.Thread(target=make, name="read-ahead", daemon=True)
    maker.start()
    try:
        while True:
            try:
                done, value = pieces.get(timeout=_POLL_S)
            except Empty:
                if not maker.is_alive() and pieces.empty():
                    return  # pragma: no cover - the maker always says it is done
                continue
            if done:
                if isinstance(value, BaseException):
                    raise value
                return
            yield cast(T, value)
    finally:
        stopped.set()
        # A stream dropped unclosed is finalised as the interpreter shuts down, when the
        # maker (a daemon thread) can no longer run: waiting for it then would never end.
        if not sys.is_finalizing():
            maker.join()
