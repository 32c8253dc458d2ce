"""The studio: a local web page to write a routine, see its chart and script, build it
and hear it, served from one folder on this machine.

:mod:`.folder` keeps every path inside the folder and tells programs from routines,
:mod:`.builds` runs one build at a time per routine or program and reports its progress,
:mod:`.feeds` serves built programs' feeds, :mod:`.web` is the Starlette app and its
routes, :mod:`.runner` serves it on ``serve``'s server; ``static/`` holds the page itself.
Starlette and uvicorn come with the ``serve`` extra and load only here.
"""

from __future__ import annotations

from .web import studio_app

__all__ = ["studio_app"]
