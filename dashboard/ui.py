"""Small helpers shared by the console's pages: French UI, plain text, readable values.

* ``plain(text)``: requester text (questions, mails, transcripts) is ALWAYS
  shown with ``st.text`` — never as Markdown, so no remote image loads, no
  ``javascript:``/``data:`` link, no fake banner (issue 11).
* ``apply(lang)`` (called once by app.py for every page): hides Streamlit's
  built-in English input hints ("Press Enter to submit form") in the French UI;
  the pages give French placeholders to every select (``placeholder``) and
  French help where the hint said something (the note's length).
"""
from __future__ import annotations

import re

import streamlit as st

from dashboard.i18n import t, ui_labels

_MD_SPECIAL = re.compile(r"([\\`*_\[\]#|<>$~])")  # what could start Markdown, HTML, LaTeX or a link


def apply(lang: str) -> None:
    # always one style element, so that switching FR -> EN replaces the rule instead of leaving it behind
    rule = "[data-testid='InputInstructions']{display:none}" if lang != "en" else "/* English: Streamlit's hints kept */"
    st.html(f"<style>{rule}</style>")


def plain(text: object, **kwargs) -> None:
    """Requester text, as typed: no Markdown, no HTML, no links."""
    st.text(str(text if text is not None else "—"), **kwargs)


def escape_markdown(text: str) -> str:
    """Our own generated text shown through st.markdown, with every Markdown character escaped."""
    return _MD_SPECIAL.sub(r"\\\1", text)


def month_name(month: int, lang: str) -> str:
    return ui_labels()["months"][lang if lang in ("fr", "en") else "fr"][month - 1]


def placeholder(lang: str) -> str:
    return t("placeholder_one", lang)


def language_name(code: str | None, lang: str) -> str:
    entry = (ui_labels().get("languages") or {}).get(code or "")
    return (entry or {}).get(lang) or (code or "—")


def fmt_dt(value) -> str:
    """2026-12-06 16:32 UTC (no microseconds, no ISO 'T')."""
    if not value:
        return "—"
    if isinstance(value, str):
        import datetime as dt

        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    return value.strftime("%Y-%m-%d %H:%M") + " UTC"


def fmt_size(n: int) -> str:
    for unit in ("o", "Ko", "Mo"):
        if n < 1024 or unit == "Mo":
            return f"{n:.0f} {unit}" if unit == "o" else f"{n:.1f} {unit}"
        n /= 1024
    return f"{n} o"


def desk_error(exc: Exception, lang: str) -> str:
    """A refused operation in the agent's language (codes of db.repositories.desk / intake / templates)."""
    code = getattr(exc, "code", None)
    params = dict(getattr(exc, "params", {}) or {})
    if code == "missing_fields":
        params["fields"] = ", ".join(t(f, lang) for f in params.get("fields", []))  # field labels
    key = f"err_{code}"
    if code and key in ui_labels():
        return t(key, lang, **params)
    return str(exc)
