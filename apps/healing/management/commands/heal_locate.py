"""`manage.py heal_locate --baseline BASELINE.html --page PAGE.html --selector CSS [--action click]`

Loads both pages in one headless Chromium (file:// URLs), takes the fingerprint of the selector's element
on the baseline, heals on the page with the same `heal()` the runs use, and prints the decision as JSON.
Exit status: 0 healed, 1 refused, 2 bad input (a missing file, or a selector that finds nothing on the
baseline). Needs no database.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

from django.conf import settings
from django.core.management.base import BaseCommand, CommandParser
from selenium import webdriver
from selenium.common.exceptions import InvalidSelectorException, WebDriverException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By

from apps.healing.healer import MIN_CONFIDENCE, MIN_MARGIN, fingerprint_of, heal
from apps.test_runs.engine.driver import chrome_options

EXIT_HEALED, EXIT_REFUSED, EXIT_BAD_INPUT = 0, 1, 2


class Command(BaseCommand):
    help = "Heal a CSS selector from a baseline page onto a changed page and print the decision as JSON."
    requires_system_checks: list = []

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--baseline", required=True, help="HTML file where the selector works")
        parser.add_argument("--page", required=True, help="HTML file to heal on")
        parser.add_argument("--selector", required=True, help="CSS selector of the element on the baseline")
        parser.add_argument("--action", default="click",
                            help="the step's action (assertions must agree on identity): click, type, assert_text…")
        parser.add_argument("--min-confidence", type=float, default=MIN_CONFIDENCE)
        parser.add_argument("--min-margin", type=float, default=MIN_MARGIN)

    def handle(self, *args, **options) -> None:
        baseline, page = Path(options["baseline"]).resolve(), Path(options["page"]).resolve()
        for path in (baseline, page):
            if not path.is_file():
                self._fail(f"No such file: {path}")
        user_data_dir = tempfile.mkdtemp(prefix="argus-heal-locate-")
        driver = None
        try:
            service = Service(settings.ARGUS_CHROMEDRIVER, log_output=subprocess.DEVNULL)
            driver = webdriver.Chrome(service=service, options=chrome_options(user_data_dir))
            driver.get(baseline.as_uri())
            try:
                found = driver.find_elements(By.CSS_SELECTOR, options["selector"])
            except (InvalidSelectorException, WebDriverException) as exc:
                self._fail(f"The selector “{options['selector']}” is not valid CSS: {exc.msg or exc}".strip())
            if not found:
                self._fail(f"The selector “{options['selector']}” finds nothing on the baseline {baseline.name}.")
            fingerprint = fingerprint_of(driver, found[0])
            driver.get(page.as_uri())
            decision = heal(driver, fingerprint, action=options["action"],
                            min_confidence=options["min_confidence"], min_margin=options["min_margin"])
        finally:
            if driver is not None:
                driver.quit()
            shutil.rmtree(user_data_dir, ignore_errors=True)
        self.stdout.write(json.dumps(decision.as_dict(), ensure_ascii=False, indent=2))
        sys.exit(EXIT_HEALED if decision.accepted else EXIT_REFUSED)

    def _fail(self, message: str) -> None:
        self.stderr.write(f"heal_locate: {message}")
        sys.exit(EXIT_BAD_INPUT)
