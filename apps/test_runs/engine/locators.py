"""Finding a step's element: every locator of a target is evaluated inside the page by one script
(locate.js), so each poll of a wait costs one WebDriver round trip whatever the number of locators.

The same script is embedded in exported pytest files (apps.generated_tests.export), so an exported
test resolves its targets exactly as the engine does.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement

LOCATE_JS = (Path(__file__).with_name("locate.js")).read_text()
LOCATE_SCRIPT = LOCATE_JS + "\nreturn argusLocate(arguments[0], arguments[1], arguments[2]);"

WANT_VISIBLE = "visible"
WANT_PRESENT = "present"


@dataclass
class Located:
    """What one evaluation of a target's locators found."""

    found: bool
    url: str = ""
    locator: Mapping[str, Any] | None = None
    element: WebElement | None = None
    visible: bool = False
    enabled: bool = False
    count: int = 0
    text: str = ""
    fingerprint: dict | None = None
    invalid: list[str] = field(default_factory=list)

    @property
    def resolved(self) -> str:
        return describe_locator(self.locator) if self.locator else ""


def describe_locator(locator: Mapping[str, Any]) -> str:
    """`css=#add`, `role=button[name="Add to cart"]`, `text="Exact words"`, `test_id=add-to-cart`."""
    kind, value = locator["kind"], locator["value"]
    if kind == "role":
        name = locator.get("name")
        return f'role={value}[name="{name}"]' if name else f"role={value}"
    if kind == "text" and locator.get("exact"):
        return f'text="{value}"'
    return f"{kind}={value}"


def locate(driver: WebDriver, locators: Sequence[Mapping[str, Any]], *, want: str = WANT_VISIBLE,
           fingerprint: bool = True) -> Located:
    """Evaluate the locators once, in order; the first with a (visible, when wanted) match wins."""
    answer = driver.execute_script(LOCATE_SCRIPT, [dict(locator) for locator in locators], want, fingerprint)
    if not answer or not answer.get("found"):
        return Located(found=False, url=(answer or {}).get("url", ""), invalid=(answer or {}).get("invalid", []))
    return Located(
        found=True, url=answer["url"], locator=locators[answer["index"]], element=answer["element"],
        visible=answer["visible"], enabled=answer["enabled"], count=answer["count"], text=answer["text"] or "",
        fingerprint=answer["fingerprint"], invalid=answer["invalid"],
    )
