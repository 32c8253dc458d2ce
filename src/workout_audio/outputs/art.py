"""Pictures for players: a front cover and one card per chapter, drawn with Pillow.

Lock screens and podcast players show the cover, and the current chapter's
picture where the file carries one: the card names the move in large type,
with its prescription and round, readable at a glance between sets. Every
word on them comes from the Script. The type is Lato (SIL OFL, in fonts/):
Pillow's built-in font has no accented letters, and system fonts differ.
"""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

from ..durations import format_clock
from ..routine.targets import describe_target
from ..timeline.script import Chapter, Script
from .tags import Artwork

__all__ = [
    "CHAPTER_IMAGE_PX",
    "COVER_PX",
    "IMAGE_MIME",
    "BlockSummary",
    "CoverLayout",
    "TextBox",
    "artwork",
    "block_summaries",
    "chapter_card",
    "chapter_cards",
    "cover_image",
    "cover_layout",
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
    text: str,
    size_px: int,
    width_px: int,
    max_lines: int,
    *,
    bold: bool = False,
    height_px: int | None = None,
) -> tuple[list[str], int]:
    """The largest size down to 40% of ``size_px`` at which ``text`` fits in ``max_lines``
    (and, given ``height_px``, in as many lines as that height holds at the size).

    Text that does not fit even then ends its last line with an ellipsis.
    """
    smallest_px = max(12, size_px * 4 // 10)
    while True:
        face = font(size_px, bold)
        lines = _wrap(text, size_px, width_px, bold)
        allowed = max_lines
        if height_px is not None:
            allowed = max(1, min(max_lines, height_px // _line_px(size_px)))
        too_wide = any(_text_width(face, line) > width_px for line in lines)
        if len(lines) <= allowed and not too_wide:
            return lines, size_px
        if size_px <= smallest_px:
            kept = lines[: allowed - 1]
            last = " ".join(lines[allowed - 1 :])
            while last and _text_width(face, last + "…") > width_px:
                last = last[:-1].rstrip()
            return [*kept, last + "…"], size_px
        size_px = max(smallest_px, size_px * 9 // 10)


def _line_px(size_px: int) -> int:
    return round(size_px * 1.18)


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
        y_px += _line_px(size_px)
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


Colour = tuple[int, int, int]


@dataclass(frozen=True)
class TextBox:
    """Lines of type placed on a picture: what is drawn, and where its ink goes."""

    lines: tuple[str, ...]
    size_px: int
    x_px: int
    y_px: int
    fill: Colour
    bold: bool = False

    def bounds(self) -> tuple[int, int, int, int]:
        """The ink's (left, top, right, bottom), as Pillow draws the lines."""
        face = font(self.size_px, self.bold)
        boxes = [face.getbbox(line) for line in self.lines if line] or [(0, 0, 0, 0)]
        last_y = self.y_px + (len(self.lines) - 1) * _line_px(self.size_px)
        return (
            self.x_px + math.floor(min(box[0] for box in boxes)),
            self.y_px + math.floor(min(box[1] for box in boxes)),
            self.x_px + math.ceil(max(box[2] for box in boxes)),
            last_y + math.ceil(max(box[3] for box in boxes)),
        )


@dataclass(frozen=True)
class CoverLayout:
    """Everything the cover shows: coloured bars, then text boxes, all inside the square."""

    size_px: int
    bars: tuple[tuple[tuple[int, int, int, int], Colour], ...]
    texts: tuple[TextBox, ...]


_MIN_ROW_UNITS = 5  # a block's row on the cover: name and moves still readable
_MAX_ROW_UNITS = 9


def cover_layout(script: Script, size_px: int = COVER_PX) -> CoverLayout:
    """Where the cover's words and bars go: the routine's name (wrapped and shrunk into two
    lines' height), its length, and a row per block; long block names wrap and shrink beside
    the time column, and blocks beyond the room left are counted on a last line."""
    unit = size_px // 100  # layout in hundredths of the side
    margin = 7 * unit
    width = size_px - 2 * margin
    accents = _block_accents(script)
    bars: list[tuple[tuple[int, int, int, int], Colour]] = [((0, 0, size_px, 2 * unit), ACCENTS[0])]
    title_px = 9 * unit
    lines, title_px = _fit(
        script.routine_name, title_px, width, 3, bold=True, height_px=2 * _line_px(title_px)
    )
    title = TextBox(tuple(lines), title_px, margin, 8 * unit, INK, bold=True)
    clock = TextBox(
        (_seconds_clock(script.length_ms),), 14 * unit, margin, title.bounds()[3] + 2 * unit, INK
    )
    texts = [title, clock]
    y = clock.bounds()[3] + 3 * unit
    bottom = size_px - 4 * unit
    blocks = block_summaries(script)
    room = max(1, (bottom - y) // (_MIN_ROW_UNITS * unit))
    shown = blocks if len(blocks) <= room else blocks[: room - 1]
    rows = len(shown) + (len(shown) < len(blocks))
    row_px = min(_MAX_ROW_UNITS * unit, (bottom - y) // max(1, rows))
    name_px, detail_px = row_px * 5 // 10, row_px * 3 // 10
    for block in shown:
        accent = accents[block.name]
        bars.append(((margin, y + unit // 2, margin + unit, y + row_px - unit), accent))
        rounds = f"×{block.rounds}   " if block.rounds > 1 else ""
        detail = f"{rounds}{_seconds_clock(block.duration_ms)}"
        detail_width = round(_text_width(font(name_px), detail))
        detail_box = TextBox((detail,), name_px, margin + width - detail_width, y, MUTED)
        name_width = width - 5 * unit - detail_width
        name_lines, heading_px = _fit(
            block.name, name_px, name_width, 2, bold=True, height_px=_line_px(name_px)
        )
        heading = TextBox(tuple(name_lines), heading_px, margin + 3 * unit, y, INK, bold=True)
        moves_y = max(heading.bounds()[3], detail_box.bounds()[3]) + unit // 2
        moves_px = min(detail_px, (y + row_px - moves_y) * 10 // 12)
        [moves_line], moves_px = _fit(", ".join(block.moves), moves_px, width - 3 * unit, 1)
        texts += [heading, detail_box, TextBox((moves_line,), moves_px, margin + 3 * unit,
                                               moves_y, MUTED)]  # fmt: skip
        y += row_px
    if len(shown) < len(blocks):
        more = f"+ {len(blocks) - len(shown)} more blocks"
        texts.append(TextBox((more,), detail_px, margin + 3 * unit, y, MUTED))
    return CoverLayout(size_px, tuple(bars), tuple(texts))


def cover_image(script: Script, size_px: int = COVER_PX) -> bytes:
    """The front cover as PNG: the routine's name, its length and its blocks."""
    layout = cover_layout(script, size_px)
    image = Image.new("RGB", (size_px, size_px), BACKGROUND)
    draw = ImageDraw.Draw(image)
    for rectangle, colour in layout.bars:
        draw.rectangle(rectangle, fill=colour)
    for text in layout.texts:
        _draw_lines(draw, text.lines, text.size_px, text.x_px, text.y_px, text.fill,
                    bold=text.bold)  # fmt: skip
    return _png(image)


def chapter_card(
    chapter: Chapter,
    accent: tuple[int, int, int],
    length_ms: int,
    size_px: int = CHAPTER_IMAGE_PX,
) -> bytes:
    """One chapter's card as PNG: the move in large type, its prescription, round and block.

    A bar along the bottom shows where the chapter sits in a track of ``length_ms``; a
    move's target (``4:30/km · 175spm``) is written under its prescription.
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
    target = describe_target(chapter.target) if chapter.target is not None else ""
    room_lines = max(1, (88 * unit - y) // (10 * unit) - (1 if target else 0))
    prescription_lines, prescription_px = _fit(chapter.prescription, 8 * unit, width, room_lines)
    y = _draw_lines(draw, prescription_lines, prescription_px, margin, y + 3 * unit, accent)
    if target:  # "4:30/km · 175spm": the written form a watch shows, not the spoken one
        target_lines, target_px = _fit(target, 7 * unit, width, 1, bold=True)
        _draw_lines(draw, target_lines, target_px, margin, y + unit, INK, bold=True)
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
