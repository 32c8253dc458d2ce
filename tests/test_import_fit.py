"""Garmin FIT workout files -> routines: written with Garmin's encoder and by hand from the
protocol's byte layout; damaged files and steps the audio cannot time are refused."""

from __future__ import annotations

import struct
from pathlib import Path
from typing import Any

import pytest
from garmin_fit_sdk import Encoder, Profile

from helpers import cumulative_ms, invoke, move_boundaries_ms
from workout_audio.interchange import load_workout
from workout_audio.routine import Routine
from workout_audio.routine.targets import format_target

# The FIT protocol's CRC-16 (the SDK's document "FIT File Types", section "CRC"), nibble-wise.
_CRC_TABLE = (
    0x0000, 0xCC01, 0xD801, 0x1400, 0xF001, 0x3C00, 0x2800, 0xE401,
    0xA001, 0x6C00, 0x7800, 0xB401, 0x5000, 0x9C01, 0x8801, 0x4400,
)  # fmt: skip
ENUM, UINT16, UINT32, STRING = 0x00, 0x84, 0x86, 0x07
_PACK = {ENUM: "B", UINT16: "H", UINT32: "I"}
# Profile values: file type, sport, duration and target types, intensity.
WORKOUT_FILE, ACTIVITY_FILE, RUNNING = 5, 4, 1
TIME, DISTANCE, OPEN_DURATION, REPEAT = 0, 1, 5, 6
SPEED, HEART_RATE, NO_TARGET = 0, 1, 2
ACTIVE, WARMUP, COOLDOWN, RECOVERY = 0, 2, 3, 4


def crc16(data: bytes) -> int:
    crc = 0
    for byte in data:
        for nibble in (byte & 0xF, byte >> 4):
            low = _CRC_TABLE[crc & 0xF]
            crc = ((crc >> 4) & 0x0FFF) ^ low ^ _CRC_TABLE[nibble]
    return crc


def _record(local: int, global_num: int, fields: list[tuple[int, int, object]]) -> bytes:
    """A definition message, then one data message with these (number, base type, value)."""
    definition = struct.pack("<BBBHB", 0x40 | local, 0, 0, global_num, len(fields))
    data = bytes([local])
    for number, base, value in fields:
        if base == STRING:
            raw = str(value).encode("utf-8") + b"\0"
            definition += bytes([number, len(raw), base])
            data += raw
        else:
            size = struct.calcsize(_PACK[base])
            definition += bytes([number, size, base])
            data += struct.pack("<" + _PACK[base], value)
    return definition + data


def fit_by_hand(steps: list[list[tuple[int, int, object]]], file_type: int = WORKOUT_FILE) -> bytes:
    """A FIT file from the byte layout: 14-byte header with its CRC, file_id, workout,
    one workout_step per item, and the file CRC."""
    body = _record(0, 0, [(0, ENUM, file_type), (1, UINT16, 255)])
    body += _record(1, 26, [(4, ENUM, RUNNING), (6, UINT16, len(steps)), (8, STRING, "Hills")])
    for index, fields in enumerate(steps):
        body += _record(2, 27, [(254, UINT16, index), *fields])
    header = struct.pack("<BBHI4s", 14, 0x20, 2100, len(body), b".FIT")
    header += struct.pack("<H", crc16(header))
    whole = header + body
    return whole + struct.pack("<H", crc16(whole))


def _step(
    name: str, duration: tuple[int, int], target: tuple[int, int, int, int], intensity: int
) -> list[tuple[int, int, object]]:
    kind, value = duration
    target_type, zone, low, high = target
    return [
        (0, STRING, name), (1, ENUM, kind), (2, UINT32, value), (3, ENUM, target_type),
        (4, UINT32, zone), (5, UINT32, low), (6, UINT32, high), (7, ENUM, intensity),
    ]  # fmt: skip


HILLS = [
    _step("Warm up", (TIME, 600_000), (HEART_RATE, 0, 60, 70), WARMUP),  # 60-70% of max
    _step("Hill", (DISTANCE, 40_000), (SPEED, 0, 4_000, 4_444), ACTIVE),  # 400 m, mm/s
    _step("Jog down", (TIME, 120_000), (HEART_RATE, 0, 230, 240), RECOVERY),  # bpm + 100
    [(1, ENUM, REPEAT), (2, UINT32, 1), (4, UINT32, 5)],  # steps 1-2, five times
    _step("Cool down", (TIME, 300_000), (NO_TARGET, 0, 0, 0), COOLDOWN),
]


def _moves(routine: Routine) -> list[tuple[str, int | None, dict[str, object]]]:
    return [
        (m.name, m.time_ms, format_target(m.target) if m.target else {})
        for b in routine.blocks
        for m in b.exercises
    ]


def test_a_file_built_byte_by_byte_imports_with_its_repeat_and_custom_targets(
    tmp_path: Path,
) -> None:
    path = tmp_path / "hills.fit"
    path.write_bytes(fit_by_hand(HILLS))
    routine = load_workout(path)
    assert routine.name == "Hills"
    assert [(b.name, b.rounds, b.role) for b in routine.blocks] == [
        ("Warmup", 1, "warmup"),
        ("Intervals", 5, "main"),
        ("Cooldown", 1, "cooldown"),
    ]
    # 4000 mm/s is 4:10/km, 4444 mm/s 3:45/km; 400 m at the slower end takes 100 s.
    assert _moves(routine) == [
        ("Warm up", 600_000, {"hr": "60-70% max"}),
        ("Hill", 100_000, {"pace": "4:10-3:45/km"}),
        ("Jog down", 120_000, {"hr": "130-140bpm"}),
        ("Cool down", 300_000, {}),
    ]
    assert routine.blocks[1].exercises[0].distance_m == 400.0
    assert move_boundaries_ms(routine) == cumulative_ms(600_000, *[100_000, 120_000] * 5, 300_000)


def _encoded(steps: list[dict[str, Any]], file_type: str = "workout") -> bytes:
    numbers = Profile["mesg_num"]
    encoder = Encoder()
    encoder.write_mesg({"mesg_num": numbers["FILE_ID"], "type": file_type, "manufacturer": 1})
    encoder.write_mesg({
        "mesg_num": numbers["WORKOUT"], "wkt_name": "Sweet spot", "sport": "cycling",
        "num_valid_steps": len(steps),
    })  # fmt: skip
    for index, step in enumerate(steps):
        encoder.write_mesg({"mesg_num": numbers["WORKOUT_STEP"], "message_index": index, **step})
    data: bytes = encoder.close()
    return data


def _timed(ms: int, **fields: object) -> dict[str, Any]:
    return {"duration_type": "time", "duration_value": ms, **fields}


SWEET_SPOT = [
    _timed(
        300_000, wkt_step_name="Spin", intensity="warmup", target_type="power",
        target_value=0, custom_target_value_low=55, custom_target_value_high=65,
        notes="Keep it easy",
    ),
    _timed(
        480_000, wkt_step_name="Sweet spot", target_type="power", target_value=0,
        custom_target_value_low=1250, custom_target_value_high=1265,
        secondary_target_type="cadence", secondary_target_value=0,
        secondary_custom_target_value_low=85, secondary_custom_target_value_high=95,
    ),
    _timed(120_000, intensity="recovery", target_type="power", target_value=2),
    {"duration_type": "repeat_until_steps_cmplt", "duration_value": 1, "target_value": 3},
    _timed(90_000, wkt_step_name="Tempo", target_type="heart_rate", target_value=3),
    _timed(240_000, intensity="cooldown", target_type="open"),
]  # fmt: skip


def test_a_file_from_garmins_encoder_keeps_names_notes_zones_watts_and_cadence(
    tmp_path: Path,
) -> None:
    path = tmp_path / "sweet-spot.fit"
    path.write_bytes(_encoded(SWEET_SPOT))
    routine = load_workout(path)
    assert routine.name == "Sweet spot"
    assert _moves(routine) == [
        ("Spin", 300_000, {"power": "55-65%"}),
        ("Sweet spot", 480_000, {"power": "250-265W", "cadence": "85-95rpm"}),
        ("Recover", 120_000, {"power": "Z2"}),  # no name: named by its intensity
        ("Tempo", 90_000, {"hr": "Z3"}),
        ("Cool down", 240_000, {}),
    ]
    assert routine.blocks[0].exercises[0].tips == ("Keep it easy",)
    assert [(b.name, b.rounds) for b in routine.blocks] == [
        ("Warmup", 1), ("Intervals", 3), ("Main set", 1), ("Cooldown", 1),
    ]  # fmt: skip
    assert move_boundaries_ms(routine) == cumulative_ms(
        300_000, *[480_000, 120_000] * 3, 90_000, 240_000
    )


def _damaged() -> list[tuple[str, bytes, str]]:
    whole = fit_by_hand(HILLS)
    flipped = bytearray(whole)
    flipped[len(whole) // 2] ^= 0x01
    go_open = _step("Go", (OPEN_DURATION, 0), (NO_TARGET, 0, 0, 0), ACTIVE)
    activity = fit_by_hand(HILLS, ACTIVITY_FILE)
    return [
        ("truncated.fit", whole[:-20], "damaged"),
        ("crc.fit", bytes(flipped), "its CRC does not match"),
        ("activity.fit", activity, "file_id: a FIT activity, not a workout"),
        ("open.fit", fit_by_hand([HILLS[0], go_open]),
         "workout_step 1: an open step (ended by the lap button)"),
        ("zone.fit", fit_by_hand([_step("Go", (TIME, 60_000), (SPEED, 2, 0, 0), ACTIVE)]),
         "workout_step 0: speed zone 2"),
        ("nested.fit", fit_by_hand([
            HILLS[0], HILLS[1], [(1, ENUM, REPEAT), (2, UINT32, 1), (4, UINT32, 2)],
            [(1, ENUM, REPEAT), (2, UINT32, 0), (4, UINT32, 2)],
        ]), "workout_step 3: a repeat from step 0 that holds another repeat"),
        ("not-fit.fit", b"just text, not a FIT file at all", "not a FIT file"),
    ]  # fmt: skip


@pytest.mark.parametrize(("name", "data", "says"), _damaged(), ids=lambda v: str(v)[:12])
def test_damaged_files_and_untimed_steps_are_refused_in_one_line(
    tmp_path: Path, name: str, data: bytes, says: str
) -> None:
    source = tmp_path / "in" / name
    source.parent.mkdir()
    source.write_bytes(data)
    output = tmp_path / "out" / "routine.yaml"
    output.parent.mkdir()
    result = invoke("import", str(source), "-o", str(output))
    assert result.exit_code == 2
    message = result.output.strip()
    assert len(message.splitlines()) == 1, message
    assert f"{name}: " in message
    assert says in message
    assert "Traceback" not in message
    assert list(output.parent.iterdir()) == []


def test_an_activity_from_the_encoder_is_not_a_workout(tmp_path: Path) -> None:
    path = tmp_path / "ride.fit"
    path.write_bytes(_encoded(SWEET_SPOT, file_type="activity"))
    result = invoke("script", str(path))
    assert result.exit_code == 2
    assert "ride.fit: file_id: a FIT activity, not a workout" in result.output
