"""The workout chart: PNG and SVG from the same layout, naming every block, true to the script."""

from __future__ import annotations

import io
import xml.etree.ElementTree as ET
from itertools import pairwise
from pathlib import Path

import pytest
from PIL import Image

from helpers import SHORT_ROUTINE, run_cli, script_of
from workout_audio.errors import UsageError
from workout_audio.outputs.chart import COLOURS, chart_png, chart_svg, intervals, write_chart
from workout_audio.timeline.script import Script

SVG = "{http://www.w3.org/2000/svg}"


def test_intervals_cover_the_track_end_to_end(seed_script: Script) -> None:
    cut = intervals(seed_script)
    assert cut[0].start_ms == 0
    assert cut[-1].end_ms == seed_script.length_ms
    for before, after in pairwise(cut):
        assert before.end_ms == after.start_ms
    work = [i for i in cut if i.kind == "work"]
    # 29 sets; the 17 per-side ones are worked twice, with a switch between the sides
    assert len([i for i in cut if i.kind == "switch"]) == 17
    assert len(work) == 29 + 17
    assert len([i for i in cut if i.kind == "rest"]) == 28
    assert {i.end_ms - i.start_ms for i in work if i.exercise == "Hip Thrust"} == {20_000}


def test_png_and_svg_show_the_same_chart_naming_every_block(
    seed_script: Script, tmp_path: Path
) -> None:
    png = write_chart(seed_script, tmp_path / "seed.png")
    svg = write_chart(seed_script, tmp_path / "seed.svg")
    image = Image.open(io.BytesIO(png.read_bytes()))
    root = ET.fromstring(svg.read_text(encoding="utf-8"))
    assert image.format == "PNG"
    assert image.size == (int(root.get("width", 0)), int(root.get("height", 0)))
    texts = [t.text for t in root.iter(f"{SVG}text")]
    for block in ("Warmup", "Glute Activation", "Strength Set A", "Strength Set C", "Cooldown"):
        assert block in texts
    assert "30:00" in texts  # the total length
    assert "Banded Squat" in texts  # exercise names on their bars
    assert "Round 2/2" in texts
    assert {"0:00", "10:00", "20:00", "30:00"} <= set(texts)  # minute ticks
    fills = {r.get("fill") for r in root.iter(f"{SVG}rect")}
    assert {COLOURS["work"], COLOURS["rest"], COLOURS["switch"]} <= fills
    # every colour of the SVG's bars is painted in the PNG too
    painted = {colour for _, colour in image.convert("RGB").getcolors(1 << 20) or []}
    for kind in ("work", "rest", "switch"):
        hex_colour = COLOURS[kind].lstrip("#")
        assert tuple(int(hex_colour[i : i + 2], 16) for i in (0, 2, 4)) in painted


def test_chart_of_a_short_routine_is_drawn(write_routine) -> None:
    script = script_of(write_routine(SHORT_ROUTINE))
    assert chart_png(script).startswith(b"\x89PNG")
    texts = [t.text for t in ET.fromstring(chart_svg(script)).iter(f"{SVG}text")]
    assert "Core" in texts
    assert "Stretch" in texts


def test_other_suffixes_are_refused(seed_script: Script, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match=r"chart\.jpg: the chart is written as \.png or \.svg"):
        write_chart(seed_script, tmp_path / "chart.jpg")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_build_chart_beside_the_track_and_never_in_a_plain_build(
    tmp_path: Path, speech_cache: Path
) -> None:
    (tmp_path / "short.yaml").write_text(SHORT_ROUTINE, encoding="utf-8")
    common = ["--engine", "piper", "--cache-dir", str(speech_cache), "--sidecars", "none"]
    traced = {"cwd": tmp_path, "python_options": ("-X", "importtime")}  # every module imported
    plain = run_cli("build", "short.yaml", "-o", "plain.mp3", *common, **traced)
    assert plain.returncode == 0, plain.stderr
    assert "workout_audio.outputs.chart" not in plain.stderr  # -X importtime lists every module
    assert not (tmp_path / "plain.png").exists()
    charted = run_cli("build", "short.yaml", "-o", "with.opus", "--chart", *common, **traced)
    assert charted.returncode == 0, charted.stderr
    assert "beside it: with.png" in charted.stdout
    assert Image.open(tmp_path / "with.png").format == "PNG"


@pytest.mark.slow
def test_chart_command_draws_png_or_svg_and_refuses_other_names(
    tmp_path: Path, speech_cache: Path
) -> None:
    (tmp_path / "short.yaml").write_text(SHORT_ROUTINE, encoding="utf-8")
    common = ["--engine", "piper", "--cache-dir", str(speech_cache)]
    traced = {"cwd": tmp_path, "python_options": ("-X", "importtime")}  # every module imported
    done = run_cli("chart", "short.yaml", "-o", "c.svg", "--length", "3m", *common, **traced)
    assert done.returncode == 0, done.stderr
    assert "wrote c.svg (3:00, " in done.stdout
    texts = [t.text for t in ET.parse(tmp_path / "c.svg").getroot().iter(f"{SVG}text")]
    assert "3:00" in texts
    refused = run_cli("chart", "short.yaml", "-o", "c.jpg", *common, **traced)
    assert refused.returncode == 2
    assert refused.stderr.strip().splitlines()[-1] == (
        "error: -o c.jpg: the chart is written as .png or .svg"
    )
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c.svg", "short.yaml"]
