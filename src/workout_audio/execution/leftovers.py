"""What a worker killed mid-file leaves behind: its temporary files."""

from __future__ import annotations

import glob
from collections.abc import Iterable
from pathlib import Path

from ..storage.files import PART_SUFFIX

__all__ = ["remove_leftovers"]


def remove_leftovers(files: Iterable[Path]) -> None:
    """A worker killed mid-track leaves its temporary files (never the files themselves):
    they go before the track is built again. The track's job is the only writer of its files."""
    for path in files:
        # pending_file's names: .NAME.XXXX.part, or .STEM.XXXX.part.SUFFIX for the encoder
        name, stem, suffix = (glob.escape(part) for part in (path.name, path.stem, path.suffix))
        patterns = (f".{name}.*{PART_SUFFIX}*", f".{stem}.*{PART_SUFFIX}{suffix}")
        for leftover in {p for pattern in patterns for p in path.parent.glob(pattern)}:
            leftover.unlink(missing_ok=True)
