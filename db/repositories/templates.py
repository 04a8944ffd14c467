"""Canned replies (FR/EN) per question type, the generic reply and the acknowledgement.

Defaults come from content/ (``replies.yml`` wrapped around each question
type's short answer and legal basis, so the facts have one source); an edit
made by a manager in the console is stored in ``reply_templates`` and wins.
Codes: a question type (``A1``…), ``GEN`` (any question), ``ACK`` (acknowledgement).
"""
from __future__ import annotations

from typing import Optional

from sqlalchemy import select

from core.content import load_answers, load_reply_texts, localized
from db.models import DeskUser, ReplyTemplate, utcnow
from db.session import session_scope

LANGUAGES = ("fr", "en")
GENERIC, ACK = "GEN", "ACK"
EDITOR_ROLES = ("manager", "admin")


class TemplateError(ValueError):
    def __init__(self, code: str, message: str = "", **params) -> None:
        self.code, self.params = code, params
        super().__init__(message or code)


def codes() -> list[str]:
    """Every template code: the acknowledgement, the generic reply, then the question types."""
    return [ACK, GENERIC] + sorted(load_answers(), key=lambda c: (c[0], int(c[1:]) if c[1:].isdigit() else 0))


def default(code: str, language: str) -> dict:
    texts = load_reply_texts()
    if code == ACK:
        return dict(texts["acknowledgement"][language])
    if code == GENERIC:
        return dict(texts["generic"][language])
    qt = load_answers()[code]
    base = texts["question_type"][language]
    answer = qt.answer.get(language) or qt.answer.get("fr")
    values = {"{title}": localized(qt.title, language), "{answer}": answer.short if answer else "",
              "{legal_basis}": localized(qt.legal_basis, language)}
    return {k: _fill(v, values) for k, v in base.items()}


def _fill(text: str, values: dict) -> str:
    """Known placeholders only: braces a manager types elsewhere stay as they are."""
    for key, value in values.items():
        text = text.replace(key, value)
    return text


def get(code: str, language: str) -> dict:
    """{subject, body, edited}: the manager's version, else the default."""
    if language not in LANGUAGES:
        language = "fr"
    with session_scope() as s:
        row = s.scalar(select(ReplyTemplate).where(ReplyTemplate.code == code, ReplyTemplate.language == language))
        if row is not None:
            return {"subject": row.subject, "body": row.body, "edited": True}
    return {**default(code, language), "edited": False}


def render(code: str, language: str, reference: str) -> tuple[str, str]:
    """(subject, body) ready to send; a third language gets French then English."""
    if language in LANGUAGES:
        t = get(code, language)
        return _fill(t["subject"], {"{reference}": reference}), _fill(t["body"], {"{reference}": reference})
    fr, en = render(code, "fr", reference), render(code, "en", reference)
    return f"{fr[0]} / {en[0].split('] ', 1)[-1]}", fr[1].rstrip() + "\n\n— English —\n\n" + en[1]


def save(code: str, language: str, subject: str, body: str, user_id: int) -> None:
    if code not in codes() or language not in LANGUAGES:
        raise TemplateError("unknown_code", f"template {code}/{language}", value=f"{code}/{language}")
    if not (body or "").strip():
        raise TemplateError("empty_reply", "empty template")
    with session_scope() as s:
        user = s.get(DeskUser, user_id)
        if user is None or not user.active or user.role not in EDITOR_ROLES:
            raise TemplateError("forbidden", "only managers edit the templates")
        row = s.scalar(select(ReplyTemplate).where(ReplyTemplate.code == code, ReplyTemplate.language == language))
        if row is None:
            row = ReplyTemplate(code=code, language=language)
            s.add(row)
        row.subject, row.body, row.updated_at, row.updated_by = (subject or "").strip(), body.strip() + "\n", utcnow(), user_id


def reset(code: str, language: str, user_id: int) -> None:
    """Back to the default text of content/."""
    with session_scope() as s:
        user = s.get(DeskUser, user_id)
        if user is None or not user.active or user.role not in EDITOR_ROLES:
            raise TemplateError("forbidden", "only managers edit the templates")
        row = s.scalar(select(ReplyTemplate).where(ReplyTemplate.code == code, ReplyTemplate.language == language))
        if row is not None:
            s.delete(row)


def for_ticket(question_code: Optional[str], language: str) -> list[str]:
    """Template codes offered for a reply: the ticket's question type first, then the generic one."""
    out = [question_code] if question_code and question_code in load_answers() else []
    return out + [GENERIC]
