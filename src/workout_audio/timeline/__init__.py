"""The timeline: a Routine becomes a timed Script, with no audio made.

``occurrences`` lists each work interval as done, ``cues`` words everything said
about each (from the per-language tables in ``phrases``; a move's pace, heart rate
and power in ``targets``), ``layout`` lays out
every transition with its length, ``fit`` solves a target length, and
``script`` places every cue and tone at its millisecond. Nothing here touches
audio, encoding or files: it is the pure dry run.
"""
