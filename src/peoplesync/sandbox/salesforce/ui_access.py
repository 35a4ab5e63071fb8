"""Logging in to the record UI: the org user's credentials, a session cookie, CSRF tokens."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from urllib.parse import quote

from starlette.datastructures import FormData
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from peoplesync.sandbox.salesforce.api_context import ApiContext
from peoplesync.sandbox.salesforce.auth import Principal, SessionError
from peoplesync.sandbox.salesforce.ui_render import page, problem, redirect

SESSION_COOKIE = "sid"
LOGIN_COOKIE = "sid_login"
CSRF_FIELD = "csrf_token"
HOME = "/lightning/o/Lead/list"
CSRF_FAILED = "The form was not sent from this org's own page (CSRF token missing or wrong)."
BAD_LOGIN = (
    "Please check your username and password. If you still can't log in, "
    "contact your Salesforce administrator."
)


@dataclass(frozen=True, slots=True)
class UiUser:
    """The signed-in user of a request and the CSRF token its forms carry."""

    principal: Principal
    username: str
    csrf: str


def csrf_for(session: str) -> str:
    """The CSRF token of a session (derived from it, so nothing more is stored)."""
    return hmac.new(session.encode(), b"sandbox-ui-csrf", hashlib.sha256).hexdigest()


def local_target(value: str | None) -> str:
    """Where to go after logging in: a path on this server, else the Leads list."""
    if value and value.startswith("/") and not value.startswith(("//", "/\\")):
        return value
    return HOME


class UiAccess:
    """Sessions of the record UI, kept by the org's auth server."""

    def __init__(self, ctx: ApiContext) -> None:
        self.ctx = ctx

    async def user(self, request: Request) -> UiUser | None:
        """The signed-in user, or None."""
        token = request.cookies.get(SESSION_COOKIE, "")
        try:
            principal = await self.ctx.auth.ui_session(token)
        except SessionError:
            return None
        return UiUser(principal, principal.username, csrf_for(token))

    def login_redirect(self, request: Request) -> Response:
        """To the login page, coming back here afterwards."""
        target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
        return redirect(f"/login?startURL={quote(target, safe='/')}")

    @staticmethod
    def csrf_ok(user: UiUser, form: FormData) -> bool:
        """Whether a posted form carries the session's CSRF token."""
        return hmac.compare_digest(str(form.get(CSRF_FIELD, "")), user.csrf)

    def routes(self) -> list[Route]:
        """The login page and logout."""
        config = self.ctx.config

        def login_page(request: Request, target: str, error: str | None, status: int) -> Response:
            nonce = secrets.token_urlsafe(24)
            response = page(
                request,
                "login.html",
                {
                    "user": None,
                    "org_name": config.org_name,
                    "target": target,
                    "csrf": nonce,
                    "error": error,
                    "username": request.query_params.get("un", ""),
                },
                status,
            )
            response.set_cookie(
                LOGIN_COOKIE, nonce, httponly=True, secure=True, samesite="strict", path="/login"
            )
            return response

        async def login(request: Request) -> Response:
            if request.method == "GET":
                target = local_target(request.query_params.get("startURL"))
                if await self.user(request) is not None:
                    return redirect(target)
                return login_page(request, target, None, 200)
            form = await request.form()
            target = local_target(str(form.get("startURL", "")))
            expected = request.cookies.get(LOGIN_COOKIE, "")
            if not expected or not hmac.compare_digest(str(form.get(CSRF_FIELD, "")), expected):
                return login_page(request, target, "Your login page expired; try again.", 403)
            try:
                token = await self.ctx.auth.start_ui_session(
                    str(form.get("username", "")).strip(), str(form.get("pw", ""))
                )
            except SessionError:
                return login_page(request, target, BAD_LOGIN, 401)
            response = redirect(target)
            response.set_cookie(
                SESSION_COOKIE,
                token,
                max_age=config.token_lifetime_seconds,
                httponly=True,
                secure=True,
                samesite="lax",
                path="/",
            )
            response.delete_cookie(LOGIN_COOKIE, path="/login")
            return response

        async def logout(request: Request) -> Response:
            user = await self.user(request)
            form = await request.form()
            if user is not None:
                if not self.csrf_ok(user, form):
                    return problem(request, 403, "Forbidden", CSRF_FAILED, user)
                await self.ctx.auth.revoke(request.cookies.get(SESSION_COOKIE, ""))
            response = redirect("/login")
            response.delete_cookie(SESSION_COOKIE, path="/")
            return response

        return [
            Route("/login", login, methods=["GET", "POST"]),
            Route("/secur/logout.jsp", logout, methods=["POST"]),
        ]
