"""Changed versions of the shop, for self-healing tests and demos: the same pages after a redesign.

- `renamed`: the buy button and the cart counter get new ids, classes and test ids, and the search
  button is reworded ("Find"); every element is still there, so a run should heal and pass.
- `removed`: the buy button is gone; a step that clicks it must fail, never heal onto something else.

Choose one per server (`python -m demo_shop --variant renamed`) or per request through the host name:
`http://renamed.localhost:8001/` (browsers resolve `*.localhost` to this machine) serves that variant
while `http://127.0.0.1:8001/` keeps serving the original.
"""

from __future__ import annotations

import re

# Test ids first: `id="..."` is also the tail of `data-testid="..."`, hence the leading space on ids.
RENAMED = (
    ('data-testid="add-to-cart"', 'data-testid="buy-button"'),
    ('data-testid="cart-count"', 'data-testid="basket-count"'),
    ('data-testid="search-button"', 'data-testid="find-button"'),
    (' id="add-to-cart"', ' id="buy-now"'),
    (' id="cart-count"', ' id="basket-count"'),
    ('class="button primary" data-testid="buy-button"', 'class="btn btn-main" data-testid="buy-button"'),
    ('data-testid="find-button">Search<', 'data-testid="find-button">Find<'),
)
_BUY_BUTTON = re.compile(r'\s*<button type="submit" id="add-to-cart"[^>]*>.*?</button>', re.S)
VARIANTS = ("original", "renamed", "removed")


def variant_for_host(host: str, default: str = "original") -> str:
    """`renamed.localhost:8001` → "renamed"; any other host keeps the server's default variant."""
    label = host.split(".", 1)[0].split(":", 1)[0].lower()
    return label if label in VARIANTS and "." in host else default


def apply_variant(html: str, variant: str) -> str:
    if variant == "renamed":
        for old, new in RENAMED:
            html = html.replace(old, new)
    elif variant == "removed":
        html = _BUY_BUTTON.sub("", html)
    return html
