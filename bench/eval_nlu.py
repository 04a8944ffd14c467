"""Held-out NLU evaluation, per language, with `rasa test nlu`.

The held-out set (tests/nlu/heldout_*_{fr,en}.yml) is never trained on. For
each language this runs `rasa test nlu` on that language's files and reports
intent accuracy and macro-F1 (target: macro-F1 >= 0.92 in each language).

    .venv/bin/python bench/eval_nlu.py [--model models/pcn.tar.gz] [--write]

--write replaces the "NLU (held-out)" section of bench/RESULTS.md.
"""
from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import publish  # noqa: E402
from core.settings import environment  # noqa: E402

TARGET_F1 = 0.92


def evaluate(model: Path, language: str, out: Path) -> dict:
    files = sorted((ROOT / "tests" / "nlu").glob(f"heldout_*_{language}.yml"))
    with tempfile.TemporaryDirectory() as tmp:
        for path in files:
            shutil.copy(path, tmp)
        subprocess.run(
            [sys.executable, "-m", "rasa", "test", "nlu", "--model", str(model), "--nlu", tmp, "--out", str(out),
             "--no-plot"],
            cwd=ROOT, env=environment(), check=True, stdout=subprocess.DEVNULL,
        )
    report = json.loads((out / "intent_report.json").read_text())
    examples = sum(v["support"] for k, v in report.items() if isinstance(v, dict) and "support" in v
                   and k not in ("macro avg", "weighted avg", "micro avg"))
    worst = sorted(
        ((k, v["f1-score"]) for k, v in report.items()
         if isinstance(v, dict) and k not in ("macro avg", "weighted avg", "micro avg")),
        key=lambda item: item[1],
    )[:5]
    return {
        "language": language,
        "examples": examples,
        "accuracy": report["accuracy"],
        "macro_f1": report["macro avg"]["f1-score"],
        "worst": worst,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", default=str(ROOT / "models" / "pcn.tar.gz"))
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    results = [evaluate(Path(args.model), lang, ROOT / "results" / f"nlu_{lang}") for lang in ("fr", "en")]
    lines = [
        "Command: `.venv/bin/python bench/eval_nlu.py --write` (runs `rasa test nlu` once per language "
        "on tests/nlu/heldout_*_{fr,en}.yml, never trained on). Target: macro-F1 >= 0.92 per language.",
        "",
        "| language | held-out messages | intent accuracy | macro-F1 | target met | lowest-F1 intents |",
        "|---|---|---|---|---|---|",
    ]
    for r in results:
        worst = ", ".join(f"{name} {f1:.2f}" for name, f1 in r["worst"])
        lines.append(
            f"| {r['language']} | {r['examples']} | {r['accuracy']:.3f} | {r['macro_f1']:.3f} | "
            f"{'yes' if r['macro_f1'] >= TARGET_F1 else 'no'} | {worst} |"
        )
    text = "\n".join(lines)
    publish("NLU (held-out)", text, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
