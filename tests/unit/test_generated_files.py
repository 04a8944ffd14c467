"""Rasa's files derived from content/answers are checked, never rewritten, by the tests.

`make sync` writes them; a commit that changed content/answers without
regenerating them fails here (and `make train` refuses to train on them).
"""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import yaml

from core.settings import REPO_ROOT

GENERATED = (REPO_ROOT / "domain" / "generated" / "questions.yml", REPO_ROOT / "nlu_data" / "generated" / "questions.yml")


def check(env_content_dir: Path | None = None) -> subprocess.CompletedProcess:
    env = None
    if env_content_dir is not None:
        import os

        env = {**os.environ, "PCN_CONTENT_DIR": str(env_content_dir)}
    return subprocess.run([sys.executable, "scripts/sync_questions.py", "--check"], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_generated_rasa_files_match_the_content():
    result = check()
    assert result.returncode == 0, result.stderr


def test_a_new_question_type_makes_the_generated_files_stale_and_nothing_is_written(tmp_path):
    content = tmp_path / "content"
    shutil.copytree(REPO_ROOT / "content", content)
    answers = content / "answers" / "a.yml"
    data = yaml.safe_load(answers.read_text(encoding="utf-8"))
    extra = dict(data["question_types"][0], code="A99", intent="q_a99_added_for_the_test")
    data["question_types"].append(extra)
    answers.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    before = {path: path.read_bytes() for path in GENERATED}

    result = check(content)

    assert result.returncode == 1
    assert "domain/generated/questions.yml" in result.stderr and "make sync" in result.stderr
    assert {path: path.read_bytes() for path in GENERATED} == before  # --check writes nothing


def test_hand_written_files_hold_none_of_the_generated_lines():
    """The generator owns whole files: the question intents and rules are written once, there."""
    generated_intents = set(yaml.safe_load(GENERATED[0].read_text(encoding="utf-8"))["intents"])
    hand_domain = yaml.safe_load((REPO_ROOT / "domain.yml").read_text(encoding="utf-8"))
    assert not generated_intents & set(hand_domain["intents"])
    for path in sorted((REPO_ROOT / "nlu_data" / "rules").glob("*.yml")):
        rules = yaml.safe_load(path.read_text(encoding="utf-8")).get("rules") or []
        assert not [r["rule"] for r in rules if r["rule"].startswith("answer ")
                    and r["steps"][0].get("intent") in generated_intents], path


def test_training_never_runs_the_generator_in_write_mode():
    source = (REPO_ROOT / "bot" / "train.py").read_text(encoding="utf-8")
    assert '"scripts/sync_questions.py", "--check"' in source
    assert source.count("sync_questions.py") == 1
