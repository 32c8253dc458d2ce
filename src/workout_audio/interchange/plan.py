"""The plan every importer reads into and every exporter writes from, and its routine YAML.

A structured workout in any of the formats is a list of sections, each a run of
timed steps done ``rounds`` times. Stating that shape once lets each format
module map only its own fields, and lets one function write the routine YAML
the contract of the routine format asks for (continuous flow, fixed rounds,
every move pinned), so an imported file reads the same whatever its source.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import yaml

from ..routine.targets import Target, format_distance, format_target

__all__ = [
    "Message",
    "Plan",
    "Section",
    "Step",
    "format_duration",
    "routine_data",
    "routine_yaml",
]

Role = Literal["warmup", "main", "cooldown"]


@dataclass(frozen=True)
class Message:
    """A text spoken ``at_ms`` after its step starts."""

    at_ms: int
    text: str


@dataclass(frozen=True)
class Step:
    """One interval: timed by ``duration_ms`` or by ``distance_m`` (then a pace says its time).

    No ``target`` is a free ride.
    """

    name: str
    duration_ms: int | None
    distance_m: float | None = None
    target: Target | None = None
    messages: tuple[Message, ...] = ()
    tips: tuple[str, ...] = ()


@dataclass(frozen=True)
class Section:
    """Steps done ``rounds`` times; ``repeat`` says the source wrote it as a repeat."""

    name: str
    steps: tuple[Step, ...]
    rounds: int = 1
    role: Role = "main"
    repeat: bool = False


@dataclass(frozen=True)
class Plan:
    name: str
    sections: tuple[Section, ...]
    source: str = ""


def format_duration(duration_ms: int) -> str:
    """``1h5m30s`` style, the shortest the routine format reads back to the same millisecond."""
    hours, rest_ms = divmod(duration_ms, 3_600_000)
    minutes, rest_ms = divmod(rest_ms, 60_000)
    seconds, millis = divmod(rest_ms, 1_000)
    text = "".join(
        f"{value}{unit}" for value, unit in ((hours, "h"), (minutes, "m"), (seconds, "s")) if value
    )
    if millis:
        text += f"{millis}ms"
    return text or "0s"


def _unique(name: str, taken: set[str]) -> str:
    """Block names must differ; a second "Main set" becomes "Main set 2"."""
    candidate, number = name, 1
    while candidate.casefold() in taken:
        number += 1
        candidate = f"{name} {number}"
    taken.add(candidate.casefold())
    return candidate


def _move(step: Step) -> dict[str, object]:
    move: dict[str, object] = {"name": step.name}
    if step.duration_ms is not None:
        move["time"] = format_duration(step.duration_ms)
    elif step.distance_m is not None:
        move["distance"] = format_distance(step.distance_m)
    if step.tips:
        move["tips"] = list(step.tips)
    move["flex"] = False  # a plan's intervals are fixed: a fitted length never moves them
    if step.target is not None:
        move["target"] = format_target(step.target)
    if step.messages:
        move["messages"] = [{"at": format_duration(m.at_ms), "text": m.text} for m in step.messages]
    return move


def routine_data(plan: Plan) -> dict[str, object]:
    """The plan as routine data: continuous flow, each section a block, repeats fixed."""
    taken: set[str] = set()
    blocks: list[dict[str, object]] = []
    for section in plan.sections:
        block: dict[str, object] = {"name": _unique(section.name, taken)}
        if section.role != "main":
            block["role"] = section.role
        if section.repeat or section.rounds > 1:
            block["rounds"] = section.rounds
            block["rounds_fixed"] = True
        block["exercises"] = [_move(step) for step in section.steps]
        blocks.append(block)
    data: dict[str, object] = {"version": 1, "name": plan.name}
    if plan.source:
        data["source"] = plan.source
    data["timing"] = {"flow": "continuous"}
    data["blocks"] = blocks
    return data


def routine_yaml(plan: Plan) -> str:
    """The routine file's text, keys in the order a person writes them."""
    header = "# Imported: every interval is fixed (flex: false); edit freely.\n"
    body = yaml.safe_dump(routine_data(plan), sort_keys=False, allow_unicode=True, width=100)
    return header + body
