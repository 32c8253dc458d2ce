"""Storage: files written whole or not at all, the cache root and the user's settings file.

Nothing here knows what a routine or a track is: it keeps bytes safe on disk.
"""
