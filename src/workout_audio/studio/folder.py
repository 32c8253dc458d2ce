"""The studio's folder: every path the page names is checked to stay inside it."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path, PurePosixPath

from ..audio.music import AUDIO_SUFFIXES
from ..errors import UsageError

__all__ = ["BUILD_FOLDER", "ROUTINE_SUFFIXES", "Folder", "OutsideFolder", "is_program"]

ROUTINE_SUFFIXES = (".yaml", ".yml")  # routines and programs alike
BUILD_FOLDER = "build"  # tracks and program builds go here, as the command line's default
_SKIPPED_FOLDERS = frozenset({BUILD_FOLDER, "node_modules", "__pycache__"})
# A program is the YAML file with a top-level ``weeks:`` (its schema's one required list);
# a routine has ``blocks:`` and never ``weeks:``.
_PROGRAM_KEY = re.compile(r"^weeks\s*:", re.MULTILINE)
_SNIFF_BYTES = 1_000_000  # the loaders refuse larger files anyway


def is_program(path: Path) -> bool:
    """Whether the YAML file at ``path`` is a program rather than a routine."""
    try:
        with path.open("rb") as file:
            head = file.read(_SNIFF_BYTES).decode("utf-8", errors="replace")
    except OSError:
        return False
    return _PROGRAM_KEY.search(head) is not None


class OutsideFolder(UsageError):
    """A path that would leave the studio's folder: absolute, with ``..``, or a link out."""


@dataclass(frozen=True)
class Folder:
    """The folder the studio works in; ``root`` is resolved once, links and all."""

    root: Path

    @classmethod
    def at(cls, path: Path) -> Folder:
        root = path.expanduser().resolve()
        if not root.is_dir():
            raise UsageError(f"{path}: not a folder")
        return cls(root)

    def inside(self, relative: str) -> Path:
        """The file ``relative`` names, refused unless it stays inside the folder.

        Raises:
            OutsideFolder: an empty, absolute or ``..`` path, or one whose links lead out.
        """
        pure = PurePosixPath(relative.replace("\\", "/"))
        if not relative or pure.is_absolute() or ".." in pure.parts or ":" in relative:
            raise OutsideFolder(f"{relative!r}: give a path inside the studio's folder")
        path = self.root.joinpath(*pure.parts)
        if not path.resolve().is_relative_to(self.root):
            raise OutsideFolder(f"{relative!r}: leads outside the studio's folder")
        return path

    def relative(self, path: Path) -> str:
        """``path`` as the page names it: relative to the folder, with forward slashes."""
        return path.relative_to(self.root).as_posix()

    def routines(self) -> list[str]:
        """The routine files in the folder and below, skipping hidden and build folders."""
        return [name for name in self._files(ROUTINE_SUFFIXES) if not is_program(self.inside(name))]

    def programs(self) -> list[str]:
        """The program files in the folder and below, skipping hidden and build folders."""
        return [name for name in self._files(ROUTINE_SUFFIXES) if is_program(self.inside(name))]

    def program_build(self, program: str) -> Path:
        """The folder a program's tracks and feed are built into: ``build/`` mirrors the
        folder, so programs of the same name in two folders never clash."""
        return self.root / BUILD_FOLDER / PurePosixPath(program).with_suffix("")

    def music(self) -> list[str]:
        """The audio files in the folder and below that can play under the voice."""
        return self._files(AUDIO_SUFFIXES)

    def _files(self, suffixes: tuple[str, ...]) -> list[str]:
        found = []
        for path in self.root.rglob("*"):
            parts = path.relative_to(self.root).parts
            if any(part.startswith(".") or part in _SKIPPED_FOLDERS for part in parts):
                continue
            if path.suffix.lower() in suffixes and path.is_file():
                if path.resolve().is_relative_to(self.root):
                    found.append(self.relative(path))
        return sorted(found, key=str.casefold)
