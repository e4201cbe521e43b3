"""A browser command that hangs fails within ARGUS_BROWSER_COMMAND_TIMEOUT instead of holding the worker."""

import time

import pytest
from django.test import override_settings

from apps.test_runs.engine.driver import launch_browser
from apps.test_runs.engine.interpreter import DRIVER_GONE_ERRORS

BUSY_FOR_FOUR_SECONDS = "const start = Date.now(); while (Date.now() - start < 4000) {} return 1;"


def test_a_command_the_browser_does_not_answer_in_time_raises_a_driver_error():
    with override_settings(ARGUS_BROWSER_COMMAND_TIMEOUT=1):
        browser = launch_browser()
    try:
        assert browser.driver.execute_script("return 2;") == 2
        started = time.monotonic()
        with pytest.raises(DRIVER_GONE_ERRORS):
            browser.driver.execute_script(BUSY_FOR_FOUR_SECONDS)
        assert time.monotonic() - started < 3
    finally:
        browser.quit()
