"""How well the situation reader (core/situation.read_message) reads real people's questions.

Compares, field by field, `read_message(text, language).situation` with the `situation:`
label of each item of a real-question set (bench/real_questions/<set>.yml):

    label field  ->  Situation field
    insured_in       insured_country     (EU / THIRD: "some EU/EEA country" / "some non-EU country";
    residence        residence_country    "none": not insured anywhere, the reader must state nothing)
    treatment        treatment_country
    status           status
    direction        direction
    timing           care_timing
    requester        requester_role

The answer actions pick the text from these facts, and a wrong fact is worse than a missing
one (the desk asks when a fact is missing; it answers for the wrong person when a fact is
wrong), so two figures per field, over the items that carry the label:

  accuracy  = right / labelled            (a missing fact counts as not right)
  precision = right / stated              (the facts the reader states, how many are right)

Also the mean reading time per message (after warm-up). Tune on dev only:

    .venv/bin/python bench/eval_situation.py [--errors]       # dev
    .venv/bin/python bench/eval_situation.py --set holdout    # only at the very end, aggregate figures
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import Dict, List, Optional

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from core.situation import insurance_group, read_message  # noqa: E402

SET_DIR = ROOT / "bench" / "real_questions"
FIELDS = (("insured_in", "insured_country"), ("residence", "residence_country"),
          ("treatment", "treatment_country"), ("status", "status"), ("direction", "direction"),
          ("timing", "care_timing"), ("requester", "requester_role"))
_COUNTRY_FIELDS = {"insured_in", "residence", "treatment"}


def load(name: str) -> List[dict]:
    data = yaml.safe_load((SET_DIR / f"{name}.yml").read_text(encoding="utf-8"))
    return [q for q in data["questions"] if q.get("situation")]


def right(label_field: str, want: str, got: Optional[str]) -> Optional[bool]:
    """True / False for a stated fact, None when the reader states nothing."""
    want = str(want)
    if label_field in _COUNTRY_FIELDS and want == "none":
        return None if got is None else False
    if got is None:
        return None
    if label_field in _COUNTRY_FIELDS:
        got = "GB" if got == "UK" else got
        if want == "EU":
            return insurance_group(got) == "EU_EEA"
        if want == "THIRD":
            return insurance_group(got) == "THIRD"
        return got == ("GB" if want == "UK" else want)
    return got == want


def score(items: List[dict]) -> tuple[Dict[str, dict], float, list]:
    stats = {label: {"labelled": 0, "stated": 0, "right": 0, "wrong": 0} for label, _ in FIELDS}
    errors: list = []
    read_message("warm up", "fr"), read_message("warm up", "en")
    elapsed = 0.0
    for item in items:
        started = time.perf_counter()
        situation = read_message(item["text"], item["language"]).situation
        elapsed += time.perf_counter() - started
        for label, attribute in FIELDS:
            if label not in item["situation"]:
                continue
            want, got = item["situation"][label], getattr(situation, attribute)
            s = stats[label]
            s["labelled"] += 1
            verdict = right(label, want, got)
            if label in _COUNTRY_FIELDS and str(want) == "none":
                s["right"] += verdict is None   # stating nothing is the right reading
            s["stated"] += got is not None
            s["right"] += verdict is True
            s["wrong"] += verdict is False
            if verdict is not True and not (str(want) == "none" and verdict is None):
                errors.append((item["id"], label, got, want, verdict))
    for s in stats.values():
        s["accuracy"] = s["right"] / s["labelled"] if s["labelled"] else 0.0
        s["precision"] = (s["stated"] - s["wrong"]) / s["stated"] if s["stated"] else 1.0
    return stats, 1000 * elapsed / max(1, len(items)), errors


def timing(items: List[dict], rounds: int) -> float:
    """Mean ms per message over `rounds` passes (the first pass of score() warmed the caches)."""
    started = time.perf_counter()
    for _ in range(rounds):
        for item in items:
            read_message(item["text"], item["language"])
    return 1000 * (time.perf_counter() - started) / (rounds * max(1, len(items)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--set", default="dev", help="dev (default) or holdout (aggregate only, at the end)")
    parser.add_argument("--errors", action="store_true", help="list each misread fact (dev only)")
    parser.add_argument("--rounds", type=int, default=5, help="passes over the set for the timing")
    args = parser.parse_args()
    items = load(args.set)
    stats, _, errors = score(items)
    mean_ms = timing(items, args.rounds)
    print(f"Situation reader on {args.set}: {len(items)} items (label fields as in bench/real_questions/README.md)")
    print("| field | labelled | stated | right | wrong | accuracy | precision |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    total = {"labelled": 0, "stated": 0, "right": 0, "wrong": 0}
    for label, _ in FIELDS:
        s = stats[label]
        for key in total:
            total[key] += s[key]
        print(f"| {label} | {s['labelled']} | {s['stated']} | {s['right']} | {s['wrong']} | "
              f"{s['accuracy']:.3f} | {s['precision']:.3f} |")
    print(f"| **all** | {total['labelled']} | {total['stated']} | {total['right']} | {total['wrong']} | "
          f"{total['right'] / max(1, total['labelled']):.3f} | "
          f"{(total['stated'] - total['wrong']) / max(1, total['stated']):.3f} |")
    print(f"Reading time: {mean_ms:.2f} ms per message on average ({args.rounds} passes, one process).")
    if args.errors and args.set == "dev":
        for item_id, label, got, want, verdict in errors:
            print(f"  {item_id} {label}: got {got} want {want} ({'wrong' if verdict is False else 'missing'})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
