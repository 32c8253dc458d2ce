"""How ffmpeg's failures reach the user: one line naming what ffmpeg was doing and why it
stopped. Real ffmpeg processes throughout: missing, fed junk, killed, out of room."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import pytest

from workout_audio.audio import ffmpeg
from workout_audio.audio.ffmpeg import (
    FfmpegError,
    FfmpegProcess,
    decode_to_pcm,
    ffmpeg_output,
    run_ffmpeg,
)
from workout_audio.audio.pcm import SAMPLE_RATE_HZ
from workout_audio.errors import EncoderError

PCM_IN = ["-f", "s16le", "-ar", str(SAMPLE_RATE_HZ), "-ac", "1", "-i", "pipe:0"]
ONE_SECOND = bytes(2 * SAMPLE_RATE_HZ)


def one_line(error: pytest.ExceptionInfo[EncoderError]) -> str:
    message = str(error.value)
    assert "\n" not in message, message
    assert "Traceback" not in message
    return message


def test_a_missing_ffmpeg_is_named_with_what_it_was_to_do(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    missing = tmp_path / "no-such-ffmpeg"
    monkeypatch.setattr(ffmpeg, "ffmpeg_exe", lambda: str(missing))
    with pytest.raises(FfmpegError) as error:
        decode_to_pcm(ONE_SECOND)
    message = one_line(error)
    assert message.startswith(f"could not run ffmpeg ({missing}) to decode speech audio: ")
    assert "put a working ffmpeg on PATH" in message
    with pytest.raises(FfmpegError, match=r"^could not run ffmpeg .* to encode the track: "):
        FfmpegProcess([*PCM_IN, "-f", "null", "-"], what="encode the track", feed=True)


def test_bytes_that_are_not_audio_say_so_in_one_line() -> None:
    with pytest.raises(FfmpegError) as error:
        decode_to_pcm(b"these are the notes of a workout, not its sound\n" * 40)
    message = one_line(error)
    assert message.startswith(f"ffmpeg ({ffmpeg.ffmpeg_exe()}) failed to decode speech audio: ")
    assert error.value.reason, "ffmpeg's own last words"
    assert message.endswith(error.value.reason)
    assert "exit status" not in message, "ffmpeg said why; its words are shown"


def test_ffmpeg_saying_why_it_stopped_is_shown(tmp_path: Path) -> None:
    gone = tmp_path / "gone.mp3"
    with pytest.raises(FfmpegError) as error:
        run_ffmpeg(["-i", str(gone), "-f", "null", "-"], what="measure loudness")
    message = one_line(error)
    assert "failed to measure loudness: " in message
    assert "No such file or directory" in message


def test_a_killed_ffmpeg_is_blamed_on_memory_or_another_program() -> None:
    encoder = FfmpegProcess([*PCM_IN, "-f", "null", "-"], what="encode the track", feed=True)
    try:
        encoder.stdin.write(ONE_SECOND)  # it runs, and waits for more: the pipe stays open
        encoder.stdin.flush()
        os.kill(encoder.process.pid, signal.SIGKILL)
        with pytest.raises(FfmpegError) as error:
            encoder.finish()
    finally:
        encoder.stop()
    message = one_line(error)
    assert "failed to encode the track: killed by SIGKILL" in message
    assert message.endswith("(out of memory, or stopped by another program?)")
    assert encoder.process.returncode == -signal.SIGKILL


@pytest.mark.skipif(not Path("/dev/full").exists(), reason="no /dev/full here")
def test_a_full_disk_is_said_in_the_storage_words() -> None:
    # /dev/full: every write fails with ENOSPC, as on a disk with no room left.
    with pytest.raises(FfmpegError) as error:
        run_ffmpeg([*PCM_IN, "-f", "s16le", "-y", "/dev/full"], input=ONE_SECOND * 4,
                   what="encode the track")  # fmt: skip
    message = one_line(error)
    assert "failed to encode the track: No space left on device" in message
    assert message.endswith("(the disk is full: free some space and build again)")


def test_a_stream_that_fails_says_so_after_its_last_block(tmp_path: Path) -> None:
    junk = tmp_path / "song.mp3"
    junk.write_bytes(b"not music at all\n" * 100)
    blocks = ffmpeg_output(["-i", str(junk), "-f", "s16le", "pipe:1"],
                           what=f"decode the music {junk}", block_bytes=65_536)  # fmt: skip
    with pytest.raises(FfmpegError) as error:
        list(blocks)
    message = one_line(error)
    assert f"failed to decode the music {junk}: " in message
    assert "Invalid data" in message


def children() -> set[int]:
    """This process's living children (Linux)."""
    found: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        with open(task / "children", encoding="ascii") as listing:
            found.update(int(pid) for pid in listing.read().split())
    return found


@pytest.mark.skipif(
    not Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children").exists(),
    reason="needs /proc/PID/task/TID/children",
)
def test_a_stream_closed_early_stops_its_ffmpeg() -> None:
    before = children()
    endless = ["-f", "lavfi", "-i", "anullsrc=r=22050:cl=mono", "-f", "s16le", "pipe:1"]
    blocks = ffmpeg_output(endless, what="decode the music", block_bytes=4096)
    try:
        assert len(next(blocks)) > 0
        started = children() - before
        assert len(started) == 1, "one ffmpeg reading the endless source"
    finally:
        blocks.close()
    deadline = time.monotonic() + 10
    while children() & started and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not children() & started, "ffmpeg outlived its stream"
