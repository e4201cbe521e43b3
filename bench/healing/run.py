"""Healing benchmark: the mutation cases of cases.py healed by the SAME `heal()` the runs use, in one reused
headless Chromium. Prints the figures and writes bench/healing/latest.json.

    .venv/bin/python bench/healing/run.py                 # all cases
    .venv/bin/python bench/healing/run.py --limit 40      # the first 40
    .venv/bin/python bench/healing/run.py --seeds even    # the tuning half only (odd = hold-out)
    .venv/bin/python bench/healing/run.py --dump /tmp/cases   # also write each case's pages to files

A case is correct when the healer accepts the ground-truth element (or an element inside it), or refuses
when the element is gone (or an assertion's text changed). Needs no database and no Django settings.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.parse
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path[:0] = [str(HERE), str(HERE.parent.parent)]

from cases import build_cases  # noqa: E402
from selenium import webdriver  # noqa: E402
from selenium.webdriver.chrome.service import Service  # noqa: E402
from selenium.webdriver.common.by import By  # noqa: E402

from apps.healing.healer import fingerprint_of, heal  # noqa: E402

FLAGS = ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync",
         "--window-size=1920,1080")
SAME_OR_INSIDE = "return arguments[0] === arguments[1] || arguments[1].contains(arguments[0]);"


def start_chromium(user_data_dir: str) -> webdriver.Chrome:
    options = webdriver.ChromeOptions()
    options.binary_location = "/usr/bin/chromium"
    for flag in FLAGS:
        options.add_argument(flag)
    options.add_argument(f"--user-data-dir={user_data_dir}")
    return webdriver.Chrome(service=Service("/usr/bin/chromedriver", log_output=subprocess.DEVNULL), options=options)


def load(driver: webdriver.Chrome, html: str) -> None:
    driver.get("data:text/html;charset=utf-8," + urllib.parse.quote(html))


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))] if ordered else 0.0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--limit", type=int, default=None)
    parser.add_argument("--count", type=int, default=360, help="how many cases to generate")
    parser.add_argument("--seeds", choices=("all", "even", "odd"), default="all")
    parser.add_argument("--dump", type=Path, default=None, help="write each case's pages and answer here")
    parser.add_argument("--verbose", action="store_true", help="print every case that is not correct")
    parser.add_argument("--output", type=Path, default=HERE / "latest.json")
    args = parser.parse_args()

    cases = build_cases(args.count)
    if args.seeds != "all":
        cases = [case for case in cases if case.seed % 2 == (0 if args.seeds == "even" else 1)]
    cases = cases[:args.limit] if args.limit else cases
    user_data_dir = tempfile.mkdtemp(prefix="argus-heal-bench-")
    driver = start_chromium(user_data_dir)
    tally = defaultdict(int)
    by_mutation: dict[str, dict[str, int]] = defaultdict(lambda: {"cases": 0, "correct": 0, "wrong": 0, "refused": 0})
    durations: list[float] = []
    try:
        for case in cases:
            load(driver, case.baseline_html)
            baseline = fingerprint_of(driver, driver.find_element(By.CSS_SELECTOR, case.baseline_selector))
            load(driver, case.mutated_html)
            decision = heal(driver, baseline, action=case.action)
            durations.append(decision.duration_ms)
            row = by_mutation[case.mutation]
            row["cases"] += 1
            if not decision.accepted:
                tally["refusals"] += 1
                row["refused"] += 1
                outcome = "correct_refusals" if case.truth_selector is None else "missed_heals"
            elif case.truth_selector is None:
                outcome = "wrong_element_heals"
            else:
                truth = driver.find_element(By.CSS_SELECTOR, case.truth_selector)
                same = driver.execute_script(SAME_OR_INSIDE, decision.element, truth)
                outcome = "correct_heals" if same else "wrong_element_heals"
            tally[outcome] += 1
            if outcome in ("correct_heals", "correct_refusals"):
                row["correct"] += 1
            elif outcome == "wrong_element_heals":
                row["wrong"] += 1
            if args.verbose and outcome not in ("correct_heals", "correct_refusals"):
                print(f"{outcome:20} {case.id} {'+'.join(case.mutations):40} {case.action:11} "
                      f"{case.baseline_selector} -> {decision.as_dict()['best']} ({decision.confidence:.2f}; "
                      f"{decision.reason}) truth={case.truth_selector}")
            if args.dump:
                folder = args.dump / case.id
                folder.mkdir(parents=True, exist_ok=True)
                (folder / "baseline.html").write_text(case.baseline_html)
                (folder / "mutated.html").write_text(case.mutated_html)
                (folder / "case.json").write_text(json.dumps({
                    "mutations": case.mutations, "action": case.action, "baseline_selector": case.baseline_selector,
                    "truth_selector": case.truth_selector, "outcome": outcome, "decision": decision.as_dict()},
                    indent=2, ensure_ascii=False))
    finally:
        driver.quit()
        shutil.rmtree(user_data_dir, ignore_errors=True)

    total = len(cases)
    figures = {
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "cases": total,
        "pages": len({case.page for case in cases}),
        "seeds": args.seeds,
        "correct_heals": tally["correct_heals"],
        "wrong_element_heals": tally["wrong_element_heals"],
        "refusals": tally["refusals"],
        "correct_refusals": tally["correct_refusals"],
        "missed_heals": tally["missed_heals"],
        "accuracy": round((tally["correct_heals"] + tally["correct_refusals"]) / total, 4) if total else 0.0,
        "wrong_element_rate": round(tally["wrong_element_heals"] / total, 4) if total else 0.0,
        "p50_ms": round(statistics.median(durations), 1) if durations else 0.0,
        "p95_ms": round(percentile(durations, 0.95), 1),
        "by_mutation": dict(sorted(by_mutation.items())),
    }
    args.output.write_text(json.dumps(figures, indent=2) + "\n")
    print(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    started = time.perf_counter()
    code = main()
    print(f"({time.perf_counter() - started:.0f} s)", file=sys.stderr)
    sys.exit(code)
