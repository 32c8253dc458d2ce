"""The studio in a real Chromium, driven by Playwright: write, see, build, hear, download.

Debian's ``chromium`` is driven through ``executable_path`` (Playwright's own browser
download is not used). Set ``WORKOUT_AUDIO_SCREENSHOTS=docs`` to refresh the README's
screenshots in docs/; otherwise they are taken into the test's temporary folder.
"""

from __future__ import annotations

import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import ROOT, decode
from studio_server import ENGINE, MISTAKE, TINY, StudioServer

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium: apt-get install chromium"),
]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
BUILD_TIMEOUT_MS = 240_000  # speech and encoding of a minute's track on a busy 2-core machine
FIXED = TINY.replace("{name: Plank, time: 6s}", "{name: Plank, time: 9s}")
LONGER_S = 5  # the length asked for: a little over the routine as written, to stay short


def _seconds(clock: str) -> int:
    minutes, seconds = clock.split(":")
    return int(minutes) * 60 + int(seconds)


@pytest.fixture
def studio(tmp_path: Path, speech_cache: Path) -> Iterator[StudioServer]:
    folder = tmp_path / "routines"
    folder.mkdir()
    (folder / "tiny.yaml").write_text(TINY, encoding="utf-8")
    with StudioServer(folder, cache_dir=speech_cache) as server:
        yield server


@pytest.fixture
def browser() -> Iterator[object]:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--autoplay-policy=no-user-gesture-required", "--mute-audio"],
        )
        try:
            yield chromium
        finally:
            chromium.close()


def test_write_see_build_hear_and_download_a_routine(
    studio: StudioServer, browser, tmp_path: Path
) -> None:
    context = browser.new_context(viewport=DESKTOP, accept_downloads=True)
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    try:
        page = context.new_page()
        page.goto(studio.url)
        page.get_by_label("Voice").select_option(ENGINE)
        editor = page.get_by_test_id("editor")
        chart = page.get_by_test_id("chart")
        page.wait_for_function("document.querySelector('#chart svg') !== null", timeout=60_000)
        first_chart = chart.inner_html()

        # a mistake is shown under the editor and marked at its line
        editor.fill(MISTAKE)
        errors = page.get_by_test_id("errors")
        errors.get_by_text(re.compile(r"^tiny\.yaml:7: blocks\[0\]\.rounds: ")).wait_for()
        assert page.locator("#gutter span.bad").all_inner_texts() == ["7"]

        # fixed (and one exercise longer), the errors go and the chart changes
        editor.fill(FIXED)
        page.wait_for_function(
            "document.querySelector('#errors').children.length === 0 && "
            f"document.querySelector('#chart').innerHTML !== {first_chart!r}",
            timeout=60_000,
        )
        assert page.locator("#gutter span.bad").count() == 0
        assert "Plank" in page.get_by_test_id("script").inner_text()

        # a length inside the bounds the page shows
        now_s = _seconds(page.locator("#length-now").inner_text())
        bounds = re.findall(r"\d+:\d\d", page.locator("#bounds").inner_text())
        longest_s = _seconds(bounds[1])
        target_s = now_s + LONGER_S
        assert now_s < target_s < longest_s
        page.get_by_test_id("length").fill(f"{target_s}s")
        page.get_by_test_id("length").press("Tab")
        page.wait_for_function(
            f"document.querySelector('#length-now').textContent === "
            f"'{target_s // 60}:{target_s % 60:02d}'",
            timeout=60_000,
        )

        # build, and see the progress reach its end
        page.get_by_test_id("build").click()
        page.wait_for_function(
            "document.querySelector('[data-testid=progress]').value === 1",
            timeout=BUILD_TIMEOUT_MS,
        )
        assert page.locator("#build-error").inner_text() == ""
        chapters = page.get_by_test_id("chapters").locator("li")
        assert chapters.count() >= 3  # one a set; the length may have added a round

        # it plays, and the third chapter seeks to its start
        page.evaluate("document.querySelector('#player').play()")
        page.wait_for_function("document.querySelector('#player').currentTime > 0.5")
        page.wait_for_function("document.querySelector('#cue').textContent !== ''")
        page.evaluate("document.querySelector('#player').pause()")
        third_s = float(chapters.nth(2).get_attribute("data-start-s") or "nan")
        assert third_s > 0
        chapters.nth(2).get_by_role("button").click()
        position_s = page.evaluate("document.querySelector('#player').currentTime")
        assert abs(position_s - third_s) < 0.5

        # the track downloads whole, at the length asked for
        with page.expect_download() as downloading:
            page.get_by_test_id("download").get_by_role("link").first.click()
        saved = tmp_path / "downloaded.mp3"
        downloading.value.save_as(saved)
        assert abs(len(decode(saved)) / 1000 - target_s) < 0.1

        _screenshots(page, tmp_path)
    finally:
        context.close()
    others = [url for url in requests if not url.startswith((f"{studio.url}/", "data:", "blob:"))]
    assert requests
    assert others == []


def test_every_control_has_a_label_and_the_keyboard_reaches_build(
    studio: StudioServer, browser
) -> None:
    page = browser.new_page(viewport=PHONE)
    try:
        page.goto(studio.url)
        unlabelled = page.evaluate(
            """[...document.querySelectorAll('input, select, textarea, button')]
                 .filter((c) => !(c.labels && c.labels.length) && !c.getAttribute('aria-label')
                                && !(c.tagName === 'BUTTON' && c.textContent.trim()))
                 .map((c) => c.id)"""
        )
        assert unlabelled == []
        focused = []
        for _ in range(30):
            page.keyboard.press("Tab")
            focused.append(page.evaluate("document.activeElement.id"))
            if focused[-1] == "editor":
                page.keyboard.press("Escape")  # Tab then leaves the editor
            if focused[-1] == "build":
                break
        assert focused[-1] == "build", focused
    finally:
        page.close()


def _screenshots(page, tmp_path: Path) -> None:
    """The desktop and phone views of the built routine, checked to be the sizes asked for."""
    from PIL import Image

    folder = ROOT / "docs" if os.environ.get("WORKOUT_AUDIO_SCREENSHOTS") == "docs" else tmp_path
    page.evaluate("window.scrollTo(0, 0)")
    for name, size in (("desktop", DESKTOP), ("phone", PHONE)):
        page.set_viewport_size(size)
        path = folder / f"studio-{name}.png"
        page.screenshot(path=str(path))
        with Image.open(path) as shot:
            assert shot.size == (size["width"], size["height"])
            assert len(shot.convert("L").getcolors(maxcolors=256) or []) > 16  # not a blank


def test_a_failed_build_shows_its_error_line_and_the_page_goes_on(
    studio: StudioServer, browser
) -> None:
    page = browser.new_page(viewport=DESKTOP)
    try:
        page.goto(studio.url)
        page.get_by_test_id("editor").wait_for()
        page.wait_for_function("document.querySelector('#editor').value !== ''")
        page.get_by_test_id("length").fill("2h")
        page.get_by_test_id("build").click()
        error = page.locator("#build-error")
        error.get_by_text(re.compile(r"^tiny\.yaml: cannot make a 2:00:00 track")).wait_for()
        assert page.get_by_test_id("progress").evaluate("bar => bar.value") == 0
        assert page.get_by_test_id("build").is_enabled()
        page.get_by_test_id("length").fill("")
        page.get_by_test_id("length").press("Tab")  # the page still checks, the server answers
        page.wait_for_function("document.querySelector('#chart svg') !== null", timeout=60_000)
    finally:
        page.close()


def test_a_program_shows_its_sessions_and_after_build_all_its_feed_and_qr(
    studio: StudioServer, browser
) -> None:
    from test_studio_programs import PROGRAM

    (studio.folder / "plan.yaml").write_text(PROGRAM, encoding="utf-8")
    page = browser.new_page(viewport=PHONE)
    try:
        page.goto(studio.url)
        page.get_by_label("Voice").select_option(ENGINE)
        page.get_by_test_id("programs").select_option("plan.yaml")
        sessions = page.get_by_test_id("sessions").locator("li")
        sessions.first.wait_for()
        assert sessions.all_inner_texts() == ["Week 1, day 1: Day one", "Week 1, day 2: Day two"]
        assert page.get_by_test_id("qr").is_hidden()  # nothing built yet

        page.get_by_test_id("build-all").click()
        page.wait_for_function(
            "document.querySelector('[data-testid=program-progress]').value === 1",
            timeout=BUILD_TIMEOUT_MS,
        )
        assert page.locator("#program-error").inner_text() == ""
        feed = page.get_by_test_id("feed")
        assert re.fullmatch(rf"{re.escape(studio.url)}/feeds/[\w-]+/feed\.xml", feed.inner_text())
        qr = page.get_by_test_id("qr")
        assert qr.is_visible()
        # the image decoded and drawn: a QR code of that URL is at least 25 modules wide
        assert qr.evaluate("img => img.complete && img.naturalWidth") >= 25 * 4
    finally:
        page.close()
