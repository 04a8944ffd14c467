"""Editing the classifier's code retrains it.

Rasa reuses a trained component while its fingerprint is unchanged: the
class's source, its config, its inputs and the versions of its packages (and
``fingerprint_addon``). The features and the model of LinearIntentClassifier
are built by code of its module; an edit there must change the fingerprint,
or `make train` silently keeps the stale model.
"""
from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

from core.settings import REPO_ROOT

MODULE = REPO_ROOT / "bot" / "nlu" / "linear_intent_classifier.py"
NAME = "bot.nlu.linear_intent_classifier"


def fingerprint_of(source: str, folder: Path) -> str:
    """Rasa's fingerprint of the classifier when its module has this source."""
    from rasa.engine.training.fingerprinting import calculate_fingerprint_key

    path = folder / "linear_intent_classifier.py"
    path.write_text(source, encoding="utf-8")
    original = sys.modules.get(NAME)
    spec = importlib.util.spec_from_file_location(NAME, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[NAME] = module  # same module name: only the code differs
    try:
        spec.loader.exec_module(module)
        cls = module.LinearIntentClassifier
        return calculate_fingerprint_key(cls, cls.get_default_config(), {"training_data": "same"})
    finally:
        if original is not None:
            sys.modules[NAME] = original
            from rasa.engine.recipes.default_recipe import DefaultV1Recipe

            DefaultV1Recipe.register(DefaultV1Recipe.ComponentType.INTENT_CLASSIFIER,
                                     is_trainable=True)(original.LinearIntentClassifier)
        else:
            sys.modules.pop(NAME, None)


@pytest.fixture
def source() -> str:
    return MODULE.read_text(encoding="utf-8")


def test_an_unchanged_module_keeps_its_fingerprint(source, tmp_path):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert fingerprint_of(source, tmp_path / "a") == fingerprint_of(source, tmp_path / "b")


def test_editing_the_pipeline_building_code_changes_the_fingerprint(source, tmp_path):
    marker = 'analyzer="char_wb"'
    assert marker in source, "the test's edit no longer applies: pick another line of the pipeline code"
    edited = source.replace(marker, 'analyzer="char"', 1)  # other character n-grams: another model
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert fingerprint_of(source, tmp_path / "a") != fingerprint_of(edited, tmp_path / "b")
