"""The personal-data section of the admin page (AppTest): retention, export, erasure."""
from __future__ import annotations

import json

import pytest
from sqlalchemy import func, select

from db.models import PrivacyAudit, Ticket
from db.session import session_scope
from tests.unit.test_dashboard_app import desk_db, login, titles  # noqa: F401 - fixture

pytestmark = pytest.mark.usefixtures("desk_db")


def _a_requester() -> tuple[str, str]:
    with session_scope() as s:
        ticket = s.scalars(select(Ticket).where(Ticket.contact_email.isnot(None)).order_by(Ticket.id)).first()
        return ticket.contact_email, ticket.reference


def test_admin_exports_then_erases_one_requester():
    email, reference = _a_requester()
    at = login("root")
    assert "Données personnelles (RGPD)" in [s.value for s in at.subheader]
    at.radio(key="privacy_by").set_value("email").run()
    at.text_input(key="privacy_query").input(email).run()
    assert any(reference in m.value for m in at.markdown), [m.value for m in at.markdown]
    at.button(key="privacy_prepare_export").click().run()
    assert not at.exception, at.exception
    download = at.get("download_button")
    assert len(download) == 1
    # erasure needs the confirmation box
    assert at.button(key="privacy_erase").disabled
    at.checkbox(key="privacy_confirm").check().run()
    at.button(key="privacy_erase").click().run()
    assert not at.exception, at.exception
    assert any(reference in s.value for s in at.success)
    with session_scope() as s:
        assert s.scalar(select(func.count()).select_from(Ticket).where(func.lower(Ticket.contact_email) == email)) == 0
        audit = [(a.action, a.actor, a.subject) for a in s.scalars(select(PrivacyAudit).order_by(PrivacyAudit.id))]
    assert [a[0] for a in audit] == ["export", "erasure"]
    assert all(actor == "console:root" for _, actor, _ in audit)
    assert email not in json.dumps(audit)


def test_admin_applies_retention_and_sees_the_log():
    at = login("root")
    at.button(key="privacy_run_retention").click().run()
    assert not at.exception, at.exception
    assert any("Conservation appliquée" in s.value for s in at.success)
    assert any("30 jours" in c.value and "90 jours" in c.value for c in at.caption)
    with session_scope() as s:
        assert s.scalar(select(PrivacyAudit.actor).where(PrivacyAudit.action == "retention")) == "console:root"


def test_unknown_requester_and_bad_input_are_said_plainly():
    at = login("root")
    at.radio(key="privacy_by").set_value("reference").run()
    at.text_input(key="privacy_query").input("PCN-1999-000001").run()
    assert any("Aucun ticket" in i.value for i in at.info)
    at.radio(key="privacy_by").set_value("email").run()
    at.text_input(key="privacy_query").input("pas une adresse").run()
    assert any("e-mail" in e.value for e in at.error)


def test_a_manager_does_not_see_the_section():
    at = login("maud")
    at.switch_page("app_pages/admin.py").run()
    assert "Données personnelles (RGPD)" not in [s.value for s in at.subheader]
