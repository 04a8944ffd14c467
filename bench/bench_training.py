"""Training time of the full model (NLU + rules), from scratch.

    .venv/bin/python bench/bench_training.py [--write]

Runs `rasa train --force` into a temporary folder (the project's model is
left alone). Target on this 2-core machine: <= 3 min.
"""
from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.results import publish  # noqa: E402
from core.settings import environment  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as out:
        started = time.monotonic()
        subprocess.run(
            [sys.executable, "-m", "rasa", "train", "--force", "--data", "nlu_data", "--domain", "domain",
             "--config", "config.yml", "--out", out, "--fixed-model-name", "bench"],
            cwd=ROOT, env=environment(), check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
        )
        seconds = time.monotonic() - started
        size_mb = (Path(out) / "bench.tar.gz").stat().st_size / 1e6
    examples = sum(1 for path in (ROOT / "nlu_data" / "nlu").glob("*.yml")
                   for line in path.read_text(encoding="utf-8").splitlines() if line.startswith("    - "))
    text = (
        "Command: `.venv/bin/python bench/bench_training.py --write` (`rasa train --force`, config.yml). "
        "Target: <= 3 min.\n\n"
        "| training examples | wall time (s) | model size (MB) | target met |\n|---|---|---|---|\n"
        f"| {examples} | {seconds:.0f} | {size_mb:.1f} | {'yes' if seconds <= 180 else 'no'} |"
    )
    publish("Training time", text, args.write)
    return 0


if __name__ == "__main__":
    sys.exit(main())
