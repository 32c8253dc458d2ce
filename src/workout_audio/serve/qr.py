"""The feed's address as a QR code drawn in text, for a phone's camera to read off a terminal."""

from __future__ import annotations

import io

__all__ = ["terminal_qr"]


def terminal_qr(url: str) -> str:
    """``url`` as a QR code in half-block characters (two modules a character row), with its
    quiet zone, so a terminal of 80 columns shows a feed's address whole."""
    import segno

    drawn = io.StringIO()
    segno.make(url, error="m").terminal(out=drawn, compact=True)
    return drawn.getvalue()
