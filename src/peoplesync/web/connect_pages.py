"""Apps -> Salesforce: the integration list, the connect form, and the OAuth callback (the
one page besides /health open without logging in; it completes only an authorization this
browser session started)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException

from peoplesync.errors import PeopleSyncError
from peoplesync.sync.integration import integration_key, integration_names
from peoplesync.web.access import (
    SESSION_COOKIE,
    AdminSession,
    Context,
    PageSession,
    WebContext,
    browser_session,
)
from peoplesync.web.accounts import WebSession
from peoplesync.web.error_bodies import ErrorBody, from_error
from peoplesync.web.integration_view import integrations_overview
from peoplesync.web.pages import render
from peoplesync.web.salesforce_connect import (
    CALLBACK_PATH,
    LOGIN_URLS,
    CallbackError,
    ConnectFormError,
    Connector,
    ConnectRequest,
    Environment,
    free_name,
    session_binding,
    user_binding,
)
from peoplesync.web.security_headers import SECURITY_HEADERS, allowing_forms_to_https

router = APIRouter()
ENVIRONMENT_CHOICES = [
    (Environment.PRODUCTION.value, "Production (login.salesforce.com)"),
    (Environment.SANDBOX.value, "Sandbox (test.salesforce.com)"),
    (Environment.CUSTOM.value, "Custom login URL"),
]
FORM_FIELDS = (
    "name",
    "environment",
    "login_url",
    "ca_cert",
    "client_id",
    "client_secret",
    "reconnect",
)


def connector_of(request: Request) -> Connector:
    """The app's connector; a clear error when this app was built without one."""
    found: Connector | None = getattr(request.app.state, "connector", None)
    if found is None:
        raise HTTPException(
            409, "connecting is not available here: start the app with peoplesync serve"
        )
    return found


def callback_url(request: Request) -> str:
    """The redirect URI Salesforce sends the browser back to (this app's callback)."""
    return f"{request.url.scheme}://{request.url.netloc}{CALLBACK_PATH}"


def connect_request(values: Mapping[str, Any]) -> ConnectRequest:
    """The request from form or JSON values; ConnectFormError names a bad environment."""
    try:
        environment = Environment(values.get("environment") or Environment.PRODUCTION)
    except ValueError:
        raise ConnectFormError(
            "choose production, sandbox or custom", record="connect", field="environment"
        ) from None
    return ConnectRequest(
        name=values.get("name", ""),
        environment=environment,
        client_id=values.get("client_id", ""),
        client_secret=values.get("client_secret", ""),
        login_url=values.get("login_url", ""),
        ca_cert=values.get("ca_cert", ""),
        reconnect=values.get("reconnect") in (True, "1", "true", "on"),
    )


def _allow_form_to_org(response: Response) -> Response:
    """The connect form posts here and is redirected to the org's https login page; browsers
    apply form-action to that redirect too."""
    response.headers["Content-Security-Policy"] = allowing_forms_to_https(SECURITY_HEADERS)
    return response


def _form_page(
    web: WebContext,
    request: Request,
    session: WebSession,
    values: dict[str, str],
    error: PeopleSyncError | None = None,
) -> Response:
    errors: dict[str, str] = {}
    general = ""
    if isinstance(error, ConnectFormError) and error.field in FORM_FIELDS:
        errors[error.field] = error.detail
    elif error is not None:
        general = str(error)
    response = render(
        web,
        request,
        "salesforce_connect.html",
        session,
        422 if error else 200,
        values=values,
        errors=errors,
        general_error=general,
        environments=ENVIRONMENT_CHOICES,
        callback_url=callback_url(request),
    )
    return _allow_form_to_org(response)


@router.get("/salesforce", include_in_schema=False)
async def integrations(
    request: Request,
    web: Context,
    session: PageSession,
    connected: Annotated[str | None, Query(max_length=100)] = None,
) -> HTMLResponse:
    """Every Salesforce integration with its state and a link to its status page."""
    connector: Connector | None = getattr(request.app.state, "connector", None)
    shown = await integrations_overview(web.store, web.engine, web.statuses, connector)
    names = {item["name"] for item in shown}
    return render(
        web,
        request,
        "salesforce_list.html",
        session,
        integrations=shown,
        connected=connected if connected in names else None,
    )


@router.get("/apps", include_in_schema=False)
async def apps(_session: PageSession) -> RedirectResponse:
    """Apps -> Salesforce (the only app so far)."""
    return RedirectResponse("/salesforce", status_code=303)


@router.get("/salesforce/connect", include_in_schema=False)
async def connect_form(
    request: Request,
    web: Context,
    session: PageSession,
    reconnect: Annotated[str | None, Query(max_length=60)] = None,
) -> Response:
    """The form that starts connecting an org (named with a free name), or reconnecting the
    integration ``reconnect`` (renewing its access to the same org)."""
    taken = await integration_names(web.engine)
    if reconnect in taken:
        stored = await web.store.get_state(integration_key(reconnect)) or {}
        login_url = str(stored.get("login_url") or "")
        environment = next(
            (env.value for env, url in LOGIN_URLS.items() if url == login_url), "custom"
        )
        values = {
            "name": reconnect,
            "reconnect": "1",
            "environment": environment,
            "login_url": login_url if environment == "custom" else "",
            "ca_cert": str(stored.get("ca_cert") or ""),
            "client_id": str(stored.get("client_id") or ""),
        }
        return _form_page(web, request, session, values)
    return _form_page(
        web, request, session, {"name": free_name(taken), "environment": "production"}
    )


@router.post("/salesforce/connect", include_in_schema=False)
async def connect(request: Request, web: Context, session: AdminSession) -> Response:
    """Check the form and send the browser to the org to allow access."""
    form = await request.form()
    values = {key: str(form.get(key, ""))[:2000] for key in FORM_FIELDS}
    connector = connector_of(request)
    cookie = request.cookies.get(SESSION_COOKIE, "")
    try:
        pending = await connector.begin(
            connect_request(values),
            callback_url(request),
            binding=session_binding(cookie),
            user_id=session.user.id,
            email=session.user.email,
            taken=await integration_names(web.engine),
        )
    except PeopleSyncError as error:
        values.pop("client_secret", None)  # never sent back
        return _form_page(web, request, session, values, error)
    return RedirectResponse(pending.authorization.url, status_code=303)


@router.get(CALLBACK_PATH, include_in_schema=False)
async def callback(request: Request, web: Context) -> Response:
    """Where the org sends the browser back: exchange the code and store the integration."""
    connector = connector_of(request)
    session = await browser_session(request, web)
    bindings: set[str] = set()
    if session is not None:
        bindings = {
            session_binding(request.cookies.get(SESSION_COOKIE, "")),
            user_binding(session.user.id),
        }
    params = {key: value[:4000] for key, value in request.query_params.items()}
    try:
        pending = await connector.complete(
            web.store, web.engine, web.statuses, params, bindings, str(request.url)
        )
    except CallbackError as error:
        body = ErrorBody(error.status, error.code, error.message, hint=error.hint)
        return _error_page(web, request, session, body)
    except PeopleSyncError as error:
        return _error_page(web, request, session, from_error(error))
    name = pending.request.name
    return RedirectResponse(f"/salesforce?connected={name}", status_code=303)


def _error_page(
    web: WebContext, request: Request, session: WebSession | None, body: ErrorBody
) -> HTMLResponse:
    values: dict[str, Any] = {"error": body, "retry": "/salesforce/connect"}
    return render(web, request, "error.html", session, body.status, **values)


__all__ = ["callback_url", "connect_request", "connector_of", "router"]
