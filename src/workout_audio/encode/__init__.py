"""Encoding: a Script and its clips become one file on disk.

``formats`` is the registry of what a track can be written as, ``voice_track``
lays the cues out in time, ``track_loudness`` plans the gain and limiter that
bring the track to its target, ``render`` streams the PCM to the encoders,
``encoder`` runs them, and ``mp3_join`` joins MP3 parts encoded side by side
into one gapless stream.
"""
