"""How commands show themselves: usage lines and help as people expect them.

Typer writes a required argument as ``{routine}`` in the usage line and puts a
``<bool>`` beside every flag; these classes write ``ROUTINE`` and show flags bare.
"""

from __future__ import annotations

from typing import Any

from typer._click import Context  # typer's own copy of click; checked against typer 0.29.2
from typer.core import TyperArgument, TyperCommand, TyperGroup, TyperOption

__all__ = ["Command", "Group"]


class _Argument(TyperArgument):
    """An argument shown by its metavar alone (``ROUTINE...``), not ``<list[Path]>`` too."""

    def display_type_rich(self, ctx: Context) -> str | None:
        return None


class _PlainHelp:
    """Arguments by their metavar in capitals, flags without a type."""

    def get_params(self, ctx: Context) -> list[Any]:
        params: list[Any] = super().get_params(ctx)  # type: ignore[misc]
        for param in params:
            if isinstance(param, TyperOption) and param.is_bool_flag:
                param.metavar = ""  # a flag takes no value: nothing to show beside it
            elif type(param) is TyperArgument:
                # typer makes every argument itself, with no way to choose its class
                param.__class__ = _Argument
        return params

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        pieces = [self.options_metavar] if self.options_metavar else []  # type: ignore[attr-defined]
        for param in self.get_params(ctx):
            if isinstance(param, TyperArgument):
                name = param.metavar or (param.name or "").upper()
                name += "..." if param.nargs != 1 else ""
                pieces.append(name if param.required else f"[{name}]")
        return pieces


class Command(_PlainHelp, TyperCommand):
    """A command whose help reads as people expect."""


class Group(_PlainHelp, TyperGroup):
    """A command group whose help reads as people expect."""

    def collect_usage_pieces(self, ctx: Context) -> list[str]:
        return [*super().collect_usage_pieces(ctx), self.subcommand_metavar]
