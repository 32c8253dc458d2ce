"""A cache shared by a batch's workers: writers in several processes at once never leave an
entry half written, whatever entry (speech, music, art) they write; every writer goes
through ``write_entry``."""

from __future__ import annotations

import multiprocessing
from pathlib import Path

from workout_audio.storage.cache import write_entry

PAYLOADS = [bytes([n]) * (50_000 + 7_919 * n) for n in range(4)]  # each size says which


def _write_many(path: str, which: int, times: int) -> None:
    for _ in range(times):
        assert write_entry(Path(path), PAYLOADS[which])


def test_concurrent_writers_of_one_entry_leave_it_whole(tmp_path: Path) -> None:
    entry = tmp_path / "speech" / "ab" / ("ab" * 16 + ".wav")
    context = multiprocessing.get_context("spawn")  # workers as a cluster starts them
    writers = [
        context.Process(target=_write_many, args=(str(entry), which, 150)) for which in range(4)
    ]
    for writer in writers:
        writer.start()
    try:
        seen = 0
        while any(w.is_alive() for w in writers):
            if entry.exists():
                data = entry.read_bytes()
                assert data in PAYLOADS, f"a torn entry of {len(data)} bytes"
                seen += 1
    finally:
        for writer in writers:
            writer.join(timeout=60)
            if writer.is_alive():
                writer.kill()
                writer.join(timeout=10)
    assert all(writer.exitcode == 0 for writer in writers)
    assert entry.read_bytes() in PAYLOADS
    assert seen > 0
    assert [p.name for p in entry.parent.iterdir()] == [entry.name], "no temporary file is left"
