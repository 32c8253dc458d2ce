"""The speech cache: whole entries or none, healed when broken, shared by builds at once."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
import wave
from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner

from gtts_stub import GttsStub, serve
from helpers import SHORT_ROUTINE, cache_entries, child_env, decode
from workout_audio import load_routine, script_phrases
from workout_audio.app.main import app
from workout_audio.audio.pcm import SAMPLE_RATE_HZ
from workout_audio.encode.render import render
from workout_audio.errors import UsageError
from workout_audio.preparation import prepare
from workout_audio.settings import VoiceSettings
from workout_audio.speech import SpeechCache, synthesize_phrases
from workout_audio.speech.cache import (
    DEFAULT_MAX_SIZE_BYTES,
    STALE_PART_S,
    decode_entry,
    format_size,
    parse_size,
)
from workout_audio.speech.espeak import EspeakEngine
from workout_audio.speech.gtts import GttsEngine
from workout_audio.speech.piper import PiperEngine

PHRASE = "Plank, 30 seconds."


def partials(folder: Path) -> list[Path]:
    return sorted(folder.rglob(".*.part")) if folder.exists() else []


def test_an_entry_is_a_plain_wav_with_its_text_and_a_checksum(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    pcm = bytes(range(256)) * 441  # 0.64 s of (loud) noise
    key = cache.key({"engine": "test"}, PHRASE)
    assert cache.put(key, pcm, {"engine": "test", "text": PHRASE})
    [path] = cache_entries(tmp_path)
    with wave.open(str(path), "rb") as wav:  # any WAV reader skips our extra chunk
        assert wav.getframerate() == SAMPLE_RATE_HZ
        assert (wav.getnchannels(), wav.getsampwidth()) == (1, 2)
        assert wav.readframes(wav.getnframes()) == pcm
    assert len(decode(path).raw_data) == len(pcm), "ffmpeg reads it whole"
    samples, meta = decode_entry(path.read_bytes())
    assert samples == pcm
    assert meta["text"] == PHRASE
    assert cache.get(key) == pcm


def test_settings_that_change_the_sound_change_the_key(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    voices = [
        GttsEngine("en"),
        GttsEngine("es"),
        GttsEngine("en", tld="com.au"),
        GttsEngine("en", slow=True),
        PiperEngine("en"),
        PiperEngine("en", rate=1.2),
    ]
    keys = {cache.key(engine.identity(), PHRASE) for engine in voices}
    assert len(keys) == len(voices)
    assert cache.key(GttsEngine("en").identity(), PHRASE) == cache.key(
        GttsEngine("en").identity(), PHRASE
    ), "the same phrase and voice always land on the same entry"
    assert "engine_version" in GttsEngine("en").identity()


def _flip_a_sample(blob: bytes) -> bytes:
    middle = len(blob) - 1000
    return blob[:middle] + bytes([blob[middle] ^ 0xFF]) + blob[middle + 1 :]


@pytest.mark.parametrize(
    "damage",
    [
        pytest.param(lambda blob: blob[: len(blob) // 2], id="truncated"),
        pytest.param(lambda blob: b"", id="empty"),
        pytest.param(_flip_a_sample, id="flipped-sample"),
        pytest.param(lambda blob: b"\0" * len(blob), id="zeroed"),
        pytest.param(lambda blob: blob + b"junk", id="trailing-junk"),
    ],
)
def test_a_broken_entry_is_discarded_and_made_again(
    gtts_stub: GttsStub, tmp_path: Path, damage
) -> None:
    cache = SpeechCache(tmp_path)
    first = synthesize_phrases(GttsEngine("en"), [PHRASE], cache)[PHRASE]
    [path] = cache_entries(tmp_path)
    path.write_bytes(damage(path.read_bytes()))

    again = synthesize_phrases(GttsEngine("en"), [PHRASE], cache)[PHRASE]
    assert gtts_stub.count == 2, "the broken entry was not used: the phrase was asked again"
    assert abs(len(again) - len(first)) < 0.01 * len(first)
    assert decode_entry(path.read_bytes())[0] == again, "the entry is whole again"
    synthesize_phrases(GttsEngine("en"), [PHRASE], cache)
    assert gtts_stub.count == 2


def test_a_partial_write_is_never_an_entry_and_is_swept_when_stale(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    key = cache.key({"engine": "test"}, PHRASE)
    whole = bytes(2000)
    cache.put(key, b"\1\2" * 1000)
    blob = cache.path(key).read_bytes()
    cache.path(key).unlink()
    # What a writer killed mid-write leaves: a hidden temporary file, half written.
    part = cache.path(key).parent / ".tmpk1ll3d.part"
    part.write_bytes(blob[: len(blob) // 2])

    assert cache.get(key) is None
    info = cache.info()
    assert (info.entries, info.partial_files) == (0, 1)

    other = key[:2] + "0" * 62  # another entry in the same folder
    cache.put(other, whole)
    assert part.exists(), "a fresh temporary file may be another build's write in progress"
    old = time.time() - STALE_PART_S - 60
    os.utime(part, (old, old))
    cache.put(other, whole)
    assert not part.exists(), "a stale one is a killed writer's: swept"
    assert cache.get(other) == whole


CHILD_WRITER = """
import signal
import sys
import time
from pathlib import Path
from workout_audio.speech.cache import SpeechCache

# Ctrl-C raises KeyboardInterrupt whatever this process inherited: a shell job may start
# it with SIGINT ignored, and then nothing would stop it.
signal.signal(signal.SIGINT, signal.default_int_handler)
cache = SpeechCache(Path(sys.argv[1]))
pcm = bytes(range(256)) * 40_000  # 10 MB: each write takes a while
deadline_s = time.monotonic() + 60
for n in range(400):  # bounded in writes, time and disk (8 keys rewritten in turn)
    cache.put(f"{n % 8:064x}", pcm[n % 256:] + pcm[: n % 256])
    if n == 0:
        print("writing", flush=True)
    if time.monotonic() > deadline_s:
        break
sys.exit("never stopped")
"""


def ignoring_sigint() -> None:
    """In the child before exec: SIGINT ignored, as a shell's background job starts."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)


@pytest.mark.parametrize(
    ("how", "inherited"),
    [
        (signal.SIGKILL, None),
        (signal.SIGINT, None),
        (signal.SIGINT, ignoring_sigint),
    ],
    ids=["killed", "ctrl-c", "ctrl-c-started-ignoring-it"],
)
def test_a_writer_stopped_mid_write_leaves_no_half_entry(
    tmp_path: Path, how: int, inherited: Callable[[], None] | None
) -> None:
    folder = tmp_path / "cache"
    script = tmp_path / "writer.py"
    script.write_text(CHILD_WRITER, encoding="utf-8")
    writer = subprocess.Popen(
        [sys.executable, str(script), str(folder)],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env=child_env(),
        preexec_fn=inherited,
    )
    try:
        assert writer.stdout is not None
        started = writer.stdout.readline()
        assert started == b"writing\n", writer.stderr.read() if writer.stderr else ""
        time.sleep(0.4)
        writer.send_signal(how)
        writer.wait(timeout=30)
    finally:
        if writer.poll() is None:
            writer.kill()
            writer.wait(timeout=30)
        for pipe in (writer.stdout, writer.stderr):
            if pipe is not None:
                pipe.close()
    # Python ends on an unhandled KeyboardInterrupt by SIGINT itself; "never stopped" is 1.
    assert writer.returncode == -how, writer.stderr

    cache = SpeechCache(folder)
    written = cache_entries(folder)
    assert written
    for path in written:
        assert cache.get(path.stem) is not None, f"{path.name} is a half entry"
    assert len(cache_entries(folder)) == len(written), "no entry had to be discarded"
    if how == signal.SIGINT:
        assert partials(folder) == [], "Ctrl-C cleans its temporary file up"
    else:  # SIGKILL cannot be cleaned up after: at most one temporary file, never an entry
        assert len(partials(folder)) <= 1
        assert cache.info().entries == len(written)


CHILD_BUILD = """
import sys
from gtts import tts

url = sys.argv[1]
tts._translate_url = lambda tld="com", path="": url + path
from workout_audio.app.main import main

sys.argv = ["workout-audio", *sys.argv[2:]]
main()
"""


@pytest.mark.slow
def test_two_builds_at_once_share_the_cache_safely(
    monkeypatch: pytest.MonkeyPatch, write_routine, tmp_path: Path
) -> None:
    routine_path = write_routine(SHORT_ROUTINE)
    phrases = script_phrases(load_routine(routine_path))
    folder = tmp_path / "cache"
    script = tmp_path / "build.py"
    script.write_text(textwrap.dedent(CHILD_BUILD), encoding="utf-8")
    stub_fixture = serve(monkeypatch, delay_s=0.03)  # answers take a while: the builds overlap
    stub = next(stub_fixture)
    try:
        command = [sys.executable, str(script), stub.url(), "build", str(routine_path),
                   "--engine", "gtts", "--cache-dir", str(folder)]  # fmt: skip
        builds = [
            subprocess.Popen(
                [*command, "-o", str(tmp_path / f"{n}.mp3")],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                env=child_env(),
            )
            for n in (1, 2)
        ]
        try:
            results = [build.communicate(timeout=120) for build in builds]
        finally:
            for build in builds:
                if build.poll() is None:
                    build.kill()
                    build.communicate(timeout=30)
        for build, (_, stderr) in zip(builds, results, strict=True):
            assert build.returncode == 0, stderr.decode()
        asked = [r.text for r in stub.requests]
        # (gTTS drops a sentence's final full stop when it cuts a phrase into requests)
        assert {text.rstrip(".") for text in asked} == {text.rstrip(".") for text in phrases}
        assert len(asked) <= 2 * len(phrases), "each build asks each phrase at most once"

        lengths = [len(decode(tmp_path / f"{n}.mp3")) for n in (1, 2)]
        assert abs(lengths[0] - lengths[1]) <= 50
        cache = SpeechCache(folder)
        assert len(cache_entries(folder)) == len(phrases)
        assert all(cache.get(path.stem) is not None for path in cache_entries(folder))
        assert partials(folder) == []

        before = stub.count
        prepare(load_routine(routine_path), voice=VoiceSettings(engine="gtts"), cache_dir=folder)
        assert stub.count == before, "a third build finds everything in the shared cache"
    finally:
        stub_fixture.close()


@pytest.mark.slow
def test_cache_info_and_clear_from_the_command_line(
    gtts_stub: GttsStub, write_routine, tmp_path: Path
) -> None:
    folder = tmp_path / "cache"
    routine = load_routine(write_routine(SHORT_ROUTINE))
    prepare(routine, voice=VoiceSettings(engine="gtts"), cache_dir=folder)
    count = len(script_phrases(routine))
    keep = [folder / "notes.txt", folder / "ab" / "mine.wav"]
    keep[1].parent.mkdir(parents=True, exist_ok=True)
    for path in keep:
        path.write_text("not the cache's", encoding="utf-8")

    runner = CliRunner()
    info = runner.invoke(app, ["cache", "info", "--cache-dir", str(folder)])
    assert info.exit_code == 0, info.output
    assert f"folder: {folder}" in info.output
    assert f"entries: {count} (" in info.output
    assert " MB)" in info.output or " kB)" in info.output
    assert f"by engine: gtts {count}" in info.output

    cleared = runner.invoke(app, ["cache", "clear", "--cache-dir", str(folder)])
    assert cleared.exit_code == 0, cleared.output
    assert f"removed {count} entries" in cleared.output
    assert cache_entries(folder) == [keep[1]], "only the cache's own files are removed"
    assert all(path.read_text(encoding="utf-8") == "not the cache's" for path in keep)
    info = runner.invoke(app, ["cache", "info", "--cache-dir", str(folder)])
    assert "entries: 0 (0 B; at most 1.0 GB)" in info.output

    prepare(routine, voice=VoiceSettings(engine="gtts"), cache_dir=folder)
    assert gtts_stub.count == 2 * count, "after a clear, the next build synthesises again"


@pytest.mark.parametrize(
    ("text", "size_bytes"),
    [("200MB", 200_000_000), ("1.5GB", 1_500_000_000), ("2GiB", 2 * 1024**3),
     ("500k", 500_000), ("750 kB", 750_000), ("1000", 1000), ("1g", 1_000_000_000)],
)  # fmt: skip
def test_sizes_read_as_people_write_them(text: str, size_bytes: int) -> None:
    assert parse_size(text) == size_bytes


@pytest.mark.parametrize("text", ["", "big", "-1GB", "1 XB", "1.2.3MB"])
def test_a_size_that_is_not_one_is_refused(text: str) -> None:
    with pytest.raises(ValueError, match="is not a size like 200MB or 2GB"):
        parse_size(text)


def aged(cache: SpeechCache, key: str, hours_ago: float) -> None:
    then = time.time() - hours_ago * 3600
    os.utime(cache.path(key), (then, then))


def test_prune_removes_the_least_recently_used_first(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    keys = [f"{n:064x}" for n in range(5)]
    for age, key in enumerate(keys):  # keys[0] written last, keys[4] first
        cache.put(key, bytes(range(256)) * 40, {"engine": "test", "voice": "v"})
        aged(cache, key, hours_ago=age + 1)
    entry_bytes = cache.path(keys[0]).stat().st_size
    assert cache.get(keys[4]) is not None  # used just now: the most recent of all

    result = cache.prune(max_size_bytes=3 * entry_bytes)
    assert (result.removed, result.entries) == (2, 3)
    assert result.freed_bytes == 2 * entry_bytes
    assert result.size_bytes == 3 * entry_bytes
    left = {path.stem for path in cache_entries(tmp_path)}
    assert left == {keys[0], keys[1], keys[4]}, "the two least recently used went"
    assert cache.prune(max_size_bytes=3 * entry_bytes).removed == 0


@pytest.mark.slow
def test_a_build_keeps_the_cache_under_its_cap_and_its_own_clips(tmp_path: Path) -> None:
    old = SpeechCache(tmp_path)
    stale = [f"{n:064x}" for n in range(20)]
    for key in stale:
        old.put(key, bytes(range(256)) * 400, {"engine": "test", "voice": "old"})
        aged(old, key, hours_ago=48)
    cap = old.info().size_bytes // 2
    capped = SpeechCache(tmp_path, max_size_bytes=cap)
    phrases = ["Plank, 30 seconds.", "Rest.", "Switch sides.", "Halfway there."]
    engine = EspeakEngine("en")
    clips = synthesize_phrases(engine, phrases, capped)

    info = capped.info()
    assert info.size_bytes <= cap
    assert all(capped.get(capped.key(engine.identity(), p)) == clips[p] for p in phrases)
    assert info.entries - len(phrases) < len(stale), "old entries made room"


def test_the_cap_comes_from_the_settings_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = tmp_path / "config.yaml"
    monkeypatch.setenv("WORKOUT_AUDIO_CONFIG", str(settings))
    assert SpeechCache(tmp_path).max_size_bytes == DEFAULT_MAX_SIZE_BYTES == 1_000_000_000
    settings.write_text("# mine\ncache:\n  max_size: 250MB\n", encoding="utf-8")
    assert SpeechCache(tmp_path).max_size_bytes == 250_000_000
    settings.write_text("cache:\n  max_size: lots\n", encoding="utf-8")
    with pytest.raises(UsageError) as raised:
        SpeechCache(tmp_path).max_size_bytes  # noqa: B018
    assert str(raised.value) == (
        f"{settings}:2: cache.max_size: 'lots' is not a size like 200MB or 2GB"
    )


def test_cache_info_counts_entries_by_engine_and_voice(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    made = [("piper", "joe", 1000), ("piper", "joe", 1000), ("espeak", "es", 10_000)]
    for n, (engine, voice, size) in enumerate(made):
        cache.put(f"{n:064x}", bytes(size), {"engine": engine, "voice": voice})
    info = cache.info()
    assert info.by_engine == {"espeak": 1, "piper": 2}
    assert [(u.engine, u.voice, u.entries) for u in info.by_voice] == [
        ("espeak", "es", 1),
        ("piper", "joe", 2),
    ], "largest first"
    assert sum(u.size_bytes for u in info.by_voice) == info.size_bytes


def test_cache_prune_and_info_by_voice_from_the_command_line(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    for n in range(6):
        voice = "joe" if n < 4 else "es"
        cache.put(f"{n:064x}", bytes(100_000), {"engine": "piper", "voice": voice})
        aged(cache, f"{n:064x}", hours_ago=10 - n)  # entry 0 is the least recently used
    sizes = [cache.path(f"{n:064x}").stat().st_size for n in range(6)]
    runner = CliRunner()
    info = runner.invoke(app, ["cache", "info", "--cache-dir", str(tmp_path)])
    assert info.exit_code == 0, info.output
    assert f"entries: 6 ({format_size(sum(sizes))}; at most 1.0 GB)" in info.output
    assert (
        f"by voice:\n  piper joe: 4 ({format_size(sum(sizes[:4]))})\n"
        f"  piper es: 2 ({format_size(sum(sizes[4:]))})\n"
    ) in info.output

    pruned = runner.invoke(
        app, ["cache", "prune", "--max-size", "250kB", "--cache-dir", str(tmp_path)]
    )
    assert pruned.exit_code == 0, pruned.output
    assert pruned.output.startswith(
        f"removed 4 entries ({format_size(sum(sizes[:4]))}); 2 left ({format_size(sum(sizes[4:]))})"
    )
    assert {path.stem[-1] for path in cache_entries(tmp_path)} == {"4", "5"}, "the newest stay"

    bad = runner.invoke(app, ["cache", "prune", "--max-size", "tiny", "--cache-dir", str(tmp_path)])
    assert bad.exit_code == 2
    assert "--max-size: 'tiny' is not a size like 200MB or 2GB" in bad.output


@pytest.mark.slow
def test_a_warm_track_still_renders_when_its_cache_is_cleared_meanwhile(
    tmp_path: Path, speech_cache: Path
) -> None:
    # A warm build reads its clips from the cache as it plays them: `cache clear` (or another
    # build pruning) between preparing and encoding must not cost it a single sample.
    cache = tmp_path / "cache"
    shutil.copytree(speech_cache, cache)
    routine = tmp_path / "short.yaml"
    routine.write_text(SHORT_ROUTINE, encoding="utf-8")
    prepared = prepare(load_routine(routine), voice=VoiceSettings(engine="piper"), cache_dir=cache)
    before = {text: prepared.clips[text] for text in prepared.clips}
    assert [path for path in cache.rglob("*.wav")], "the clips come from the cache"
    runner = CliRunner()
    assert runner.invoke(app, ["cache", "clear", "--cache-dir", str(cache)]).exit_code == 0
    assert not list(cache.rglob("*.wav"))
    output = render(prepared.script, prepared.clips, tmp_path / "short.mp3")
    assert {text: prepared.clips[text] for text in prepared.clips} == before
    assert abs(len(decode(output)) - prepared.script.length_ms) <= 30
