"""Browsers for the engine: a brand-new headless Chromium for every test, started ahead of time.

Starting Chromium costs about as much as a short test, so each worker process keeps ONE browser
warming in a background thread while the current test runs. A browser is never used twice: the
next test gets the warm one (its own fresh user-data-dir), and the one just used is quit.

The device is applied when a test takes the browser, through the DevTools emulation commands that
chromedriver's `mobileEmulation` option sends (viewport metrics, pixel ratio, touch, user agent), so
one warm browser fits whichever device the next test asks for.

Browsers die with their worker: the pool quits them on `worker_process_shutdown` and at exit, and
a new worker process kills browsers whose owner process is gone (a child killed at its hard time
limit leaves its Chromium behind otherwise).
"""

from __future__ import annotations

import atexit
import contextlib
import logging
import os
import re
import shutil
import signal
import subprocess
import tempfile
import threading
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from celery.signals import worker_process_shutdown
from django.conf import settings
from selenium import webdriver
from selenium.common.exceptions import WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.chromium.remote_connection import ChromiumRemoteConnection
from selenium.webdriver.remote.webdriver import WebDriver

from apps.test_runs.devices import Device

logger = logging.getLogger(__name__)

CHROMIUM_FLAGS = (
    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
    "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync",
    "--window-size=1920,1080",
)
# The owner's pid is part of the folder name so a later process can tell whose browser it was.
USER_DATA_PREFIX = "argus-chromium-"
WARM_BROWSER_WAIT_SECONDS = 60


class BrowserStartError(Exception):
    pass


@dataclass
class Browser:
    driver: WebDriver
    user_data_dir: str | None = None

    def quit(self) -> None:
        try:
            self.driver.quit()
        except Exception:  # noqa: BLE001 - a crashed browser still has its folder to remove
            logger.warning("the browser did not quit cleanly", exc_info=True)
        finally:
            if self.user_data_dir:
                shutil.rmtree(self.user_data_dir, ignore_errors=True)


def chrome_options(user_data_dir: str | None) -> webdriver.ChromeOptions:
    options = webdriver.ChromeOptions()
    options.binary_location = settings.ARGUS_CHROMIUM_BINARY
    for flag in CHROMIUM_FLAGS:
        options.add_argument(flag)
    if user_data_dir:
        options.add_argument(f"--user-data-dir={user_data_dir}")
    # The browser log carries console errors and failed requests ("Failed to load resource"), which
    # is all the trace needs; the performance log would cost ~10% per page for the same facts.
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    return options


def launch_browser() -> Browser:
    """A new Chromium: local through Debian's chromedriver, or on the Selenium Grid when configured."""
    user_data_dir = None
    try:
        if settings.SELENIUM_REMOTE_URL:
            executor = ChromiumRemoteConnection(settings.SELENIUM_REMOTE_URL, vendor_prefix="goog",
                                                browser_name="chrome")
            browser = Browser(driver=webdriver.Remote(command_executor=executor, options=chrome_options(None)))
        else:
            user_data_dir = tempfile.mkdtemp(prefix=f"{USER_DATA_PREFIX}{os.getpid()}-")
            service = Service(settings.ARGUS_CHROMEDRIVER, log_output=subprocess.DEVNULL)
            driver = webdriver.Chrome(service=service, options=chrome_options(user_data_dir))
            browser = Browser(driver=driver, user_data_dir=user_data_dir)
    except BaseException as exc:
        if user_data_dir:
            shutil.rmtree(user_data_dir, ignore_errors=True)
        if isinstance(exc, WebDriverException):
            raise BrowserStartError(f"Could not start Chromium: {exc.msg or exc}".strip()) from exc
        raise
    # Selenium waits for chromedriver without any limit by default.
    browser.driver.command_executor.client_config.timeout = settings.ARGUS_BROWSER_COMMAND_TIMEOUT
    try:
        _prepare(browser.driver)
    except BaseException as exc:
        browser.quit()
        if isinstance(exc, WebDriverException):
            raise BrowserStartError(f"Chromium started but did not respond: {exc.msg or exc}".strip()) from exc
        raise
    return browser


# Installed in every document the browser loads: tells the engine whether the page changed since
# the last screenshot (document, DOM mutations, scroll, running animations), so a step that only
# reads the page can reuse that screenshot instead of capturing an identical one.
PAGE_WATCH_JS = """(() => {
  const documentId = Math.random().toString(36).slice(2);
  let mutations = 0;
  new MutationObserver(() => { mutations++; }).observe(document, {
    subtree: true, childList: true, attributes: true, characterData: true,
  });
  Object.defineProperty(window, "__argusPageState", {value: () => ({
    url: location.href, document: documentId, mutations: mutations, scroll: [scrollX, scrollY],
    animating: document.getAnimations().some((animation) => animation.playState === "running"),
  })});
})();"""


def _prepare(driver: WebDriver) -> None:
    """Off the clock for warm browsers: install the page watcher and leave chromedriver's start page."""
    try:
        cdp(driver, "Page.addScriptToEvaluateOnNewDocument", {"source": PAGE_WATCH_JS})
    except WebDriverException:
        logger.info("no DevTools on this browser: every screenshot will be captured")
    # Touch emulation applied on chromedriver's start page is lost by the first navigation (the page
    # then reports maxTouchPoints 0); from about:blank it holds.
    driver.get("about:blank")


def cdp(driver: WebDriver, command: str, params: dict | None = None) -> dict:
    """A DevTools command through the driver (works locally and on a Grid's Chrome nodes)."""
    return driver.execute("executeCdpCommand", {"cmd": command, "params": params or {}})["value"]


def browser_log(driver: WebDriver) -> list[dict]:
    """The browser log entries since the last call."""
    return driver.execute("getLog", {"type": "browser"})["value"]


def apply_device(driver: WebDriver, device: Device) -> None:
    """Make the page see the device: exact viewport, pixel ratio, touch and user agent."""
    cdp(driver, "Emulation.setDeviceMetricsOverride", {
        "width": device.width, "height": device.height, "deviceScaleFactor": device.pixel_ratio,
        "mobile": device.mobile, "screenWidth": device.width, "screenHeight": device.height,
    })
    if device.touch:
        cdp(driver, "Emulation.setTouchEmulationEnabled", {"enabled": True, "maxTouchPoints": 5})
    if device.user_agent:
        cdp(driver, "Emulation.setUserAgentOverride", {"userAgent": device.user_agent})


class BrowserPool:
    """One warm browser per worker process, and a background thread that starts and quits browsers."""

    def __init__(self, *, prewarm: bool) -> None:
        self._prewarm = prewarm
        self._lock = threading.Lock()
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="argus-browsers")
        self._warm: Future[Browser] | None = None
        self._closed = False

    def acquire(self, device: Device) -> Browser:
        """A fresh browser set up for the device (the warm one when it is ready and healthy)."""
        browser = self._take_warm()
        if browser is not None:
            try:
                apply_device(browser.driver, device)
            except WebDriverException:
                logger.warning("the warm browser was unusable; starting another", exc_info=True)
                self.release(browser)
                browser = None
        if browser is None:
            browser = launch_browser()
            try:
                apply_device(browser.driver, device)
            except BaseException:
                browser.quit()
                raise
        self.warm_up()
        return browser

    def release(self, browser: Browser) -> None:
        """Quit a used browser, off the test's critical path."""
        with self._lock:
            if not self._closed:
                self._executor.submit(browser.quit)
                return
        browser.quit()

    def shutdown(self) -> None:
        """Quit the warm browser and wait for every pending start and quit."""
        with self._lock:
            self._closed = True
            warm, self._warm = self._warm, None
        if warm is not None:
            warm.add_done_callback(_quit_started_browser)
        self._executor.shutdown(wait=True)

    def _take_warm(self) -> Browser | None:
        with self._lock:
            warm, self._warm = self._warm, None
        if warm is None:
            return None
        try:
            return warm.result(timeout=WARM_BROWSER_WAIT_SECONDS)
        except Exception:  # noqa: BLE001 - a failed warm start only costs a cold start
            logger.warning("warming a browser failed", exc_info=True)
            warm.add_done_callback(_quit_started_browser)
            return None

    def warm_up(self) -> None:
        """Start the next browser in the background (no-op if one is warming or pre-warm is off)."""
        if not self._prewarm:
            return
        with self._lock:
            if not self._closed and self._warm is None:
                self._warm = self._executor.submit(launch_browser)


def _quit_started_browser(future: Future) -> None:
    if not future.cancelled() and future.exception() is None:
        future.result().quit()


_pool: BrowserPool | None = None
_pool_pid: int | None = None
_pool_lock = threading.Lock()


def browser_pool() -> BrowserPool:
    """This process's pool (a forked child builds its own; threads do not survive a fork)."""
    global _pool, _pool_pid
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            reap_orphaned_browsers()
            prewarm = getattr(settings, "ARGUS_BROWSER_PREWARM", not settings.SELENIUM_REMOTE_URL)
            _pool, _pool_pid = BrowserPool(prewarm=prewarm), os.getpid()
        return _pool


def shutdown_browser_pool(**_signal_kwargs) -> None:
    global _pool
    with _pool_lock:
        if _pool is None or _pool_pid != os.getpid():
            return
        pool, _pool = _pool, None
    pool.shutdown()


worker_process_shutdown.connect(shutdown_browser_pool, weak=False)
atexit.register(shutdown_browser_pool)


def _process_alive(pid: int) -> bool:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return False
    return stat.rsplit(")", 1)[-1].split()[0] != "Z"  # a zombie is dead, just not reaped yet


def reap_orphaned_browsers() -> int:
    """Kill Chromium processes (and their chromedriver) whose owning worker process is gone, and
    remove their user-data-dirs. Returns how many processes were killed. Linux only (/proc)."""
    proc = Path("/proc")
    if not proc.is_dir():
        return 0
    marker = re.compile(rf"--user-data-dir={re.escape(tempfile.gettempdir())}/{USER_DATA_PREFIX}(\d+)-")
    doomed: set[int] = set()
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        match = marker.search(cmdline)
        if match is None or _process_alive(int(match.group(1))):
            continue
        doomed.add(int(entry.name))
        with contextlib.suppress(OSError, IndexError, ValueError):
            parent = int((entry / "stat").read_text().rsplit(")", 1)[-1].split()[1])
            if Path(f"/proc/{parent}/comm").read_text().strip() == "chromedriver":
                doomed.add(parent)
    for pid in doomed:
        with contextlib.suppress(OSError):
            os.kill(pid, signal.SIGKILL)
    for folder in Path(tempfile.gettempdir()).glob(f"{USER_DATA_PREFIX}*"):
        owner = folder.name[len(USER_DATA_PREFIX):].split("-", 1)[0]
        if owner.isdigit() and not _process_alive(int(owner)):
            shutil.rmtree(folder, ignore_errors=True)
    if doomed:
        logger.warning("killed %d browser process(es) left behind by dead workers", len(doomed))
    return len(doomed)
