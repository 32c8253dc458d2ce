"""Garmin FIT workout files <-> Plan, with Garmin's own SDK (``garmin-fit-sdk``).

The ``workout_step`` fields are read and written raw (the profile's main fields),
so no scale or offset is applied twice: a time is milliseconds, a distance
centimetres, a speed millimetres a second. FIT states a custom heart rate as a
percent of maximum up to 100 and as bpm + 100 above, and a custom power as a
percent of FTP up to 1000 and as watts + 1000 above (the profile's ``workout_hr``
``bpm_offset`` and ``workout_power`` ``watts_offset``). A repeat is a step of its
own (``repeat_until_steps_cmplt``) pointing back to the first step it repeats.
"""

from __future__ import annotations

import logging
from typing import Any

from ..errors import RoutineError, UsageError
from ..routine.targets import (
    PACE_UNITS_M,
    CadenceTarget,
    CadenceUnit,
    HeartRateTarget,
    PaceTarget,
    PaceUnit,
    PowerTarget,
    Target,
)
from .plan import Plan, Role, Section, Step

__all__ = ["read_fit", "write_fit"]

log = logging.getLogger(__name__)

_HR_BPM_OFFSET = 100  # profile type workout_hr: bpm_offset
_POWER_WATTS_OFFSET = 1000  # profile type workout_power: watts_offset
_MS_PER_S = 1000
_CM_PER_M = 100
_MM_PER_M = 1000
_REPEAT = "repeat_until_steps_cmplt"
_SPORT_PACE_UNIT: dict[str, PaceUnit] = {"swimming": "100m", "rowing": "500m"}
_PACE_UNIT_SPORT = {"100m": "swimming", "500m": "rowing", "km": "running", "mi": "running"}
_DEFAULT_NAMES = {
    "warmup": "Warm up",
    "cooldown": "Cool down",
    "rest": "Rest",
    "recovery": "Recover",
}
_SECTIONS: dict[str, tuple[str, Role]] = {
    "warmup": ("Warmup", "warmup"),
    "cooldown": ("Cooldown", "cooldown"),
}
_MAIN: tuple[str, Role] = ("Main set", "main")
_INTENSITY: dict[Role, str] = {"warmup": "warmup", "cooldown": "cooldown", "main": "active"}


def _decode(data: bytes, path: str) -> dict[str, list[dict[str, Any]]]:
    from garmin_fit_sdk import Decoder, Stream

    def decoder() -> Any:  # noqa: ANN401 - the SDK's stubs type it loosely
        return Decoder(Stream.from_byte_array(bytearray(data)))

    if not decoder().is_fit():
        raise RoutineError(path, None, "", "not a FIT file (no .FIT header)")
    if not decoder().check_integrity():
        raise RoutineError(
            path, None, "", "the FIT file is damaged: its CRC does not match, or it is cut short"
        )
    messages, errors = decoder().read(convert_types_to_strings=True, merge_heart_rates=False)
    if errors:
        raise RoutineError(path, None, "", f"the FIT file cannot be decoded: {errors[0]}")
    return dict(messages)


class _Reader:
    def __init__(self, path: str, sport: str) -> None:
        self.path = path
        self.pace_unit: PaceUnit = _SPORT_PACE_UNIT.get(sport, "km")
        self.cadence_unit: CadenceUnit = "spm" if sport == "running" else "rpm"

    def fail(self, index: int, message: str) -> RoutineError:
        return RoutineError(self.path, None, f"workout_step {index}", message)

    def target(self, raw: dict[str, Any], index: int, prefix: str, into: dict[str, Any]) -> None:
        kind = raw.get(f"{prefix}target_type")
        if kind in (None, "open"):
            return
        value = raw.get(f"{prefix}target_value")
        low = raw.get(f"{prefix}custom_target_value_low")
        high = raw.get(f"{prefix}custom_target_value_high")
        zone = value if isinstance(value, int) and value > 0 else None
        custom = (low, high) if isinstance(low, int) and isinstance(high, int) else None
        if zone is None and custom is None:
            raise self.fail(index, f"a {kind} target with neither a zone nor a low and high")
        low, high = custom or (0, 0)
        if kind == "heart_rate":
            into["hr"] = self.heart_rate(zone, low, high)
        elif kind == "power":
            into["power"] = self.power(zone, low, high)
        elif kind == "speed":
            if zone is not None:
                raise self.fail(
                    index, f"speed zone {zone} depends on zones the file does not give: "
                    "set a custom pace in the workout"
                )  # fmt: skip
            into["pace"] = self.pace(low, high, index)
        elif kind == "cadence":
            if zone is not None:
                raise self.fail(index, f"cadence zone {zone}: set a custom cadence instead")
            into["cadence"] = CadenceTarget(float(low), float(high), self.cadence_unit)
        else:
            raise self.fail(index, f"a {kind} target: the audio speaks pace, heart rate, "
                            "power and cadence only")  # fmt: skip

    @staticmethod
    def heart_rate(zone: int | None, low: int, high: int) -> HeartRateTarget:
        if zone is not None:
            return HeartRateTarget("zone", float(zone), float(zone))
        if low > _HR_BPM_OFFSET:
            return HeartRateTarget("bpm", float(low - 100), float(high - _HR_BPM_OFFSET))
        return HeartRateTarget("max", float(low), float(high))

    @staticmethod
    def power(zone: int | None, low: int, high: int) -> PowerTarget:
        if zone is not None:
            return PowerTarget("zone", float(zone), float(zone))
        if low > _POWER_WATTS_OFFSET:
            offset = _POWER_WATTS_OFFSET
            return PowerTarget("watts", float(low - offset), float(high - offset))
        return PowerTarget("ftp", float(low), float(high))

    def pace(self, low: int, high: int, index: int) -> PaceTarget:
        if low <= 0 or high <= 0:
            raise self.fail(index, "a speed target of no speed")
        metres = PACE_UNITS_M[self.pace_unit]

        def pace_ms(speed_mm_s: int) -> int:
            # FIT counts whole mm/s (about 0.07 s/km at a run): whole seconds are what was meant.
            return round(metres * _MM_PER_M / speed_mm_s) * _MS_PER_S

        # The low speed is the slow pace: written slow to fast, as coaches write ranges.
        return PaceTarget(pace_ms(low), pace_ms(high), self.pace_unit)

    def step(self, raw: dict[str, Any], index: int) -> Step:
        kind = raw.get("duration_type")
        value = raw.get("duration_value")
        duration_ms = distance_m = None
        if kind == "time" and isinstance(value, int) and value > 0:
            duration_ms = value
        elif kind == "distance" and isinstance(value, int) and value > 0:
            distance_m = value / _CM_PER_M
        elif kind in ("open", None):
            raise self.fail(
                index, "an open step (ended by the lap button): the audio cannot time it; "
                "give it a time or a distance"
            )  # fmt: skip
        elif kind in ("time", "distance"):
            raise self.fail(index, f"a {kind} step of no length")
        else:
            raise self.fail(
                index, f"a step that ends on {kind!r}: the audio cannot know when; "
                "give it a time or a distance"
            )  # fmt: skip
        found: dict[str, Any] = {}
        self.target(raw, index, "", found)
        self.target(raw, index, "secondary_", found)
        target = Target(**found) if found else None
        if distance_m is not None and (target is None or target.pace is None):
            raise self.fail(index, "a distance step needs a speed target to be timed")
        intensity = str(raw.get("intensity") or "active")
        name = str(raw.get("wkt_step_name") or "").strip()
        name = name or _DEFAULT_NAMES.get(intensity, "Interval")
        notes = str(raw.get("notes") or "").strip()
        return Step(name, duration_ms, distance_m, target, tips=(notes,) if notes else ())


def read_fit(data: bytes, path: str, name: str) -> Plan:
    """Read a FIT workout file.

    Raises:
        RoutineError: a damaged file, a file that is not a workout, a nested repeat,
            or a step the audio cannot time; names the ``workout_step`` message index.
    """
    messages = _decode(data, path)
    file_type = next(iter(messages.get("file_id_mesgs", [])), {}).get("type")
    if file_type != "workout":
        raise RoutineError(
            path, None, "file_id", f"a FIT {file_type or 'file with no type'}, not a workout: "
            "export the workout itself (Garmin Connect: Workouts, then Export)"
        )  # fmt: skip
    workout = next(iter(messages.get("workout_mesgs", [])), {})
    sport = str(workout.get("sport") or "")
    reader = _Reader(path, sport)
    steps = messages.get("workout_step_mesgs", [])
    sections: list[Section] = []
    pending: list[tuple[int, Step, str]] = []  # (message index, step, intensity)

    def flush(until: int) -> None:
        """Steps before message ``until`` become plain sections, grouped by intensity."""
        nonlocal pending
        run: list[Step] = []
        kind: tuple[str, Role] | None = None
        rest = [p for p in pending if p[0] >= until]
        for _, step, intensity in (p for p in pending if p[0] < until):
            this = _SECTIONS.get(intensity, _MAIN)
            if kind is not None and this != kind and run:
                sections.append(Section(kind[0], tuple(run), 1, kind[1]))
                run = []
            kind = this
            run.append(step)
        if run and kind is not None:
            sections.append(Section(kind[0], tuple(run), 1, kind[1]))
        pending = rest

    for position, raw in enumerate(steps):
        index = raw.get("message_index", position)
        index = index if isinstance(index, int) else position
        if raw.get("duration_type") == _REPEAT:
            first = raw.get("duration_value")
            rounds = raw.get("target_value")
            if not isinstance(first, int) or not isinstance(rounds, int) or rounds < 1:
                raise reader.fail(index, "a repeat with no first step or no count")
            repeated = [p for p in pending if p[0] >= first]
            if len(repeated) != index - first or not repeated:
                raise reader.fail(
                    index, f"a repeat from step {first} that holds another repeat: "
                    "a routine's blocks do not nest; write the inner repeat out"
                )  # fmt: skip
            flush(first)
            title = "Intervals" if all(p[2] != "warmup" for p in repeated) else "Warmup"
            sections.append(
                Section(title, tuple(p[1] for p in repeated), rounds, "main", repeat=True)
            )
            pending = []
            continue
        pending.append((index, reader.step(raw, index), str(raw.get("intensity") or "active")))
    flush(1 << 30)
    if not sections:
        raise RoutineError(path, None, "workout", "no steps: the workout is empty")
    title = str(workout.get("wkt_name") or "").strip() or name
    return Plan(title, tuple(sections), source="Garmin FIT")


def _target_fields(step: Step, where: str, pace_sport: list[str]) -> dict[str, Any]:
    """The step's targets as FIT's primary and secondary target fields."""
    target = step.target
    if target is None:
        return {"target_type": "open", "target_value": 0}
    if target.rpe is not None:
        log.warning("%s: %s: FIT has no effort (RPE) target; the watch will not show it",
                    where, step.name)  # fmt: skip
    if target.ramp:
        log.warning("%s: %s: FIT has no ramp; the watch shows the range", where, step.name)
    slots: list[tuple[str, int, int, int]] = []  # type, zone, low, high
    if target.power is not None:
        power = target.power
        if power.kind == "zone":
            slots.append(("power", int(power.first), 0, 0))
        else:
            offset = _POWER_WATTS_OFFSET if power.kind == "watts" else 0
            low, high = sorted((power.first, power.second))
            slots.append(("power", 0, round(low) + offset, round(high) + offset))
    if target.pace is not None:
        pace = target.pace
        metres = PACE_UNITS_M[pace.unit]
        pace_sport.append(_PACE_UNIT_SPORT[pace.unit])
        speeds = sorted(
            round(metres * _MM_PER_M * _MS_PER_S / p) for p in (pace.first_ms, pace.second_ms)
        )
        slots.append(("speed", 0, speeds[0], speeds[1]))
    if target.hr is not None:
        hr = target.hr
        if hr.kind == "zone":
            slots.append(("heart_rate", int(hr.first), 0, 0))
        elif hr.kind == "threshold":
            raise UsageError(
                f"{where}: {step.name!r}: FIT holds heart rate as % of max or bpm, "
                "not % of threshold"
            )
        else:
            offset = _HR_BPM_OFFSET if hr.kind == "bpm" else 0
            low, high = sorted((hr.first, hr.second))
            slots.append(("heart_rate", 0, round(low) + offset, round(high) + offset))
    if target.cadence is not None:
        cadence = target.cadence
        slots.append(("cadence", 0, round(cadence.first), round(cadence.second)))
    if len(slots) > 2:  # a FIT step has a target and a secondary target
        raise UsageError(
            f"{where}: {step.name!r} has {len(slots)} targets; a FIT step holds two at most"
        )
    fields: dict[str, Any] = {}
    for prefix, (kind, zone, low, high) in zip(("", "secondary_"), slots, strict=False):
        fields[f"{prefix}target_type"] = kind
        fields[f"{prefix}target_value"] = zone
        if not zone:
            fields[f"{prefix}custom_target_value_low"] = low
            fields[f"{prefix}custom_target_value_high"] = high
    return fields


def write_fit(plan: Plan) -> bytes:
    """The plan as a FIT workout file, written with Garmin's own encoder.

    Raises:
        UsageError: a step FIT cannot hold (more than two targets, heart rate as % of
            threshold).
    """
    from garmin_fit_sdk import Encoder, Profile

    numbers = Profile["mesg_num"]
    records: list[dict[str, Any]] = []
    pace_sport: list[str] = []
    for section in plan.sections:
        first = len(records)
        for step in section.steps:
            where = f"block {section.name!r}"
            record: dict[str, Any] = {
                "mesg_num": numbers["WORKOUT_STEP"],
                "message_index": len(records),
                "wkt_step_name": step.name,
                "intensity": _INTENSITY[section.role],
            }
            if step.duration_ms is not None:
                record |= {"duration_type": "time", "duration_value": step.duration_ms}
            else:
                assert step.distance_m is not None
                distance_cm = round(step.distance_m * _CM_PER_M)
                record |= {"duration_type": "distance", "duration_value": distance_cm}
            record |= _target_fields(step, where, pace_sport)
            if step.tips:
                record["notes"] = " ".join(step.tips)
            records.append(record)
        if section.rounds > 1:
            records.append({
                "mesg_num": numbers["WORKOUT_STEP"],
                "message_index": len(records),
                "duration_type": _REPEAT,
                "duration_value": first,
                "target_value": section.rounds,
            })  # fmt: skip
    has_power = any(r.get("target_type") == "power" for r in records)
    sport = pace_sport[0] if pace_sport else ("cycling" if has_power else "generic")
    encoder = Encoder()
    # No time_created: the same routine exports to the same bytes.
    encoder.write_mesg({
        "mesg_num": numbers["FILE_ID"], "type": "workout", "manufacturer": "development",
        "product": 0, "serial_number": 1,
    })  # fmt: skip
    encoder.write_mesg({
        "mesg_num": numbers["WORKOUT"], "wkt_name": plan.name, "sport": sport,
        "num_valid_steps": len(records),
    })  # fmt: skip
    for record in records:
        encoder.write_mesg(record)
    data: bytes = encoder.close()
    return bytes(data)
