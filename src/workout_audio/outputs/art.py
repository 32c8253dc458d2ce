"""Pictures for players: a front cover and one card per chapter, drawn with Pillow.

Lock screens and podcast players show the cover, and the current chapter's
picture where the file carries one: the card names the move in large type,
with its prescription and round, readable at a glance between sets. Every
word on them comes from the Script. The type is Lato (SIL OFL, in fonts/):
Pillow's built-in font has no accented letters, and system fonts differ.
"""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from ..durations import format_clock
from ..timeline.script import Chapter, Script
from .tags import Artwork

__all__ = [
    "CHAPTER_IMAGE_PX",
    "COVER_PX",
    "IMAGE_MIME",
    "BlockSummary",
    "artwork",
    "block_summaries",
    "chapter_card",
    "chapter_cards",
    "cover_image",
    "font",
]

COVER_PX = 1400  # podcast apps' minimum for a cover
CHAPTER_IMAGE_PX = 800  # sharp on a lock screen, small in the file
IMAGE_MIME = "image/png"
_PALETTE_COLOURS = 32  # flat colours and anti-aliased type: a small palette loses nothing seen

BACKGROUND = (24, 32, 44)
INK = (245, 245, 240)
MUTED = (170, 180, 195)
# One accent per block, in order, repeating.
ACCENTS = [
    (255, 145, 77),
    (79, 195, 161),
    (102, 157, 246),
    (240, 98, 146),
    (250, 204, 21),
    (167, 139, 250),
]


FONTS = Path(__file__).parent / "fonts"


@cache
def font(size_px: int, bold: bool = False) -> ImageFont.FreeTypeFont:
    """Lato at ``size_px``, regular or bold: the type of every picture we draw."""
    return ImageFont.truetype(
        str(FONTS / ("Lato-Bold.ttf" if bold else "Lato-Regular.ttf")), size_px
    )


def _text_width(face: ImageFont.FreeTypeFont, text: str) -> float:
    left, _, right, _ = face.getbbox(text)
    return float(right - left)


def _wrap(text: str, size_px: int, width_px: int, bold: bool) -> list[str]:
    """Greedy word wrap; a word wider than the line stays whole (the caller shrinks the size)."""
    face = font(size_px, bold)
    lines: list[str] = []
    for word in text.split():
        if lines and _text_width(face, f"{lines[-1]} {word}") <= width_px:
            lines[-1] = f"{lines[-1]} {word}"
        else:
            lines.append(word)
    return lines or [""]


def _fit(
    text: str, size_px: int, width_px: int, max_lines: int, *, bold: bool = False
) -> tuple[list[str], int]:
    """The largest size down to 40% of ``size_px`` at which ``text`` fits in ``max_lines``.

    Text that does not fit even then ends its last line with an ellipsis.
    """
    smallest_px = max(12, size_px * 4 // 10)
    while True:
        face = font(size_px, bold)
        lines = _wrap(text, size_px, width_px, bold)
        too_wide = any(_text_width(face, line) > width_px for line in lines)
        if len(lines) <= max_lines and not too_wide:
            return lines, size_px
        if size_px <= smallest_px:
            kept = lines[: max_lines - 1]
            last = " ".join(lines[max_lines - 1 :])
            while last and _text_width(face, last + "…") > width_px:
                last = last[:-1].rstrip()
            return [*kept, last + "…"], size_px
        size_px = max(smallest_px, size_px * 9 // 10)


def _draw_lines(
    draw: ImageDraw.ImageDraw,
    lines: Sequence[str],
    size_px: int,
    x_px: int,
    y_px: int,
    fill: tuple[int, int, int],
    *,
    bold: bool = False,
) -> int:
    """Draw ``lines`` from ``y_px`` down; returns the y below the last."""
    face = font(size_px, bold)
    for line in lines:
        draw.text((x_px, y_px), line, font=face, fill=fill)
        y_px += round(size_px * 1.18)
    return y_px


def _seconds_clock(duration_ms: int) -> str:
    return format_clock((duration_ms + 500) // 1000 * 1000)


def _png(image: Image.Image) -> bytes:
    # Fast octree and zlib's default level: a quarter of the time of median cut with
    # optimize=True, for about 2 kB more a card; every build draws its 30 pictures.
    buffer = io.BytesIO()
    palette = image.quantize(
        colors=_PALETTE_COLOURS, method=Image.Quantize.FASTOCTREE, dither=Image.Dither.NONE
    )
    palette.save(buffer, "PNG", compress_level=6)
    return buffer.getvalue()


@dataclass(frozen=True)
class BlockSummary:
    """A block as the chapters show it: its moves, rounds and time in the track."""

    name: str
    moves: tuple[str, ...]
    rounds: int
    duration_ms: int


def block_summaries(script: Script) -> list[BlockSummary]:
    """The script's blocks in order, read from its chapters."""
    summaries: list[BlockSummary] = []
    for chapter in script.chapters:
        if summaries and summaries[-1].name == chapter.block:
            last = summaries[-1]
            moves = (
                last.moves if chapter.exercise in last.moves else (*last.moves, chapter.exercise)
            )
            summaries[-1] = BlockSummary(
                last.name, moves, last.rounds, last.duration_ms + _chapter_ms(chapter)
            )
        else:
            summaries.append(
                BlockSummary(chapter.block, (chapter.exercise,), 1, _chapter_ms(chapter))
            )
    counts: dict[str, int] = {}
    for chapter in script.chapters:
        counts[chapter.block] = counts.get(chapter.block, 0) + 1
    return [
        BlockSummary(s.name, s.moves, max(1, counts[s.name] // len(s.moves)), s.duration_ms)
        for s in summaries
    ]


def _chapter_ms(chapter: Chapter) -> int:
    return chapter.end_ms - chapter.start_ms


def _block_accents(script: Script) -> dict[str, tuple[int, int, int]]:
    names = list(dict.fromkeys(chapter.block for chapter in script.chapters))
    return {name: ACCENTS[index % len(ACCENTS)] for index, name in enumerate(names)}


def cover_image(script: Script, size_px: int = COVER_PX) -> bytes:
    """The front cover as PNG: the routine's name, its length and its blocks."""
    image = Image.new("RGB", (size_px, size_px), BACKGROUND)
    draw = ImageDraw.Draw(image)
    unit = size_px // 100  # layout in hundredths of the side
    margin = 7 * unit
    width = size_px - 2 * margin
    accents = _block_accents(script)
    draw.rectangle((0, 0, size_px, 2 * unit), fill=ACCENTS[0])
    lines, title_px = _fit(script.routine_name, 9 * unit, width, 3, bold=True)
    y = _draw_lines(draw, lines, title_px, margin, 8 * unit, INK, bold=True)
    y = _draw_lines(draw, [_seconds_clock(script.length_ms)], 14 * unit, margin, y + 2 * unit, INK)
    y += 3 * unit
    blocks = block_summaries(script)
    row_px = min(9 * unit, (size_px - y - 6 * unit) // max(1, len(blocks)))
    name_px, detail_px = row_px * 5 // 10, row_px * 3 // 10
    for block in blocks:
        accent = accents[block.name]
        draw.rectangle((margin, y + unit // 2, margin + unit, y + row_px - unit), fill=accent)
        rounds = f"×{block.rounds}   " if block.rounds > 1 else ""
        detail = f"{rounds}{_seconds_clock(block.duration_ms)}"
        detail_width = round(_text_width(font(name_px), detail))
        [heading_line], _ = _fit(block.name, name_px, width - 5 * unit - detail_width, 1, bold=True)
        _draw_lines(draw, [heading_line], name_px, margin + 3 * unit, y, INK, bold=True)
        _draw_lines(draw, [detail], name_px, margin + width - detail_width, y, MUTED)
        [moves_line], _ = _fit(", ".join(block.moves), detail_px, width - 3 * unit, 1)
        _draw_lines(draw, [moves_line], detail_px, margin + 3 * unit, y + name_px * 6 // 5, MUTED)
        y += row_px
    return _png(image)


def chapter_card(
    chapter: Chapter,
    accent: tuple[int, int, int],
    length_ms: int,
    size_px: int = CHAPTER_IMAGE_PX,
) -> bytes:
    """One chapter's card as PNG: the move in large type, its prescription, round and block.

    A bar along the bottom shows where the chapter sits in a track of ``length_ms``.
    """
    image = Image.new("RGB", (size_px, size_px), BACKGROUND)
    draw = ImageDraw.Draw(image)
    unit = size_px // 100
    margin = 8 * unit
    width = size_px - 2 * margin
    draw.rectangle((0, 0, size_px, 3 * unit), fill=accent)
    round_width = 0
    if chapter.round_label:
        round_px = 8 * unit
        round_width = round(_text_width(font(round_px, True), chapter.round_label))
        _draw_lines(
            draw, [chapter.round_label], round_px, size_px - margin - round_width, 8 * unit,
            accent, bold=True,
        )  # fmt: skip
    [block_line], block_px = _fit(chapter.block, 6 * unit, width - round_width - 4 * unit, 1)
    _draw_lines(draw, [block_line], block_px, margin, 9 * unit, MUTED)
    name_lines, name_px = _fit(chapter.exercise, 16 * unit, width, 3, bold=True)
    y = _draw_lines(draw, name_lines, name_px, margin, 24 * unit, INK, bold=True)
    prescription_lines, prescription_px = _fit(
        chapter.prescription, 8 * unit, width, max(1, (88 * unit - y) // (10 * unit))
    )
    _draw_lines(draw, prescription_lines, prescription_px, margin, y + 3 * unit, accent)
    bar_top, bar_bottom = size_px - 7 * unit, size_px - 5 * unit
    draw.rectangle((margin, bar_top, margin + width, bar_bottom), fill=(52, 62, 78))
    start_px = margin + width * chapter.start_ms // max(1, length_ms)
    end_px = margin + width * chapter.end_ms // max(1, length_ms)
    draw.rectangle((margin, bar_top, start_px, bar_bottom), fill=MUTED)
    draw.rectangle((start_px, bar_top, max(start_px + 1, end_px), bar_bottom), fill=accent)
    return _png(image)


def chapter_cards(script: Script, size_px: int = CHAPTER_IMAGE_PX) -> list[bytes]:
    """A card for every chapter, in order; each block keeps one accent colour."""
    accents = _block_accents(script)
    return [chapter_card(c, accents[c.block], script.length_ms, size_px) for c in script.chapters]


def artwork(script: Script, *, chapter_images: bool = True) -> Artwork:
    """The cover, and a card per chapter unless ``chapter_images`` is false, for the tags."""
    return Artwork(
        cover=cover_image(script),
        chapter_images=chapter_cards(script) if chapter_images else (),
        mime=IMAGE_MIME,
    )
