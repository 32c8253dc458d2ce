"""A stream read ahead in a thread: the same pieces in order, errors where they happened,
and its source closed however the reader stops."""

from __future__ import annotations

import subprocess
import sys
import threading
from collections.abc import Iterator

import pytest

from workout_audio.audio.read_ahead import read_ahead


class Source:
    """Numbered pieces; notes whether it was closed, and in which thread."""

    def __init__(self, count: int, fail_at: int | None = None) -> None:
        self.count, self.fail_at = count, fail_at
        self.made = 0
        self.closed_in: str | None = None

    def __iter__(self) -> Iterator[int]:
        return self.pieces()

    def pieces(self) -> Iterator[int]:
        try:
            for number in range(self.count):
                if number == self.fail_at:
                    raise OSError("the decoder stopped")
                self.made += 1
                yield number
        finally:
            self.closed_in = threading.current_thread().name


def test_every_piece_arrives_in_order() -> None:
    source = Source(500)
    assert list(read_ahead(iter(source))) == list(range(500))
    assert source.closed_in == "read-ahead"


def test_an_error_in_the_maker_reaches_the_reader_after_the_pieces_before_it() -> None:
    got: list[int] = []
    with pytest.raises(OSError, match="the decoder stopped"):
        got.extend(read_ahead(iter(Source(100, fail_at=7))))
    assert got == list(range(7))


def test_a_reader_that_stops_early_stops_the_maker_and_closes_its_source() -> None:
    source = Source(10_000)
    stream = read_ahead(source.pieces(), depth=2)
    assert [next(stream) for _ in range(3)] == [0, 1, 2]
    stream.close()  # as a failed encode or Ctrl-C leaves it
    assert source.closed_in == "read-ahead"
    assert source.made <= 3 + 2 + 1  # no more than the queue's depth past what was read
    assert not [t for t in threading.enumerate() if t.name == "read-ahead"]


def test_a_stream_left_unclosed_does_not_keep_the_interpreter_from_exiting() -> None:
    # Finalised at shutdown, when its maker thread can no longer run (Python 3.13 hung
    # here for ever, waiting for it).
    code = (
        "import itertools\n"
        "from workout_audio.audio.read_ahead import read_ahead\n"
        "stream = read_ahead(iter(itertools.count()))\n"
        "print(next(stream))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=60
    )  # the child is killed if it outlives the timeout
    assert done.returncode == 0, done.stderr
    assert done.stdout == "0\n"
