"""The web app in a real browser: headless Debian Chromium driven by Playwright, against `python app.py`."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest

playwright_sync = pytest.importorskip("playwright.sync_api")

from app_server import shared_app_server  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
EXAMPLE = REPO / "examples" / "salsa_clave_del_puerto_180bpm.mp3"
CHROMIUM = os.environ.get("LODGE_CHROMIUM", "/usr/bin/chromium")
# Software WebGL (SwiftShader), so that the 3D view renders without a GPU.
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--use-angle=swiftshader", "--enable-unsafe-swiftshader",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync",
                 "--no-first-run"]
SCREENSHOT_DIR = Path(os.environ.get("LODGE_SCREENSHOT_DIR", REPO / "outputs" / "screenshots"))

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists() and not shutil.which("chromium"), reason="needs Chromium"),
]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    return shared_app_server(tmp_path_factory.mktemp("app_server"))


@pytest.fixture(scope="module")
def page(server):
    with playwright_sync.sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        context = browser.new_context(viewport={"width": 1360, "height": 1000})
        # Nothing outside localhost: the page must work offline.
        context.route("**/*", lambda route: route.continue_() if route.request.url.startswith(server.url)
                      or route.request.url.startswith(("data:", "blob:")) else route.abort())
        page = context.new_page()
        page.goto(server.url, wait_until="domcontentloaded")
        page.wait_for_selector("#lodge-generate", timeout=60_000)
        yield page
        browser.close()


def _error_text(page) -> str:
    toasts = page.locator(".toast-body.error, .toast-wrap .error")
    return " | ".join(toasts.all_inner_texts()) if toasts.count() else ""


def test_page_explains_itself(page):
    header = page.locator("#lodge-header").inner_text()
    assert "Lodge Studio" in header and "Generate" in header
    assert "up to 10 min" in page.locator("#lodge-limits").inner_text()
    assert page.locator("#lodge-model-error").count() == 0
    assert page.get_by_text("Example songs").count() >= 1


def test_clicking_an_example_fills_music_and_genre(page):
    page.get_by_text("Ragtime maple street shuffle (140 BPM)").click()
    page.wait_for_function(
        "() => document.querySelector('#lodge-genre input')?.value === 'ragtime'", timeout=30_000)
    page.locator("#lodge-music audio, #lodge-music wave, #lodge-music .waveform-container").first.wait_for(
        state="attached", timeout=30_000)


def test_upload_generate_and_watch(page, server):
    clear = page.locator("#lodge-music button[aria-label='Clear']")
    if clear.count():  # an example is loaded: remove it so that the upload box shows again
        clear.first.click()
    page.locator("#lodge-music input[type=file]").set_input_files(str(EXAMPLE))
    page.wait_for_selector("#lodge-music audio, #lodge-music .waveform-container, #lodge-music wave", timeout=30_000,
                           state="attached")
    page.locator("#lodge-genre input").click()
    page.get_by_role("option", name="salsa").click()
    # Fast settings for a short test: first 6 s, 3 DDIM steps, small video at 15 fps.
    page.get_by_text("Advanced", exact=True).click()
    page.get_by_label("First N seconds").check()
    seconds = page.locator("#lodge-first-seconds input[type=number]")
    seconds.fill("6")
    seconds.press("Enter")
    steps = page.locator("#lodge-steps input[type=number]")
    steps.fill("3")
    steps.press("Enter")
    page.locator("#lodge-size input").click()
    page.get_by_role("option", name="Small · 256 px").click()
    page.get_by_label("15 fps (renders faster)").check()
    page.get_by_text("Estimated time here for these 6 s of music").wait_for(timeout=30_000)

    page.locator("#lodge-generate").click()
    # The progress bar names the stage it is in; rendering is the longest stage here.
    page.get_by_text("Rendering the video and the downloads").first.wait_for(timeout=120_000)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.evaluate("window.scrollTo(0, 0)")
    page.screenshot(path=str(SCREENSHOT_DIR / "app_progress.png"))
    page.wait_for_selector("#lodge-video video", timeout=150_000)
    page.wait_for_function(
        "() => { const v = document.querySelector('#lodge-video video'); return v && v.readyState >= 1; }",
        timeout=30_000)
    page.wait_for_selector("#lodge-3d canvas", timeout=30_000)
    page.wait_for_timeout(3000)  # let the 3D view load the GLB and the timeline image settle
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / "app_after_generate.png"), full_page=True)

    assert _error_text(page) == "", _error_text(page)
    duration = page.evaluate("() => document.querySelector('#lodge-video video').duration")
    assert abs(duration - 6.0) < 0.15, duration
    summary = page.locator("#lodge-summary").inner_text()
    assert "Duration" in summary and "salsa" in summary
    assert "Traceback" not in page.content()
    assert page.locator("#lodge-timeline img").count() == 1
    assert page.locator("#lodge-3d canvas").count() == 1
    assert page.locator("#lodge-files a").count() >= 5


def _drawn_pixels(png: bytes, skip_top: int = 44) -> int:
    """Pixels that differ clearly from the backdrop (the most common colour), below the label strip."""
    import io

    import numpy as np
    from PIL import Image

    pixels = np.asarray(Image.open(io.BytesIO(png)).convert("RGB"))[skip_top:].reshape(-1, 3).astype(int)
    colours, counts = np.unique(pixels, axis=0, return_counts=True)
    backdrop = colours[np.argmax(counts)]
    return int(np.sum(np.abs(pixels - backdrop).sum(axis=1) > 60))


def test_the_3d_view_shows_the_dancer(page):
    """After the generation above, the 3D view's canvas shows the animated GLB's dancer (software WebGL).

    The test checkpoint is random, so its dancer wanders metres and the viewer, framing the whole dance,
    shows it small: a few hundred pixels are asked for; a blank view has none."""
    canvas = page.locator("#lodge-3d canvas")
    canvas.scroll_into_view_if_needed()
    page.wait_for_timeout(3000)  # the GLB loads and the first frames draw
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    png = canvas.screenshot(path=str(SCREENSHOT_DIR / "app_3d_view.png"))
    drawn = _drawn_pixels(png)
    assert drawn > 150, f"the 3D view is blank ({drawn} pixels drawn)"


def test_a_refused_song_has_a_toast_that_says_what_went_wrong(page, tmp_path):
    text = tmp_path / "notes.mp3"
    text.write_text("not music\n" * 100)
    clear = page.locator("#lodge-music button[aria-label='Clear']")
    if clear.count():
        clear.first.click()
    page.locator("#lodge-music input[type=file]").set_input_files(str(text))
    page.wait_for_timeout(1500)
    page.locator("#lodge-generate").click()
    toast = page.locator(".toast-wrap").first
    toast.wait_for(timeout=60_000)
    page.wait_for_timeout(500)
    SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOT_DIR / "app_refused_song.png"))
    text_shown = toast.inner_text()
    assert "notes.mp3" in text_shown and "Traceback" not in text_shown, text_shown
    assert "Not a music file" in text_shown or "Unreadable music" in text_shown, text_shown


DOCS = REPO / "docs"


def test_edit_panel_reroll_and_undo(page, server):
    """A fresh page: generate 10 s (two segments), re-roll segment 0 from the edit panel, undo; the versions
    list says where the dance is, and a picture of the panel goes to docs/edit_panel.png."""
    page.goto(server.url, wait_until="domcontentloaded")
    page.wait_for_selector("#lodge-generate", timeout=60_000)
    assert not page.locator("#lodge-edit").is_visible()  # no dance yet
    page.locator("#lodge-music input[type=file]").set_input_files(str(EXAMPLE))
    page.wait_for_selector("#lodge-music audio, #lodge-music .waveform-container, #lodge-music wave", timeout=30_000,
                           state="attached")
    page.locator("#lodge-genre input").click()
    page.get_by_role("option", name="salsa").click()
    page.get_by_text("Advanced", exact=True).click()
    page.get_by_label("First N seconds").check()
    for selector, value in (("#lodge-first-seconds input[type=number]", "10"), ("#lodge-steps input[type=number]", "3")):
        box = page.locator(selector)
        box.fill(value)
        box.press("Enter")
    page.locator("#lodge-size input").click()
    page.get_by_role("option", name="Small · 256 px").click()
    page.get_by_label("15 fps (renders faster)").check()
    page.locator("#lodge-generate").click()

    page.locator("#lodge-edit").wait_for(state="visible", timeout=180_000)
    versions = page.locator("#lodge-versions input")
    page.wait_for_function("() => document.querySelector('#lodge-versions input')?.value === 'v1 original'",
                           timeout=30_000)
    segments = page.locator("#lodge-segments")
    assert "0: 0.0–8.5 s" in segments.inner_text() and "1: 8.5–10.0 s" in segments.inner_text()
    segments.get_by_label("0: 0.0–8.5 s").check()
    page.locator("#lodge-reroll").click()
    # Undo waits while the edit runs (its video would otherwise land after the Undo)
    page.wait_for_function("() => document.querySelector('#lodge-undo')?.disabled === true", timeout=30_000)
    page.wait_for_function("() => document.querySelector('#lodge-versions input')?.value === 'v2 reroll 0'",
                           timeout=120_000)
    page.wait_for_function(
        "() => { const v = document.querySelector('#lodge-video video'); return v && v.readyState >= 1; }",
        timeout=120_000)
    page.wait_for_timeout(2000)  # the timeline image and the summary settle
    assert _error_text(page) == "", _error_text(page)
    assert "reroll of segment(s) 0" in page.locator("#lodge-summary").inner_text()

    versions.click()  # the list of versions, open, in the picture
    page.get_by_role("option", name="v1 original").wait_for(timeout=10_000)
    assert page.get_by_role("option", name="v2 reroll 0").count() == 1
    scroll_x, scroll_y = page.evaluate("() => [window.scrollX, window.scrollY]")
    boxes = [page.locator(sel).bounding_box() for sel in ("#lodge-timeline", "#lodge-edit")]
    boxes = [dict(b, x=b["x"] + scroll_x, y=b["y"] + scroll_y) for b in boxes]  # page, not viewport, coordinates
    top = min(b["y"] for b in boxes) - 8
    bottom = max(b["y"] + b["height"] for b in boxes) + 8
    left = min(b["x"] for b in boxes) - 8
    right = max(b["x"] + b["width"] for b in boxes) + 8
    page.screenshot(path=str(DOCS / "edit_panel.png"), full_page=True,
                    clip={"x": left, "y": top, "width": right - left, "height": bottom - top})
    page.keyboard.press("Escape")

    page.wait_for_function("() => document.querySelector('#lodge-undo')?.disabled === false", timeout=120_000)
    page.locator("#lodge-undo").click()  # the list's blur (which re-chooses v2) and the Undo race: Undo wins
    page.wait_for_function("() => document.querySelector('#lodge-versions input')?.value === 'v1 original'",
                           timeout=30_000)
    # The versions list and the summary are separate outputs of the same event: wait for both.
    page.wait_for_function("() => !document.querySelector('#lodge-summary')?.innerText.includes('reroll')",
                           timeout=30_000)
    assert _error_text(page) == "", _error_text(page)
    versions.click()  # choosing a version shows it again, without rendering anything
    page.get_by_role("option", name="v2 reroll 0").click()
    page.get_by_text("reroll of segment(s) 0").wait_for(timeout=30_000)
    assert _error_text(page) == "", _error_text(page)
    assert "Traceback" not in page.content()
