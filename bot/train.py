"""Trains the model only when nlu_data/, domain/ or config.yml changed (`make train`).

Rasa fingerprints its inputs and reuses the last model in models/ when they
are unchanged, so calling this again costs a few seconds. Training never
rewrites tracked files: when content/answers changed and the generated Rasa
files are stale, it stops and says to run `make sync`.
"""
from __future__ import annotations

import subprocess
import sys
import time

from core.settings import MODEL_NAME, MODELS_DIR, REPO_ROOT, environment


def train(config: str = "config.yml", force: bool = False) -> int:
    env = environment()
    check = subprocess.run([sys.executable, "scripts/sync_questions.py", "--check"], cwd=REPO_ROOT, env=env)
    if check.returncode != 0:
        print("Not training: the generated Rasa files are stale. Run `make sync`, review and commit them.",
              file=sys.stderr)
        return check.returncode
    command = [
        sys.executable, "-m", "rasa", "train",
        "--data", "nlu_data", "--domain", "domain", "--config", config,
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
