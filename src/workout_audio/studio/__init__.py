"""The studio: a local web page to write a routine, see its chart and script, build it
and hear it, served from one folder on this machine.

:mod:`.folder` keeps every path inside the folder, :mod:`.builds` runs one build at a
time per routine and reports its progress, :mod:`.web` is the Starlette app and its
routes, :mod:`.runner` serves it with uvicorn; ``static/`` holds the page itself.
Starlette and uvicorn come with the ``serve`` extra and load only here.
"""

from __future__ import annotations

from .web import studio_app

__all__ = ["studio_app"]
