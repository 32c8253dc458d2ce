"""Where the espeakng-loader wheel is missing: the espeak engine says how to get espeak-ng,
and the install marker names the same platforms the engine's advice does."""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest
from packaging.requirements import Requirement

from helpers import ROOT, SHORT_ROUTINE, run_cli
from workout_audio.speech.espeak import LOADER_PACKAGE, LOADER_PLATFORMS, PROGRAM

# Python's own names for the systems and machines a wheel may be built for.
SYS_PLATFORMS = ("linux", "darwin", "win32", "freebsd14", "cygwin")
MACHINES = ("x86_64", "aarch64", "arm64", "AMD64", "ARM64", "armv7l", "i686", "ppc64le", "s390x")


def loader_requirement() -> Requirement:
    tomllib = pytest.importorskip("tomllib")  # Python 3.11+
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    found = [Requirement(line) for line in project["dependencies"]]
    return next(r for r in found if r.name == LOADER_PACKAGE)


@pytest.fixture
def without_espeak(tmp_path: Path) -> dict[str, str]:
    """A user's environment with neither espeak-ng program nor the loader wheel, Google
    unreachable (a closed loopback port behind HTTPS_PROXY), and empty user folders."""
    blocker = tmp_path / "site"
    blocker.mkdir()
    # Python runs sitecustomize before the app: importing the loader then fails just as
    # it does where the package was never installed.
    (blocker / "sitecustomize.py").write_text(
        "import sys\nsys.modules['espeakng_loader'] = None\n", encoding="utf-8"
    )
    path = [
        folder
        for folder in os.environ.get("PATH", "").split(os.pathsep)
        if folder and shutil.which(PROGRAM, path=folder) is None
    ]
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    env = {
        **os.environ,
        "PATH": os.pathsep.join(path),
        "PYTHONPATH": str(blocker),
        "HTTPS_PROXY": f"http://127.0.0.1:{closed_port}",
        "XDG_DATA_HOME": str(tmp_path / "data"),
        "XDG_CONFIG_HOME": str(tmp_path / "config"),
        "XDG_CACHE_HOME": str(tmp_path / "cache"),
    }
    for name in ("NO_PROXY", "no_proxy", "https_proxy", "WORKOUT_AUDIO_CONFIG"):
        env.pop(name, None)
    return env


def espeak_status(voices_output: str) -> str:
    lines = voices_output.splitlines()
    heading = next(i for i, line in enumerate(lines) if line.startswith("espeak: "))
    return lines[heading + 1]


def test_voices_says_how_to_get_espeak_when_neither_library_nor_program_is_there(
    without_espeak: dict[str, str], tmp_path: Path
) -> None:
    done = run_cli("voices", env=without_espeak, cwd=tmp_path)
    assert done.returncode == 0, done.stderr
    status = espeak_status(done.stdout)
    assert status.startswith("  not available: espeak-ng is not installed: ")
    assert "apt install espeak-ng" in status
    assert "brew install espeak-ng" in status
    assert status.endswith("or use --engine piper")
    assert "piper: " in done.stdout  # the other engines are still listed
    assert "Traceback" not in done.stdout + done.stderr


def test_the_espeak_engine_then_fails_in_one_line_and_writes_nothing(
    without_espeak: dict[str, str], tmp_path: Path
) -> None:
    (tmp_path / "short.yaml").write_text(SHORT_ROUTINE, encoding="utf-8")
    done = run_cli(
        "build", "short.yaml", "-o", "es.mp3", "--engine", "espeak", "--lang", "es",
        "--cache-dir", str(tmp_path / "speech"),
        env=without_espeak, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 2, done.stdout + done.stderr
    said = [line for line in (done.stdout + done.stderr).splitlines() if line.strip()]
    assert len(said) == 1, said
    assert "the espeak engine cannot run here: espeak-ng is not installed: " in said[0]
    assert said[0].endswith("or use --engine piper")
    assert not (tmp_path / "es.mp3").exists()
    assert not list((tmp_path / "speech").rglob("*.wav"))


def test_the_loader_is_installed_exactly_where_the_engine_says_pip_can_get_it() -> None:
    marker = loader_requirement().marker
    assert marker is not None, f"{LOADER_PACKAGE} has no wheel for every platform"
    for sys_platform in SYS_PLATFORMS:
        for machine in MACHINES:
            installed = marker.evaluate({"sys_platform": sys_platform, "platform_machine": machine})
            assert installed == ((sys_platform, machine) in LOADER_PLATFORMS), (
                sys_platform,
                machine,
            )
