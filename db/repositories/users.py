"""Desk users: agents, managers, administrators. Passwords hashed with argon2.

There is no default password. Demo users exist only when explicitly asked
(``ensure_demo_users``, run by ``make run`` when ``PCN_DEMO=1``), with random
passwords shown once to whoever started the desk. Disabling an account or
changing its password ends its open console sessions.
"""
from __future__ import annotations

import secrets
from dataclasses import dataclass
from typing import Optional

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select

from core import vocabulary
from db.models import DeskUser
from db.session import session_scope

ROLES = tuple(vocabulary.load()["roles"])  # content/vocabularies.yml
MIN_PASSWORD_LENGTH = 12
_hasher = PasswordHasher()

# Documented in dashboard/README.md; created only with PCN_DEMO=1, with random passwords.
DEMO_USERS = {
    "demo-agent": ("agent", "Agent de démonstration"),
    "demo-agent2": ("agent", "Second agent de démonstration"),
    "demo-manager": ("manager", "Responsable de démonstration"),
    "demo-admin": ("admin", "Administrateur de démonstration"),
}


class UserError(ValueError):
    """A refused account operation; ``code`` and ``params`` let the console say it in its language."""

    def __init__(self, message: str, code: str = "", **params):
        super().__init__(message)
        self.code, self.params = code or None, params


@dataclass(frozen=True)
class User:
    id: int
    username: str
    display_name: str
    email: Optional[str]
    role: str
    active: bool

    @classmethod
    def of(cls, row: DeskUser) -> "User":
        return cls(row.id, row.username, row.display_name or row.username, row.email, row.role, bool(row.active))


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def _check_password(password: str) -> None:
    if not password or len(password) < MIN_PASSWORD_LENGTH:
        raise UserError(f"password must have at least {MIN_PASSWORD_LENGTH} characters", "password_short",
                        min=MIN_PASSWORD_LENGTH)


def _check_role(role: str) -> None:
    if role not in ROLES:
        raise UserError(f"role must be one of {', '.join(ROLES)}", "unknown_code", value=role)


def create_user(username: str, password: str, role: str = "agent", display_name: str = "",
                email: Optional[str] = None, *, check_strength: bool = True) -> User:
    username = (username or "").strip()
    if not username:
        raise UserError("username required", "username_required")
    _check_role(role)
    if check_strength:
        _check_password(password)
    with session_scope() as s:
        if s.scalar(select(DeskUser.id).where(DeskUser.username == username)) is not None:
            raise UserError(f"user {username!r} already exists", "user_exists", username=username)
        row = DeskUser(username=username, display_name=display_name or username, email=email,
                       role=role, password_hash=hash_password(password), active=True)
        s.add(row)
        s.flush()
        return User.of(row)


def authenticate(username: str, password: str) -> Optional[User]:
    """The active user whose password matches, else None (same cost either way)."""
    with session_scope() as s:
        row = s.scalar(select(DeskUser).where(DeskUser.username == (username or "").strip()))
        if row is None or not row.password_hash:
            try:  # spend the same time as a real check
                _hasher.verify(_DUMMY_HASH, password or "")
            except (VerificationError, InvalidHashError):
                pass
            return None
        try:
            _hasher.verify(row.password_hash, password or "")
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        if not row.active:
            return None
        if _hasher.check_needs_rehash(row.password_hash):
            row.password_hash = hash_password(password)
        return User.of(row)


_DUMMY_HASH = _hasher.hash("not-a-real-password-0000")


def get_user(user_id: int) -> Optional[User]:
    with session_scope() as s:
        row = s.get(DeskUser, user_id)
        return User.of(row) if row else None


def get_by_username(username: str) -> Optional[User]:
    with session_scope() as s:
        row = s.scalar(select(DeskUser).where(DeskUser.username == username))
        return User.of(row) if row else None


def list_users(*, active_only: bool = False, role: Optional[str] = None) -> list[User]:
    stmt = select(DeskUser).order_by(DeskUser.username)
    if active_only:
        stmt = stmt.where(DeskUser.active.is_(True))
    if role:
        stmt = stmt.where(DeskUser.role == role)
    with session_scope() as s:
        return [User.of(r) for r in s.scalars(stmt)]


def count_users() -> int:
    with session_scope() as s:
        return int(s.scalar(select(func.count()).select_from(DeskUser)) or 0)


def _end_sessions(user_id: int) -> None:
    from db.repositories.logins import revoke_all

    revoke_all(user_id)


def set_password(username: str, password: str) -> None:
    _check_password(password)
    with session_scope() as s:
        row = s.scalar(select(DeskUser).where(DeskUser.username == username))
        if row is None:
            raise UserError(f"no user {username!r}", "no_user", username=username)
        row.password_hash = hash_password(password)
        user_id = row.id
    _end_sessions(user_id)


def set_active(username: str, active: bool) -> None:
    with session_scope() as s:
        row = s.scalar(select(DeskUser).where(DeskUser.username == username))
        if row is None:
            raise UserError(f"no user {username!r}", "no_user", username=username)
        row.active = active
        user_id = row.id
    if not active:
        _end_sessions(user_id)


def set_role(username: str, role: str) -> None:
    _check_role(role)
    with session_scope() as s:
        row = s.scalar(select(DeskUser).where(DeskUser.username == username))
        if row is None:
            raise UserError(f"no user {username!r}", "no_user", username=username)
        row.role = role


def ensure_demo_users() -> dict[str, str]:
    """Create the demo accounts that do not exist yet (PCN_DEMO=1 only), each with a random
    password; returns ``{username: password}`` of those created, to be shown once."""
    created: dict[str, str] = {}
    with session_scope() as s:
        existing = set(s.scalars(select(DeskUser.username).where(DeskUser.username.in_(list(DEMO_USERS)))))
        for username, (role, name) in DEMO_USERS.items():
            if username in existing:
                continue
            password = secrets.token_urlsafe(12)
            s.add(DeskUser(username=username, display_name=name, role=role,
                           email=f"{username}@example.invalid", password_hash=hash_password(password)))
            created[username] = password
    return created

