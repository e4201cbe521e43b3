"""Grouping accuracy on a labelled set: hash-only grouping (a hash of the raw exception type + message, what
a naive intake does) against Argus's (fingerprint: tracker key, else normalized in-app frames, else type +
normalized message + place; then near-duplicate merge by embedding at the default similarity threshold).

The labelled set: every error the tracker fixtures in /work/shared/fixtures/webhooks/ describe (normalized
by the real normalizers), plus a catalogue of realistic errors, each in N generated variants of the same
error (other numbers, ids, users, e-mails, UUIDs, line numbers, release folders, bundle hashes, minified
names, query values, and the same error reported by a second tracker without the first one's fingerprint).
The catalogue holds look-alikes that are different errors: the same exception and message on different
frames, the same message template in different components or endpoints.

Assignments run in process with the production functions (grouping.group_key, embeddings.embed_group's
features, the ErrorSettings default threshold), in arrival order, as processing with auto-merge would.

    .venv/bin/python bench/grouping.py [--variants 8] [--seed 1]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import math
import os
import random
import re
import string
import sys
import uuid
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FIXTURES = Path("/work/shared/fixtures/webhooks")
TRACKERS = ["sentry", "datadog", "bugsnag", "rollbar", "newrelic", "fullstory"]
# Fixture files that describe the same error (same event, another API of the same tracker).
SAME_ERROR_FIXTURES = {"sentry/api_event.python_zero_division.oss_sentry.json":
                       "sentry/raw_event.python_zero_division.sdk.json",
                       # Sentry issue 1170820242: the issue and one of its error events.
                       "sentry/error.created.json": "sentry/issue.created.json"}
NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "argus.settings")
    os.environ.setdefault("SECRET_KEY", "argus-bench-only")
    import django

    django.setup()


@dataclass(frozen=True)
class Sample:
    label: str
    source: str
    event: object  # normalizers.NormalizedEvent


# -- the catalogue ------------------------------------------------------------------------------------------
# (label, exception type, message template, frames [(path, function, minified?)], component, api endpoint, url)

CATALOGUE = [
    ("cart-undefined", "TypeError", "Cannot read properties of undefined (reading 'items')",
     [("static/js/main.{hash}.js", "{min}", True), ("src/cart/CartDrawer.jsx", "addItem", False),
      ("src/cart/CartDrawer.jsx", "renderLines", False)], "CartDrawer", "", "/cart"),
    ("profile-undefined", "TypeError", "Cannot read properties of undefined (reading 'items')",
     [("static/js/main.{hash}.js", "{min}", True), ("src/profile/Avatar.jsx", "loadAvatar", False),
      ("src/profile/Avatar.jsx", "render", False)], "Avatar", "", "/account/{n}"),
    ("order-not-found", "OrderNotFound", "Order {n} not found for user {email}",
     [("/srv/releases/{release}/shop/orders/views.py", "detail", False),
      ("/srv/releases/{release}/shop/orders/services.py", "get_order", False)], "", "GET /api/orders/:id",
     "/orders/{n}"),
    ("refund-order-not-found", "OrderNotFound", "Order {n} not found for user {email}",
     [("/srv/releases/{release}/shop/admin/refunds.py", "refund", False),
      ("/srv/releases/{release}/shop/orders/services.py", "get_order_for_refund", False)], "",
     "POST /api/refunds", "/admin/refunds"),
    ("checkout-zero-division", "ZeroDivisionError", "division by zero",
     [("/srv/releases/{release}/shop/checkout/views.py", "summary", False),
      ("/srv/releases/{release}/shop/checkout/totals.py", "discount_ratio", False)], "", "", "/checkout"),
    ("payment-timeout", "PaymentGatewayError", "Payment gateway timeout after {n} ms for charge ch_{id}", [], "",
     "POST /api/charges", "/checkout/pay"),
    ("payment-declined", "PaymentGatewayError", "Payment declined for charge ch_{id}: insufficient funds", [], "",
     "POST /api/charges", "/checkout/pay"),
    ("signup-email-required", "ValidationError", "Field 'email' is required", [], "SignupForm", "", "/signup"),
    ("settings-email-required", "ValidationError", "Field 'email' is required", [], "SettingsForm", "",
     "/settings"),
    ("items-fetch-failed", "NetworkError", "Failed to fetch https://api.shop.example/v1/items/{n}?session={id}",
     [("static/js/vendor.{hash}.js", "{min}", True), ("src/api/client.js", "request", False),
      ("src/catalog/useItems.js", "loadItems", False)], "ItemGrid", "GET /v1/items/:id", "/shop"),
    ("sku-key-error", "KeyError", "'sku-{n}'",
     [("/srv/releases/{release}/shop/catalog/views.py", "product", False),
      ("/srv/releases/{release}/shop/catalog/pricing.py", "price_for", False)], "", "GET /api/products/:id",
     "/p/{n}"),
    ("report-statement-timeout", "OperationalError", "canceling statement due to statement timeout",
     [("/srv/releases/{release}/shop/reports/views.py", "export", False),
      ("/srv/releases/{release}/shop/reports/queries.py", "monthly_revenue", False)], "", "", "/reports"),
    ("search-statement-timeout", "OperationalError", "canceling statement due to statement timeout",
     [("/srv/releases/{release}/shop/search/views.py", "results", False),
      ("/srv/releases/{release}/shop/search/queries.py", "full_text", False)], "", "", "/search"),
    ("hydration-mismatch", "Error",
     "Hydration failed because the initial UI does not match what was rendered on the server",
     [("static/chunks/framework-{hash}.js", "{min}", True), ("app/layout.js", "RootLayout", False)], "RootLayout",
     "", "/"),
    ("coupon-expired", "CouponError", "Coupon {code} expired on {date}",
     [("/srv/releases/{release}/shop/coupons/apply.py", "apply_coupon", False)], "", "POST /api/coupons/apply",
     "/cart"),
    ("stock-negative", "IntegrityError", 'new row for relation "stock" violates check constraint "qty_positive"',
     [("/srv/releases/{release}/shop/inventory/reserve.py", "reserve", False)], "", "POST /api/cart/items",
     "/cart"),
]


def _rand_hex(rng: random.Random, size: int) -> str:
    return "".join(rng.choice("0123456789abcdef") for _ in range(size))


def _fill(template: str, rng: random.Random) -> str:
    values = {
        "n": str(rng.randint(1, 99_999)), "id": "".join(rng.choice(string.ascii_letters + string.digits)
                                                      for _ in range(14)),
        "email": f"{rng.choice(['ann', 'bob', 'chen', 'dana', 'eve'])}{rng.randint(1, 999)}@example.com",
        "hash": _rand_hex(rng, 8), "min": rng.choice(string.ascii_lowercase[:6]) + rng.choice(["", "e", "t"]),
        "release": f"2025{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}{rng.randint(0, 9999):04d}",
        "code": "".join(rng.choice(string.ascii_uppercase) for _ in range(8)),
        "date": f"2025-{rng.randint(1, 12):02d}-{rng.randint(1, 28):02d}",
    }
    return template.format(**values)


def _catalogue_samples(variants: int, rng: random.Random) -> list[Sample]:
    from apps.production_events.entities import page_path
    from apps.production_events.normalizers import NormalizedEvent

    samples = []
    for label, exception_type, message, frames, component, endpoint, url in CATALOGUE:
        for index in range(variants):
            text = _fill(message, rng)
            stack = [{"filename": _fill(path, rng) + (f"?v={rng.randint(1, 9)}" if minified else ""),
                      "function": _fill(function, rng), "lineno": rng.randint(1, 900), "colno": rng.randint(1, 80),
                      "in_app": not minified, "module": "", "context_line": ""} for path, function, minified in frames]
            full_url = "https://shop.example" + _fill(url, rng)
            # Most occurrences come from the main tracker (with its fingerprint); some from a second one
            # (LogRocket, generic) without it: only the stack / message / embedding can join those.
            second_tracker = index % 4 == 3
            event = NormalizedEvent(
                external_id=uuid.uuid4().hex, title=f"{exception_type}: {text}", first_seen=NOW, last_seen=NOW,
                message=text, exception_type=exception_type, stack_trace=stack, url=full_url,
                url_path=page_path(full_url), component=component, api_endpoint=endpoint,
                tracker_fingerprint="" if second_tracker else f"issue-{label}",
            )
            samples.append(Sample(label=label, source="logrocket" if second_tracker else "sentry", event=event))
    return samples


_NUMBER = re.compile(r"\d+")


def _fixture_samples(variants: int, rng: random.Random) -> list[Sample]:
    """The fixtures' errors, each in variants with other numbers in the message and other line numbers."""
    from apps.production_events.normalizers import NormalizationError, normalize

    samples = []
    for source in TRACKERS:
        for path in sorted((FIXTURES / source).glob("*.json")):
            name = f"{source}/{path.name}"
            headers = {}
            if source == "sentry":
                resource = path.name.split(".", 1)[0]
                if resource in ("issue", "error", "event_alert", "metric_alert"):
                    headers = {"Sentry-Hook-Resource": resource}
            try:
                normalized = normalize(source, json.loads(path.read_text()), headers)
            except NormalizationError:
                continue
            for position, event in enumerate(normalized.events):
                label = f"fixture:{SAME_ERROR_FIXTURES.get(name, name)}#{position}"
                for _ in range(variants):
                    message = _NUMBER.sub(lambda _match: str(rng.randint(1, 99_999)), event.message)
                    stack = [{**frame, "lineno": rng.randint(1, 900)} for frame in event.stack_trace]
                    samples.append(Sample(label=label, source=source, event=replace(
                        event, external_id=uuid.uuid4().hex, message=message, stack_trace=stack)))
    return samples


def labelled_set(variants_per_error: int = 8, seed: int = 1) -> list[Sample]:
    rng = random.Random(seed)
    samples = _catalogue_samples(variants_per_error, rng) + _fixture_samples(variants_per_error, rng)
    rng.shuffle(samples)
    return samples


# -- the two groupings --------------------------------------------------------------------------------------


def naive_assignments(samples: list[Sample]) -> list[str]:
    return [hashlib.sha256(f"{s.event.exception_type}\x1f{s.event.message or s.event.title}".encode()).hexdigest()
            for s in samples]


def _cosine(first: list[float], second: list[float]) -> float:
    return sum(a * b for a, b in zip(first, second, strict=True))


def our_assignments(samples: list[Sample], threshold: float | None = None) -> list[str]:
    """Fingerprint, then near-duplicate merge of each new group into its nearest unmerged group."""
    from apps.production_events.embeddings import ErrorFeatures, embed
    from apps.production_events.grouping import group_key, normalize_message
    from apps.production_events.models import ErrorSettings

    if threshold is None:
        threshold = ErrorSettings._meta.get_field("similarity_threshold").default
    root_of: dict[str, str] = {}
    vectors: dict[str, list[float]] = {}
    assigned = []
    for sample in samples:
        fingerprint, _method, frames = group_key(sample.event, sample.source)
        if fingerprint not in root_of:
            event = sample.event
            vector = embed(ErrorFeatures(exception_type=event.exception_type,
                                         message=normalize_message(event.message or event.title),
                                         frames=frames, url_path=event.url_path, component=event.component))
            root_of[fingerprint] = fingerprint
            if vector is not None:
                best = max(((_cosine(vector, other), key) for key, other in vectors.items()), default=(0.0, ""))
                if best[0] >= threshold:
                    root_of[fingerprint] = best[1]
                else:
                    vectors[fingerprint] = vector
        assigned.append(root_of[fingerprint])
    return assigned


@dataclass(frozen=True)
class Score:
    samples: int
    true_groups: int
    groups: int
    impure_groups: int  # groups holding more than one true error
    wrong_merge_pairs: int  # pairs of samples of different errors put in one group
    missed_pairs: int  # pairs of samples of one error put in different groups
    split_errors: int  # true errors spread over more than one group

    @property
    def pair_precision(self) -> float:
        return 1.0 if not self.wrong_merge_pairs else 1 - self.wrong_merge_pairs / max(1, self.samples ** 2)


def score(samples: list[Sample], assigned: list[str]) -> Score:
    labels_by_group: dict[str, set[str]] = {}
    groups_by_label: dict[str, set[str]] = {}
    for sample, group in zip(samples, assigned, strict=True):
        labels_by_group.setdefault(group, set()).add(sample.label)
        groups_by_label.setdefault(sample.label, set()).add(group)
    wrong = missed = 0
    for (first, group_a), (second, group_b) in combinations(zip(samples, assigned, strict=True), 2):
        if first.label == second.label and group_a != group_b:
            missed += 1
        elif first.label != second.label and group_a == group_b:
            wrong += 1
    return Score(samples=len(samples), true_groups=len(groups_by_label), groups=len(labels_by_group),
                 impure_groups=sum(1 for labels in labels_by_group.values() if len(labels) > 1),
                 wrong_merge_pairs=wrong, missed_pairs=missed,
                 split_errors=sum(1 for groups in groups_by_label.values() if len(groups) > 1))


def _nearest_scores(samples: list[Sample]) -> tuple[float, float]:
    """The lowest similarity between two fingerprints of one error, the highest between two errors."""
    from apps.production_events.embeddings import ErrorFeatures, embed
    from apps.production_events.grouping import group_key, normalize_message

    vectors: dict[str, tuple[str, list[float]]] = {}
    for sample in samples:
        fingerprint, _method, frames = group_key(sample.event, sample.source)
        if fingerprint not in vectors:
            event = sample.event
            vector = embed(ErrorFeatures(exception_type=event.exception_type,
                                         message=normalize_message(event.message or event.title), frames=frames,
                                         url_path=event.url_path, component=event.component))
            if vector is not None:
                vectors[fingerprint] = (sample.label, vector)
    same, different = math.inf, -math.inf
    for (label_a, a), (label_b, b) in combinations(vectors.values(), 2):
        similarity = _cosine(a, b)
        if label_a == label_b:
            same = min(same, similarity)
        else:
            different = max(different, similarity)
    return same, different


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--variants", type=int, default=8)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    _setup_django()
    samples = labelled_set(args.variants, args.seed)
    naive = score(samples, naive_assignments(samples))
    ours_fingerprint = score(samples, our_assignments(samples, threshold=math.inf))
    ours = score(samples, our_assignments(samples))
    same, different = _nearest_scores(samples)
    print(f"{len(samples)} events, {naive.true_groups} true errors ({len(CATALOGUE)} catalogue, "
          f"{naive.true_groups - len(CATALOGUE)} from fixtures), {args.variants} variants each\n")
    print("| grouping | groups | impure groups | wrong-merge pairs | missed-merge pairs | errors split |")
    print("|---|---|---|---|---|---|")
    for name, result in (("hash of raw type + message", naive), ("Argus fingerprint only", ours_fingerprint),
                         ("Argus fingerprint + similarity merge", ours)):
        print(f"| {name} | {result.groups} | {result.impure_groups} | {result.wrong_merge_pairs} | "
              f"{result.missed_pairs} | {result.split_errors} |")
    print(f"\nlowest similarity between two fingerprints of one error: {same:.3f}; "
          f"highest between two different errors: {different:.3f}")


if __name__ == "__main__":
    main()
