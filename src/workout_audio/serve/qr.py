"""The feed's address as a QR code drawn in text, for a phone's camera to read off a terminal."""

from __future__ import annotations

import io

__all__ = ["svg_qr_uri", "terminal_qr"]


def terminal_qr(url: str) -> str:
    """``url`` as a QR code in half-block characters (two modules a character row), with its
    quiet zone, so a terminal of 80 columns shows a feed's address whole."""
    import segno

    drawn = io.StringIO()
    segno.make(url, error="m").terminal(out=drawn, compact=True)
    return drawn.getvalue()


def svg_qr_uri(url: str) -> str:
    """``url`` as a QR code in an SVG ``data:`` URI, for an ``<img>`` on a page, with its
    quiet zone (four modules, as the standard asks) and the same error correction."""
    import segno

    return str(segno.make(url, error="m").svg_data_uri(scale=4, border=4))
