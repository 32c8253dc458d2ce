"""``python -m workout_audio``."""

from .app.main import main

# Guarded: the speech worker processes (spawned) import this module again as __mp_main__.
if __name__ == "__main__":
    main()
