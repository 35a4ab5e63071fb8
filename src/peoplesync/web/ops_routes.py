"""Operations endpoints, outside the login: ``/health`` (the process answers), ``/ready``
(the database answers and is migrated) and ``/metrics`` (Prometheus text, behind a bearer
token unless made public in the settings; off when neither is set)."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response

from peoplesync.observability.heartbeats import Heartbeats
from peoplesync.observability.metrics_snapshot import read_snapshot
from peoplesync.observability.metrics_text import CONTENT_TYPE, render
from peoplesync.observability.readiness import check_ready
from peoplesync.settings import Settings
from peoplesync.web.access import WebContext

router = APIRouter(include_in_schema=False)

Access = Literal["allowed", "off", "unauthorized"]


@dataclass(frozen=True)
class MetricsAccess:
    """Who may read ``/metrics``: holders of ``token``, or anyone when ``public``."""

    token: str | None = None
    public: bool = False

    @classmethod
    def from_settings(cls, settings: Settings | None) -> MetricsAccess:
        """The access the settings configure (off without settings)."""
        if settings is None:
            return cls()
        token = settings.metrics_token.get_secret_value() if settings.metrics_token else None
        return cls(token or None, settings.metrics_public)

    def decide(self, authorization: str | None) -> Access:
        """Whether a request with this Authorization header may read the metrics."""
        if self.token is not None:
            scheme, _, presented = (authorization or "").partition(" ")
            if scheme.lower() == "bearer" and hmac.compare_digest(
                presented.strip().encode(), self.token.encode()
            ):
                return "allowed"
            return "unauthorized"
        return "allowed" if self.public else "off"


@router.get("/health")
async def health() -> JSONResponse:
    """The process is up and answering."""
    return JSONResponse({"status": "ok"}, headers={"Cache-Control": "no-store"})


@router.get("/ready")
async def ready(request: Request) -> JSONResponse:
    """200 when the database answers and is migrated, 503 (with the reason) otherwise."""
    web: WebContext = request.app.state.web
    found = await check_ready(web.engine)
    body = {"status": "ready" if found.ready else "not ready", "reason": found.reason}
    return JSONResponse(
        body, status_code=200 if found.ready else 503, headers={"Cache-Control": "no-store"}
    )


@router.get("/metrics")
async def metrics(request: Request) -> Response:
    """Prometheus metrics (see docs/operations.md for the list)."""
    access: MetricsAccess = request.app.state.metrics_access
    decision = access.decide(request.headers.get("authorization"))
    if decision == "off":
        return JSONResponse(
            {"error": "metrics are off: set PEOPLESYNC_METRICS_TOKEN or PEOPLESYNC_METRICS_PUBLIC"},
            status_code=404,
        )
    if decision == "unauthorized":
        return JSONResponse(
            {"error": "a valid metrics bearer token is needed"},
            status_code=401,
            headers={"WWW-Authenticate": "Bearer"},
        )
    web: WebContext = request.app.state.web
    heartbeats: Heartbeats | None = request.app.state.heartbeats
    snapshot = await read_snapshot(web.engine)
    beats = heartbeats.beats() if heartbeats is not None else []
    body = render(snapshot, beats, web.clock.now())
    return Response(body, media_type=CONTENT_TYPE, headers={"Cache-Control": "no-store"})
