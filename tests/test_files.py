"""Files written whole or not at all, with the user's permissions; the cores a build may use."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from workout_audio.errors import StorageError
from workout_audio.storage.files import pending_file, write_whole

SRC = Path(__file__).resolve().parent.parent / "src"


def child_umask(umask: int, code: str) -> str:
    """What ``code`` prints in a fresh Python started with ``umask``."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(SRC), os.environ.get("PYTHONPATH", "")]),
    }
    done = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env=env,
        preexec_fn=lambda: os.umask(umask),
        timeout=60,
        check=True,
    )
    return done.stdout.strip()


@pytest.mark.parametrize(("umask", "mode"), [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_a_file_written_whole_takes_the_users_usual_permissions(
    tmp_path: Path, umask: int, mode: int
) -> None:
    target = tmp_path / "track.srt"
    code = (
        "from pathlib import Path; from workout_audio.storage.files import write_whole; "
        f"print(oct(write_whole(Path({str(target)!r}), b'1').stat().st_mode & 0o777))"
    )
    assert child_umask(umask, code) == oct(mode)


def test_a_block_that_fails_leaves_the_old_file_and_no_temporary_one(tmp_path: Path) -> None:
    target = tmp_path / "track.mp3"
    target.write_bytes(b"old")
    seen: list[str] = []

    def encode() -> None:
        with pending_file(target, ".mp3") as pending:
            seen.append(pending.path.name)
            pending.path.write_bytes(b"half")
            raise RuntimeError("encoder died")

    with pytest.raises(RuntimeError, match="encoder died"):
        encode()
    assert seen[0].startswith(".track.mp3.")
    assert seen[0].endswith(".part.mp3"), "ffmpeg picks the format from the name"
    assert target.read_bytes() == b"old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["track.mp3"]


def test_a_block_that_does_not_commit_leaves_nothing(tmp_path: Path) -> None:
    target = tmp_path / "voice.onnx"
    with pending_file(target) as pending:
        pending.path.write_bytes(b"model")
    assert list(tmp_path.iterdir()) == []


def test_a_commit_renames_over_the_target(tmp_path: Path) -> None:
    target = tmp_path / "voice.onnx"
    target.write_bytes(b"old")
    with pending_file(target) as pending:
        pending.path.write_bytes(b"new")
        assert target.read_bytes() == b"old", "readers see the old file until the commit"
        pending.commit()
    assert target.read_bytes() == b"new"
    assert list(tmp_path.iterdir()) == [target]


def test_a_file_that_cannot_be_written_is_a_storage_error(tmp_path: Path) -> None:
    with pytest.raises(StorageError, match="missing"):
        write_whole(tmp_path / "missing" / "track.lrc", b"[00:00.00]Go.")


@pytest.mark.skipif(not hasattr(os, "sched_getaffinity"), reason="no CPU affinity here")
def test_the_cores_are_those_this_process_may_run_on() -> None:
    code = "from workout_audio.machine import usable_cores; print(usable_cores())"
    pinned = subprocess.run(
        ["taskset", "-c", "0", sys.executable, "-c", code],
        capture_output=True,
        text=True,
        env={**os.environ, "PYTHONPATH": str(SRC)},
        timeout=60,
        check=True,
    )
    assert pinned.stdout.strip() == "1", "a build pinned to one core uses one"
