"""``workout-audio cache``: what the cache root holds (speech, music measurements, pictures),
pruning it to a size, and emptying it."""

from __future__ import annotations

from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from ..errors import UsageError
from .help import Command, Group
from .options import CacheOpt

if TYPE_CHECKING:
    from ..storage.cache import CacheKind, CacheRoot, KindUsage

__all__ = ["cache_app"]


class Kind(str, Enum):
    """What ``--only`` may name: one folder of the cache root."""

    speech = "speech"
    music = "music"
    art = "art"


OnlyOpt = Annotated[
    Kind | None,
    typer.Option("--only", help="Only this kind of entry: speech, music or art."),
]
MaxSizeOpt = Annotated[
    str | None,
    typer.Option(
        "--max-size",
        help="Keep at most this much: 200MB, 1.5GB (default: the cache's cap, 1 GB "
        "unless cache.max_size is set).",
    ),
]

cache_app = typer.Typer(
    cls=Group,
    help="The cache: speech clips, music measurements and pictures; what it holds, "
    "pruning and emptying it.\n\nExample: workout-audio cache info",
)


def _opened(cache_dir: Path | None, only: Kind | None) -> tuple[CacheRoot, list[CacheKind]]:
    from ..planning import check_cache_dir
    from ..storage.cache import KINDS, CacheRoot

    check_cache_dir(cache_dir)
    kinds = [kind for kind in KINDS if only is None or kind == only.value]
    return CacheRoot(cache_dir), kinds


def _kind_lines(usage: list[KindUsage]) -> None:
    from ..storage.cache import format_size

    for use in usage:
        typer.echo(f"  {use.kind}: {use.entries} ({format_size(use.size_bytes)}) in {use.folder}")


@cache_app.command("info", cls=Command)
def cache_info_command(cache_dir: CacheOpt = None, only: OnlyOpt = None) -> None:
    """Show the cache's folder, size and cap; its entries by kind, and clips by engine and voice.

    Example: workout-audio cache info --only speech
    """
    from ..speech import SpeechCache
    from ..storage.cache import format_size

    root, kinds = _opened(cache_dir, only)
    usage = root.usage(kinds)
    typer.echo(f"folder: {root.folder}")
    typer.echo(
        f"entries: {sum(use.entries for use in usage)} "
        f"({format_size(sum(use.size_bytes for use in usage))}; "
        f"at most {format_size(root.max_size_bytes)})"
    )
    _kind_lines(usage)
    if "speech" in kinds:
        info = SpeechCache(root.folder).info()
        if info.by_engine:
            engines = ", ".join(f"{name} {count}" for name, count in info.by_engine.items())
            typer.echo(f"by engine: {engines}")
            typer.echo("by voice:")
            for use in info.by_voice:
                typer.echo(
                    f"  {use.engine} {use.voice or '(unnamed)'}: {use.entries} "
                    f"({format_size(use.size_bytes)})"
                )
    partial_files = root.partial_files(kinds)
    if partial_files:
        typer.echo(
            f"unfinished writes: {partial_files} (of a build running now, or stopped "
            "hard; cleared after an hour)"
        )


@cache_app.command("prune", cls=Command)
def cache_prune_command(
    max_size: MaxSizeOpt = None, cache_dir: CacheOpt = None, only: OnlyOpt = None
) -> None:
    """Remove the least recently used entries, of any kind, until the cache fits a size.

    With --only, only that kind's entries are weighed and removed.

    Example: workout-audio cache prune --max-size 200MB
    """
    from ..storage.cache import format_size, parse_size

    root, kinds = _opened(cache_dir, only)
    try:
        limit = None if max_size is None else parse_size(max_size)
    except ValueError as error:
        raise UsageError(f"--max-size: {error}") from None
    result = root.prune(limit, kinds=kinds)
    typer.echo(
        f"removed {result.removed} entries ({format_size(result.freed_bytes)}); "
        f"{result.entries} left ({format_size(result.size_bytes)}) in {root.folder}"
    )
    _kind_lines(root.usage(kinds))


@cache_app.command("clear", cls=Command)
def cache_clear_command(cache_dir: CacheOpt = None, only: OnlyOpt = None) -> None:
    """Delete every entry in the cache; the next build makes them again.

    Example: workout-audio cache clear --only art
    """
    from ..storage.cache import format_size

    root, kinds = _opened(cache_dir, only)
    size_bytes = sum(use.size_bytes for use in root.usage(kinds))
    removed = root.clear(kinds)
    typer.echo(
        f"removed {sum(removed.values())} entries ({format_size(size_bytes)}) from {root.folder}"
    )
    for kind, count in removed.items():
        typer.echo(f"  {kind}: {count}")
