"""Zwift workouts (``.zwo``, XML) <-> Plan.

Zwift states power as a fraction of FTP (``Power="0.88"``): it becomes the
routine format's percent (``88%``) and back. ``Warmup``, ``Cooldown`` and
``Ramp`` move from ``PowerLow`` to ``PowerHigh`` over their time: ramps.
``textevent`` messages are spoken at their offsets; one at a step's very
start is said with the step's announcement (its tips), where the start tone
leaves room for it. A document type or entity
declaration is refused before parsing, as defusedxml would: a workout needs
none, and entities are how XML bombs expand.
"""

from __future__ import annotations

import logging
import xml.etree.ElementTree as ET

from ..errors import RoutineError, UsageError
from ..routine.targets import CadenceTarget, PowerTarget, Target
from .plan import Message, Plan, Role, Section, Step

__all__ = ["read_zwo", "write_zwo"]

log = logging.getLogger(__name__)

_SECTION_OF: dict[str, tuple[str, Role]] = {
    "Warmup": ("Warmup", "warmup"),
    "Cooldown": ("Cooldown", "cooldown"),
    "IntervalsT": ("Intervals", "main"),
}
_MAIN: tuple[str, Role] = ("Main set", "main")
_NAMES = {
    "Warmup": "Warm up",
    "Cooldown": "Cool down",
    "Ramp": "Ramp",
    "SteadyState": "Steady",
    "FreeRide": "Free ride",
    "MaxEffort": "Max effort",
}
_MAX_EFFORT_RPE = 10


class _Reader:
    def __init__(self, path: str) -> None:
        self.path = path

    def fail(self, element: str, message: str) -> RoutineError:
        return RoutineError(self.path, None, element, message)

    def seconds_ms(self, node: ET.Element, attribute: str, where: str) -> int:
        text = node.get(attribute)
        try:
            duration_ms = round(float(text or "") * 1000)
        except ValueError:
            raise self.fail(
                where, f"{attribute}={text!r} is not a number of seconds"
                if text is not None else f"no {attribute}: the audio cannot time an open step"
            ) from None  # fmt: skip
        if duration_ms <= 0:
            raise self.fail(where, f"{attribute}={text!r}: the step must last more than 0 s")
        return duration_ms

    def percent(self, node: ET.Element, attribute: str, where: str) -> float | None:
        text = node.get(attribute)
        if text is None:
            return None
        try:
            return round(float(text) * 100, 2)
        except ValueError:
            raise self.fail(where, f"{attribute}={text!r} is not a fraction of FTP") from None

    def target(
        self, node: ET.Element, where: str, low: str, high: str, cadence: str, ramp: bool
    ) -> Target:
        first = self.percent(node, low, where)
        second = self.percent(node, high, where)
        if first is None and second is None:
            first = second = self.percent(node, "Power", where)
        power = None
        if first is not None or second is not None:
            first = second if first is None else first
            second = first if second is None else second
            assert first is not None
            assert second is not None
            power = PowerTarget("ftp", first, second)
        rpms = [node.get(cadence)]
        if cadence == "Cadence" and node.get("CadenceLow") and node.get("CadenceHigh"):
            rpms = [node.get("CadenceLow"), node.get("CadenceHigh")]  # a range we wrote
        return self.cadence(Target(power=power, ramp=ramp and power is not None), rpms, where)

    def cadence(self, target: Target, rpms: list[str | None], where: str) -> Target:
        if rpms[0] is None:
            return target
        try:
            values = [float(rpm or "") for rpm in rpms]
        except ValueError:
            raise self.fail(where, f"cadence {rpms!r} is not a number") from None
        rpm = CadenceTarget(values[0], values[-1], "rpm")
        return Target(power=target.power, ramp=target.ramp, cadence=rpm)

    def tips(self, node: ET.Element, where: str) -> tuple[str, ...]:
        """Text events at the step's very start: said with its announcement, as its tips."""
        return tuple(m.text for m in self.events(node, where) if m.at_ms == 0)

    def messages(self, node: ET.Element, where: str, length_ms: int) -> tuple[Message, ...]:
        """Text events after the step's start, spoken at their offsets."""
        events = self.events(node, where)
        for event in events:
            if event.at_ms >= length_ms:
                raise self.fail(
                    where, f"textevent at {event.at_ms / 1000:g} s falls after its step ends "
                    f"({length_ms / 1000:g} s)"
                )  # fmt: skip
        return tuple(m for m in events if m.at_ms > 0)

    def events(self, node: ET.Element, where: str) -> list[Message]:
        found = []
        for event in node:
            if event.tag.casefold() != "textevent":
                continue
            at_ms = self.seconds_ms_or_zero(event, where)
            text = (event.get("message") or "").strip()
            if text:
                found.append(Message(at_ms, text))
        return sorted(found, key=lambda m: m.at_ms)

    def seconds_ms_or_zero(self, event: ET.Element, where: str) -> int:
        text = event.get("timeoffset", "0")
        try:
            return max(0, round(float(text) * 1000))
        except ValueError:
            raise self.fail(where, f"timeoffset={text!r} is not a number of seconds") from None

    def intervals(self, node: ET.Element, where: str) -> Section:
        try:
            rounds = int(node.get("Repeat", "1"))
        except ValueError:
            raise self.fail(where, f"Repeat={node.get('Repeat')!r} is not a whole number") from None
        if rounds < 1:
            raise self.fail(where, "Repeat must be 1 or more")
        on_ms = self.seconds_ms(node, "OnDuration", where)
        off_ms = self.seconds_ms(node, "OffDuration", where)
        on = self.target(node, where, "PowerOnLow", "PowerOnHigh", "Cadence", False)
        if on.power is None:
            on = self.target(node, where, "OnPower", "OnPower", "Cadence", False)
        off = self.target(node, where, "PowerOffLow", "PowerOffHigh", "CadenceResting", False)
        if off.power is None:
            off = self.target(node, where, "OffPower", "OffPower", "CadenceResting", False)
        messages = self.messages(node, where, on_ms + off_ms)
        on_messages = tuple(m for m in messages if m.at_ms < on_ms)
        off_messages = tuple(Message(m.at_ms - on_ms, m.text) for m in messages if m.at_ms > on_ms)
        off_tips = tuple(m.text for m in messages if m.at_ms == on_ms)
        on_tips = self.tips(node, where)
        steps = (
            Step("Work", on_ms, None, on if on.power or on.cadence else None, on_messages, on_tips),
            Step(
                "Recover",
                off_ms,
                None,
                off if off.power or off.cadence else None,
                off_messages,
                off_tips,
            ),
        )
        return Section("Intervals", steps, rounds, "main", repeat=True)

    def step(self, node: ET.Element, where: str) -> Step:
        tag = node.tag
        duration_ms = self.seconds_ms(node, "Duration", where)
        target: Target | None
        if tag == "FreeRide":
            target = None
        elif tag == "MaxEffort":
            target = Target(rpe=_MAX_EFFORT_RPE)
        else:
            ramp = tag in ("Warmup", "Cooldown", "Ramp")
            target = self.target(node, where, "PowerLow", "PowerHigh", "Cadence", ramp)
            if target.power is None and target.cadence is None:
                target = None
        name = _NAMES[tag]
        messages = self.messages(node, where, duration_ms)
        return Step(name, duration_ms, None, target, messages, self.tips(node, where))


def read_zwo(text: str, path: str, name: str) -> Plan:
    """Read a Zwift workout.

    Raises:
        RoutineError: not a Zwift workout, a DTD or entity, an element with no duration,
            or one the audio cannot time; names the element by its place (``SteadyState #3``).
    """
    reader = _Reader(path)
    if "<!DOCTYPE" in text.upper() or "<!ENTITY" in text.upper():
        raise reader.fail("", "a document type or entity declaration: a workout has none")
    try:
        root = ET.fromstring(text)
    except ET.ParseError as error:
        line = error.position[0] if error.position else None
        raise RoutineError(path, line, "", f"not well-formed XML: {error}") from None
    workout = root.find("workout") if root.tag == "workout_file" else None
    if workout is None:
        raise reader.fail(
            "", f"not a Zwift workout: the root is <{root.tag}>, not <workout_file> with <workout>"
        )
    sport = (root.findtext("sportType") or "bike").strip().casefold()
    if sport not in ("bike", ""):
        raise reader.fail(
            "sportType", f"{sport!r}: only bike workouts are read; Zwift's run workouts give "
            "paces as shares of its own run zones"
        )  # fmt: skip
    sections: list[Section] = []
    run: list[Step] = []
    run_kind: tuple[str, Role] | None = None

    def close() -> None:
        nonlocal run, run_kind
        if run and run_kind is not None:
            sections.append(Section(run_kind[0], tuple(run), 1, run_kind[1]))
        run, run_kind = [], None

    for index, node in enumerate(workout, start=1):
        where = f"<{node.tag}> #{index}"
        if node.tag == "IntervalsT":
            close()
            sections.append(reader.intervals(node, where))
            continue
        if node.tag not in _NAMES:
            raise reader.fail(where, f"<{node.tag}> is not a workout element this importer knows")
        kind = _SECTION_OF.get(node.tag, _MAIN)
        if kind != run_kind:
            close()
            run_kind = kind
        run.append(reader.step(node, where))
    close()
    if not sections:
        raise reader.fail("workout", "no steps: the <workout> element is empty")
    title = (root.findtext("name") or "").strip() or name
    return Plan(title, tuple(sections), source="Zwift")


def _fraction(percent: float) -> str:
    return f"{percent / 100:.4g}"


def _power_attrs(step: Step, ftp_w: int | None, where: str) -> dict[str, tuple[float, float]]:
    target = step.target
    if target is None or target.power is None:
        return {}
    power = target.power
    if power.kind == "zone":
        raise UsageError(
            f"{where}: {step.name!r} has a power zone; Zwift needs a share of FTP (like 75%)"
        )
    first, second = power.first, power.second
    if power.kind == "watts":
        if ftp_w is None:
            raise UsageError(
                f"{where}: {step.name!r} is in watts; Zwift needs a share of FTP: give --ftp"
            )
        first, second = first * 100 / ftp_w, second * 100 / ftp_w
    return {"power": (first, second)}


def _element(step: Step, role: Role, ftp_w: int | None, where: str) -> ET.Element:
    if step.duration_ms is None:
        raise UsageError(f"{where}: {step.name!r} is given by distance; Zwift steps are timed")
    target = step.target
    if target is not None and (target.pace or target.hr):
        raise UsageError(
            f"{where}: {step.name!r} has a pace or heart-rate target; a .zwo holds power only "
            "(export .fit for a watch)"
        )
    attrs = {"Duration": f"{step.duration_ms / 1000:g}"}
    power = _power_attrs(step, ftp_w, where).get("power")
    if target is None:
        tag = "FreeRide"
    elif target.rpe == _MAX_EFFORT_RPE and power is None:
        tag = "MaxEffort"
    elif power is not None and target.ramp and power[0] != power[1]:
        tag = {"warmup": "Warmup", "cooldown": "Cooldown"}.get(role, "Ramp")
    else:
        tag = "SteadyState"
    if power is not None:
        if power[0] == power[1] and tag == "SteadyState":
            attrs["Power"] = _fraction(power[0])
        else:
            attrs["PowerLow"], attrs["PowerHigh"] = _fraction(power[0]), _fraction(power[1])
    if target is not None and target.cadence is not None:
        cadence = target.cadence
        attrs["Cadence"] = f"{cadence.first:g}"  # Zwift's one number: the range's first
        if cadence.ranged:
            attrs["CadenceLow"], attrs["CadenceHigh"] = f"{cadence.first:g}", f"{cadence.second:g}"
    if target is not None and target.rpe is not None and tag != "MaxEffort":
        log.warning("%s: %s: Zwift has no effort (RPE) target; it is left out", where, step.name)
    node = ET.Element(tag, attrs)
    for tip in step.tips:
        ET.SubElement(node, "textevent", {"timeoffset": "0", "message": tip})
    for message in step.messages:
        ET.SubElement(
            node, "textevent", {"timeoffset": f"{message.at_ms / 1000:g}", "message": message.text}
        )
    return node


def write_zwo(plan: Plan, *, ftp_w: int | None = None) -> bytes:
    """The plan as a Zwift workout; a repeat is written out round by round, so every
    boundary stays where the track has it.

    Raises:
        UsageError: a step Zwift cannot hold (distance, pace or heart rate, watts
            without ``ftp_w``, a power zone).
    """
    root = ET.Element("workout_file")
    ET.SubElement(root, "author").text = "workout-audio"
    ET.SubElement(root, "name").text = plan.name
    ET.SubElement(root, "description").text = plan.source or ""
    ET.SubElement(root, "sportType").text = "bike"
    workout = ET.SubElement(root, "workout")
    for section in plan.sections:
        for _ in range(section.rounds):
            for step in section.steps:
                where = f"block {section.name!r}"
                workout.append(_element(step, section.role, ftp_w, where))
    ET.indent(root)
    text: bytes = ET.tostring(root, encoding="utf-8", xml_declaration=True)
    return text + b"\n"
