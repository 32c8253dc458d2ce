"""Piper voice files: reading one, the ones installed in the user data folder, and
downloading more from where piper's own downloader takes them."""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit
from urllib.request import getproxies

import platformdirs

from ..errors import EngineError, UsageError
from ..storage.files import pending_file
from .base import base_language

__all__ = [
    "SUGGESTED_VOICES",
    "VoiceFile",
    "download_voice",
    "find_voice",
    "installed_voices",
    "suggested_voice",
    "voice_url",
    "voices_dir",
]

log = logging.getLogger(__name__)

# A natural voice to suggest per language: medium quality (~60 MB), clear at a workout's pace.
SUGGESTED_VOICES = {
    "de": "de_DE-thorsten-medium",
    "es": "es_ES-davefx-medium",
    "fr": "fr_FR-siwis-medium",
    "it": "it_IT-paola-medium",
    "pt": "pt_BR-faber-medium",
}
# language_REGION-name-quality, as piper's voices are named; strict, so a name is never a path.
VOICE_NAME = re.compile(
    r"(?P<family>[a-z]{2,3})_(?P<region>[A-Za-z0-9]{2,3})-(?P<voice>[A-Za-z0-9_]+)"
    r"-(?P<quality>x_low|low|medium|high)"
)
TIMEOUT_S = (10.0, 60.0)  # connect, read
CHUNK_BYTES = 1 << 16

Progress = Callable[[int, int | None], None]  # bytes so far, total when known


@dataclass(frozen=True)
class VoiceFile:
    """A piper voice on disk: the model and the language its config says it speaks."""

    model: Path
    language: str  # as the config writes it: en_US, es_ES, de_DE ...
    name: str

    @classmethod
    def read(cls, path: Path) -> VoiceFile:
        """Check a voice file and read its config.

        Raises:
            UsageError: the file, its .onnx.json, or the config is missing or wrong.
        """
        if path.name.endswith(".onnx.json"):  # the config given for the model: forgive it
            path = path.with_name(path.name[: -len(".json")])
        if not path.is_file():
            raise UsageError(f"--voice: no piper voice file at {path}")
        config_path = path.with_name(path.name + ".json")
        if not config_path.is_file():
            raise UsageError(
                f"--voice: {config_path.name} is missing next to {path}: "
                "a piper voice is an .onnx model with its .onnx.json config"
            )
        try:
            config = json.loads(config_path.read_text(encoding="utf-8"))
            language = _config_language(config)
            int(config["audio"]["sample_rate"])  # piper needs it: check it is there
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as error:
            raise UsageError(
                f"--voice: {config_path} is not a piper voice config ({type(error).__name__}: "
                f"{error})"
            ) from None
        return cls(model=path, language=language, name=path.name.removesuffix(".onnx"))


def _config_language(config: dict[str, Any]) -> str:
    """The voice's language: ``language.code`` in newer configs, the espeak voice in older."""
    language = config.get("language")
    if isinstance(language, dict) and isinstance(language.get("code"), str):
        return str(language["code"])
    return str(config["espeak"]["voice"])


def voices_dir() -> Path:
    """Where downloaded voices live: the user data folder (XDG on Linux, ...)."""
    return Path(platformdirs.user_data_dir("workout-audio")) / "voices"


def suggested_voice(language: str) -> str | None:
    """A piper voice worth downloading for ``language``, if we know one."""
    return SUGGESTED_VOICES.get(base_language(language))


def installed_voices(folder: Path | None = None) -> list[VoiceFile]:
    """The whole voices (model and config) in the voices folder, by name."""
    folder = folder or voices_dir()
    found = []
    for model in sorted(folder.glob("*.onnx")) if folder.is_dir() else []:
        try:
            found.append(VoiceFile.read(model))
        except UsageError as error:  # a broken file is skipped, not fatal, and said
            log.warning("skipping the voice %s: %s", model, error)
    return found


def find_voice(name: str, folder: Path | None = None) -> Path | None:
    """The model of the installed voice ``name`` (``de_DE-thorsten-medium``), or None."""
    if not VOICE_NAME.fullmatch(name):
        return None
    model = (folder or voices_dir()) / f"{name}.onnx"
    return model if model.is_file() else None


def voice_url(name: str, extension: str, mirror: str | None = None) -> str:
    """Where piper's downloader fetches ``name``'s ``.onnx`` or ``.onnx.json``; ``mirror``
    replaces the repository's address (a copy of rhasspy/piper-voices on another server).

    Raises:
        UsageError: not a piper voice name.
    """
    from piper.download_voices import URL_FORMAT  # the one place the address is written

    found = VOICE_NAME.fullmatch(name)
    if not found:
        raise UsageError(
            f"{name!r} is not a piper voice name: language_REGION-name-quality, "
            "like de_DE-thorsten-medium"
        )
    family = found.group("family")
    url = URL_FORMAT.format(
        lang_family=family,
        lang_code=f"{family}_{found.group('region')}",
        voice_name=found.group("voice"),
        voice_quality=found.group("quality"),
        extension=extension,
    )
    if mirror is not None:
        url = mirror.rstrip("/") + "/" + url[len(_repository()) :]
    return url


def download_voice(
    name: str,
    folder: Path | None = None,
    *,
    mirror: str | None = None,
    progress: Progress | None = None,
) -> VoiceFile:
    """Fetch the piper voice ``name`` (model and config) into ``folder``.

    Each file is written to a temporary file and renamed; the model comes last, so
    the voice appears whole or not at all. A voice already there is fetched again
    (a damaged or older copy is replaced).

    Args:
        name: a piper voice name, ``de_DE-thorsten-medium``.
        folder: where voices live (default: :func:`voices_dir`).
        mirror: another server holding the voices repository.
        progress: called with (bytes so far, total bytes or None) as the model arrives.

    Raises:
        UsageError: not a voice name, or no such voice there.
        EngineError: the download failed (network, server, a file that is not a voice).
    """
    folder = folder or voices_dir()
    mirror_folder = _mirror_folder(mirror)
    config_url, model_url = (
        voice_url(name, ext, None if mirror_folder else mirror) for ext in (".onnx.json", ".onnx")
    )
    if mirror_folder is not None:  # a copy of the repository on disk: the same paths in it
        repository = _repository()
        config_url, model_url = (
            str(mirror_folder / url.split("?")[0][len(repository) :])
            for url in (config_url, model_url)
        )
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise EngineError(f"cannot make the voices folder {folder}: {error.strerror}") from None
    target = folder / f"{name}.onnx"
    with (
        pending_file(target.with_name(f"{name}.onnx.json")) as config,
        pending_file(target) as model,
    ):
        _fetch(name, config_url, config.path, None)
        _check_config(name, config.path)
        _fetch(name, model_url, model.path, progress)
        config.commit()
        model.commit()
    return VoiceFile.read(target)


def _repository() -> str:
    """The voices repository's address, which a mirror replaces."""
    from piper.download_voices import URL_FORMAT

    return URL_FORMAT[: URL_FORMAT.index("{lang_family}")]


def _mirror_folder(mirror: str | None) -> Path | None:
    """The folder ``mirror`` names, or None for a URL or no mirror.

    Raises:
        UsageError: neither a URL nor a folder.
    """
    if mirror is None or mirror.startswith(("http://", "https://")):
        return None
    folder = Path(mirror).expanduser()
    if folder.is_dir():
        return folder
    raise UsageError(
        f"--mirror: {mirror!r} is neither a URL (http:// or https://) nor a folder here"
    )


def _check_config(name: str, path: Path) -> None:
    try:
        config = json.loads(path.read_text(encoding="utf-8"))
        _config_language(config)
        int(config["audio"]["sample_rate"])
    except (UnicodeDecodeError, ValueError, KeyError, TypeError) as error:
        raise EngineError(
            f"the download of {name} is not a piper voice config ({type(error).__name__}); "
            "is the mirror right?"
        ) from None


def _fetch(name: str, url: str, part: Path, progress: Progress | None) -> None:
    """``url`` (or a file of a mirror folder) into the temporary file ``part``."""
    import requests

    if not url.startswith(("http://", "https://")):
        _copy(name, Path(url), part, progress)
        return
    try:
        with part.open("wb") as stream:
            with requests.get(url, stream=True, timeout=TIMEOUT_S) as response:
                if response.status_code == 404:
                    raise UsageError(
                        f"there is no piper voice {name!r} ({url} answered 404); the voices are "
                        "listed at https://huggingface.co/rhasspy/piper-voices"
                    )
                if response.status_code != 200:
                    raise EngineError(
                        f"could not download {name}: {url} answered {response.status_code}"
                    )
                total = int(response.headers.get("Content-Length", 0)) or None
                done = 0
                for chunk in response.iter_content(CHUNK_BYTES):
                    stream.write(chunk)
                    done += len(chunk)
                    if progress:
                        progress(done, total)
                if total is not None and done != total:
                    raise EngineError(
                        f"the download of {name} broke off ({done} of {total} bytes); try again"
                    )
    except requests.Timeout:
        host = urlsplit(url).netloc
        raise EngineError(
            f"could not download {name}: {host} did not answer in time; try again"
        ) from None
    except requests.exceptions.ProxyError:
        proxy = getproxies().get(urlsplit(url).scheme, "the proxy")
        raise EngineError(
            f"could not download {name}: no connection to the proxy {proxy} "
            "(HTTPS_PROXY); is it running?"
        ) from None
    except requests.ConnectionError:
        host = urlsplit(url).netloc
        raise EngineError(
            f"could not download {name}: cannot reach {host} (no network, or the server is down)"
        ) from None
    except requests.RequestException as error:
        raise EngineError(f"could not download {name} ({type(error).__name__}): {error}") from None


def _copy(name: str, source: Path, part: Path, progress: Progress | None) -> None:
    """A voice's file from a mirror folder into the temporary file ``part``."""
    if not source.is_file():
        raise UsageError(f"there is no piper voice {name!r} ({source} is not in the mirror folder)")
    total = source.stat().st_size
    done = 0
    with source.open("rb") as stream, part.open("wb") as copy:
        while chunk := stream.read(CHUNK_BYTES):
            copy.write(chunk)
            done += len(chunk)
            if progress:
                progress(done, total)
