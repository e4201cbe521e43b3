"""Grouping: one fingerprint per error whatever varies between its occurrences, different errors apart;
and the accuracy of grouping + similarity merge on a labelled set (bench/grouping.py builds it)."""

from __future__ import annotations

import importlib.util
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from apps.production_events.grouping import frame_name, group_key, in_app_frame_names, normalize_message
from apps.production_events.models import GroupingMethod
from apps.production_events.normalizers import NormalizedEvent

NOW = datetime(2026, 1, 5, 10, 0, tzinfo=UTC)


def _event(**fields) -> NormalizedEvent:
    return NormalizedEvent(**{"external_id": "1", "title": "", "first_seen": NOW, "last_seen": NOW, **fields})


def _frame(filename: str, function: str, lineno: int = 1, in_app: bool = True, module: str = "") -> dict:
    return {"filename": filename, "function": function, "lineno": lineno, "colno": 1, "in_app": in_app,
            "module": module, "context_line": ""}


@pytest.mark.parametrize(("first", "second"), [
    ("Order 1234 not found", "Order 98 not found"),
    ("User bob@example.com is locked", "User ann.lee+shop@example.org is locked"),
    ("Invalid token 3f2a9c1b-1234-4abc-9def-0123456789ab", "Invalid token 00000000-aaaa-4bbb-8ccc-123456789abc"),
    ("GET /api/orders?id=17&page=2 failed", "GET /api/orders?id=99&page=1 failed"),
    ("Key 'sku-17' missing", "Key 'sku-204' missing"),
    ("pointer 0x7ffe12 freed", "pointer 0x1a2b3c4d freed"),
    ("session u_1732 expired after 30.5s", "session u_88 expired after 12s"),
])
def test_message_normalization_makes_variants_equal(first, second):
    assert normalize_message(first) == normalize_message(second)


@pytest.mark.parametrize(("first", "second"), [
    ("Order not found", "Order not paid"),
    ("cannot read id", "cannot write id"),
])
def test_message_normalization_keeps_what_differs(first, second):
    assert normalize_message(first) != normalize_message(second)


def test_same_error_with_different_ids_is_one_group():
    first = _event(exception_type="OrderError", message="Order 1234 for user 77 not found")
    second = _event(exception_type="OrderError", message="Order 9 for user 12345 not found")
    assert group_key(first)[0] == group_key(second)[0]
    assert group_key(first)[1] == GroupingMethod.MESSAGE


def test_same_frames_across_deploys_are_one_group():
    """Line numbers, release folders, bundle hashes, query strings and minified names change per deploy."""
    build_a = [_frame("https://cdn.shop.com/static/js/main.3f2a9c1b.js?v=1", "t", 1, True),
               _frame("/srv/releases/20250101/app/src/cart.js", "addItem", 40)]
    build_b = [_frame("https://cdn.shop.com/static/js/main.9e8d7c6b.js?v=2", "n", 7, True),
               _frame("/srv/releases/20250214/app/src/cart.js", "addItem", 52)]
    first = _event(exception_type="TypeError", message="a is undefined", stack_trace=build_a)
    second = _event(exception_type="TypeError", message="b is undefined", stack_trace=build_b)
    key_a, key_b = group_key(first), group_key(second)
    assert key_a[0] == key_b[0]
    assert key_a[1] == GroupingMethod.STACK
    assert key_a[2] == ["static/js/main.js:?", "app/src/cart:addItem"] or key_a[2][-1].endswith("cart.js:addItem")


def test_different_in_app_frames_are_two_groups():
    first = _event(exception_type="TypeError", message="x is undefined",
                   stack_trace=[_frame("src/cart.js", "addItem"), _frame("src/cart.js", "render")])
    second = _event(exception_type="TypeError", message="x is undefined",
                    stack_trace=[_frame("src/profile.js", "loadAvatar"), _frame("src/profile.js", "render")])
    assert group_key(first)[0] != group_key(second)[0]


def test_only_in_app_frames_count_when_some_are_in_app():
    library = [_frame("node_modules/react-dom/cjs/react-dom.js", "commitRoot", in_app=False)]
    first = _event(exception_type="TypeError", stack_trace=[*library, _frame("src/cart.js", "addItem")])
    second = _event(exception_type="TypeError", stack_trace=[_frame("node_modules/vue/dist/vue.js", "flush",
                                                                    in_app=False), _frame("src/cart.js", "addItem")])
    assert group_key(first)[0] == group_key(second)[0]
    assert group_key(first)[2] == ["src/cart.js:addItem"]


def test_all_frames_count_when_none_is_in_app():
    frames = [_frame("lib/a.py", "outer", in_app=False), _frame("lib/b.py", "inner", in_app=False)]
    assert in_app_frame_names(frames) == ["lib/a:outer", "lib/b:inner"]


def test_tracker_fingerprint_wins_and_is_namespaced_by_source():
    first = _event(exception_type="TypeError", tracker_fingerprint="abc", stack_trace=[_frame("a.js", "f1")])
    second = _event(exception_type="ValueError", tracker_fingerprint="abc", stack_trace=[_frame("b.js", "g2")])
    assert group_key(first, "sentry")[0] == group_key(second, "sentry")[0]
    assert group_key(first, "sentry")[1] == GroupingMethod.TRACKER
    assert group_key(first, "sentry")[0] != group_key(first, "rollbar")[0]


def test_python_frames_use_the_module():
    assert frame_name({"module": "shop.checkout.views", "filename": "/srv/app/shop/checkout/views.py",
                       "function": "pay", "lineno": 12}) == "shop.checkout.views:pay"


def _bench_module():
    path = Path(__file__).resolve().parents[2] / "bench" / "grouping.py"
    spec = importlib.util.spec_from_file_location("bench_grouping", path)
    module = importlib.util.module_from_spec(spec)
    # Registered first: its dataclasses resolve their annotations through sys.modules.
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_grouping_accuracy_on_a_labelled_set():
    """Fewer groups than hash-only grouping, close to the true number, and no wrong merge."""
    bench = _bench_module()
    samples = bench.labelled_set(variants_per_error=6, seed=7)
    true_groups = len({sample.label for sample in samples})

    naive = bench.score(samples, bench.naive_assignments(samples))
    ours = bench.score(samples, bench.our_assignments(samples))

    assert naive.groups > 2 * true_groups  # the variants defeat a hash of the raw message
    assert ours.groups <= true_groups * 1.2
    assert ours.wrong_merge_pairs == 0
    assert ours.missed_pairs < naive.missed_pairs / 4
