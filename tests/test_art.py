"""Cover and chapter cards: sizes players accept, every word inside, every letter drawn."""

from __future__ import annotations

import dataclasses
import io
import shutil
from pathlib import Path

import pytest
from mutagen.id3 import ID3
from PIL import Image, ImageFont

from helpers import SHORT_ROUTINE, run_cli, script_of
from workout_audio.outputs.art import (
    BACKGROUND,
    CHAPTER_IMAGE_PX,
    COVER_PX,
    FONTS,
    block_summaries,
    chapter_card,
    chapter_cards,
    cover_image,
)
from workout_audio.outputs.art_cache import KEEP_ENTRIES, cached_artwork
from workout_audio.timeline.script import Chapter, Script

PHRASES = Path(__file__).resolve().parent.parent / "src" / "workout_audio" / "phrases"


def open_png(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    assert image.format == "PNG"
    return image.convert("RGB")


def margins_are_empty(image: Image.Image, margin_px: int, top_px: int, bottom_px: int) -> bool:
    """Nothing drawn in the left and right margins between the top and bottom bands."""
    width, height = image.size
    for x_range in (range(margin_px - 4), range(width - margin_px + 4, width)):
        for x in x_range:
            for y in range(top_px, height - bottom_px):
                if image.getpixel((x, y)) != BACKGROUND:
                    return False
    return True


def test_cover_is_a_square_of_podcast_size_naming_the_blocks(seed_script: Script) -> None:
    cover = open_png(cover_image(seed_script))
    assert cover.size == (COVER_PX, COVER_PX)
    assert COVER_PX >= 1400
    blocks = block_summaries(seed_script)
    assert [(b.name, b.rounds) for b in blocks] == [
        ("Warmup", 1),
        ("Glute Activation", 2),
        ("Strength Set A", 3),
        ("Strength Set B", 3),
        ("Strength Set C", 3),
        ("Cooldown", 1),
    ]
    assert sum(b.duration_ms for b in blocks) == seed_script.length_ms
    assert blocks[2].moves == ("Hip Thrust", "Floor Press in 90-90")


def test_each_chapter_gets_its_own_card(seed_script: Script) -> None:
    cards = chapter_cards(seed_script)
    assert len(cards) == len(seed_script.chapters) == 29
    assert len(set(cards)) == 29  # even the same move in another round looks different
    for card in cards[:3]:
        assert open_png(card).size == (CHAPTER_IMAGE_PX, CHAPTER_IMAGE_PX)


def test_long_words_shrink_to_fit_inside_the_card() -> None:
    chapter = Chapter(
        title="x",
        start_ms=60_000,
        end_ms=120_000,
        block="Mobilitäts- und Kräftigungszirkel für Fortgeschrittene",
        exercise="Einbeinige rumänische Kreuzheberbewegung mit Überkopfrotation",
        prescription="45 Sekunden pro Seite, linke Seite zuerst, dann die rechte Seite",
        round_label="Round 12/12",
    )
    card = open_png(chapter_card(chapter, (255, 145, 77), length_ms=600_000))
    unit = CHAPTER_IMAGE_PX // 100
    assert margins_are_empty(card, 8 * unit, top_px=4 * unit, bottom_px=8 * unit)


def test_every_letter_of_the_cue_wording_has_a_glyph() -> None:
    letters = set()
    for path in PHRASES.glob("*.yaml"):
        letters |= set(path.read_text(encoding="utf-8"))
    letters |= set("ÄÖÜäöüßÉÈÊÀÇéèêàçñÑáíóúÁÍÓÚ¿¡«»’×·–")
    for face in ("Lato-Regular.ttf", "Lato-Bold.ttf"):
        font = ImageFont.truetype(str(FONTS / face), 40)
        missing_glyph = bytes(font.getmask("\uffff"))
        missing = [c for c in letters if c.isprintable() and not c.isspace()
                   and bytes(font.getmask(c)) == missing_glyph]  # fmt: skip
        assert missing == [], face


# --- the pictures kept in the cache ---


@pytest.mark.slow
def test_a_rebuild_takes_its_pictures_from_the_cache_without_loading_pillow(
    tmp_path: Path, speech_cache: Path
) -> None:
    (tmp_path / "short.yaml").write_text(SHORT_ROUTINE, encoding="utf-8")
    art_cache = tmp_path / "cache"
    shutil.copytree(speech_cache / "speech", art_cache / "speech")  # no pictures yet
    common = ["--engine", "piper", "--cache-dir", str(art_cache), "--sidecars", "none"]
    first = run_cli("build", "short.yaml", "-o", "first.mp3", *common, cwd=tmp_path,
                    python_options=("-X", "importtime"))  # fmt: skip
    assert first.returncode == 0, first.stderr
    assert " PIL" in first.stderr  # -X importtime lists every module loaded
    again = run_cli("build", "short.yaml", "-o", "again.mp3", *common, cwd=tmp_path,
                    python_options=("-X", "importtime"))  # fmt: skip
    assert again.returncode == 0, again.stderr
    assert " PIL" not in again.stderr
    assert pictures(tmp_path / "again.mp3") == pictures(tmp_path / "first.mp3")
    assert len(pictures(tmp_path / "again.mp3")) == 1 + len(script_of_text(tmp_path).chapters)


def pictures(track: Path) -> list[bytes]:
    """The cover and every chapter's picture in the track's tags, in order."""
    tags = ID3(track)
    chapters = sorted(tags.getall("CHAP"), key=lambda chapter: chapter.start_time)
    return [tags.getall("APIC")[0].data] + [c.sub_frames.getall("APIC")[0].data for c in chapters]


def script_of_text(folder: Path) -> Script:
    return script_of(folder / "short.yaml")


def test_a_changed_routine_is_drawn_afresh(seed_script: Script, tmp_path: Path) -> None:
    first = cached_artwork(seed_script, False, tmp_path)
    renamed = dataclasses.replace(seed_script, routine_name="Total Body Two")
    second = cached_artwork(renamed, False, tmp_path)
    assert second.cover != first.cover
    assert cached_artwork(seed_script, False, tmp_path).cover == first.cover
    assert len(list(tmp_path.glob("*.art"))) == 2


def test_a_damaged_entry_is_drawn_again(seed_script: Script, tmp_path: Path) -> None:
    drawn = cached_artwork(seed_script, False, tmp_path)
    [entry] = tmp_path.glob("*.art")
    entry.write_bytes(entry.read_bytes()[:1000])  # cut short, as by a crash mid-copy
    assert cached_artwork(seed_script, False, tmp_path) == drawn
    assert len(entry.read_bytes()) > 1000  # written whole again


@pytest.mark.slow
def test_only_the_newest_entries_are_kept(seed_script: Script, tmp_path: Path) -> None:
    for index in range(KEEP_ENTRIES + 3):
        day = dataclasses.replace(seed_script, routine_name=f"Day {index}")
        cached_artwork(day, False, tmp_path)
    assert len(list(tmp_path.glob("*.art"))) == KEEP_ENTRIES
