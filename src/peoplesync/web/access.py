"""Who is asking: the session cookie (browsers) or a Bearer token (API), roles and CSRF checks."""

from __future__ import annotations

import hmac
import secrets
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Annotated

from fastapi import Depends, Request
from fastapi.templating import Jinja2Templates
from sqlalchemy.ext.asyncio import AsyncEngine
from starlette.exceptions import HTTPException

from peoplesync.clock import Clock, SystemClock
from peoplesync.people.store import PeopleStore
from peoplesync.sync.status.store import StatusStore
from peoplesync.web.accounts import Accounts, User, WebSession
from peoplesync.web.login_throttle import (
    LoginThrottle,
    describe,
    retry_after_seconds,
    token_client_key,
)

SESSION_COOKIE = "peoplesync_session"
LOGIN_CSRF_COOKIE = "peoplesync_login_csrf"
CSRF_HEADER = "X-CSRF-Token"
CSRF_FIELD = "csrf_token"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


@dataclass(frozen=True)
class WebContext:
    """What the request handlers work with, built once by ``create_app``."""

    store: PeopleStore
    engine: AsyncEngine  # the database the People store and every other store share
    clock: Clock
    accounts: Accounts
    statuses: StatusStore
    templates: Jinja2Templates
    secure_cookies: bool = True
    throttle: LoginThrottle = field(default_factory=lambda: LoginThrottle(SystemClock()))


class LoginRequired(Exception):
    """A page was asked for without a session: the browser is sent to the login page."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.path = path


class PasswordChangeRequired(Exception):
    """The user logged in with a one-time password and must choose their own first."""


def context(request: Request) -> WebContext:
    """The application's context."""
    value: WebContext = request.app.state.web
    return value


Context = Annotated[WebContext, Depends(context)]


def client_address(request: Request) -> str | None:
    """The address the request came from (as the server sees it)."""
    return request.client.host if request.client else None


def same_secret(given: str | None, expected: str) -> bool:
    """Constant-time comparison of a submitted token with the expected one."""
    return given is not None and hmac.compare_digest(given.encode(), expected.encode())


def new_csrf_token() -> str:
    """A random token for the double-submit check of the login form."""
    return secrets.token_urlsafe(32)


async def browser_session(request: Request, web: Context) -> WebSession | None:
    """The session behind the request's cookie, if it is live."""
    cached: WebSession | None = getattr(request.state, "web_session", None)
    if cached is not None:
        return cached
    token = request.cookies.get(SESSION_COOKIE)
    found = await web.accounts.session(token) if token else None
    request.state.web_session = found
    return found


async def page_session(
    request: Request, session: Annotated[WebSession | None, Depends(browser_session)]
) -> WebSession:
    """A logged-in browser session (else a redirect to the login page)."""
    if session is None:
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        raise LoginRequired(target)
    if session.user.must_change_password and request.url.path != "/account/password":
        raise PasswordChangeRequired
    return session


PageSession = Annotated[WebSession, Depends(page_session)]


async def check_form_csrf(request: Request, session: PageSession) -> WebSession:
    """A state-changing page request: the form (or htmx header) must carry the CSRF token."""
    submitted = request.headers.get(CSRF_HEADER)
    if submitted is None:
        form = await request.form()
        value = form.get(CSRF_FIELD)
        submitted = value if isinstance(value, str) else None
    if not same_secret(submitted, session.csrf_token):
        raise HTTPException(403, "the form is out of date or was not sent by this site; reload")
    return session


CheckedSession = Annotated[WebSession, Depends(check_form_csrf)]


async def admin_form(session: CheckedSession) -> WebSession:
    """A state-changing page request by an admin."""
    if not session.user.is_admin:
        raise HTTPException(403, "only admins can change this")
    return session


AdminSession = Annotated[WebSession, Depends(admin_form)]


def _unauthorized(message: str) -> HTTPException:
    return HTTPException(401, message, headers={"WWW-Authenticate": 'Bearer realm="peoplesync"'})


def _too_many(problem: str, delay: timedelta) -> HTTPException:
    return HTTPException(
        429,
        f"{problem}too many failed API token attempts from this address; "
        f"try again in {describe(delay)}",
        headers={"Retry-After": str(retry_after_seconds(delay))},
    )


async def api_user(
    request: Request,
    web: Context,
    session: Annotated[WebSession | None, Depends(browser_session)],
) -> User:
    """The caller of an API endpoint: a Bearer token, or a browser session (whose
    state-changing calls must send the CSRF token in the X-CSRF-Token header)."""
    authorization = request.headers.get("Authorization")
    if authorization is not None:
        keys = [token_client_key(client_address(request))]
        delay = web.throttle.retry_after(keys)
        if delay is not None:  # refused before the token is looked up
            raise _too_many("", delay)
        scheme, _, token = authorization.partition(" ")
        user = None
        if scheme.lower() == "bearer" and token.strip():
            user = await web.accounts.token_user(token.strip())
        if user is None:
            problem = (
                "the API token is not valid"
                if scheme.lower() == "bearer" and token.strip()
                else "use 'Authorization: Bearer <token>'"
            )
            web.throttle.failed(keys)
            delay = web.throttle.retry_after(keys)
            if delay is not None:
                raise _too_many(f"{problem}; ", delay)
            raise _unauthorized(problem)
        web.throttle.succeeded(keys)
        return user
    if session is None:
        raise _unauthorized("log in or send an API token (peoplesync users token EMAIL)")
    if session.user.must_change_password:
        raise HTTPException(403, "choose your own password first (/account/password)")
    if request.method not in SAFE_METHODS and not same_secret(
        request.headers.get(CSRF_HEADER), session.csrf_token
    ):
        raise HTTPException(403, f"a browser session must send the {CSRF_HEADER} header")
    return session.user


ApiUser = Annotated[User, Depends(api_user)]


async def api_admin(user: ApiUser) -> User:
    """An API caller allowed to change things."""
    if not user.is_admin:
        raise HTTPException(403, "viewers cannot change anything; ask an admin")
    return user


ApiAdmin = Annotated[User, Depends(api_admin)]

__all__ = [
    "AdminSession",
    "ApiAdmin",
    "ApiUser",
    "CheckedSession",
    "Context",
    "LoginRequired",
    "PageSession",
    "PasswordChangeRequired",
    "WebContext",
    "api_user",
    "client_address",
    "page_session",
]
