"""The "Smoke" suite: tests in the steps DSL v1 that exercise every page of the demo shop.

Logins read `{{ env.SHOP_EMAIL }}` and `{{ env.SHOP_PASSWORD }}`, so the environment the suite runs
in needs both variables (seed_demo creates them on the demo project's `dev` environment).
"""

from __future__ import annotations

import json
from pathlib import Path

SUITE_FILE = Path(__file__).resolve().parent / "suite.json"
SUITE_NAME = "Smoke"


def load_suite() -> list[dict]:
    """The suite's tests, in order: {"name", "description", "tags", "version", "start_url", "steps"}."""
    return json.loads(SUITE_FILE.read_text(encoding="utf-8"))
