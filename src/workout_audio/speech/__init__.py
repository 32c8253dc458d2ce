"""Speech: pick an engine, and turn phrases into clean clips through the cache."""

from __future__ import annotations

from .base import Engine
from .cache import CacheInfo, SpeechCache, default_cache_dir
from .choice import EngineReport, choose_engine, engine_reports, fallback_engine
from .registry import ENGINES, engine_class, engine_names, make_engine
from .workers import synthesize_phrases

__all__ = [
    "ENGINES",
    "CacheInfo",
    "Engine",
    "EngineReport",
    "SpeechCache",
    "choose_engine",
    "default_cache_dir",
    "engine_class",
    "engine_names",
    "engine_reports",
    "fallback_engine",
    "make_engine",
    "synthesize_phrases",
]
