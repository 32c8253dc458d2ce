"""The ``workout-audio`` command line: it parses, calls the library, and prints.

Nothing here does work the library cannot do: each command reads its options,
makes one call into :mod:`workout_audio`, and turns our errors into one line and
an exit status.
"""
