"""What goes with a track: its tags, lyrics, side files, pictures and chart.

Each is made from the Script alone, so a track's chapters, lyrics and side
files always agree with what is heard.
"""
