"""End to end in a real browser: headless Chromium (Debian ``chromium`` + ``chromium-driver``, set
up by scripts/setup.sh) drives the studio page served by uvicorn.

Opens the page, uploads a bundled example song, waits for the drums, checks that the piano roll
drew drum notes, that the audio of the song with drums lasts as long as the song, and that the
MIDI file the page downloads is a valid MIDI file with a drum track (channel 10); a broken file
first gets the CLI's one-line reason on the page. Then it redraws a
section (a second take) and goes back to the first. The screenshot
is saved as ``studio.png`` in the test's temporary folder and, when ``DRUMGEN_ARTIFACTS`` names a
folder, there too.

Skipped only when Chromium or its driver is missing on a machine that is not CI (``CI=true``
makes a missing browser a failure).
"""

from __future__ import annotations

import os
import shutil
import socket
import threading
import time
from pathlib import Path

import mido
import pytest

from drumgen.studio.app import EXAMPLES_DIR, create_app
from drumgen.studio.server import create_studio

pytestmark = pytest.mark.slow

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
EXAMPLE = "example_pop_aabacb.mid"
WAIT_SECONDS = 120
DURATION = """const audio = document.getElementById(arguments[0]);
return audio.readyState >= 1 && isFinite(audio.duration) ? audio.duration : null;"""
"""An audio element's duration in seconds once the browser has read it (else null)."""


def _browser_or_skip() -> None:
    missing = [str(path) for path in (CHROMIUM, CHROMEDRIVER) if not path.is_file()]
    if missing and os.environ.get("CI") != "true":
        pytest.skip(f"{', '.join(missing)} not installed (apt-get install chromium chromium-driver)")
    assert not missing, f"CI=true but {', '.join(missing)} is missing; scripts/setup.sh installs it"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@pytest.fixture(scope="module")
def server_url(tmp_path_factory):
    import uvicorn

    _browser_or_skip()
    studio = create_studio(tmp_path_factory.mktemp("work"))
    port = _free_port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(studio), host="127.0.0.1", port=port, log_level="warning")
    )
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert time.monotonic() < deadline and thread.is_alive(), "uvicorn did not start"
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}/"
    server.should_exit = True
    thread.join(10)
    studio.close()


@pytest.fixture
def browser(tmp_path):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for argument in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1300,2000"):
        options.add_argument(argument)
    options.add_argument("--autoplay-policy=no-user-gesture-required")
    downloads = tmp_path / "downloads"
    downloads.mkdir()
    options.add_experimental_option(
        "prefs", {"download.default_directory": str(downloads), "download.prompt_for_download": False}
    )
    driver = webdriver.Chrome(options=options, service=Service(executable_path=str(CHROMEDRIVER)))
    driver.downloads = downloads
    yield driver
    driver.quit()


def _wait(browser, condition, what: str):
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(browser, WAIT_SECONDS, poll_frequency=0.2).until(lambda _: condition(), message=what)


def test_upload_hear_and_download_in_a_browser(server_url, browser, tmp_path) -> None:
    from selenium.webdriver.common.by import By

    browser.get(server_url)
    assert browser.title == "drumgen studio"
    _wait(
        browser,
        lambda: browser.find_element(By.ID, "examples").get_attribute("length") != "0",
        "examples listed",
    )
    body = browser.find_element(By.TAG_NAME, "body")
    # a broken file: the CLI's one-line reason on the page
    broken = tmp_path / "broken.mid"
    broken.write_bytes(b"MThd but nothing after it")
    browser.find_element(By.ID, "upload").send_keys(str(broken))
    _wait(browser, lambda: body.get_attribute("data-state") == "error", "the error")
    message = browser.find_element(By.ID, "error").text
    assert message.startswith("broken.mid: ") and "\n" not in message, message

    browser.find_element(By.ID, "upload").send_keys(str(EXAMPLES_DIR / EXAMPLE))
    error = browser.find_element(By.ID, "error")
    _wait(
        browser,
        lambda: (
            body.get_attribute("data-state") == "ready" or (error.is_displayed() and error.text != message)
        ),
        "drums",
    )
    assert not error.is_displayed(), error.text
    roll = browser.find_element(By.ID, "pianoroll")
    drum_notes, song_notes = (
        int(roll.get_attribute("data-drum-notes")),
        int(roll.get_attribute("data-song-notes")),
    )
    assert drum_notes > 24 * 4, "at least a drum hit per beat of the 24 bars"
    assert song_notes > 24
    song_seconds = browser.execute_script("return state.run.bar_times[state.run.bar_times.length - 1]")
    assert song_seconds == pytest.approx(53.3, abs=0.5)
    duration = _wait(browser, lambda: browser.execute_script(DURATION, "take-audio"), "the audio's duration")
    assert duration == pytest.approx(song_seconds, abs=1.5)  # the song and a 1 s tail
    alone = _wait(browser, lambda: browser.execute_script(DURATION, "song-audio"), "the song's duration")
    assert alone == pytest.approx(song_seconds, abs=0.5)

    browser.find_element(By.CSS_SELECTOR, "#takes a.download-midi").click()
    downloaded = _wait(
        browser, lambda: [p for p in browser.downloads.glob("*.mid")] or None, "the downloaded MIDI file"
    )[0]
    song = mido.MidiFile(str(downloaded))
    drum_notes_in_file = sum(
        1
        for track in song.tracks
        for message in track
        if message.type == "note_on" and message.channel == 9 and message.velocity
    )
    assert drum_notes_in_file == drum_notes  # the piano roll drew every hit of the file
    assert any(
        message.type == "note_on" and message.channel != 9 for track in song.tracks for message in track
    )

    # redraw the second section: a new take, the first one kept and still reachable
    browser.find_element(By.CSS_SELECTOR, ".sections button[data-section='1']").click()
    _wait(
        browser,
        lambda: body.get_attribute("data-take") == "2" and body.get_attribute("data-state") == "ready",
        "take 2",
    )
    rows = browser.find_elements(By.CSS_SELECTOR, "#takes tbody tr")
    assert [row.get_attribute("data-take") for row in rows] == ["2", "1"]
    assert "take 1, bars 9-12 redrawn" in rows[0].text
    assert int(roll.get_attribute("data-drum-notes")) > 24 * 4
    rows[1].find_element(By.TAG_NAME, "button").click()
    _wait(
        browser,
        lambda: body.get_attribute("data-take") == "1" and body.get_attribute("data-state") == "ready",
        "take 1 again",
    )
    assert int(roll.get_attribute("data-drum-notes")) == drum_notes

    screenshot = tmp_path / "studio.png"
    browser.save_screenshot(str(screenshot))
    assert screenshot.stat().st_size > 10_000
    if os.environ.get("DRUMGEN_ARTIFACTS"):
        folder = Path(os.environ["DRUMGEN_ARTIFACTS"])
        folder.mkdir(parents=True, exist_ok=True)
        shutil.copy(screenshot, folder / "studio.png")
