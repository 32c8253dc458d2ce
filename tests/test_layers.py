"""The house's rules, read from the code: imports run downwards, never in a circle."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "src" / "workout_audio"

# Lowest first. A module may import its own layer and the layers before it, never after.
LAYERS = [
    ("errors", "durations", "levels", "settings", "machine"),
    ("storage",),
    ("routine",),
    ("interchange",),  # workouts from other tools <-> routine data
    ("timeline",),
    ("audio",),
    ("speech",),
    ("outputs",),
    ("encode",),
    ("pipeline", "preparation", "planning"),  # the library's flow, its dry run, its outputs
    ("execution",),  # jobs side by side on a process pool or a Dask cluster
    ("programs",),  # multi-week plans built on the pipeline: tracks and a podcast feed
    ("batch",),  # many tracks and programs at once, from a manifest
    ("serve",),  # a built folder over HTTP
    ("studio",),  # the local web page, built on the pipeline
    ("app", "__main__"),
]
RANK = {name: rank for rank, names in enumerate(LAYERS) for name in names}
HEAVY = (
    "numpy", "PIL", "pydub", "mutagen", "onnxruntime", "piper", "typer", "rich", "requests",
    "starlette", "uvicorn", "segno", "distributed", "dask",
)  # fmt: skip


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(path: Path) -> set[str]:
    """Every workout_audio module ``path`` imports, at the top or inside a function."""
    module = _module_name(path)
    package = module if path.name == "__init__.py" else module.rpartition(".")[0]
    found = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[: len(base) - node.level + 1]
                target = ".".join([*base, *([node.module] if node.module else [])])
            else:
                target = node.module or ""
            names = [f"{target}.{alias.name}" for alias in node.names]
            found.update(n for n in [target, *names] if _is_module(n))
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if _is_module(alias.name))
    found.discard(module)
    return found


def _is_module(name: str) -> bool:
    if not name.startswith("workout_audio"):
        return False
    relative = PACKAGE.parent.joinpath(*name.split("."))
    return relative.with_suffix(".py").is_file() or (relative / "__init__.py").is_file()


def _layer(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


MODULES = {_module_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def test_every_module_belongs_to_a_layer() -> None:
    unplaced = {m for m in MODULES if _layer(m) not in RANK and _layer(m) != "__init__"}
    assert not unplaced, f"modules outside every layer: {sorted(unplaced)}"


@pytest.mark.parametrize("module", sorted(MODULES))
def test_imports_run_downwards(module: str) -> None:
    if _layer(module) == "__init__":
        return  # the public API names the layers it exposes, and imports them only when used
    rank = RANK[_layer(module)]
    upward = sorted(t for t in _imports(MODULES[module]) if RANK.get(_layer(t), -1) > rank)
    assert not upward, f"{module} (layer {_layer(module)}) imports higher layers: {upward}"


def test_routine_and_timeline_know_nothing_of_audio_encoding_or_outputs() -> None:
    for module, path in MODULES.items():
        if _layer(module) in ("routine", "timeline"):
            bad = [t for t in _imports(path) if _layer(t) in ("audio", "encode", "outputs")]
            assert not bad, f"{module} imports {bad}"


def test_no_import_cycles() -> None:
    graph = {m: {t for t in _imports(p) if t in MODULES} for m, p in MODULES.items()}
    # A package's __init__ is imported before its modules, so "pkg.mod imports pkg" is not
    # a cycle unless pkg's __init__ imports pkg.mod back; the search below follows edges as
    # Python would run them.
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for nxt in sorted(graph[node]):
            if nxt == "workout_audio":
                continue  # the lazy public API imports nothing at import time
            if state.get(nxt) == 1:
                cycle = [*path[path.index(nxt) :], nxt]
                pytest.fail("import cycle: " + " -> ".join(cycle))
            if state.get(nxt) is None:
                visit(nxt)
        path.pop()
        state[node] = 2

    for module in sorted(graph):
        if state.get(module) is None:
            visit(module)


def test_importing_the_package_loads_nothing_heavy() -> None:
    code = (
        "import sys, workout_audio\n"
        "mine = [m for m in sys.modules if m.startswith('workout_audio')]\n"
        f"heavy = [m for m in {HEAVY!r} if m in sys.modules]\n"
        "print(len(mine), ','.join(heavy))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    count, heavy = done.stdout.split()[0], done.stdout.split()[1:]
    assert heavy == [], f"import workout_audio loaded {heavy}"
    assert int(count) <= 2, f"import workout_audio loaded {count} of its own modules"
