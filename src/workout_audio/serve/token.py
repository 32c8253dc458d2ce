"""The private token in the served path: the only lock on a folder served to the network.

``auto`` keeps one token per folder, in the folder, so a phone's subscription still works
after the server restarts; it is written whole and readable by its owner alone.
"""

from __future__ import annotations

import re
import secrets
from pathlib import Path

from ..errors import StorageError, UsageError
from ..storage.files import write_whole

__all__ = ["TOKEN_FILE", "resolve_token"]

TOKEN_FILE = ".serve-token"  # hidden, so the server itself never hands it out
_TOKEN_BYTES = 24  # 192 random bits: 32 URL-safe characters, beyond any guessing
# What may stand in a path segment as is (RFC 3986 unreserved characters).
_TOKEN_PATTERN = re.compile(r"[A-Za-z0-9._~-]+")


def resolve_token(folder: Path, choice: str) -> str | None:
    """The token the folder is served under: ``None`` for ``none`` (served at ``/``).

    Args:
        folder: the served folder, where ``auto`` keeps its token.
        choice: ``auto`` (the folder's own, made on first use), ``none``, or the token itself.

    Raises:
        UsageError: a given token holds characters a URL path cannot carry as they are.
        StorageError: the folder's token file could not be read or written.
    """
    if choice == "none":
        return None
    if choice != "auto":
        if not _TOKEN_PATTERN.fullmatch(choice) or choice in (".", ".."):
            raise UsageError(
                f"--token: {choice!r} may hold only letters, digits and . _ ~ - "
                "(or say auto or none)"
            )
        return choice
    return _folder_token(folder)


def _folder_token(folder: Path) -> str:
    path = folder / TOKEN_FILE
    try:
        kept = path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        kept = ""
    except (OSError, UnicodeDecodeError) as error:
        if isinstance(error, OSError):
            raise StorageError.from_os_error(error, path) from None
        kept = ""
    if _TOKEN_PATTERN.fullmatch(kept) and len(kept) >= 16:
        return kept
    token = secrets.token_urlsafe(_TOKEN_BYTES)
    write_whole(path, (token + "\n").encode("ascii"), mode=0o600)
    return token
