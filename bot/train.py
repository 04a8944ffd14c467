"""Trains the model only when nlu_data/, domain.yml or config.yml changed.

Rasa fingerprints its inputs and reuses the last model in models/ when they
are unchanged, so calling this on every start costs a few seconds.
"""
from __future__ import annotations

import subprocess
import sys
import time

from core.settings import REPO_ROOT
from core.settings import MODEL_NAME, MODELS_DIR, environment


def train(config: str = "config.yml", force: bool = False) -> int:
    env = environment()
    subprocess.run([sys.executable, "scripts/sync_questions.py"], cwd=REPO_ROOT, check=True, env=env)
    command = [
        sys.executable, "-m", "rasa", "train",
        "--data", "nlu_data", "--domain", "domain.yml", "--config", config,
        "--out", str(MODELS_DIR), "--fixed-model-name", MODEL_NAME,
    ]
    if force:
        command.append("--force")
    started = time.monotonic()
    result = subprocess.run(command, cwd=REPO_ROOT, env=env)
    print(f"rasa train finished in {time.monotonic() - started:.0f} s (exit {result.returncode})")
    return result.returncode


if __name__ == "__main__":
    sys.exit(train(force="--force" in sys.argv))
