"""PCN desk — Streamlit entry point.

    streamlit run dashboard/app.py --server.port 8501 --server.headless true

with ``PCN_DATABASE_URL`` (default ``sqlite:///<repo>/data/pcn.db``).
"""
from __future__ import annotations

import logging
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # `streamlit run dashboard/app.py` puts dashboard/ first
    sys.path.insert(0, str(ROOT))

import streamlit as st  # noqa: E402

from core.content import LANGUAGES  # noqa: E402
from dashboard import auth, ui  # noqa: E402
from dashboard.i18n import label, t  # noqa: E402

PAGES_DIR = Path(__file__).resolve().parent / "app_pages"
logger = logging.getLogger("dashboard")


def _safe_url() -> str:
    from sqlalchemy.engine import make_url

    from core import settings

    try:
        return make_url(settings.database_url()).render_as_string(hide_password=True)
    except Exception:  # noqa: BLE001
        return "PCN_DATABASE_URL"


def database_status() -> str | None:
    """None when the database answers and has the tables, else a message key."""
    try:
        from sqlalchemy import inspect, text

        from db.session import get_engine

        engine = get_engine()
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            names = set(inspect(conn).get_table_names())
    except Exception:  # noqa: BLE001 - any driver/network error
        return "db_unreachable"
    if not {"tickets", "enquiries", "desk_users"} <= names:
        return "db_not_migrated"
    return None


def main() -> None:
    st.set_page_config(page_title=t("app_title", auth.lang()), page_icon="🇪🇺", layout="wide")
    lg = st.session_state.setdefault("lang", "fr")
    ui.apply(lg)  # every page, the login form included

    problem = database_status()
    if problem:
        # the details are for the operator's log, not for whoever opens the page
        logger.error("console: %s", t(problem, "en", url=_safe_url()))
        st.title(t("app_title", lg))
        st.error(t("db_unavailable", lg))
        st.stop()

    user = auth.refresh()  # the session checked again in the database on every run
    auth.sync_cookie()
    if user is None:
        from db.repositories.users import count_users

        if count_users() == 0:
            st.warning(t("no_users", lg))
        auth.login_form()
        st.stop()

    defs = {
        "tickets": st.Page(str(PAGES_DIR / "tickets.py"), title=t("page_tickets", lg), icon="📨", url_path="tickets"),
        "bilan": st.Page(str(PAGES_DIR / "bilan.py"), title=t("page_bilan", lg), icon="📊", url_path="bilan"),
        "admin": st.Page(str(PAGES_DIR / "admin.py"), title=t("page_admin", lg), icon="👥", url_path="admin"),
        "intake": st.Page(str(PAGES_DIR / "intake.py"), title=t("page_intake", lg), icon="☎", url_path="intake"),
        "templates": st.Page(str(PAGES_DIR / "templates.py"), title=t("page_templates", lg), icon="✉",
                             url_path="templates"),
    }
    pages = [defs[name] for name in auth.allowed_pages(user["role"])]
    nav = st.navigation(pages)

    with st.sidebar:
        st.caption(t("signed_in_as", lg, name=user["name"], role=label("roles", user["role"], lg)))
        choice = st.radio(t("language", lg), list(LANGUAGES), index=0 if lg == "fr" else 1,
                          horizontal=True, key="lang_choice")
        if choice != lg:
            st.session_state["lang"] = choice
            st.rerun()
        if st.button(t("logout", lg), key="logout"):
            auth.logout()
            st.rerun()
    nav.run()


main()
