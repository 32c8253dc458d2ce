"""Encoding: a Script and its clips become one file on disk.

``formats`` is the registry of what a track can be written as, ``render``
streams the PCM to the encoders, ``encoder`` runs them, and ``mp3_join`` joins
MP3 parts encoded side by side into one gapless stream.
"""
