"""Local user accounts, server-side sessions and API tokens (tables in ``account_tables``)."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import timedelta
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from email_validator import EmailNotValidError, validate_email
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from peoplesync.clock import Clock
from peoplesync.errors import DuplicateEmailError, NotFoundError, ValidationError
from peoplesync.people.model import new_id
from peoplesync.web.account_tables import api_tokens, web_sessions, web_users

SESSION_LIFETIME = timedelta(hours=12)
MIN_PASSWORD_LENGTH = 10
# Not the persons' duplicate-email hint (merge persons): a login belongs to one user.
USER_EXISTS_HINT = "choose another email; that user can change their own password when logged in"


async def _refuse_taken(conn: AsyncConnection, address: str) -> None:
    """Raise DuplicateEmailError when a user already has this (normalised) address."""
    taken = await conn.scalar(sa.select(web_users.c.id).where(web_users.c.email == address))
    if taken is not None:
        raise DuplicateEmailError(
            "a user with this email exists", record=address, field="email", hint=USER_EXISTS_HINT
        )


class Role(StrEnum):
    """What a user may do: admins change things, viewers only look."""

    ADMIN = "admin"
    VIEWER = "viewer"


@dataclass(frozen=True)
class User:
    """A person who can log in to the web app or call the REST API."""

    id: str
    email: str
    role: Role
    must_change_password: bool = False

    @property
    def is_admin(self) -> bool:
        """Whether the user may change data and integrations."""
        return self.role is Role.ADMIN


@dataclass(frozen=True)
class WebSession:
    """A logged-in browser: its user and the CSRF token its forms must send back."""

    user: User
    csrf_token: str


def _digest(token: str) -> str:
    """Tokens are long random strings, so a plain SHA-256 is enough to store them safely."""
    return hashlib.sha256(token.encode()).hexdigest()


def normalise_email(email: str) -> str:
    """A login email: validated, lower-cased."""
    try:
        return validate_email(email.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise ValidationError(str(error), record=email, field="email") from None


def check_password(password: str) -> None:
    """Raise ValidationError unless ``password`` is long enough."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"a password needs at least {MIN_PASSWORD_LENGTH} characters", field="password"
        )


def one_time_password() -> str:
    """A random password for a first login (changed right after)."""
    return secrets.token_urlsafe(15)


def _user(row: Sequence[Any]) -> User:
    return User(row[0], row[1], Role(row[2]), bool(row[3]))


_USER_COLUMNS = (
    web_users.c.id,
    web_users.c.email,
    web_users.c.role,
    web_users.c.must_change_password,
)


class Accounts:
    """Users, sessions and API tokens on the People database."""

    def __init__(
        self, engine: AsyncEngine, clock: Clock, *, hasher: PasswordHasher | None = None
    ) -> None:
        self.engine = engine
        self.clock = clock
        # argon2id with the library's current (RFC 9106 low-memory) parameters by default
        self._hasher = hasher or PasswordHasher()
        self._dummy: str | None = None

    @property
    def _dummy_hash(self) -> str:
        """A hash to verify against when the email is unknown, so both cases cost the same."""
        if self._dummy is None:
            self._dummy = self._hasher.hash(secrets.token_hex(8))
        return self._dummy

    # --- users -------------------------------------------------------------------------

    async def free_email(self, email: str) -> str:
        """The address normalised, when no user has it: an invalid or taken one is refused
        (checked before a password is asked for)."""
        address = normalise_email(email)
        async with self.engine.connect() as conn:
            await _refuse_taken(conn, address)
        return address

    async def add_user(
        self, email: str, password: str, role: Role, *, must_change_password: bool = False
    ) -> User:
        """Create a user; raises DuplicateEmailError when the email has an account."""
        address = normalise_email(email)
        check_password(password)
        user = User(new_id(), address, role, must_change_password)
        async with self.engine.begin() as conn:
            await _refuse_taken(conn, address)
            await conn.execute(
                web_users.insert().values(
                    id=user.id,
                    email=address,
                    role=role.value,
                    password_hash=self._hasher.hash(password),
                    must_change_password=must_change_password,
                    created_at=self.clock.now(),
                )
            )
        return user

    async def users(self) -> list[User]:
        """Every user, by email."""
        async with self.engine.connect() as conn:
            rows = await conn.execute(sa.select(*_USER_COLUMNS).order_by(web_users.c.email))
            return [_user(row) for row in rows]

    async def count_users(self) -> int:
        """How many users exist."""
        async with self.engine.connect() as conn:
            return int(await conn.scalar(sa.select(sa.func.count()).select_from(web_users)) or 0)

    async def user_by_email(self, email: str) -> User:
        """A user by login email; NotFoundError when there is none."""
        address = email.strip().lower()
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(sa.select(*_USER_COLUMNS).where(web_users.c.email == address))
            ).first()
        if row is None:
            raise NotFoundError("no user has this email", record=address, field="email")
        return _user(row)

    async def authenticate(self, email: str, password: str) -> User | None:
        """The user whose email and password these are, or None (same work either way)."""
        address = email.strip().lower()
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(*_USER_COLUMNS, web_users.c.password_hash).where(
                        web_users.c.email == address
                    )
                )
            ).first()
        stored = row[4] if row is not None else self._dummy_hash
        try:
            self._hasher.verify(stored, password)
        except (VerificationError, InvalidHashError):
            return None
        if row is None:
            return None
        user = _user(row)
        if self._hasher.check_needs_rehash(stored):
            await self._set_hash(user.id, self._hasher.hash(password), user.must_change_password)
        return user

    async def set_password(self, user_id: str, password: str) -> None:
        """Replace a user's password (and clear the must-change flag)."""
        check_password(password)
        await self._set_hash(user_id, self._hasher.hash(password), False)

    async def _set_hash(self, user_id: str, password_hash: str, must_change: bool) -> None:
        async with self.engine.begin() as conn:
            await conn.execute(
                web_users.update()
                .where(web_users.c.id == user_id)
                .values(password_hash=password_hash, must_change_password=must_change)
            )

    # --- sessions ----------------------------------------------------------------------

    async def open_session(self, user: User) -> tuple[str, WebSession]:
        """A new session for ``user``: the cookie value (shown once) and the session."""
        token = secrets.token_urlsafe(32)
        csrf = secrets.token_urlsafe(32)
        now = self.clock.now()
        async with self.engine.begin() as conn:
            await conn.execute(web_sessions.delete().where(web_sessions.c.expires_at < now))
            await conn.execute(
                web_sessions.insert().values(
                    token_hash=_digest(token),
                    user_id=user.id,
                    csrf_token=csrf,
                    created_at=now,
                    expires_at=now + SESSION_LIFETIME,
                )
            )
        return token, WebSession(user, csrf)

    async def session(self, token: str) -> WebSession | None:
        """The live session behind a cookie value, or None."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(*_USER_COLUMNS, web_sessions.c.csrf_token)
                    .join(web_sessions, web_sessions.c.user_id == web_users.c.id)
                    .where(
                        web_sessions.c.token_hash == _digest(token),
                        web_sessions.c.expires_at > self.clock.now(),
                    )
                )
            ).first()
        if row is None:
            return None
        return WebSession(_user(row), str(row[4]))

    async def close_session(self, token: str) -> None:
        """Log a browser out."""
        async with self.engine.begin() as conn:
            await conn.execute(
                web_sessions.delete().where(web_sessions.c.token_hash == _digest(token))
            )

    # --- API tokens --------------------------------------------------------------------

    async def issue_token(self, user: User, name: str = "api") -> str:
        """A new API token for ``user``; only its hash is kept, so it is shown once."""
        token = f"pst_{secrets.token_urlsafe(32)}"
        async with self.engine.begin() as conn:
            await conn.execute(
                api_tokens.insert().values(
                    token_hash=_digest(token),
                    user_id=user.id,
                    name=name,
                    created_at=self.clock.now(),
                )
            )
        return token

    async def token_user(self, token: str) -> User | None:
        """The user an API token belongs to, or None."""
        async with self.engine.connect() as conn:
            row = (
                await conn.execute(
                    sa.select(*_USER_COLUMNS)
                    .join(api_tokens, api_tokens.c.user_id == web_users.c.id)
                    .where(api_tokens.c.token_hash == _digest(token))
                )
            ).first()
        return _user(row) if row is not None else None


async def ensure_first_admin(accounts: Accounts, email: str) -> str | None:
    """Create an admin with a one-time password when there is no user yet; returns it."""
    if await accounts.count_users():
        return None
    password = one_time_password()
    await accounts.add_user(email, password, Role.ADMIN, must_change_password=True)
    return password


__all__ = ["Accounts", "Role", "User", "WebSession", "ensure_first_admin"]
