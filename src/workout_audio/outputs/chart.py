"""A picture of the whole workout: one row per block on a shared timeline, as PNG or SVG.

The layout is computed once, as a list of shapes in pixels; Pillow paints it
to PNG and the same shapes are written out as SVG, so the two never disagree.
Intervals come from the Script the build renders: work runs from each start
tone to its end (or rest) tone, the pause between the two sides of a move is a switch,
and the time before each set is its rest (the intro before the first).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal
from xml.sax.saxutils import escape

from PIL import Image, ImageDraw

from ..durations import format_clock
from ..errors import UsageError
from ..routine.targets import PACE_UNITS_M, Target
from ..storage.files import write_whole
from ..timeline.script import Event, Script, ToneName
from .art import font

__all__ = [
    "CHART_FORMATS",
    "Interval",
    "Line",
    "Polygon",
    "Rect",
    "Text",
    "chart_png",
    "chart_shapes",
    "chart_svg",
    "intervals",
    "write_chart",
]

CHART_FORMATS = (".png", ".svg")

WIDTH_PX = 1800
LABEL_PX = 290  # the block names' column
RIGHT_PX = 40
TOP_PX = 130  # title and legend
ROW_PX = 190
BAR_PX = 150
AXIS_PX = 60

PAPER = "#ffffff"
INK = "#1b2430"
MUTED = "#6b7685"
GRID = "#e3e7ec"
IntervalKind = Literal["work", "switch", "rest", "intro", "outro"]
COLOURS: dict[IntervalKind, str] = {
    "work": "#f07f3c",
    "switch": "#9b7bea",
    "rest": "#5aa9e6",
    "intro": "#c5ccd6",
    "outro": "#c5ccd6",
}
LEGEND: tuple[tuple[IntervalKind, str], ...] = (
    ("work", "work"),
    ("rest", "rest"),
    ("switch", "switch sides"),
)
TARGET = "#a8461a"  # a move's target band, drawn over its work
TARGET_HEADROOM = 1.15  # the highest target of a kind reaches this far below the bar's top


@dataclass(frozen=True)
class Interval:
    """A stretch of the track: work, rest, switch (sides), intro or outro."""

    kind: IntervalKind
    start_ms: int
    end_ms: int
    block: str
    round: int
    exercise: str


_WORK_BOUNDS: tuple[ToneName, ...] = ("start", "end", "rest")  # work: start to end or rest


def intervals(script: Script) -> list[Interval]:
    """The track cut into work, switch and rest intervals, covering it end to end."""
    works: list[Interval] = []
    started: Event | None = None
    for event in script.events:
        if event.kind != "tone" or event.tone not in _WORK_BOUNDS:
            continue
        # In continuous flow the next start tone is the end of the work before it.
        if started is not None:
            block, round_, exercise = started.block or "", started.round or 1, started.exercise
            works.append(
                Interval("work", started.start_ms, event.start_ms, block, round_, exercise or "")
            )
        started = event if event.tone == "start" else None
    if not works:
        return [Interval("intro", 0, script.length_ms, "", 1, "")]
    found = [Interval("intro", 0, works[0].start_ms, works[0].block, works[0].round, "")]
    for before, work in zip([None, *works], works, strict=False):
        if before is not None:
            same_set = (before.block, before.round, before.exercise) == (
                work.block,
                work.round,
                work.exercise,
            )
            found.append(
                Interval(
                    "switch" if same_set else "rest",
                    before.end_ms,
                    work.start_ms,
                    work.block,
                    work.round,
                    work.exercise,
                )
            )
        found.append(work)
    last = works[-1]
    found.append(Interval("outro", last.end_ms, script.length_ms, last.block, last.round, ""))
    return [i for i in found if i.end_ms > i.start_ms]


@dataclass(frozen=True)
class Rect:
    x: float
    y: float
    width: float
    height: float
    fill: str


@dataclass(frozen=True)
class Line:
    x1: float
    y1: float
    x2: float
    y2: float
    stroke: str
    width: float = 1.0


@dataclass(frozen=True)
class Text:
    """Text centred vertically on ``y``; ``upright`` text reads upwards from (x, y)."""

    x: float
    y: float
    text: str
    size_px: int
    fill: str
    anchor: str = "start"  # start | middle | end
    bold: bool = False
    upright: bool = False


@dataclass(frozen=True)
class Polygon:
    points: tuple[tuple[float, float], ...]
    fill: str


Shape = Rect | Line | Text | Polygon
_XAt = Callable[[int], float]  # a time in the track -> its x in the picture


def _width(text: str, size_px: int, bold: bool = False) -> float:
    return float(font(size_px, bold).getlength(text))


def _shorten(text: str, size_px: int, room_px: float, bold: bool = False) -> str | None:
    """``text``, or as much of it as fits with an ellipsis; None if not even one letter does."""
    if _width(text, size_px, bold) <= room_px:
        return text
    while text and _width(text + "…", size_px, bold) > room_px:
        text = text[:-1].rstrip()
    return text + "…" if len(text) >= 3 else None


def _step_ms(length_ms: int, room_px: float, least_px: float) -> int:
    """The shortest round step (1, 2, 5, ... minutes) at least ``least_px`` apart."""
    for minutes in (1, 2, 5, 10, 15, 30, 60):
        if room_px * minutes * 60_000 / max(1, length_ms) >= least_px:
            return minutes * 60_000
    return 120 * 60_000


def chart_shapes(script: Script) -> tuple[int, int, list[Shape]]:
    """The chart as shapes: (width, height, shapes), drawn in order."""
    cut = intervals(script)
    blocks = list(dict.fromkeys(chapter.block for chapter in script.chapters)) or [""]
    height = TOP_PX + ROW_PX * len(blocks) + AXIS_PX
    room = WIDTH_PX - LABEL_PX - RIGHT_PX
    length_ms = max(1, script.length_ms)

    def x_at(at_ms: int) -> float:
        return LABEL_PX + room * at_ms / length_ms

    scales = _target_scales(script)
    shapes: list[Shape] = [Rect(0, 0, WIDTH_PX, height, PAPER)]
    shapes.append(Text(30, 42, script.routine_name, 34, INK, bold=True))
    total = format_clock(script.length_ms)
    shapes.append(Text(WIDTH_PX - RIGHT_PX, 42, total, 34, INK, anchor="end", bold=True))
    legend_x = 30.0
    legend = [(COLOURS[kind], label) for kind, label in LEGEND]
    if any(chapter.target is not None for chapter in script.chapters):
        legend.append((TARGET, "target (power, heart rate or pace)"))
    for colour, label in legend:
        shapes.append(Rect(legend_x, 84, 22, 22, colour))
        shapes.append(Text(legend_x + 30, 95, label, 20, MUTED))
        legend_x += 30 + _width(label, 20) + 36
    axis_y = TOP_PX + ROW_PX * len(blocks)
    for at_ms in range(0, script.length_ms + 1, _step_ms(script.length_ms, room, 12)):
        shapes.append(Line(x_at(at_ms), TOP_PX - 10, x_at(at_ms), axis_y + 8, GRID, 2))
    for at_ms in range(0, script.length_ms + 1, _step_ms(script.length_ms, room, 80)):
        shapes.append(Line(x_at(at_ms), axis_y, x_at(at_ms), axis_y + 12, MUTED, 2))
        shapes.append(Text(x_at(at_ms), axis_y + 32, format_clock(at_ms), 18, MUTED, "middle"))
    shapes.append(Line(x_at(script.length_ms), TOP_PX - 10, x_at(script.length_ms), axis_y + 8,
                       INK, 2))  # fmt: skip
    for row, block in enumerate(blocks):
        top = TOP_PX + ROW_PX * row
        bar_top = top + (ROW_PX - BAR_PX) - 12
        label = _shorten(block, 24, LABEL_PX - 40, bold=True) or ""
        shapes.append(Text(30, bar_top + BAR_PX / 2, label, 24, INK, bold=True))
        mine = [i for i in cut if i.block == block]
        for interval in mine:
            shapes.append(
                Rect(
                    x_at(interval.start_ms),
                    bar_top,
                    max(1.0, x_at(interval.end_ms) - x_at(interval.start_ms)),
                    BAR_PX,
                    COLOURS[interval.kind],
                )
            )
        shapes += _target_bands(script, mine, x_at, bar_top, scales)
        shapes += _set_names(mine, x_at, bar_top)
        shapes += _round_labels(script, block, mine, x_at, bar_top)
    return WIDTH_PX, height, shapes


_Level = tuple[str, float, float]  # (kind, first, second): what a band shows, in its units


def _level(target: Target) -> _Level | None:
    """The one intensity a band shows: power, else heart rate, else pace (as speed)."""
    if target.power is not None:
        return f"power {target.power.kind}", target.power.first, target.power.second
    if target.hr is not None:
        return f"hr {target.hr.kind}", target.hr.first, target.hr.second
    if target.pace is not None:  # faster is higher: metres a second
        pace = target.pace
        unit_m = PACE_UNITS_M[pace.unit]
        return "speed", unit_m * 1000 / pace.first_ms, unit_m * 1000 / pace.second_ms
    return None


def _target_scales(script: Script) -> dict[str, float]:
    """The highest value of each kind of target: bands of a kind share one scale."""
    scales: dict[str, float] = {}
    for chapter in script.chapters:
        level = _level(chapter.target) if chapter.target is not None else None
        if level is not None:
            kind, first, second = level
            scales[kind] = max(scales.get(kind, 0.0), first, second)
    return scales


def _target_bands(
    script: Script, mine: Sequence[Interval], x_at: _XAt, bar_top: float, scales: dict[str, float]
) -> list[Shape]:
    """Over each work, its target: a band between a range's ends, a slope for a ramp."""
    shapes: list[Shape] = []
    for work in (i for i in mine if i.kind == "work"):
        chapter = next((c for c in script.chapters if c.start_ms <= work.start_ms < c.end_ms), None)
        level = _level(chapter.target) if chapter and chapter.target is not None else None
        if chapter is None or chapter.target is None or level is None:
            continue
        kind, first, second = level
        top = scales[kind] * TARGET_HEADROOM

        def y_of(value: float, top: float = top) -> float:
            return bar_top + BAR_PX * (1 - value / top)

        x0, x1 = x_at(work.start_ms), x_at(work.end_ms)
        if chapter.target.ramp:  # a slope from the first value to the second
            points = ((x0, bar_top + BAR_PX), (x0, y_of(first)), (x1, y_of(second)),
                      (x1, bar_top + BAR_PX))  # fmt: skip
        else:  # a band between the range's ends, at least 4 px thick
            high, low = y_of(max(first, second)), y_of(min(first, second))
            low = max(low, high + 4)
            points = ((x0, high), (x1, high), (x1, low), (x0, low))
        shapes.append(Polygon(points, TARGET))
    return shapes


def _set_names(mine: Sequence[Interval], x_at: _XAt, bar_top: float) -> list[Shape]:
    """Each set's exercise, upright across its work (both sides and the switch between)."""
    spans: list[tuple[str, int, int]] = []
    for interval in mine:
        if interval.kind != "work" and interval.kind != "switch":
            continue
        key = interval.exercise
        if interval.kind == "switch" or (
            spans and spans[-1][0] == key and _joined(spans, interval)
        ):
            spans[-1] = (key, spans[-1][1], interval.end_ms)
        else:
            spans.append((key, interval.start_ms, interval.end_ms))
    shapes: list[Shape] = []
    for name, start_ms, end_ms in spans:
        width = x_at(end_ms) - x_at(start_ms)
        size_px = int(min(22, width * 0.8))
        if size_px < 9:
            continue
        text = _shorten(name, size_px, BAR_PX - 16)
        if text:
            centre = (x_at(start_ms) + x_at(end_ms)) / 2
            shapes.append(
                Text(centre, bar_top + BAR_PX - 8, text, size_px, "#ffffff", upright=True)
            )
    return shapes


def _joined(spans: list[tuple[str, int, int]], interval: Interval) -> bool:
    return spans[-1][2] == interval.start_ms


def _round_labels(
    script: Script, block: str, mine: Sequence[Interval], x_at: _XAt, bar_top: float
) -> list[Shape]:
    """The chapters' own "Round 2/3" above the first work of each round, as room allows."""
    starts: list[tuple[float, str]] = []
    for chapter in script.chapters:
        if chapter.block != block or not chapter.round_label:
            continue
        if starts and starts[-1][1] == chapter.round_label:
            continue
        works = [i for i in mine if i.kind == "work" and chapter.start_ms <= i.start_ms]
        if works:
            starts.append((x_at(works[0].start_ms), chapter.round_label))
    shapes: list[Shape] = []
    ends = [x for x, _ in starts[1:]] + [float(WIDTH_PX - RIGHT_PX)] * bool(starts)
    for (x, label), end in zip(starts, ends, strict=True):
        # When "Round 2/3" does not fit, its last word ("2/3") says the same in any language.
        for text in (label, label.split()[-1]):
            if _width(text, 17) <= end - x - 6:
                shapes.append(Text(x, bar_top - 14, text, 17, MUTED))
                break
    return shapes


def chart_png(script: Script) -> bytes:
    """The chart as a PNG image."""
    width, height, shapes = chart_shapes(script)
    image = Image.new("RGB", (width, height), PAPER)
    draw = ImageDraw.Draw(image)
    anchors = {"start": "lm", "middle": "mm", "end": "rm"}
    for shape in shapes:
        if isinstance(shape, Rect):
            draw.rectangle(
                (shape.x, shape.y, shape.x + shape.width - 1, shape.y + shape.height - 1),
                fill=shape.fill,
            )
        elif isinstance(shape, Line):
            draw.line((shape.x1, shape.y1, shape.x2, shape.y2), fill=shape.stroke,
                      width=round(shape.width))  # fmt: skip
        elif isinstance(shape, Polygon):
            draw.polygon(shape.points, fill=shape.fill)
        elif shape.upright:
            face = font(shape.size_px, shape.bold)
            length = int(face.getlength(shape.text)) + 4
            label = Image.new("L", (length, shape.size_px * 2), 0)
            ImageDraw.Draw(label).text((0, shape.size_px), shape.text, font=face, fill=255,
                                       anchor="lm")  # fmt: skip
            label = label.rotate(90, expand=True)
            image.paste(shape.fill, (round(shape.x - shape.size_px), round(shape.y - length)),
                        label)  # fmt: skip
        else:
            draw.text((shape.x, shape.y), shape.text, font=font(shape.size_px, shape.bold),
                      fill=shape.fill, anchor=anchors[shape.anchor])  # fmt: skip
    buffer = io.BytesIO()
    image.save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def chart_svg(script: Script) -> str:
    """The chart as SVG text: the same shapes, in Lato where installed, else a sans-serif."""
    width, height, shapes = chart_shapes(script)
    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
        f'viewBox="0 0 {width} {height}" font-family="Lato, \'Helvetica Neue\', Arial, sans-serif">'
    ]
    for shape in shapes:
        if isinstance(shape, Rect):
            out.append(f'<rect x="{shape.x:.1f}" y="{shape.y:.1f}" width="{shape.width:.1f}" '
                       f'height="{shape.height:.1f}" fill="{shape.fill}"/>')  # fmt: skip
        elif isinstance(shape, Line):
            out.append(f'<line x1="{shape.x1:.1f}" y1="{shape.y1:.1f}" x2="{shape.x2:.1f}" '
                       f'y2="{shape.y2:.1f}" stroke="{shape.stroke}" '
                       f'stroke-width="{shape.width:g}"/>')  # fmt: skip
        elif isinstance(shape, Polygon):
            points = " ".join(f"{x:.1f},{y:.1f}" for x, y in shape.points)
            out.append(f'<polygon points="{points}" fill="{shape.fill}"/>')
        else:
            attributes = [
                f'x="{shape.x:.1f}"',
                f'y="{shape.y:.1f}"',
                f'font-size="{shape.size_px}"',
                f'fill="{shape.fill}"',
                f'text-anchor="{shape.anchor}"',
                'dominant-baseline="central"',
            ]
            if shape.bold:
                attributes.append('font-weight="bold"')
            if shape.upright:
                attributes.append(f'transform="rotate(-90 {shape.x:.1f} {shape.y:.1f})"')
            out.append(f"<text {' '.join(attributes)}>{escape(shape.text)}</text>")
    out.append("</svg>")
    return "\n".join(out) + "\n"


def write_chart(script: Script, path: Path) -> Path:
    """Write the chart to ``path``, PNG or SVG by its suffix, whole or not at all.

    Raises:
        UsageError: the suffix is neither .png nor .svg.
        StorageError: the file could not be written.
    """
    suffix = path.suffix.lower()
    if suffix not in CHART_FORMATS:
        raise UsageError(
            f"{path}: the chart is written as .png or .svg, not {suffix or 'no suffix'!r}"
        )
    data = chart_png(script) if suffix == ".png" else chart_svg(script).encode("utf-8")
    return write_whole(path, data)
