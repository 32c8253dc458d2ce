"""Does `pip install workout-audio` find a wheel for everything, on every platform we support?

For each platform and Python version, the runtime requirements in pyproject.toml and
everything they pull in are resolved against the package index the way pip would on
that machine: wheels only (a user should never need a compiler), environment markers
evaluated for the target machine rather than this one (pip itself evaluates them for
the machine it runs on). Nothing is installed; pip reads each wheel's metadata only.

Prints a table of what has no wheel where, and the versions that differ between
platforms (a platform held back to an older release is worth knowing). Exits 1 when
a required package has no wheel somewhere, 3 when the index cannot be asked.

    .venv/bin/python scripts/check_platforms.py              # 3.10 and 3.13
    .venv/bin/python scripts/check_platforms.py --python 3.12
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from packaging.markers import Marker
from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent
PYTHONS = ("3.10", "3.13")  # the oldest supported and the newest released
GLIBC_MINOR = 28  # glibc 2.28: Debian 10, RHEL 8, Ubuntu 20.04 and anything newer
MACOS = "13_0"  # the oldest macOS still common on both Intel and Apple silicon
WORKERS = 5  # pip runs at once: they mostly wait on the index
PIP_TIMEOUT_S = 300


def _manylinux(arch: str) -> tuple[str, ...]:
    # pip widens a legacy manylinux2014 tag to the older ones, but not a manylinux_2_Y
    # tag: name every glibc up to the assumed one.
    newer = [f"manylinux_2_{minor}_{arch}" for minor in range(GLIBC_MINOR, 16, -1)]
    return (*newer, f"manylinux2014_{arch}")


@dataclass(frozen=True)
class Platform:
    name: str
    pip_platforms: tuple[str, ...]  # pip widens a macOS tag to older macOS releases itself
    sys_platform: str
    platform_system: str
    platform_machine: str  # as platform.machine() says it there
    os_name: str = "posix"

    def environment(self, python: str) -> dict[str, str]:
        """The marker variables of CPython ``python`` on this platform."""
        return {
            "implementation_name": "cpython",
            "implementation_version": f"{python}.0",
            "os_name": self.os_name,
            "platform_machine": self.platform_machine,
            "platform_python_implementation": "CPython",
            "platform_release": "",
            "platform_system": self.platform_system,
            "platform_version": "",
            "python_full_version": f"{python}.0",
            "python_version": python,
            "sys_platform": self.sys_platform,
        }


PLATFORMS = (
    Platform("Linux x86_64", _manylinux("x86_64"), "linux", "Linux", "x86_64"),
    Platform("Linux aarch64", _manylinux("aarch64"), "linux", "Linux", "aarch64"),
    Platform("macOS arm64", (f"macosx_{MACOS}_arm64",), "darwin", "Darwin", "arm64"),
    Platform("macOS x86_64", (f"macosx_{MACOS}_x86_64",), "darwin", "Darwin", "x86_64"),
    Platform("Windows amd64", ("win_amd64",), "win32", "Windows", "AMD64", os_name="nt"),
)


class IndexUnreachable(RuntimeError):
    """pip could not ask the index (network, or an error other than 'no such wheel')."""


@dataclass(frozen=True)
class Pick:
    version: str
    filename: str
    requires: tuple[str, ...]
    requires_python: SpecifierSet


@dataclass
class Result:
    platform: Platform
    python: str
    picks: dict[str, Pick] = field(default_factory=dict)
    missing: dict[str, str] = field(default_factory=dict)  # name -> "spec (needed by X)"


def runtime_requirements() -> list[Requirement]:
    try:
        import tomllib
    except ImportError:  # Python 3.10
        sys.exit("check_platforms.py needs Python 3.11+ to read pyproject.toml (tomllib)")
    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    return [Requirement(line) for line in project["dependencies"]]


def applies(marker: Marker | None, environment: dict[str, str], extras: Iterable[str]) -> bool:
    if marker is None:
        return True
    return any(marker.evaluate({**environment, "extra": extra}) for extra in ("", *extras))


def _target_options(platform: Platform, python: str) -> list[str]:
    platforms = [option for tag in platform.pip_platforms for option in ("--platform", tag)]
    return [*platforms, "--python-version", python, "--implementation", "cp"]


def _pip(arguments: list[str]) -> subprocess.CompletedProcess[str] | None:
    """pip's answer, or None when it found no wheel."""
    command = [
        sys.executable, "-m", "pip", *arguments,
        "--disable-pip-version-check", "--only-binary=:all:",
    ]  # fmt: skip
    done = subprocess.run(
        command, capture_output=True, text=True, check=False, timeout=PIP_TIMEOUT_S
    )
    if done.returncode == 0:
        return done
    if "No matching distribution found" in done.stderr:
        return None
    errors = [line for line in done.stderr.splitlines() if line.startswith("ERROR")]
    raise IndexUnreachable(errors[-1] if errors else done.stderr.strip()[-300:])


def pip_picks(
    requirements: list[str], platform: Platform, python: str, scratch: Path
) -> dict[str, Pick] | None:
    """The newest version with a wheel for each requirement (dependencies not followed),
    or None when one of them has none for the target.

    pip 23 checks Requires-Python against the Python it runs on even when told another
    (it filters the files by the target's, though, and `pip download` does it right), so
    the check is left out here and made in resolve().
    """
    with tempfile.TemporaryDirectory(dir=scratch) as folder:
        report = Path(folder) / "report.json"
        done = _pip(
            [
                "install", "--quiet", "--dry-run", "--ignore-installed", "--no-deps",
                "--ignore-requires-python", "--target", str(Path(folder) / "target"),
                "--report", str(report), *_target_options(platform, python), *requirements,
            ]
        )  # fmt: skip
        if done is None:
            return None
        picks = {}
        for item in json.loads(report.read_text(encoding="utf-8"))["install"]:
            metadata = item["metadata"]
            picks[canonicalize_name(metadata["name"])] = Pick(
                version=metadata["version"],
                filename=item["download_info"]["url"].rsplit("/", 1)[-1],
                requires=tuple(metadata.get("requires_dist") or ()),
                requires_python=SpecifierSet(metadata.get("requires_python") or ""),
            )
        return picks


def newest_for_python(
    name: str, specifier: SpecifierSet, platform: Platform, python: str
) -> str | None:
    """The newest version of ``name`` with a wheel for the target that its Python may
    install (pip index, unlike pip install, honours the target's Requires-Python)."""
    done = _pip(["index", "versions", *_target_options(platform, python), name])
    if done is None:
        return None
    for line in done.stdout.splitlines():
        if line.startswith("Available versions:"):
            versions = [Version(v) for v in line.split(":", 1)[1].replace(",", " ").split()]
            allowed = list(specifier.filter(versions))
            return str(max(allowed)) if allowed else None
    return None


def resolve(platform: Platform, python: str, scratch: Path) -> Result:
    """Follow the requirements level by level, each level in one pip call; a name asked
    for again with a specifier its pick does not meet is asked again with both."""
    result = Result(platform, python)
    environment = platform.environment(python)
    wanted: dict[str, SpecifierSet] = {}
    extras: dict[str, set[str]] = {}
    needed_by: dict[str, str] = {}
    pending: set[str] = set()

    def want(requirement: Requirement, parent: str) -> None:
        name = canonicalize_name(requirement.name)
        wanted[name] = wanted.get(name, SpecifierSet()) & requirement.specifier
        extras.setdefault(name, set()).update(requirement.extras)
        needed_by.setdefault(name, parent)
        pick = result.picks.get(name)
        if name not in result.missing and (
            pick is None or not wanted[name].contains(Version(pick.version), prereleases=True)
        ):
            pending.add(name)

    def ask(names: list[str]) -> dict[str, Pick]:
        lines = [f"{name}{wanted[name]}" for name in names]
        picks = pip_picks(lines, platform, python, scratch)
        if picks is not None:
            return picks
        picks = {}  # find which ones have no wheel
        for name, line in zip(names, lines, strict=True):
            found = pip_picks([line], platform, python, scratch)
            if found is None:
                result.missing[name] = f"{line} (for {needed_by[name]})"
            else:
                picks.update(found)
        return picks

    for requirement in runtime_requirements():
        if applies(requirement.marker, environment, ()):
            want(requirement, "workout-audio")
    while pending:
        picks = ask(sorted(pending))
        pending.clear()
        for name, pick in list(picks.items()):
            if not pick.requires_python.contains(f"{python}.0", prereleases=True):
                version = newest_for_python(name, wanted[name], platform, python)
                if version is None:
                    result.missing[name] = f"{name}{wanted[name]} (for {needed_by[name]})"
                    del picks[name]
                    continue
                pinned = pip_picks([f"{name}=={version}"], platform, python, scratch)
                picks.update(pinned or {})
        result.picks.update(picks)
        for name, pick in picks.items():
            for line in pick.requires:
                requirement = Requirement(line)
                if applies(requirement.marker, environment, extras.get(name, ())):
                    want(requirement, name)
    return result


def report(results: list[Result]) -> None:
    print(f"glibc 2.{GLIBC_MINOR}+ on Linux, macOS {MACOS.replace('_', '.')}+; wheels only\n")
    width = max(len(p.name) for p in PLATFORMS)
    print(f"{'platform':<{width}}  python  packages  no wheel")
    for result in results:
        missing = ", ".join(result.missing.values()) or "-"
        print(
            f"{result.platform.name:<{width}}  {result.python:<6}  "
            f"{len(result.picks):>8}  {missing}"
        )
    names = sorted({name for result in results for name in result.picks})
    differing = [
        name
        for name in names
        if len({result.picks[name].version for result in results if name in result.picks}) > 1
    ]
    if differing:
        print("\nversions that differ between platforms (- : not needed there)")
        header = "".join(f"  {name:>14}" for name in differing)
        print(f"{'platform':<{width}}  python{header}")
        for result in results:
            cells = "".join(
                f"  {result.picks[name].version if name in result.picks else '-':>14}"
                for name in differing
            )
            print(f"{result.platform.name:<{width}}  {result.python:<6}{cells}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", action="append", help="a Python version to check (repeatable)")
    arguments = parser.parse_args()
    pythons = arguments.python or list(PYTHONS)
    targets = [(platform, python) for platform in PLATFORMS for python in pythons]
    with (
        tempfile.TemporaryDirectory(prefix="check-platforms-") as scratch,
        ThreadPoolExecutor(WORKERS) as pool,
    ):
        try:
            results = list(pool.map(lambda t: resolve(t[0], t[1], Path(scratch)), targets))
        except (IndexUnreachable, subprocess.TimeoutExpired) as error:
            print(f"could not ask the package index: {error}", file=sys.stderr)
            return 3
    report(results)
    return 1 if any(result.missing for result in results) else 0


if __name__ == "__main__":
    sys.exit(main())
