"""The assistant's own classifier, applied to a mail: intent, confidence, question type and category.

It is the LinearIntentClassifier trained into ``models/pcn.tar.gz`` (a
scikit-learn pipeline inside Rasa's model archive): loaded once from the
archive, without starting Rasa. A prediction under the FallbackClassifier
threshold of config.yml suggests nothing. When the model is missing or
unreadable the mail is stored all the same, unclassified.
"""
from __future__ import annotations

import logging
import tarfile
import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Optional

import yaml

from core.content import answer_by_intent
from core import settings
from core.settings import REPO_ROOT

logger = logging.getLogger(__name__)
MEMBER_SUFFIX = "LinearIntentClassifier1/intent_pipeline.joblib"
TEXT_CHARS = 1000  # the subject and the beginning of the mail carry the question

_lock = threading.Lock()
_cache: dict = {}


@dataclass(frozen=True)
class Suggestion:
    intent: Optional[str] = None
    confidence: Optional[float] = None
    question_code: Optional[str] = None
    category: Optional[str] = None


def fallback_threshold(config: Path = REPO_ROOT / "config.yml") -> float:
    """The FallbackClassifier threshold of config.yml: below it the assistant would not answer either."""
    try:
        pipeline = yaml.safe_load(config.read_text(encoding="utf-8")).get("pipeline", [])
        return float(next(c.get("threshold", 0.3) for c in pipeline if c.get("name") == "FallbackClassifier"))
    except Exception:  # noqa: BLE001
        return 0.3


def load_pipeline(model: Optional[Path] = None):
    """The trained pipeline (default: the model the Rasa servers load, PCN_MODEL), read once per
    model file version; None when unavailable."""
    model = model or settings.model_path()
    try:
        stamp = (str(model), model.stat().st_mtime_ns)
    except OSError:
        return None
    with _lock:
        if stamp not in _cache:
            _cache.clear()
            _cache[stamp] = _read(model)
        return _cache[stamp]


def _read(model: Path):
    import joblib

    try:
        with tarfile.open(model, "r:gz") as archive:
            member = next((m for m in archive.getmembers() if m.name.endswith(MEMBER_SUFFIX)), None)
            if member is None:
                member = next(m for m in archive.getmembers() if m.name.endswith("intent_pipeline.joblib"))
            return joblib.load(archive.extractfile(member))
    except Exception:  # noqa: BLE001 - a missing or foreign model: mails are stored unclassified
        logger.warning("mail classifier unavailable (%s): mails will be stored unclassified", model, exc_info=True)
        return None


def suggest(text: str, model: Optional[Path] = None) -> Suggestion:
    pipeline = load_pipeline(model) if model else load_pipeline()
    if pipeline is None or not (text or "").strip():
        return Suggestion()
    try:
        row = pipeline.predict_proba([text[:TEXT_CHARS]])[0]
    except Exception:  # noqa: BLE001
        logger.warning("mail classification failed", exc_info=True)
        return Suggestion()
    best = int(row.argmax())
    intent, confidence = str(pipeline.classes_[best]), float(row[best])
    if confidence < fallback_threshold():
        return Suggestion(intent=intent, confidence=confidence)
    qt = answer_by_intent(intent)
    return Suggestion(intent=intent, confidence=confidence, question_code=qt.code if qt else None,
                      category=qt.category if qt else None)
