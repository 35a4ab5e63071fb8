"""The server-rendered pages: login, People (list, search, person, add, edit) and the
Salesforce status page. Forms carry the session's CSRF token; htmx sends it as a header."""

from __future__ import annotations

from datetime import timedelta
from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.datastructures import FormData

from peoplesync.errors import NotFoundError, RecordError
from peoplesync.messaging.message_list import person_messages
from peoplesync.people.attribute import STANDARD_ATTRIBUTES
from peoplesync.sync.outbound.create_needs import create_needs, needs_by_attribute
from peoplesync.web.access import (
    CSRF_FIELD,
    LOGIN_CSRF_COOKIE,
    SESSION_COOKIE,
    AdminSession,
    CheckedSession,
    Context,
    PageSession,
    WebContext,
    client_address,
    new_csrf_token,
    same_secret,
)
from peoplesync.web.accounts import SESSION_LIFETIME, WebSession
from peoplesync.web.error_bodies import record_status
from peoplesync.web.integration_view import (
    integration_status,
    pause_integration,
    resume_integration,
)
from peoplesync.web.login_throttle import (
    account_key,
    client_key,
    describe,
    retry_after_seconds,
)
from peoplesync.web.people_filters import OP_LABELS, people_listing
from peoplesync.web.person_view import (
    form_input,
    form_values,
    person_details,
    save_person,
)

router = APIRouter()
PAGE_SIZE = 50


def safe_next(target: str | None) -> str:
    """Where to go after login: only paths of this site (no open redirect)."""
    if target and target.startswith("/") and not target.startswith(("//", "/\\")):
        return target
    return "/people"


def render(
    web: WebContext,
    request: Request,
    template: str,
    session: WebSession | None,
    status_code: int = 200,
    **values: Any,
) -> HTMLResponse:
    """A page with the user and CSRF token every template may use."""
    return web.templates.TemplateResponse(
        request,
        template,
        {"session": session, "user": session.user if session else None, **values},
        status_code=status_code,
    )


def _texts(form: FormData) -> dict[str, str]:
    return {key: value for key, value in form.items() if isinstance(value, str)}


# --- login, logout, password (/health, /ready: web/ops_routes.py) --------------------------


@router.get("/", include_in_schema=False)
async def home(_session: PageSession) -> RedirectResponse:
    """The start page is the People list."""
    return RedirectResponse("/people", status_code=303)


def _login_page(
    web: WebContext,
    request: Request,
    target: str,
    error: str = "",
    status_code: int = 200,
    retry_after: timedelta | None = None,
) -> HTMLResponse:
    token = new_csrf_token()
    if retry_after is not None:
        error = (
            f"{error} Too many failed logins for this account or from your address: "
            f"try again in {describe(retry_after)}."
        ).strip()
        status_code = 429
    response = render(
        web, request, "login.html", None, status_code, next=target, error=error, login_csrf=token
    )
    if retry_after is not None:
        response.headers["Retry-After"] = str(retry_after_seconds(retry_after))
    response.set_cookie(
        LOGIN_CSRF_COOKIE,
        token,
        httponly=True,
        secure=web.secure_cookies,
        samesite="strict",
        path="/login",
    )
    return response


@router.get("/login", include_in_schema=False)
async def login_form(
    request: Request, web: Context, next: Annotated[str | None, Query()] = None
) -> HTMLResponse:
    """The login form."""
    return _login_page(web, request, safe_next(next))


@router.post("/login", include_in_schema=False)
async def login(
    request: Request,
    web: Context,
    email: Annotated[str, Form(max_length=320)] = "",
    password: Annotated[str, Form(max_length=1024)] = "",
    csrf_token: Annotated[str, Form(max_length=100)] = "",
    next: Annotated[str, Form(max_length=2000)] = "/people",
) -> Response:
    """Check the password, open a session, set the cookie."""
    target = safe_next(next)
    if not same_secret(csrf_token, request.cookies.get(LOGIN_CSRF_COOKIE, "\0")):
        return _login_page(web, request, target, "The form expired; please try again.", 403)
    keys = [account_key(email), client_key(client_address(request))]
    waiting = web.throttle.retry_after(keys)
    if waiting is not None:  # refused before the (costly) password check
        return _login_page(web, request, target, retry_after=waiting)
    user = await web.accounts.authenticate(email, password)
    if user is None:
        web.throttle.failed(keys)
        waiting = web.throttle.retry_after(keys)
        return _login_page(web, request, target, "Wrong email or password.", 401, waiting)
    web.throttle.succeeded(keys[:1])  # the address's count is only forgotten with time
    token, _session = await web.accounts.open_session(user)
    response = RedirectResponse(
        "/account/password" if user.must_change_password else target, status_code=303
    )
    response.set_cookie(
        SESSION_COOKIE,
        token,
        max_age=int(SESSION_LIFETIME.total_seconds()),
        httponly=True,
        secure=web.secure_cookies,
        samesite="lax",
    )
    response.delete_cookie(LOGIN_CSRF_COOKIE, path="/login")
    return response


@router.post("/logout", include_in_schema=False)
async def logout(request: Request, web: Context, _session: CheckedSession) -> RedirectResponse:
    """Close the session."""
    token = request.cookies.get(SESSION_COOKIE)
    if token:
        await web.accounts.close_session(token)
    response = RedirectResponse("/login", status_code=303)
    response.delete_cookie(SESSION_COOKIE)
    return response


@router.get("/account/password", include_in_schema=False)
async def password_form(request: Request, web: Context, session: PageSession) -> HTMLResponse:
    """Choose a new password (required after logging in with a one-time password)."""
    return render(web, request, "password.html", session, error="")


@router.post("/account/password", include_in_schema=False)
async def change_password(
    request: Request,
    web: Context,
    session: CheckedSession,
    password: Annotated[str, Form(max_length=1024)] = "",
    confirm: Annotated[str, Form(max_length=1024)] = "",
) -> Response:
    """Save the new password."""
    if password != confirm:
        return render(web, request, "password.html", session, 422, error="The passwords differ.")
    try:
        await web.accounts.set_password(session.user.id, password)
    except RecordError as error:
        return render(web, request, "password.html", session, 422, error=error.detail)
    return RedirectResponse("/people", status_code=303)


# --- People ---------------------------------------------------------------------------------


@router.get("/people", include_in_schema=False)
async def people(
    request: Request,
    web: Context,
    session: PageSession,
    q: Annotated[str, Query(max_length=200)] = "",
    after: Annotated[str | None, Query(max_length=32)] = None,
) -> HTMLResponse:
    """The People list with search and attribute filters (htmx swaps only the rows while
    typing); ``segment`` opens a saved segment."""
    listing = await people_listing(
        web.store,
        web.engine,
        request.query_params,
        limit=PAGE_SIZE,
        with_total=bool(request.query_params.get("segment")),
    )
    rows_only = request.headers.get("HX-Request") and not request.headers.get(
        "HX-History-Restore-Request"
    )
    template = "people_rows.html" if rows_only else "people.html"
    status = record_status(listing.error) if listing.error else 200
    return render(
        web,
        request,
        template,
        session,
        status,
        page=listing.page,
        q=q,
        after=after,
        listing=listing,
        op_labels=OP_LABELS,
    )


async def _form_page(
    request: Request,
    web: WebContext,
    session: WebSession,
    *,
    person_id: str | None,
    values: dict[str, str],
    error: RecordError | None = None,
) -> HTMLResponse:
    definitions = await web.store.attributes()
    errors: dict[str, str] = {}
    general = ""
    if error is not None:
        message = error.detail + (f" ({error.hint_on_web})" if error.hint_on_web else "")
        field = error.field if error.field in {*STANDARD_ATTRIBUTES, *definitions} else None
        if error.field and error.field.startswith(("email", "phone")):
            field = "emails" if error.field.startswith("email") else "phones"
        if field is None:
            general = message
        else:
            errors[field] = message
    needs = await create_needs(web.store, web.engine)
    return render(
        web,
        request,
        "person_form.html",
        session,
        422 if error else 200,
        needs=needs_by_attribute(needs),
        unmapped_needs=[n for n in needs if n.attribute is None],
        person_id=person_id,
        values=values,
        errors=errors,
        general_error=general,
        standard=list(STANDARD_ATTRIBUTES),
        custom=list(definitions.values()),
    )


@router.get("/people/new", include_in_schema=False)
async def new_person_form(request: Request, web: Context, session: PageSession) -> HTMLResponse:
    """The add-person form."""
    return await _form_page(request, web, session, person_id=None, values={})


@router.post("/people/new", include_in_schema=False)
async def add_person(request: Request, web: Context, session: AdminSession) -> Response:
    """Create the person, or show the form again with the error next to its field."""
    form = _texts(await request.form())
    item = form_input(form, await web.store.attributes())
    try:
        saved = await save_person(web.store, item, session.user)
    except RecordError as error:
        return await _form_page(request, web, session, person_id=None, values=form, error=error)
    return RedirectResponse(f"/people/{saved}", status_code=303)


@router.get("/people/{person_id}", include_in_schema=False)
async def person_page(
    request: Request, web: Context, session: PageSession, person_id: str
) -> HTMLResponse:
    """A person: attributes, contact points, company, Salesforce records, timeline."""
    details = await person_details(web.store, person_id)
    definitions = await web.store.attributes()
    return render(
        web,
        request,
        "person.html",
        session,
        details=details,
        messages=await person_messages(web.engine, person_id),
        standard=list(STANDARD_ATTRIBUTES),
        custom=list(definitions),
    )


@router.get("/people/{person_id}/edit", include_in_schema=False)
async def edit_person_form(
    request: Request, web: Context, session: PageSession, person_id: str
) -> HTMLResponse:
    """The edit-person form."""
    details = await person_details(web.store, person_id)
    values = form_values(details.person, await web.store.attributes())
    return await _form_page(request, web, session, person_id=person_id, values=values)


@router.post("/people/{person_id}/edit", include_in_schema=False)
async def edit_person(
    request: Request, web: Context, session: AdminSession, person_id: str
) -> Response:
    """Save the changes, or show the form again with the error next to its field."""
    await person_details(web.store, person_id)
    form = _texts(await request.form())
    item = form_input(form, await web.store.attributes(), person_id=person_id)
    try:
        await save_person(web.store, item, session.user)
    except RecordError as error:
        if isinstance(error, NotFoundError):
            raise
        return await _form_page(
            request, web, session, person_id=person_id, values=form, error=error
        )
    return RedirectResponse(f"/people/{person_id}", status_code=303)


# --- Salesforce status ----------------------------------------------------------------------


@router.get("/salesforce/status", include_in_schema=False)
async def status_page(
    request: Request,
    web: Context,
    session: PageSession,
    name: Annotated[str, Query(max_length=100)] = "default",
    retry: Annotated[str, Query(max_length=10)] = "",
) -> HTMLResponse:
    """The integration's state, last sync per step, counts per day, problems and log (and,
    after Retry failed records with none failed, that there were none)."""
    try:
        report = await integration_status(web.store, web.statuses, name, days=14)
    except NotFoundError:
        return render(web, request, "status.html", session, 404, name=name, report=None)
    busiest = max((row["api_calls"] for row in report["days"]), default=0)
    return render(
        web,
        request,
        "status.html",
        session,
        name=name,
        report=report,
        busiest=max(busiest, 1),
        nothing_to_retry=retry == "none",
    )


@router.post("/salesforce/{name}/pause", include_in_schema=False)
async def pause(web: Context, session: AdminSession, name: str) -> RedirectResponse:
    """Pause the integration (admins only)."""
    await pause_integration(web.store, web.statuses, name, session.user)
    return RedirectResponse(f"/salesforce/status?name={quote(name)}", status_code=303)


@router.post("/salesforce/{name}/resume", include_in_schema=False)
async def resume(web: Context, session: AdminSession, name: str) -> RedirectResponse:
    """Resume the integration (admins only)."""
    await resume_integration(web.store, web.statuses, name, session.user)
    return RedirectResponse(f"/salesforce/status?name={quote(name)}", status_code=303)


__all__ = ["CSRF_FIELD", "router", "safe_next"]
