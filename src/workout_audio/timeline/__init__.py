"""The timeline: a Routine becomes a timed Script, with no audio made.

``layout`` lays out every occurrence and transition with its length, ``phrases``
holds the cue wording of each language, ``fit`` solves a target length, and
``script`` places every cue and tone at its millisecond. Nothing here touches
audio, encoding or files: it is the pure dry run.
"""
