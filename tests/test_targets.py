"""Targets in the routine format: pace, heart rate, power, cadence, effort, distances, ramps."""

from __future__ import annotations

import io
import itertools
import subprocess
import sys
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import pytest
from PIL import Image, ImageChops

from helpers import ROOT, child_env, decode, invoke, spoken_ms
from workout_audio import build
from workout_audio.errors import RoutineError, RoutineErrors
from workout_audio.outputs.art import chapter_card
from workout_audio.outputs.chart import Polygon, chart_shapes, chart_svg, intervals
from workout_audio.routine import load_routine
from workout_audio.routine.targets import (
    CadenceTarget,
    HeartRateTarget,
    PaceTarget,
    PowerTarget,
    Target,
    describe_target,
    format_distance,
    format_target,
    parse_distance_m,
    parse_pace,
)
from workout_audio.settings import VoiceSettings
from workout_audio.timeline.script import Script, make_script, script_as_json

WriteRoutine = Callable[..., Path]


def one_move(fields: str) -> str:
    """A routine whose only move, ``{fields}``, is on line 5."""
    return f"name: R\nblocks:\n  - name: B\n    exercises:\n      - {{{fields}}}\n"


def errors_of(write_routine: WriteRoutine, text: str) -> list[RoutineError]:
    with pytest.raises(RoutineErrors) as info:
        load_routine(write_routine(text))
    return info.value.errors


def the_error(write_routine: WriteRoutine, text: str) -> RoutineError:
    errors = errors_of(write_routine, text)
    assert len(errors) == 1, [str(error) for error in errors]
    return errors[0]


@pytest.mark.parametrize(
    ("written", "expected"),
    [
        ({"pace": "5:30/km"}, Target(pace=PaceTarget(330_000, 330_000, "km"))),
        ({"pace": "5:20-5:40/km"}, Target(pace=PaceTarget(320_000, 340_000, "km"))),
        ({"pace": "8:50/mi"}, Target(pace=PaceTarget(530_000, 530_000, "mi"))),
        ({"pace": "1:45/100m"}, Target(pace=PaceTarget(105_000, 105_000, "100m"))),
        ({"pace": "2:00/500m"}, Target(pace=PaceTarget(120_000, 120_000, "500m"))),
        ({"hr": "Z2"}, Target(hr=HeartRateTarget("zone", 2, 2))),
        ({"hr": "Z7"}, Target(hr=HeartRateTarget("zone", 7, 7))),
        ({"hr": "150bpm"}, Target(hr=HeartRateTarget("bpm", 150, 150))),
        ({"hr": "140-150bpm"}, Target(hr=HeartRateTarget("bpm", 140, 150))),
        ({"hr": "75% max"}, Target(hr=HeartRateTarget("max", 75, 75))),
        ({"hr": "70-80% max"}, Target(hr=HeartRateTarget("max", 70, 80))),
        ({"hr": "90% threshold"}, Target(hr=HeartRateTarget("threshold", 90, 90))),
        ({"hr": "85-95% threshold"}, Target(hr=HeartRateTarget("threshold", 85, 95))),
        ({"power": "75%"}, Target(power=PowerTarget("ftp", 75, 75))),
        ({"power": "57.5%"}, Target(power=PowerTarget("ftp", 57.5, 57.5))),
        ({"power": "70-80%"}, Target(power=PowerTarget("ftp", 70, 80))),
        ({"power": "250W"}, Target(power=PowerTarget("watts", 250, 250))),
        ({"power": "200-250W"}, Target(power=PowerTarget("watts", 200, 250))),
        ({"power": "Z3"}, Target(power=PowerTarget("zone", 3, 3))),
        ({"cadence": "90rpm"}, Target(cadence=CadenceTarget(90, 90, "rpm"))),
        ({"cadence": "170spm"}, Target(cadence=CadenceTarget(170, 170, "spm"))),
        ({"cadence": "85-95rpm"}, Target(cadence=CadenceTarget(85, 95, "rpm"))),
        ({"rpe": 7}, Target(rpe=7)),
        (
            {"power": "60-75%", "cadence": "90rpm", "ramp": True},
            Target(
                power=PowerTarget("ftp", 60, 75), cadence=CadenceTarget(90, 90, "rpm"), ramp=True
            ),
        ),
    ],
)
def test_each_target_form_loads_and_writes_back_as_written(
    write_routine: WriteRoutine, written: dict[str, object], expected: Target
) -> None:
    fields = ", ".join(
        f"{key}: {str(value).lower() if isinstance(value, bool) else repr(value)}"
        for key, value in written.items()
    )
    routine = load_routine(write_routine(one_move(f"name: Run, time: 5m, target: {{{fields}}}")))

    move = routine.blocks[0].exercises[0]
    assert move.target == expected
    assert format_target(expected) == written


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ("pace: 5:70/km", "pace", ["'5:70/km'", "seconds"]),
        ("pace: 5:30", "pace", ["not a pace", "5:30/km"]),
        ("pace: 5:30/yd", "pace", ["not a pace"]),
        ("hr: Z9", "hr", ["zones run from Z1 to Z7"]),
        ("hr: 300bpm", "hr", ["300bpm is outside"]),
        ("hr: 150", "hr", ["expected text"]),
        ("power: 75", "power", ["expected text"]),
        ("power: fast", "power", ["not a power", "75%"]),
        ("cadence: 90rps", "cadence", ["not a cadence"]),
        ("rpe: 11", "rpe", ["at most 10", "11"]),
        ("rpe: 0", "rpe", ["at least 1"]),
        ("speed: 10", "speed", ["unknown key 'speed'"]),
        ("power: 75%, ramp: true", "ramp", ["exactly one range", "found none"]),
        ("power: 60-75%, hr: 140-150bpm, ramp: true", "ramp", ["exactly one range", "found 2"]),
    ],
)
def test_a_bad_target_names_its_line_and_field(
    write_routine: WriteRoutine, fields: str, field: str, words: list[str]
) -> None:
    error = the_error(write_routine, one_move(f"name: Run, time: 5m, target: {{{fields}}}"))

    assert (error.line, error.field) == (5, f"blocks[0].exercises[0].target.{field}"), str(error)
    for word in words:
        assert word in error.message, str(error)
    assert str(error).startswith(f"{error.path}:5: ")


def test_a_bad_target_on_its_own_line_is_named_by_that_line(write_routine: WriteRoutine) -> None:
    text = """\
        name: R
        blocks:
          - name: B
            exercises:
              - name: Run
                time: 5m
                target:
                  hr: Z2
                  pace: 5:70/km
        """
    error = the_error(write_routine, text)

    assert (error.line, error.field) == (9, "blocks[0].exercises[0].target.pace")


@pytest.mark.parametrize(
    ("distance", "pace", "time_ms"),
    [
        ("1km", "4:30/km", 270_000),
        ("400m", "4:30/km", 108_000),
        ("1.5km", "5:20-5:40/km", 510_000),  # the slower end: 1.5 x 5:40
        ("800 m", "5:00/km", 240_000),
        ("1mi", "8:50/mi", 530_000),
        ("1km", "8:00/mi", round(1000 * 480_000 / 1609.344)),
        ("400m", "1:45/100m", 420_000),
        ("2km", "2:00/500m", 480_000),
    ],
)
def test_a_distance_is_timed_at_the_slower_end_of_its_pace(
    write_routine: WriteRoutine, distance: str, pace: str, time_ms: int
) -> None:
    text = one_move(f"name: Run, distance: {distance}, target: {{pace: '{pace}'}}")
    move = load_routine(write_routine(text)).blocks[0].exercises[0]

    assert move.time_ms == time_ms
    assert move.distance_m == parse_distance_m(distance)
    assert not move.flex  # a target length never stretches a kilometre


def test_a_distance_without_a_pace_says_what_to_add(write_routine: WriteRoutine) -> None:
    error = the_error(write_routine, one_move("name: Run, distance: 1km, target: {hr: Z2}"))

    assert str(error).endswith(
        ":5: blocks[0].exercises[0].distance: needs a pace target "
        "(target: {pace: 5:30/km}) to be timed"
    )


@pytest.mark.parametrize(
    ("fields", "field", "words"),
    [
        ("distance: 1km, time: 5m, target: {pace: 5:00/km}", ".distance", ["not both"]),
        ("distance: 1km, reps: 5, target: {pace: 5:00/km}", ".distance", ["not both"]),
        ("distance: 1 furlong, target: {pace: 5:00/km}", ".distance", ["not a distance"]),
        ("distance: 0km, target: {pace: 5:00/km}", ".distance", ["more than 0"]),
        ("distance: 200km, target: {pace: 5:00/mi}", ".distance", ["over 6 hours"]),
        ("target: {pace: 5:00/km}", "", ["exactly one of 'time' or 'reps'"]),
    ],
)
def test_a_distance_given_wrongly_is_refused(
    write_routine: WriteRoutine, fields: str, field: str, words: list[str]
) -> None:
    error = the_error(write_routine, one_move(f"name: Run, {fields}"))

    assert (error.line, error.field) == (5, f"blocks[0].exercises[0]{field}"), str(error)
    for word in words:
        assert word in error.message, str(error)


def test_messages_are_read_in_time_order_and_must_fall_within_the_move(
    write_routine: WriteRoutine,
) -> None:
    text = """\
        name: R
        blocks:
          - name: B
            exercises:
              - name: Ride
                time: 5m
                messages:
                  - {at: 2m, text: Halfway there}
                  - {at: 30s, text: Stay   smooth}
        """
    move = load_routine(write_routine(text)).blocks[0].exercises[0]
    assert [(m.at_ms, m.text, m.line) for m in move.messages] == [
        (30_000, "Stay smooth", 9),
        (120_000, "Halfway there", 8),
    ]

    late = text.replace("at: 2m", "at: 5m")
    error = the_error(write_routine, late)
    assert (error.line, error.field) == (8, "blocks[0].exercises[0].messages[0].at")
    assert "not within the move" in error.message


def test_the_importers_layout_loads(write_routine: WriteRoutine) -> None:
    """What a structured import writes: continuous flow, fixed rounds, pinned moves."""
    text = """\
        name: 4 x 1 km
        timing: {flow: continuous}
        blocks:
          - name: Warmup
            role: warmup
            exercises:
              - {name: Easy, time: 10m, flex: false, target: {hr: Z2}}
          - name: Main set
            rounds: 4
            rounds_fixed: true
            exercises:
              - {name: Run, distance: 1km, flex: false, target: {pace: "4:30/km"}}
              - {name: Jog, time: 2m, flex: false, target: {pace: "6:00-6:30/km", ramp: true}}
          - name: Free ride
            exercises:
              - {name: Free ride, time: 10m, flex: false}
        """
    routine = load_routine(write_routine(text))

    run, jog = routine.blocks[1].exercises
    assert (run.time_ms, jog.time_ms) == (270_000, 120_000)
    assert jog.target is not None
    assert jog.target.ramped == PaceTarget(360_000, 390_000, "km")
    assert routine.blocks[2].exercises[0].target is None


@pytest.mark.parametrize(
    ("distance_m", "written"),
    [(400, "400m"), (1000, "1km"), (1500, "1.5km"), (1609.344, "1mi"), (800, "800m")],
)
def test_distances_write_back_in_their_shortest_form(distance_m: float, written: str) -> None:
    assert format_distance(distance_m) == written
    assert parse_distance_m(written) == pytest.approx(distance_m)


# --- spoken ---

INTERVALS = """\
    name: Intervals
    timing: {flow: continuous}
    blocks:
      - name: Main set
        rounds: 2
        rounds_fixed: true
        exercises:
          - name: Run
            distance: 1km
            target: {pace: "4:30/km", cadence: 175spm}
            messages: [{at: 30s, text: Relax your shoulders.}]
          - {name: Jog, time: 2m, target: {pace: "6:00-6:30/km", rpe: 3}}
      - name: Bike
        exercises:
          - {name: Ramp, time: 3m, target: {power: "60-75%", ramp: true}}
          - {name: Steady, time: 3m, target: {power: "200-250W", hr: "75% max"}}
    """


def said_in(write_routine: WriteRoutine, text: str, language: str = "en") -> list[str]:
    with_language = text.replace("name: Intervals", f"name: Intervals\n    language: {language}")
    routine = load_routine(write_routine(with_language))
    script = make_script(routine, spoken_ms)
    return [event.text for event in script.speech() if event.text is not None]


def test_the_next_move_is_announced_with_its_distance_and_targets(
    write_routine: WriteRoutine,
) -> None:
    said = said_in(write_routine, INTERVALS)

    assert "First up: Run, 1 kilometre, at 4 30 per kilometre, cadence 175." in said
    assert "Next up: Jog, 2 minutes, between 6 and 6 30 per kilometre, effort 3 out of 10." in said
    assert "Next up: Ramp, 3 minutes, build from 60 to 75 percent." in said
    steady = "Next up: Steady, 3 minutes, hold 200 to 250 watts, 75 percent of max heart rate."
    assert steady in said


@pytest.mark.parametrize(
    ("language", "cue"),
    [
        ("es", "A continuación: Ramp, 3 minutos, sube de 60 a 75 por ciento."),
        (
            "fr",
            "Ensuite : Jog, 2 minutes, entre 6 minutes et 6 minutes 30 au kilomètre, "
            "effort 3 sur 10.",
        ),
        (
            "de",
            "Als Nächstes: Steady, 3 Minuten, 200 bis 250 Watt halten, "
            "75 Prozent der maximalen Herzfrequenz.",
        ),
    ],
)
def test_targets_are_said_in_the_tracks_language(
    write_routine: WriteRoutine, language: str, cue: str
) -> None:
    assert cue in said_in(write_routine, INTERVALS, language)


def test_a_distance_move_lasts_its_time_at_pace_in_the_script(write_routine: WriteRoutine) -> None:
    routine = load_routine(write_routine(INTERVALS))
    script = make_script(routine, spoken_ms)

    starts = [e.start_ms for e in script.events if e.tone == "start"]
    # Run 1 km at 4:30 (270 s), then Jog 2 min, in continuous flow: each starts as the last ends.
    assert starts[1] - starts[0] == 270_000
    assert starts[2] - starts[1] == 120_000


def test_a_message_is_said_at_its_time_in_every_round(write_routine: WriteRoutine) -> None:
    routine = load_routine(write_routine(INTERVALS))
    script = make_script(routine, spoken_ms)

    run_starts = [e.start_ms for e in script.events if e.tone == "start" and e.exercise == "Run"]
    said_at = [e.start_ms for e in script.speech() if e.text == "Relax your shoulders."]
    assert said_at == [start + 30_000 for start in run_starts]
    assert script.unplaced == ()


MESSAGE_OVER_THE_COUNTDOWN = """\
    name: R
    blocks:
      - name: B
        exercises:
          - name: Ride
            time: 1m
            messages:
              - {at: 20s, text: Good}
              - {at: 58s, text: Push now}
    """


def test_a_message_over_the_countdown_is_refused_by_validate(write_routine: WriteRoutine) -> None:
    text = MESSAGE_OVER_THE_COUNTDOWN
    path = write_routine(text)
    result = invoke("validate", str(path))

    assert result.exit_code == 2
    lines = result.output.strip().splitlines()
    assert lines == [
        f"{path}:9: blocks[0].exercises[0].messages[1]: no room to say 'Push now' at 0:58: it "
        "would overlap a countdown, a tone or another cue, or run past the move's end; "
        "move it or shorten it"
    ]
    fixed = write_routine(text.replace("at: 58s", "at: 40s"), name="fixed.yaml")
    assert invoke("validate", str(fixed)).exit_code == 0


@pytest.mark.slow
def test_a_build_says_which_message_it_left_out_and_why(
    write_routine: WriteRoutine, tmp_path: Path, speech_cache: Path
) -> None:
    # validate refuses it (above); a build run without validate still makes the track, and
    # says which message found no room with the real voice, with its line and field.
    path = write_routine(MESSAGE_OVER_THE_COUNTDOWN)
    output = tmp_path / "ride.mp3"
    done = subprocess.run(
        [sys.executable, "-m", "workout_audio", "build", str(path), "-o", str(output),
         "--engine", "piper", "--cache-dir", str(speech_cache)],
        capture_output=True, text=True, env=child_env(), timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert done.stderr.strip().splitlines() == [
        f"WARNING: {path}:9: blocks[0].exercises[0].messages[1]: no room to say 'Push now' at "
        "0:58: it would overlap a countdown, a tone or another cue, or run past the move's "
        "end; move it or shorten it (left out of this track)"
    ]
    said = output.with_suffix(".lrc").read_text(encoding="utf-8")
    assert "Good" in said
    assert "Push now" not in said


def test_a_distance_without_pace_is_refused_by_validate_and_build_writes_nothing(
    write_routine: WriteRoutine, tmp_path: Path
) -> None:
    path = write_routine(one_move("name: Run, distance: 1km"))
    output = tmp_path / "out.mp3"

    for args in (("validate", str(path)), ("build", str(path), "-o", str(output))):
        result = invoke(*args)
        assert result.exit_code == 2
        assert "Traceback" not in result.output
        assert f"{path}:5: blocks[0].exercises[0].distance: needs a pace target" in result.output
    assert not output.exists()


# --- cards and chart ---


def test_the_chapter_shows_the_target_in_its_written_form(write_routine: WriteRoutine) -> None:
    script = make_script(load_routine(write_routine(INTERVALS)), spoken_ms)

    run = next(c for c in script.chapters if c.exercise == "Run")
    assert run.prescription == "1 kilometre"  # the card's amount; the target is its own line
    assert run.target is not None
    assert describe_target(run.target) == "4:30/km · 175spm"
    ramp = next(c for c in script.chapters if c.exercise == "Ramp")
    assert ramp.target is not None
    assert describe_target(ramp.target) == "60-75% FTP · ramp"


def test_a_card_with_a_target_draws_it(write_routine: WriteRoutine) -> None:
    script = make_script(load_routine(write_routine(INTERVALS)), spoken_ms)
    run = next(c for c in script.chapters if c.exercise == "Run")

    with_target = Image.open(io.BytesIO(chapter_card(run, (240, 127, 60), script.length_ms)))
    without = Image.open(
        io.BytesIO(chapter_card(replace(run, target=None), (240, 127, 60), script.length_ms))
    )
    difference = ImageChops.difference(with_target.convert("L"), without.convert("L"))
    box = difference.point(lambda level: 255 if level > 60 else 0).getbbox()  # not palette noise
    assert box is not None  # something is written...
    assert box[1] > with_target.height // 3  # ...under the move's name, not over it


def test_the_chart_draws_a_band_for_a_range_and_a_slope_for_a_ramp(
    write_routine: WriteRoutine,
) -> None:
    script = make_script(load_routine(write_routine(INTERVALS)), spoken_ms)
    _, _, shapes = chart_shapes(script)
    bands = [s for s in shapes if isinstance(s, Polygon)]
    works = [i for i in intervals(script) if i.kind == "work"]

    assert len(bands) == len(works) == 6  # every move here has a target
    ramp = bands[4]
    (_, bottom_left), (_, start_y), (_, end_y), (_, bottom_right) = ramp.points
    assert end_y < start_y < bottom_left == bottom_right  # it climbs: 60% to 75%
    steady = bands[5]
    assert steady.points[0][1] == steady.points[1][1]  # level: 200-250 W held
    assert '<polygon points="' in chart_svg(script)


def test_the_chart_ends_a_continuous_interval_at_the_next_start() -> None:
    script = make_script(load_routine(ROOT / "routines" / "run-walk-week-1.yaml"), spoken_ms)
    starts = [e.start_ms for e in script.events if e.tone == "start"]
    works = [i for i in intervals(script) if i.kind == "work"]

    assert [w.start_ms for w in works] == starts  # one work per start tone, none lost
    assert all(a.end_ms == b.start_ms for a, b in itertools.pairwise(works))
    assert [w.exercise for w in works[1:3]] == ["Jog", "Walk"]


@pytest.mark.parametrize("name", ["track-intervals", "ftp-ramp-bike"])
def test_the_example_routines_with_targets_load_and_time_as_they_say(name: str) -> None:
    routine = load_routine(ROOT / "routines" / f"{name}.yaml")
    script = make_script(routine, spoken_ms)

    assert script.unplaced == ()
    if name == "track-intervals":
        runs = [e for e in routine.blocks[1].exercises if e.name == "Run"]
        assert runs[0].time_ms == 270_000  # 1 km at 4:30/km
    else:
        assert all(e.target is not None for b in routine.blocks for e in b.exercises)


def test_the_report_says_how_a_distance_was_timed(write_routine: WriteRoutine) -> None:
    text = one_move("name: Run, distance: 1.5km, target: {pace: 5:20-5:40/km}")
    script = make_script(load_routine(write_routine(text)), spoken_ms)

    timed = "B: Run: 1.5km at 5:40/km (the slower end of 5:20-5:40/km) = 8:30"
    assert script.distances == (timed,)
    assert script_as_json(script, "piper")["timed_by_pace"] == [timed]


def test_a_target_length_never_changes_a_distance(write_routine: WriteRoutine) -> None:
    text = """\
        name: R
        blocks:
          - name: B
            exercises:
              - {name: Run, distance: 1km, target: {pace: "5:00/km"}}
              - {name: Walk, time: 3m, target: {hr: Z1}}
        """
    routine = load_routine(write_routine(text))
    as_written = make_script(routine, spoken_ms)
    longer = make_script(routine, spoken_ms, length_ms=as_written.length_ms + 40_000)

    def works(script: Script) -> list[int]:
        return [i.end_ms - i.start_ms for i in intervals(script) if i.kind == "work"]

    assert longer.length_ms == as_written.length_ms + 40_000
    assert works(longer)[0] == works(as_written)[0] == 300_000  # the kilometre at 5:00
    assert works(longer)[1] != works(as_written)[1]  # the walk took up the change


@pytest.mark.parametrize(
    ("pace", "words"),
    [("5:30/km", "five thirty"), ("4:05/km", "four oh five"), ("8:50/mi", "eight fifty")],
)
def test_the_english_voice_reads_a_pace_as_a_runner_says_it(pace: str, words: str) -> None:
    """What piper's own phonemizer makes of our wording, against the words spelled out."""
    from piper.phonemize_espeak import EspeakPhonemizer
    from piper.voice import ESPEAK_DATA_DIR

    from workout_audio.timeline.phrases import phrases_for
    from workout_audio.timeline.targets import target_words

    [said] = target_words(Target(pace=parse_pace(pace)), phrases_for("en"))
    phonemizer = EspeakPhonemizer(ESPEAK_DATA_DIR)
    spelled = said.replace(said.split(" per ")[0].removeprefix("at "), words)

    assert phonemizer.phonemize("en-us", said) == phonemizer.phonemize("en-us", spelled)


@pytest.mark.slow
def test_a_short_paced_run_builds_with_the_real_voice_in_step_with_its_script(
    write_routine: WriteRoutine, tmp_path: Path, speech_cache: Path
) -> None:
    text = """\
        name: Strides
        timing: {flow: continuous}
        blocks:
          - name: Strides
            exercises:
              - name: Stride
                distance: 200m
                target: {pace: "2:00/km"}
                messages: [{at: 8s, text: Quick feet.}]
              - {name: Float, time: 20s, target: {pace: "6:00-5:00/km", ramp: true}}
        """
    routine = load_routine(write_routine(text))
    output = tmp_path / "strides.mp3"

    prepared = build(routine, output, voice=VoiceSettings(engine="piper"), cache_dir=speech_cache)
    audio = decode(output)

    script = prepared.script
    starts = [e.start_ms for e in script.events if e.tone == "start"]
    assert starts[1] - starts[0] == 24_000  # 200 m at 2:00/km
    assert abs(len(audio) - script.length_ms) <= 1
    (message,) = [e for e in script.speech() if e.text == "Quick feet."]
    assert message.start_ms == starts[0] + 8_000
    assert audio[message.start_ms : message.end_ms].dBFS > -40  # the voice says it there
    assert audio[message.start_ms - 400 : message.start_ms - 100].dBFS < -50  # not before
    said = [e.text for e in script.speech()]
    assert "First up: Stride, 200 metres, at 2 minutes per kilometre." in said
    assert "Next up: Float, 20 seconds, build from 6 to 5 per kilometre." in said


def test_messages_in_an_amrap_are_refused(write_routine: WriteRoutine) -> None:
    text = """\
        name: R
        blocks:
          - name: B
            amrap: 10m
            exercises:
              - {name: Burpees, reps: 5, messages: [{at: 5s, text: Go}]}
        """
    error = the_error(write_routine, text)

    assert (error.line, error.field) == (6, "blocks[0].exercises[0].messages")
    assert "no set times" in error.message
