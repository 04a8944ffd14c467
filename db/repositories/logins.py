"""Console logins: throttling, lockout, audit, and the sessions behind the login cookie.

Every attempt is recorded in ``desk_login_events`` (the audit), and the
throttle is computed from that table, so it holds across console processes
and restarts:

* per account: after ``k`` failures in a row, the next attempt is refused until
  ``2**(k-1)`` seconds (at most ``MAX_DELAY_S``) after the last one — a growing
  delay; after ``PCN_LOGIN_MAX_FAILURES`` the account is locked for
  ``PCN_LOGIN_LOCKOUT_MINUTES``, whatever password is typed;
* per client address: after ``PCN_LOGIN_MAX_FAILURES_PER_CLIENT`` failures in
  ``CLIENT_WINDOW`` (any usernames), the client is refused for that window.

A refused attempt never checks the password (no oracle, no argon2 cost) and is
audited as ``throttled`` or ``locked``. A success resets the account's count.

Sessions: ``open_session`` gives a random id (the cookie carries it, signed);
``session_user`` accepts it only while it is not revoked, not idle longer than
``PCN_SESSION_HOURS``, and its account is active — it is called on every page.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Optional

from sqlalchemy import func, select, update

from core import settings
from db.models import DeskLoginEvent, DeskSession, DeskUser, utcnow
from db.repositories.users import User
from db.session import session_scope

MAX_DELAY_S = 30
CLIENT_WINDOW = timedelta(minutes=15)
EVENTS = ("ok", "failed", "throttled", "locked", "logout")


@dataclass(frozen=True)
class Throttle:
    allowed: bool
    reason: str = ""          # "" | "wait" | "locked" | "client"
    retry_after: int = 0      # seconds


def _norm(username: str) -> str:
    return (username or "").strip()[:64]


def record(event: str, username: str, client: str, user_id: Optional[int] = None) -> None:
    assert event in EVENTS, event
    with session_scope() as s:
        s.add(DeskLoginEvent(username=_norm(username), client=(client or "unknown")[:64], event=event,
                             user_id=user_id, at=utcnow()))


def _failures_in_a_row(s, username: str, since: datetime) -> tuple[int, Optional[datetime]]:
    """Failed attempts of ``username`` after its last success (and after ``since``), and the last one's time."""
    last_ok = s.scalar(select(func.max(DeskLoginEvent.at)).where(
        DeskLoginEvent.username == username, DeskLoginEvent.event == "ok"))
    start = max(filter(None, (last_ok, since)))
    count, last = s.execute(select(func.count(), func.max(DeskLoginEvent.at)).where(
        DeskLoginEvent.username == username, DeskLoginEvent.event == "failed", DeskLoginEvent.at > start)).one()
    return int(count or 0), last


def throttle(username: str, client: str, now: Optional[datetime] = None) -> Throttle:
    """Whether a login attempt may check its password now."""
    now = now or utcnow()
    username = _norm(username)
    max_failures = settings.integer("PCN_LOGIN_MAX_FAILURES")
    lockout = timedelta(minutes=settings.integer("PCN_LOGIN_LOCKOUT_MINUTES"))
    per_client = settings.integer("PCN_LOGIN_MAX_FAILURES_PER_CLIENT")
    with session_scope() as s:
        client_failures = s.scalar(select(func.count()).select_from(DeskLoginEvent).where(
            DeskLoginEvent.client == client, DeskLoginEvent.event == "failed",
            DeskLoginEvent.at > now - CLIENT_WINDOW)) or 0
        if client_failures >= per_client:
            oldest = s.scalar(select(func.min(DeskLoginEvent.at)).where(
                DeskLoginEvent.client == client, DeskLoginEvent.event == "failed",
                DeskLoginEvent.at > now - CLIENT_WINDOW))
            return Throttle(False, "client", max(1, int((oldest + CLIENT_WINDOW - now).total_seconds())))
        failures, last = _failures_in_a_row(s, username, now - lockout)
    if not failures or last is None:
        return Throttle(True)
    if failures >= max_failures:
        return Throttle(False, "locked", max(1, int((last + lockout - now).total_seconds())))
    delay = timedelta(seconds=min(2 ** (failures - 1), MAX_DELAY_S))
    if now < last + delay:
        return Throttle(False, "wait", max(1, int((last + delay - now).total_seconds() + 0.999)))
    return Throttle(True)


def events(username: Optional[str] = None, limit: int = 100) -> list[DeskLoginEvent]:
    stmt = select(DeskLoginEvent).order_by(DeskLoginEvent.id.desc()).limit(limit)
    if username is not None:
        stmt = stmt.where(DeskLoginEvent.username == _norm(username))
    with session_scope() as s:
        return list(s.scalars(stmt))


# ------------------------------------------------------------ sessions
def open_session(user_id: int) -> str:
    sid = secrets.token_urlsafe(32)
    with session_scope() as s:
        s.add(DeskSession(id=sid, user_id=user_id, created_at=utcnow(), last_seen_at=utcnow()))
    return sid


def session_user(sid: str, now: Optional[datetime] = None) -> Optional[User]:
    """The active account of a live session (and the session's idle clock restarted), else None."""
    now = now or utcnow()
    idle = timedelta(hours=settings.integer("PCN_SESSION_HOURS"))
    with session_scope() as s:
        row = s.get(DeskSession, sid) if sid else None
        if row is None or row.revoked_at is not None or row.last_seen_at < now - idle:
            return None
        user = s.get(DeskUser, row.user_id)
        if user is None or not user.active:
            row.revoked_at = now
            return None
        row.last_seen_at = now
        return User.of(user)


def revoke(sid: str) -> None:
    with session_scope() as s:
        s.execute(update(DeskSession).where(DeskSession.id == sid, DeskSession.revoked_at.is_(None))
                  .values(revoked_at=utcnow()))


def revoke_all(user_id: int) -> int:
    """Ends every open session of an account (disabled, new password); returns how many."""
    with session_scope() as s:
        result = s.execute(update(DeskSession).where(DeskSession.user_id == user_id, DeskSession.revoked_at.is_(None))
                           .values(revoked_at=utcnow()))
        return int(result.rowcount or 0)
