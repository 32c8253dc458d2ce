"""Synthesis of many phrases: distinct ones only, in parallel, throttled, with progress."""

from __future__ import annotations

from itertools import pairwise
from pathlib import Path

import pytest

from gtts_stub import GttsStub, closed_port_url, serve
from helpers import SEED
from workout_audio import load_routine, script_phrases
from workout_audio.errors import EngineError
from workout_audio.preparation import prepare
from workout_audio.settings import VoiceSettings
from workout_audio.speech import SpeechCache, synthesize_phrases
from workout_audio.speech.gtts import RETRIES, GttsEngine
from workout_audio.speech.piper import PiperEngine

pytestmark = pytest.mark.slow

WORDS = ["One.", "Two.", "Three.", "Four.", "Five.", "Six.", "Seven.", "Eight.", "Nine."]


def test_each_distinct_phrase_is_asked_once_with_progress(
    gtts_stub: GttsStub, tmp_path: Path
) -> None:
    said = [*WORDS, *WORDS[:4], WORDS[0]]
    ticks: list[tuple[int, int]] = []
    clips = synthesize_phrases(
        GttsEngine("en"), said, SpeechCache(tmp_path), lambda d, t: ticks.append((d, t))
    )
    assert sorted(r.text for r in gtts_stub.requests) == sorted(WORDS)
    assert list(clips) == WORDS, "one clip per distinct phrase, in the order first said"
    assert ticks == [(n, len(WORDS)) for n in range(1, len(WORDS) + 1)]


def test_google_is_asked_in_parallel_but_still_spaced(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    gap_s, answer_s = 0.1, 0.5  # wide enough that a loaded machine's jitter cannot blur them
    stub_fixture = serve(monkeypatch, delay_s=answer_s)
    stub = next(stub_fixture)
    try:
        monkeypatch.setattr("workout_audio.speech.gtts.REQUEST_GAP_S", gap_s)
        synthesize_phrases(GttsEngine("en"), WORDS, SpeechCache(tmp_path))
        starts = sorted(r.at_s for r in stub.requests)
    finally:
        stub_fixture.close()
    assert len(starts) == len(WORDS)
    # Arrival times carry the server's scheduling jitter: allow half the gap.
    assert all(b - a >= gap_s * 0.5 for a, b in pairwise(starts)), "the throttle holds"
    # One at a time would take len(WORDS) answers back to back; threads overlap them.
    assert starts[-1] - starts[0] < (len(WORDS) - 1) * answer_s * 0.8


def test_a_failure_stops_the_rest_and_keeps_what_was_made(
    gtts_stub: GttsStub, tmp_path: Path
) -> None:
    cache = SpeechCache(tmp_path)
    synthesize_phrases(GttsEngine("en"), WORDS[:3], cache)
    gtts_stub.script(*["429"] * (RETRIES + 1))
    with pytest.raises(EngineError, match="rate-limited"):
        synthesize_phrases(GttsEngine("en"), WORDS, cache, workers=1)
    made = {r.text for r in gtts_stub.requests}
    again = gtts_stub.count
    synthesize_phrases(GttsEngine("en"), WORDS, cache)
    asked_again = [r.text for r in gtts_stub.requests[again:]]
    assert not set(asked_again) & set(WORDS[:3]), "nothing made before is asked again"
    assert len(asked_again) <= len(WORDS) - 3
    assert made


def test_the_same_phrases_land_on_the_same_entries_however_many_workers(
    gtts_stub: GttsStub, tmp_path: Path
) -> None:
    names = []
    for workers in (1, 3):
        folder = tmp_path / str(workers)
        synthesize_phrases(GttsEngine("en"), WORDS, SpeechCache(folder), workers=workers)
        names.append(sorted(p.name for p in folder.rglob("*.wav")))
    assert names[0] == names[1]
    assert len(names[0]) == len(WORDS)


def test_piper_synthesises_in_worker_processes(tmp_path: Path) -> None:
    cache = SpeechCache(tmp_path)
    ticks: list[int] = []
    clips = synthesize_phrases(
        PiperEngine("en"), WORDS, cache, lambda done, total: ticks.append(done), workers=2
    )
    assert list(clips) == WORDS
    assert ticks == list(range(1, len(WORDS) + 1))
    assert all(len(pcm) > 4_000 for pcm in clips.values())
    assert len(list(tmp_path.rglob("*.wav"))) == len(WORDS)


def test_seed_routine_cold_build_asks_each_phrase_once_and_a_warm_one_asks_nothing(
    gtts_stub: GttsStub, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    routine = load_routine(SEED)
    prepared = prepare(routine, voice=VoiceSettings(engine="gtts"), cache_dir=tmp_path)
    asked = [r.text for r in gtts_stub.requests]
    assert len(asked) == len(set(asked)), "no phrase (or part of one) is asked twice"
    assert len(asked) >= len(prepared.clips) >= len(script_phrases(routine))

    closed_port_url(monkeypatch)  # Google gone: the warm build needs nothing from it
    warm = prepare(routine, voice=VoiceSettings(), cache_dir=tmp_path)
    assert (warm.engine, warm.notice) == ("gtts", None), "auto keeps the voice of the cache"
    assert gtts_stub.count == len(asked)
    assert warm.script == prepared.script
