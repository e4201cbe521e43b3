from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from apps.integrations.dispatch import SUBSCRIBERS, Subscriber


@pytest.fixture
def subscriber() -> Iterator[Callable[[str, Subscriber], None]]:
    """`subscriber(name, fn)`: a subscriber of the test's own in the registry, removed afterwards."""
    added: list[str] = []

    def register(name: str, fn: Subscriber) -> None:
        SUBSCRIBERS[name] = fn
        added.append(name)

    yield register
    for name in added:
        SUBSCRIBERS.pop(name, None)
