"""The cover keeps every word inside the picture and clear of the others, however long
the routine's and blocks' names and however many blocks."""

from __future__ import annotations

import dataclasses
import io
from itertools import combinations

import pytest
from PIL import Image

from workout_audio.outputs.art import COVER_PX, INK, MUTED, cover_image, cover_layout
from workout_audio.timeline.script import Script

BLOCK_STEM = "Main Strength and Conditioning Superset Block Number One"
LONG_ROUTINE = "The Complete Thirty Minute Total Body Strength Plan (Runners)"  # 60 characters


def block_name(index: int) -> str:
    """A 60-character block name of its own."""
    name = f"{BLOCK_STEM} {index:03d}"
    assert len(name) == 60
    return name


def renamed(script: Script, names: dict[str, str], routine_name: str) -> Script:
    chapters = tuple(dataclasses.replace(c, block=names[c.block]) for c in script.chapters)
    return dataclasses.replace(script, routine_name=routine_name, chapters=chapters)


def long_names(script: Script) -> Script:
    """Every block named with 60 characters, each name its own."""
    blocks = list(dict.fromkeys(chapter.block for chapter in script.chapters))
    names = {name: block_name(index) for index, name in enumerate(blocks)}
    return renamed(script, names, LONG_ROUTINE)


def many_blocks(script: Script) -> Script:
    """A block for every chapter (29), each named with 60 characters."""
    chapters = tuple(
        dataclasses.replace(chapter, block=block_name(index))
        for index, chapter in enumerate(script.chapters)
    )
    return dataclasses.replace(script, routine_name=LONG_ROUTINE, chapters=chapters)


def as_shown(script: Script, case: str) -> Script:
    return {"seed": script, "long names": long_names(script), "many blocks": many_blocks(script)}[
        case
    ]


def overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


@pytest.mark.parametrize("case", ["seed", "long names", "many blocks"])
def test_every_text_box_is_inside_the_cover_and_apart_from_the_others(
    seed_script: Script, case: str
) -> None:
    layout = cover_layout(as_shown(seed_script, case))
    boxes = [text.bounds() for text in layout.texts]
    for left, top, right, bottom in boxes:
        assert 0 <= left < right <= layout.size_px
        assert 0 <= top < bottom <= layout.size_px
    touching = [(a, b) for a, b in combinations(layout.texts, 2) if overlap(a.bounds(), b.bounds())]
    assert touching == []


def test_a_long_block_name_is_shown_whole(seed_script: Script) -> None:
    layout = cover_layout(long_names(seed_script))
    shown = [" ".join(text.lines) for text in layout.texts]
    assert block_name(0) in shown  # wrapped or shrunk, not cut
    assert " ".join(layout.texts[0].lines) == LONG_ROUTINE


def test_blocks_beyond_the_room_are_counted(seed_script: Script) -> None:
    words = [" ".join(text.lines) for text in cover_layout(many_blocks(seed_script)).texts]
    more = [line for line in words if line.startswith("+ ")]
    assert len(more) == 1
    named = [line for line in words if line.startswith(BLOCK_STEM)]
    assert len(named) + int(more[0].split()[1]) == 29


def test_block_names_stay_out_of_the_time_column(seed_script: Script) -> None:
    """No letter of a name (drawn near white; the times are grey) in the right-hand column
    where the times are, below the length: a long name used to run over them."""
    cover = Image.open(io.BytesIO(cover_image(long_names(seed_script)))).convert("RGB")
    column = cover.crop((COVER_PX * 80 // 100, COVER_PX * 45 // 100, COVER_PX, COVER_PX))
    colours = {colour for _, colour in column.getcolors(COVER_PX * COVER_PX) or []}
    assert INK[0] > 220 > max(MUTED)
    assert [colour for colour in colours if min(colour) > 220] == []
