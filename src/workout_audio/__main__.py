"""``python -m workout_audio``."""

from .cli import main

main()
