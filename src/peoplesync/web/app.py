"""``create_app``: the web UI and the REST API on one set of services, in one ASGI app."""

from __future__ import annotations

from functools import partial
from pathlib import Path
from urllib.parse import quote

from argon2 import PasswordHasher
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from fastapi.templating import Jinja2Templates
from starlette.exceptions import HTTPException

from peoplesync.errors import PeopleSyncError
from peoplesync.marketing_cloud.custom_row_reader import CustomRowReader
from peoplesync.marketing_cloud.report_marks import ReportMarks
from peoplesync.messaging.inbound_store import InboundStore
from peoplesync.messaging.journey_stop import stop_sends
from peoplesync.messaging.links.provider_clicks import ProviderClicks
from peoplesync.messaging.links.store import ShortLinks
from peoplesync.messaging.sender_names import SenderNames
from peoplesync.observability.heartbeats import Heartbeats
from peoplesync.web import (
    attribute_pages,
    import_pages,
    inbound_numbers,
    mc_api,
    mc_pages,
    messages_api,
    messages_pages,
    provider_pages,
    segment_pages,
)
from peoplesync.web.access import LoginRequired, PasswordChangeRequired, WebContext
from peoplesync.web.accounts import Accounts
from peoplesync.web.api import create_api
from peoplesync.web.connect_pages import router as connect_router
from peoplesync.web.error_bodies import ErrorBody, from_error, from_http, from_validation
from peoplesync.web.event_details import detail_lines
from peoplesync.web.inbound_numbers import InboundNumbersWeb
from peoplesync.web.journey.calls import JourneyCalls
from peoplesync.web.journey.routes import JourneyServices
from peoplesync.web.journey.routes import router as journey_router
from peoplesync.web.log_pages import router as log_router
from peoplesync.web.login_throttle import LoginThrottle
from peoplesync.web.mc_view import MarketingCloudWeb
from peoplesync.web.messaging_hooks import MessagingHooks
from peoplesync.web.messaging_hooks import router as hooks_router
from peoplesync.web.messaging_view import MessagingWeb
from peoplesync.web.middleware import SECURITY_HEADERS, SecurityHeaders, StorableInput
from peoplesync.web.ops_routes import MetricsAccess
from peoplesync.web.ops_routes import router as ops_router
from peoplesync.web.pages import router
from peoplesync.web.salesforce_connect import Connector
from peoplesync.web.schedule_pages import router as schedule_pages
from peoplesync.web.short_links import router as short_links_router
from peoplesync.web.step_pages import router as step_pages
from peoplesync.web.steps_pages import router as steps_pages
from peoplesync.web.transfer_pages import router as transfer_router
from peoplesync.wiring import Services
from peoplesync.workers.transfer_runs import TransferRuns

HERE = Path(__file__).resolve().parent


def _templates() -> Jinja2Templates:
    templates = Jinja2Templates(directory=HERE / "templates")
    templates.env.globals["csrf_field"] = "csrf_token"
    templates.env.filters["details"] = detail_lines
    return templates


def create_app(
    services: Services,
    *,
    secure_cookies: bool = True,
    password_hasher: PasswordHasher | None = None,
    connector: Connector | None = None,
    heartbeats: Heartbeats | None = None,
) -> FastAPI:
    """The whole web application on ``services``: pages at /, REST API at /api/v1, assets at
    /static. Without ``services.open_org`` steps are checked against People only and
    transfers refuse to start.

    ``/health`` and ``/ready`` need no login; ``/metrics`` follows the settings' metrics token
    or public switch and shows ``heartbeats`` of the worker loops.
    ``secure_cookies`` marks cookies Secure (sent over HTTPS only; browsers also accept them
    from http://localhost); turn it off only behind plain HTTP on a trusted network.
    """
    clock = services.clock
    engine = services.engine
    web = WebContext(
        store=services.people,
        engine=engine,
        clock=clock,
        accounts=Accounts(engine, clock, hasher=password_hasher),
        statuses=services.statuses,
        templates=_templates(),
        secure_cookies=secure_cookies,
        throttle=LoginThrottle(clock),
    )
    app = FastAPI(title="peoplesync", docs_url=None, redoc_url=None, openapi_url=None)
    api = create_api()
    app.state.web = web
    api.state.web = web
    app.state.open_org = api.state.open_org = services.open_org
    # Matched first: Journey Builder execute calls and report webhooks are the hot paths, and
    # FastAPI tries the routes in order (their paths overlap no other route's).
    app.include_router(journey_router)
    app.include_router(hooks_router)
    app.include_router(router)
    for people_router in (segment_pages.router, attribute_pages.router, import_pages.router):
        app.include_router(people_router)
    app.include_router(steps_pages)
    app.include_router(step_pages)
    app.include_router(schedule_pages)
    app.state.transfers = api.state.transfers = TransferRuns(services)
    app.include_router(transfer_router)
    app.include_router(log_router)
    app.state.connector = api.state.connector = connector
    app.include_router(connect_router)
    app.state.messaging_hooks = MessagingHooks(
        services.box, services.reports(), InboundStore(engine, clock), ProviderClicks(engine)
    )
    # services.outbox gives tracked links the settings' public URL as their default domain
    app.state.journey = JourneyServices(
        services.units,
        services.outbox,
        services.provider_accounts,
        partial(stop_sends, engine, clock),
        frame_ancestors=services.settings.journey_frame_ancestors,
        marks=ReportMarks(engine, clock),
        rows=CustomRowReader(ca_cert=services.settings.mc_ca_cert),
    )
    app.state.messaging = api.state.messaging = MessagingWeb(
        engine,
        services.outbox,
        SenderNames(engine, clock),
        services.provider_accounts,
    )
    app.include_router(provider_pages.router)
    app.state.inbound_numbers = InboundNumbersWeb(services.box, services.settings.public_url)
    app.include_router(inbound_numbers.pages)
    api.include_router(inbound_numbers.api)
    app.include_router(messages_pages.router)
    api.include_router(messages_api.router)
    api.state.inbound_numbers = app.state.inbound_numbers
    app.state.marketing_cloud = api.state.marketing_cloud = MarketingCloudWeb(
        services.units, services.settings.public_url
    )
    app.include_router(mc_pages.router)
    api.include_router(mc_api.router)
    app.state.metrics_access = MetricsAccess.from_settings(services.settings)
    app.state.heartbeats = heartbeats
    app.include_router(ops_router)
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.mount("/api/v1", api)
    app.state.short_links = ShortLinks(engine, clock)
    app.include_router(short_links_router)  # last: GET /{code} must not shadow any page

    def page_error(request: Request, body: ErrorBody) -> HTMLResponse:
        return web.templates.TemplateResponse(
            request,
            "error.html",
            {"error": body, "user": None, "session": None},
            status_code=body.status,
        )

    @app.exception_handler(LoginRequired)
    async def _login(_request: Request, signal: LoginRequired) -> RedirectResponse:
        return RedirectResponse(f"/login?next={quote(signal.path)}", status_code=303)

    @app.exception_handler(PasswordChangeRequired)
    async def _password(_request: Request, _signal: PasswordChangeRequired) -> RedirectResponse:
        return RedirectResponse("/account/password", status_code=303)

    @app.exception_handler(PeopleSyncError)
    async def _ours(request: Request, error: PeopleSyncError) -> HTMLResponse:
        return page_error(request, from_error(error))

    @app.exception_handler(HTTPException)
    async def _http(request: Request, error: HTTPException) -> Response:
        body = from_http(error)
        if request.url.path.startswith("/api/"):
            return JSONResponse(body.json(), status_code=body.status, headers=error.headers)
        return page_error(request, body)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, error: RequestValidationError) -> HTMLResponse:
        return page_error(request, from_validation(error))

    # Added last is outermost: the 422 of the input guard gets the security headers too.
    # Journey Builder's POSTs are answered inside both guards, before FastAPI's routing.
    app.add_middleware(JourneyCalls)
    app.add_middleware(StorableInput, page_error=page_error)
    app.add_middleware(SecurityHeaders)

    return app


__all__ = ["SECURITY_HEADERS", "create_app"]
